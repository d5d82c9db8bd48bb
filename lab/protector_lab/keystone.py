"""A standalone Keystone on SQLite, for API tests that need real tokens.

This is the smallest real Keystone: the keystone package from PyPI (pinned,
in a cached venv), SQLite, fernet tokens, served by uWSGI on 127.0.0.1. It
takes about 7 s to start once the venv exists, 2 s once a start has left
its migrated database in the lab's cache (``_prepare_database``). Tests
use it through ``StandaloneKeystone`` to get real tokens that
keystonemiddleware validates.
"""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

from protector_lab import venvs

ADMIN_PASSWORD = "secret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read().decode() or "null"
        return resp.headers, json.loads(text)


class StandaloneKeystone:
    """Keystone in ``workdir`` on ``port``; start(), tokens, stop()."""

    def __init__(self, workdir, port=None, log=print):
        self.workdir = os.path.abspath(workdir)
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.auth_url = self.url + "/v3"
        self.log = log
        self._proc = None

    # -- lifecycle -------------------------------------------------------

    def start(self):
        venv = venvs.ensure("ks", log=self.log)
        shutil.rmtree(self.workdir, ignore_errors=True)
        for sub in ("fernet-keys", "credential-keys"):
            os.makedirs(os.path.join(self.workdir, sub))
        conf = os.path.join(self.workdir, "keystone.conf")
        with open(conf, "w") as f:
            f.write(_KEYSTONE_CONF.format(d=self.workdir))
        manage = [os.path.join(venv, "bin", "keystone-manage"),
                  "--config-file", conf]
        for sub in ("fernet-keys", "credential-keys"):
            write_key_repository(os.path.join(self.workdir, sub))
        self._prepare_database(venv, manage)
        ini = os.path.join(self.workdir, "uwsgi.ini")
        with open(ini, "w") as f:
            f.write(_UWSGI_INI.format(d=self.workdir, port=self.port,
                                      venv=venv))
        self._proc = subprocess.Popen(
            [os.path.join(venv, "bin", "uwsgi"), "--ini", ini],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                _request("GET", self.auth_url)
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if self._proc.poll() is not None:
                    break
                time.sleep(0.25)
        self.stop()
        raise RuntimeError("Keystone did not start; see %s/uwsgi.log" %
                           self.workdir)

    def _bootstrap_args(self, url):
        return ["bootstrap", "--bootstrap-password", ADMIN_PASSWORD,
                "--bootstrap-username", "admin",
                "--bootstrap-project-name", "admin",
                "--bootstrap-role-name", "admin",
                "--bootstrap-service-name", "keystone",
                "--bootstrap-region-id", "RegionOne",
                "--bootstrap-public-url", url,
                "--bootstrap-internal-url", url,
                "--bootstrap-admin-url", url]

    def _prepare_database(self, venv, manage):
        """keystone.db migrated and bootstrapped: a copy of the one the
        first start with this Keystone venv made, kept in the lab's cache
        (db_sync and bootstrap are 4-5 s of a 7 s start). Only the
        catalog's URLs, which carry this instance's port, differ between
        two starts; they are set as a second bootstrap sets them.
        ``PROTECTOR_LAB_DB_CACHE=0`` turns the copy off."""
        import hashlib
        import sqlite3

        from protector_lab import dbcache
        database = os.path.join(self.workdir, "keystone.db")
        recipe = hashlib.sha256(json.dumps(
            self._bootstrap_args("URL")).encode()).hexdigest()[:12]
        cached = dbcache._path(venv, "standalone-" + recipe, ".sqlite")
        if dbcache.enabled() and os.path.exists(cached):
            shutil.copyfile(cached, database)
            with sqlite3.connect(database) as conn:
                conn.execute("UPDATE endpoint SET url = ?", (self.auth_url,))
            conn.close()
            return
        for step in (["db_sync"], self._bootstrap_args(self.auth_url)):
            subprocess.run(manage + step, check=True, capture_output=True)
        if dbcache.enabled():
            os.makedirs(os.path.dirname(cached), exist_ok=True)
            partial = "%s.%d" % (cached, os.getpid())
            shutil.copyfile(database, partial)
            os.replace(partial, cached)  # whole or absent

    def stop(self, wait=True):
        """SIGTERM; then wait for the exit, or with ``wait=False`` return
        the process for the caller to wait for (None if none ran)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return None
        proc.terminate()
        if not wait:
            return proc
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return None

    # -- identity helpers ---------------------------------------------------

    def token(self, username, password, project, domain="Default"):
        """Return (token, body) for a project-scoped password auth."""
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": username, "domain": {"name": domain},
                "password": password}}},
            "scope": {"project": {"name": project,
                                  "domain": {"name": domain}}}}}
        headers, data = _request("POST", self.auth_url + "/auth/tokens",
                                 body)
        return headers["X-Subject-Token"], data["token"]

    def admin_token(self):
        return self.token("admin", ADMIN_PASSWORD, "admin")[0]

    def create_project(self, name, admin_token=None):
        token = admin_token or self.admin_token()
        _, data = _request("POST", self.auth_url + "/projects",
                           {"project": {"name": name,
                                        "domain_id": "default"}}, token)
        return data["project"]["id"]

    def create_user(self, name, password, project_id, role, token=None):
        token = token or self.admin_token()
        _, data = _request("POST", self.auth_url + "/users",
                           {"user": {"name": name, "password": password,
                                     "domain_id": "default",
                                     "default_project_id": project_id}},
                           token)
        user_id = data["user"]["id"]
        self.grant(user_id, project_id, role, token)
        return user_id

    def grant(self, user_id, project_id, role, token=None):
        token = token or self.admin_token()
        _, roles = _request("GET", self.auth_url + "/roles?name=" + role,
                            token=token)
        if roles["roles"]:
            role_id = roles["roles"][0]["id"]
        else:
            _, created = _request("POST", self.auth_url + "/roles",
                                  {"role": {"name": role}}, token)
            role_id = created["role"]["id"]
        _request("PUT", "%s/projects/%s/users/%s/roles/%s" % (
            self.auth_url, project_id, user_id, role_id), token=token)

    def add_endpoint(self, service_type, service_name, url, region,
                     interface="public", token=None):
        """Put ``url`` in the catalog as ``service_type``'s endpoint in
        ``region`` (both made if missing)."""
        token = token or self.admin_token()
        _, regions = _request("GET", self.auth_url + "/regions", token=token)
        if region not in {r["id"] for r in regions["regions"]}:
            _request("POST", self.auth_url + "/regions",
                     {"region": {"id": region}}, token)
        _, services = _request("GET", self.auth_url + "/services?type=" +
                               service_type, token=token)
        if services["services"]:
            service_id = services["services"][0]["id"]
        else:
            _, made = _request("POST", self.auth_url + "/services",
                               {"service": {"type": service_type,
                                            "name": service_name}}, token)
            service_id = made["service"]["id"]
        _request("POST", self.auth_url + "/endpoints", {"endpoint": {
            "service_id": service_id, "interface": interface,
            "region_id": region, "url": url}}, token)

    def authtoken_options(self, username, password,
                          project="service"):
        """[keystone_authtoken] settings for a service using this Keystone."""
        return {
            "www_authenticate_uri": self.url,
            "auth_url": self.url,
            "auth_type": "password",
            "project_domain_name": "Default",
            "user_domain_name": "Default",
            "project_name": project,
            "username": username,
            "password": password,
        }


def write_key_repository(path):
    """A Keystone key repository as ``keystone-manage fernet_setup`` (and
    ``credential_setup``) leaves it: key 0 staged, key 1 primary, each a
    Fernet key readable by the service user only."""
    from cryptography import fernet
    os.makedirs(path, mode=0o700, exist_ok=True)
    for index in ("0", "1"):
        target = os.path.join(path, index)
        if os.path.exists(target):
            continue
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(fernet.Fernet.generate_key())


_KEYSTONE_CONF = """\
[DEFAULT]
log_file = {d}/keystone.log
[database]
connection = sqlite:///{d}/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = {d}/fernet-keys
[fernet_receipts]
key_repository = {d}/fernet-keys
[credential]
key_repository = {d}/credential-keys
[cache]
enabled = true
backend = dogpile.cache.memory
[identity]
password_hash_algorithm = bcrypt
password_hash_rounds = 4
"""

# Connection: close - keystoneauth reuses keep-alive connections, which
# uwsgi's http-socket does not support (connection resets otherwise).
# One process: Keystone's cache is in its memory (a second process would
# serve what the first invalidated); its threads serve calls at once.
_UWSGI_INI = """\
[uwsgi]
http-socket = 127.0.0.1:{port}
module = keystone.wsgi.api:application
virtualenv = {venv}
env = OS_KEYSTONE_CONFIG_DIR={d}
env = OS_KEYSTONE_CONFIG_FILES=keystone.conf
processes = 1
threads = 4
enable-threads = true
master = true
lazy-apps = true
die-on-term = true
add-header = Connection: close
logto = {d}/uwsgi.log
"""

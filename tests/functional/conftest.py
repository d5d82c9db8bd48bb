"""Fixtures for functional tests: a real Keystone and the real protector-api.

One SQLite-backed Keystone runs for the whole session, with:

* ``admin`` (admin role on project ``admin``),
* ``alice`` (member of project ``alpha``), ``bob`` (member of ``beta``),
  ``carol`` (reader of ``alpha``),
* ``protector`` (admin on project ``service``): the service user
  keystonemiddleware validates tokens with.

Tokens and project IDs are exported as environment variables for the gabbi
files (``$ENVIRON['ALICE_TOKEN']``, ``$ENVIRON['ALPHA_ID']`` ...).
"""
import os

import pytest

from protector_lab import keystone as ks_mod
from tests import conftest as top
from tests import services
from tests.functional import apiserver
from tests.functional import fakecinder
from tests.functional.engine import fixtures

USERS = {
    # name: (project, role)
    "alice": ("alpha", "member"),
    "bob": ("beta", "member"),
    "carol": ("alpha", "reader"),
    # Tests that make groups of their own, apart from the gabbi files'
    # projects (which count what they hold).
    "dave": ("gamma", "member"),
}


@pytest.fixture(scope="session")
def keystone(tmp_path_factory):
    ks = ks_mod.StandaloneKeystone(str(tmp_path_factory.mktemp("keystone")))
    ks.start()
    admin = ks.admin_token()
    projects = {name: ks.create_project(name, admin)
                for name in ("alpha", "beta", "gamma", "service")}
    ks.create_user("protector", "protector-pw", projects["service"],
                   "admin", admin)
    for user, (project, role) in USERS.items():
        ks.create_user(user, user + "-pw", projects[project], role, admin)
    env = {"ADMIN_TOKEN": admin, "LONG_2000": "x" * 2000,
           "KEYSTONE_AUTH_URL": ks.auth_url,
           "DEAD_AUTH_URL": "http://127.0.0.1:%d/v3" % services.dead_port()}
    for user, (project, _) in USERS.items():
        env[user.upper() + "_TOKEN"] = ks.token(user, user + "-pw",
                                                project)[0]
    for name, pid in projects.items():
        env[name.upper() + "_ID"] = pid
    env["ADMIN_PROJECT_ID"] = ks.token("admin", ks_mod.ADMIN_PASSWORD,
                                       "admin")[1]["project"]["id"]
    os.environ.update(env)
    ks.env = env
    ks.projects = projects
    yield ks
    if getattr(ks, "fake_cinder", None):
        ks.fake_cinder.stop()
    services.LATER.add(ks.stop(wait=False))


def authtoken_for(ks):
    return ks.authtoken_options("protector", "protector-pw")


@pytest.fixture(scope="session")
def sqlite_api(keystone, tmp_path_factory):
    work = str(tmp_path_factory.mktemp("api-sqlite"))
    server = apiserver.APIServer(
        work, "sqlite:///%s/protector.sqlite" % work,
        authtoken=authtoken_for(keystone))
    server.start()
    yield server
    server.stop(later=True)


@pytest.fixture(scope="session")
def mariadb_api(keystone, tmp_path_factory):
    if not services.mysql_available():
        top.require_or_skip("MariaDB is not reachable on %s:3306" %
                            services.MYSQL_HOST)
    work = str(tmp_path_factory.mktemp("api-mariadb"))
    with services.mysql_database() as url:
        server = apiserver.APIServer(work, url,
                                     authtoken=authtoken_for(keystone))
        server.start()
        yield server
        # Its connections are idle (no transaction, no metadata lock):
        # the database drops while it exits.
        server.stop(later=True)


@pytest.fixture(params=["sqlite", pytest.param("mariadb",
                                               marks=pytest.mark.mariadb)])
def api(request):
    """The API on each database backend in turn."""
    return request.getfixturevalue(request.param + "_api")


# -- two sites: two protector-api servers that sync to each other ------------

# Each site encrypts FlashArray tokens with its own key.
PAIR_KEYS = {"a": "0rw-5G1VN2X8Pn0G4oJ4iyJ1eJv8lXyCzq6d1YVc8lI=",
             "b": "b1kGZ3w0Vq5m2Qy7cJ8n4Xr6Tz9Lp3Hs5Df7Gk1Wa2E="}


class SitePair:
    """Servers ``a`` and ``b`` (own databases, mock Cinder) whose sites
    ``site-a``/``site-b`` are registered on both, with ``protector_url``
    pointing at each other. Both share the test Keystone, so each server
    is told which site it is (``[DEFAULT] site_name``).

    Mock Cinder simulates only the consistency groups: the volume types
    are the sites' own, served by ``fakecinder`` (site-a in its region A,
    site-b in region B, reached through the catalog's internal
    interface)."""

    REGIONS = {"site-a": fakecinder.REGION_A, "site-b": fakecinder.REGION_B}

    def __init__(self, keystone, workdir, db_urls):
        self.keystone = keystone
        self.cinder = fakecinder.for_keystone(keystone)
        self.servers = {}
        for name, db_url in zip(("a", "b"), db_urls):
            work = os.path.join(workdir, "site-" + name)
            self.servers[name] = apiserver.APIServer(
                work, db_url or "sqlite:///%s/protector.sqlite" % work,
                authtoken=authtoken_for(keystone),
                extra={"DEFAULT": {"use_mock_cinder": "True",
                                   # Policies name arrays that do not
                                   # exist (no pure policy validation).
                                   "use_mock_storage": "True",
                                   "site_name": "site-" + name},
                       "storage": {"token_encryption_key":
                                   PAIR_KEYS[name]},
                       "cloud": {"connect_retries": "0",
                                 "interface": "internal"}})
        self.a, self.b = self.servers["a"], self.servers["b"]
        self.dead_url = "http://127.0.0.1:%d" % services.dead_port()

    def start_servers(self):
        """Both at once: each start is mostly waiting on a subprocess."""
        from concurrent import futures
        with futures.ThreadPoolExecutor(len(self.servers)) as pool:
            for done in [pool.submit(server.start)
                         for server in self.servers.values()]:
                done.result()

    def start(self):
        self.start_servers()
        self.site_ids = {}
        for key, server in self.servers.items():
            ids = {}
            for site, url in (("site-a", self.a.url), ("site-b", self.b.url),
                              ("site-dead", self.dead_url)):
                ids[site] = self.request(key, "POST", "/sites", {"site": {
                    "name": site, "site_type": "primary",
                    "auth_url": self.keystone.auth_url,
                    "region_name": self.REGIONS.get(site),
                    "protector_url": url}})[1]["site"]["id"]
            self.site_ids[key] = ids
        # Pair the two sites (one key, installed on both), and give each
        # a key for the dead site too, so a push to it is attempted (and
        # fails as unreachable) instead of being refused as unpaired.
        status, body = self.request("a", "POST", "/sites/%s/pair" %
                                    self.site_ids["a"]["site-b"], {})
        assert status == 200, body
        for key, server in self.servers.items():
            fixtures.Rows(server.db_url).pair(self.site_ids[key]["site-dead"],
                                              PAIR_KEYS[key])
        return self

    def peer_key(self, server):
        """(key_id, secret) server ``a`` or ``b`` shares with the other."""
        from cryptography import fernet
        other = "site-b" if server == "a" else "site-a"
        row = fixtures.Rows(self.servers[server].db_url).site_key(
            self.site_ids[server][other])
        return row["key_id"], fernet.Fernet(
            PAIR_KEYS[server].encode()).decrypt(
            row["secret_encrypted"].encode()).decode()

    def signed(self, server, method, path, body=None, token=None,
               project=None, key=None):
        """A request to ``server`` signed as its peer does (the pairing
        key, or ``key=(key_id, secret)``)."""
        import json as _json

        from protector.common import peer_auth
        env = self.keystone.env
        project = project or env["ADMIN_PROJECT_ID"]
        token = token or env["ADMIN_TOKEN"]
        data = _json.dumps(body).encode() if body is not None else None
        key_id, secret = key or self.peer_key(server)
        header = peer_auth.sign(secret, key_id, method,
                                "/v1/%s%s" % (project, path), data, token)
        return self.request(server, method, path, token=token,
                            project=project, raw=data,
                            headers={peer_auth.HEADER: header})

    def stop(self, later=False):
        """Stop both servers, together (see ``APIServer.stop``)."""
        procs = [server.stop(later=True) for server in self.servers.values()]
        if not later:
            for proc in procs:
                if proc is not None:
                    services.wait_or_kill(proc)

    def request(self, server, method, path, body=None, token=None,
                project=None, raw=None, headers=None):
        """(status, json) of a request to server ``a`` or ``b``."""
        import json as _json
        import urllib.error
        import urllib.request
        env = self.keystone.env
        project = project or env["ADMIN_PROJECT_ID"]
        data = raw if raw is not None else (
            _json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(
            "%s/v1/%s%s" % (self.servers[server].url, project, path),
            method=method, data=data,
            headers=dict({"X-Auth-Token": token or env["ADMIN_TOKEN"],
                          "Content-Type": "application/json"},
                         **(headers or {})))
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                data = resp.read()
                return resp.status, _json.loads(data) if data else None
        except urllib.error.HTTPError as exc:
            data = exc.read()
            return exc.code, _json.loads(data) if data else None

    def export(self):
        """Environment for the gabbi files of gabbits/pair/."""
        env = {"PAIR_A_URL": self.a.url, "PAIR_B_URL": self.b.url,
               "PAIR_DEAD_URL": self.dead_url}
        for key in ("a", "b"):
            for site, site_id in self.site_ids[key].items():
                env["PAIR_%s_%s_ID" % (key.upper(),
                                       site.replace("-", "_").upper())] = \
                    site_id
        env.update(fakecinder.export_types())
        os.environ.update(env)


@pytest.fixture(scope="session")
def sqlite_pair(keystone, tmp_path_factory):
    pair = SitePair(keystone, str(tmp_path_factory.mktemp("pair-sqlite")),
                    (None, None))
    yield pair.start()
    pair.stop(later=True)


@pytest.fixture(scope="session")
def mariadb_pair(keystone, tmp_path_factory):
    if not services.mysql_available():
        top.require_or_skip("MariaDB is not reachable on %s:3306" %
                            services.MYSQL_HOST)
    with services.mysql_database() as url_a, \
            services.mysql_database() as url_b:
        pair = SitePair(keystone, str(tmp_path_factory.mktemp("pair-maria")),
                        (url_a, url_b))
        yield pair.start()
        pair.stop(later=True)


@pytest.fixture(params=["sqlite", pytest.param("mariadb",
                                               marks=pytest.mark.mariadb)])
def pair(request):
    """Two syncing sites on each database backend in turn."""
    site_pair = request.getfixturevalue(request.param + "_pair")
    site_pair.export()
    return site_pair


@pytest.fixture
def made(pair):
    """Group IDs to remove from both sites of ``pair`` afterwards (the
    gabbits of this session expect project alpha to have no groups)."""
    from tests.functional import test_group_lifecycle as lc
    ids = []
    yield ids
    for pg_id in ids:
        for server in (pair.a, pair.b):
            lc._purge(server, pg_id)

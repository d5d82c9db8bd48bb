"""The real ``openstack`` binary against a real protector-api (and a stub).

* Sites run against protector-api started here in ``noauth2`` mode on a
  free port with a throw-away SQLite database (the server implements only
  sites so far). Auth: OSC's ``admin_token`` plugin (``--os-endpoint``
  http://127.0.0.1:PORT/v1/admin + ``--os-token admin:admin``); in noauth2
  mode the token ``<user>:<project>`` is trusted and project ``admin`` is
  admin.
* Exit codes 3, 4 and 5 and the DR operation commands run against a small
  HTTP stub speaking doc/api-ref.md, because the server does not implement
  those resources yet; the point is that the *installed openstack binary*
  exits with the codes of doc/cli.md.

Needs the server package (``protector-api``, ``protector-manage``) on PATH
or next to the Python interpreter; skipped otherwise (the client installs
without the server).
"""
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

BIN_DIR = os.path.dirname(sys.executable)


def _which(name):
    candidate = os.path.join(BIN_DIR, name)
    if os.access(candidate, os.X_OK):
        return candidate
    return shutil.which(name)


OPENSTACK = _which("openstack")
PROTECTOR_API = _which("protector-api")
PROTECTOR_MANAGE = _which("protector-manage")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url, proc, deadline=30.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("%s did not answer" % url)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not (OPENSTACK and PROTECTOR_API and PROTECTOR_MANAGE):
        pytest.skip("openstack, protector-api and protector-manage needed")
    workdir = tmp_path_factory.mktemp("protector-api")
    port = _free_port()
    conf = workdir / "protector.conf"
    conf.write_text(
        "[DEFAULT]\nstate_path = %s\n"
        "[api]\nauth_strategy = noauth2\nbind_host = 127.0.0.1\n"
        "bind_port = %d\nworkers = 1\n"
        "[database]\nconnection = sqlite:///%s/protector.sqlite\n"
        % (workdir, port, workdir))
    subprocess.run([PROTECTOR_MANAGE, "--config-file", str(conf), "db",
                    "sync"], check=True, capture_output=True)
    log = open(workdir / "api.log", "wb")
    proc = subprocess.Popen([PROTECTOR_API, "--config-file", str(conf)],
                            stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        _wait_http("http://127.0.0.1:%d/" % port, proc)
        yield "http://127.0.0.1:%d" % port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _env(endpoint, extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OS_", "PROTECTOR_"))}
    env.update({"OS_AUTH_TYPE": "admin_token", "OS_ENDPOINT": endpoint,
                "OS_TOKEN": "admin:admin", "COLUMNS": "200"})
    env.update(extra or {})
    return env


def run(endpoint, *args, env=None, stdin=None):
    return subprocess.run([OPENSTACK, *args], capture_output=True,
                          text=True, env=_env(endpoint, env), timeout=120,
                          stdin=stdin if stdin is not None
                          else subprocess.DEVNULL)


def test_site_lifecycle(server):
    api = server + "/v1/admin"
    result = run(api, "dr", "site", "list", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []

    result = run(api, "dr", "site", "list", "--print-empty")
    assert result.returncode == 0, result.stderr
    assert "| ID | Name | Site Type | Status |" in result.stdout

    result = run(api, "dr", "site", "create", "--name", "site-a",
                 "--description", "Primary datacenter - Boston",
                 "--site-type", "primary",
                 "--auth-url", "http://site-a-controller:5000/v3",
                 "--region-name", "RegionOne")
    assert result.returncode == 0, result.stderr
    fields = [line.split("|")[1].strip() for line in
              result.stdout.splitlines() if line.startswith("| ")]
    assert fields == ["Field", "id", "name", "site_type", "auth_url",
                      "region_name", "status"]

    result = run(api, "protector", "site", "create", "--name", "site-b",
                 "--site-type", "secondary",
                 "--auth-url", "http://site-b-controller:5000/v3",
                 "-f", "json")
    assert result.returncode == 0, result.stderr
    site_b = json.loads(result.stdout)
    assert site_b["site_type"] == "secondary"
    assert "created_at" in site_b  # machine formats carry every field

    result = run(api, "dr", "site", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [c.strip() for c in lines[1].split("|")[1:-1]] == \
        ["ID", "Name", "Site Type", "Status"]
    assert "site-a" in result.stdout and "site-b" in result.stdout

    result = run(api, "dr", "site", "list", "-f", "value", "-c", "Name",
                 "--site-type", "secondary")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["site-b"]

    result = run(api, "dr", "site", "show", "site-a", "-f", "value",
                 "-c", "status")
    assert (result.returncode, result.stdout) == (0, "active\n")

    result = run(api, "dr", "site", "show", site_b["id"], "-f", "json",
                 "--noindent")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout)["name"] == "site-b"
    assert "status_reason" in json.loads(result.stdout)  # 1.6 default

    result = run(api, "dr", "site", "show", "site-a", "-f", "yaml",
                 env={"PROTECTOR_API_VERSION": "1.1"})
    assert result.returncode == 0, result.stderr
    assert "name: site-a" in result.stdout
    assert "status_reason" not in result.stdout  # 1.1: no 1.2 fields

    result = run(api, "dr", "site", "show", "site-a", "--max-width", "40")
    assert result.returncode == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 40
    result = run(api, "dr", "site", "show", "site-a", "--fit-width")
    assert result.returncode == 0, result.stderr

    result = run(api, "dr", "site", "delete", "site-a", "site-b")
    assert result.returncode == 0, result.stderr
    result = run(api, "dr", "site", "show", "site-a")
    assert result.returncode == 1
    assert "protector.site.not_found" in result.stderr


def test_exit_codes_against_server(server):
    api = server + "/v1/admin"
    # Deleting a missing site: API error -> 1, message on stderr.
    result = run(api, "dr", "site", "delete", "no-such-site")
    assert result.returncode == 1
    assert "no-such-site" in result.stderr
    assert result.stdout == ""
    # Missing positional argument -> 2 (argparse usage error).
    result = run(api, "dr", "site", "show")
    assert result.returncode == 2
    # Unknown command -> 2.
    result = run(api, "dr", "site", "frobnicate")
    assert result.returncode == 2
    # Missing required flag -> 1 (doc/cli.md lists it as a general error).
    result = run(api, "dr", "site", "create", "--name", "x")
    assert result.returncode == 1
    assert "--site-type" in result.stderr
    # Malformed value -> 1.
    result = run(api, "dr", "site", "create", "--name", "x",
                 "--site-type", "tertiary", "--auth-url", "http://x")
    assert result.returncode == 1
    # Mutually exclusive flags -> 2.
    result = run(api, "dr", "test-failover", "pg", "--auto-network",
                 "--network-mapping", "a=b")
    assert result.returncode == 2
    # Cross-site command without a secondary cloud -> 1.
    result = run(api, "dr", "member", "add", "pg", "--instance-id", "i")
    assert result.returncode == 1
    assert "--secondary-cloud" in result.stderr
    # Bad token -> 1 (authentication failure).
    result = run(api, "dr", "site", "list", env={"OS_TOKEN": "garbage"})
    assert result.returncode == 1


# --- stub protector-api for the resources the server does not have yet ---

class _Stub(http.server.BaseHTTPRequestHandler):
    requests = []

    def log_message(self, *args):
        pass

    def _send(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, code):
        self._send(status, {"errors": [{"status": status, "code": code,
                                        "title": "Error",
                                        "detail": "stub says %s" % code}]})

    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        _Stub.requests.append({
            "method": self.command, "path": self.path, "body": body,
            "peer": self.headers.get("X-Protector-Peer-Token"),
            "version": self.headers.get("OpenStack-API-Version")})
        return body

    def do_POST(self):
        body = self._record()
        pg = self.path.split("/")[4]
        errors = {"busy": (409, "protector.operation.conflict"),
                  "testing": (409, "protector.operation.test_active"),
                  "empty": (412, "protector.precondition.no_members"),
                  "cut": (503, "protector.peer.unreachable"),
                  "bad": (400, "protector.request.invalid"),
                  "elsewhere": (409, "protector.operation.wrong_site")}
        if pg in errors:
            return self._error(*errors[pg])
        if self.path.endswith("/members"):
            return self._send(201, {"member": {
                "id": "m-1", "protection_group_id": pg,
                "instance_id": body["member"]["instance_id"],
                "instance_name": "web-1", "status": "protected",
                "volumes_added": 2}})
        action = next(iter(body))
        self._send(202, {"operation": {
            "id": "op-%s" % pg, "operation_type": action,
            "status": "running", "progress": 10, "current_step": "start",
            "protection_group_id": pg}})

    def do_GET(self):
        self._record()
        op_id = self.path.rsplit("/", 1)[1]
        failed = op_id == "op-doomed"
        # Over at the first poll: each poll costs --wait's 2 s interval
        # (the unit tests follow the states in between, without sleeping).
        status = "failed" if failed else "completed"
        self._send(200, {"operation": {
            "id": op_id, "operation_type": "failover", "status": status,
            "progress": 100, "current_step": "recreate_instances",
            "error_message": "boom" if failed else None,
            "steps_failed": ["recreate_instances"] if failed else []}})


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    if not OPENSTACK:
        pytest.skip("openstack binary needed")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = "http://127.0.0.1:%d" % server.server_address[1]
    workdir = tmp_path_factory.mktemp("clouds")
    dead = _free_port()
    (workdir / "clouds.yaml").write_text(
        "clouds:\n"
        "  site-b:\n"
        "    auth_type: admin_token\n"
        "    auth:\n"
        "      endpoint: %s/v1/peer\n"
        "      token: 'peer:peer'\n"
        "  site-down:\n"
        "    auth:\n"
        "      auth_url: http://127.0.0.1:%d/v3\n"
        "      username: u\n      password: p\n      project_name: p\n"
        "      user_domain_name: Default\n"
        "      project_domain_name: Default\n" % (url, dead))
    yield url, str(workdir / "clouds.yaml")
    server.shutdown()


def _stub_run(stub, *args, secondary="site-b"):
    url, clouds = stub
    env = {"OS_CLIENT_CONFIG_FILE": clouds}
    if secondary:
        env["OS_SECONDARY_CLOUD"] = secondary
    return run(url + "/v1/admin", *args, env=env)


@pytest.mark.parametrize("args,code", [
    (("dr", "failback", "busy"), 4),
    (("dr", "test-failover", "testing"), 4),
    (("dr", "failback", "empty"), 5),
    # An action sent to the other site's API: a general error, the
    # message (naming the site to use) on stderr.
    (("dr", "failback", "elsewhere"), 1),
    (("dr", "member", "add", "cut", "--instance-id", "i"), 3),
    (("protector", "protection-group", "member-add", "bad",
      "--instance-id", "i"), 1),
])
def test_exit_codes_from_api_error_codes(stub, args, code):
    result = _stub_run(stub, *args)
    assert result.returncode == code, result.stderr
    assert "stub says" in result.stderr


def test_peer_keystone_unreachable_exits_3(stub):
    result = _stub_run(stub, "dr", "member", "add", "pg", "--instance-id",
                       "i", secondary="site-down")
    assert result.returncode == 3, result.stderr
    assert "unreachable" in result.stderr


def test_global_flags_after_the_command(stub):
    # doc/cli.md: global flags may follow the subcommand's options.
    _Stub.requests.clear()
    result = _stub_run(stub, "dr", "member", "add", "pg-9", "--instance-id",
                       "i-9", "--secondary-cloud", "site-b",
                       "--os-protector-api-version", "1.1", secondary=None)
    assert result.returncode == 0, result.stderr
    assert _Stub.requests[-1]["peer"] == "peer:peer"
    assert _Stub.requests[-1]["version"] == "protector 1.1"


def test_member_add_sends_peer_token_and_microversion(stub):
    _Stub.requests.clear()
    result = _stub_run(stub, "dr", "member", "add", "pg-1",
                       "--instance-id", "i-1", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["instance_name"] == "web-1"
    sent = _Stub.requests[-1]
    assert sent["path"] == "/v1/admin/protection-groups/pg-1/members"
    assert sent["peer"] == "peer:peer"
    assert sent["version"] == "protector 1.6"
    assert sent["body"] == {"member": {"instance_id": "i-1"}}


def test_failover_goes_to_secondary_with_primary_token(stub):
    _Stub.requests.clear()
    result = _stub_run(stub, "dr", "failover", "pg-2", "--type", "planned",
                       "--network-mapping", "net-a=net-b",
                       "--flavor-mapping", "m1.large=m2.large")
    assert result.returncode == 0, result.stderr
    fields = [line.split("|")[1].strip() for line in
              result.stdout.splitlines() if line.startswith("| ")]
    assert fields == ["Field", "operation_id", "operation_type", "status",
                      "progress"]
    sent = _Stub.requests[-1]
    assert sent["path"] == "/v1/peer/protection-groups/pg-2/action"
    assert sent["peer"] == "admin:admin"
    assert sent["body"] == {"failover": {
        "type": "planned", "network_mapping": {"net-a": "net-b"},
        "flavor_mapping": {"m1.large": "m2.large"}}}


def test_wait_follows_operation(stub):
    result = _stub_run(stub, "dr", "failback", "pg-3", "--wait",
                       "-f", "value", "-c", "status")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "completed\n"
    assert "recreate_instances" in result.stderr
    assert "100%" in result.stderr

    result = _stub_run(stub, "dr", "failback", "doomed", "--wait")
    assert result.returncode == 1
    assert "boom" in result.stderr

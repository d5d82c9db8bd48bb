"""Careless and hostile input never gets a 5xx and changes nothing
(issue 12: D2-D8, D10, D13-D15, D17-D19, M7), on SQLite and MariaDB.

Raw HTTP where a client library would refuse to send the request
(invalid UTF-8 in the URL, a lone surrogate, a malformed chunked body).
"""
import json
import os
import socket
import urllib.parse
import uuid

import pytest

from protector.db import metadata
from tests.functional import apiserver
from tests.functional import conftest as fconf
from tests.functional.test_service import call

pytestmark = pytest.mark.keystone


def _raw(api, request):
    """Send bytes, return (status, headers text, body bytes)."""
    host, port = urllib.parse.urlsplit(api.url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(request)
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body


def _sites(api, keystone, name):
    status, data = call("GET", "%s/v1/%s/sites?name=%s" % (
        api.url, keystone.env["ADMIN_PROJECT_ID"], name),
        keystone.env["ADMIN_TOKEN"])
    assert status == 200, data
    return data["sites"]


def _site_body(name):
    return {"site": {"name": name, "site_type": "primary",
                     "auth_url": "http://hostile.invalid/v3"}}


def test_bad_urls_bodies_and_headers_are_400_not_500(api, keystone):
    token = keystone.env["ADMIN_TOKEN"]
    admin = keystone.env["ADMIN_PROJECT_ID"]
    name = "hostile-%s" % uuid.uuid4().hex[:6]
    body = json.dumps(_site_body(name)).encode()

    def post(path, data, content_type="application/json", extra=b""):
        return _raw(api, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                    b"X-Auth-Token: " + token.encode() + b"\r\n"
                    b"Content-Type: " + content_type.encode() + b"\r\n" +
                    extra + b"Content-Length: %d\r\nConnection: close\r\n"
                    b"\r\n" % len(data) + data)

    # D5: invalid UTF-8 in the path (the site must not be created).
    status, head, answer = post(b"/v1/%ff/sites", body)
    assert status == 400, answer
    assert b"protector.request.invalid" in answer
    assert "OpenStack-API-Version" in head
    # D6: ... and in the query string.
    status, _, answer = _raw(api, b"GET /v1/" + admin.encode() +
                             b"/sites?name=%ff HTTP/1.1\r\nHost: x\r\n"
                             b"X-Auth-Token: " + token.encode() +
                             b"\r\nConnection: close\r\n\r\n")
    assert status == 400, answer
    # D2: deep nesting; D3: a lone surrogate; D13: a control character.
    deep = b'{"site": ' + b"[" * 50000 + b"]" * 50000 + b"}"
    path = b"/v1/" + admin.encode() + b"/sites"
    for data in (deep, body.replace(name.encode(), b"\\ud800"),
                 body.replace(name.encode(), b"a\\u001b[2Jb"),
                 body.replace(name.encode(), b"\\u0000")):
        status, _, answer = post(path, data)
        assert status == 400, (data[:60], answer)
    # D14: media type and charset are case-insensitive; another charset
    # is refused (415), not silently decoded as UTF-8.
    status, _, answer = post(path, body.replace(name.encode(),
                                                name.encode() + b"-2"),
                             "Application/JSON; Charset=UTF-8")
    assert status == 201, answer
    status, _, answer = post(path, body, "application/json; charset=latin-1")
    assert status == 415, answer
    # D4: a malformed chunked body is a 400.
    status, _, answer = _raw(api, b"POST " + path + b" HTTP/1.1\r\nHost: x"
                             b"\r\nX-Auth-Token: " + token.encode() +
                             b"\r\nContent-Type: application/json\r\n"
                             b"Transfer-Encoding: chunked\r\nConnection: "
                             b"close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
    assert status == 400, answer
    # M7: a project ID longer than Keystone's 64 characters.
    status, answer = call("GET", "%s/v1/%s/sites" % (api.url, "a" * 70),
                          token)
    assert status == 400, answer
    assert [s["name"] for s in _sites(api, keystone, name)] == []
    assert len(_sites(api, keystone, name + "-2")) == 1
    log = open(api.log_file).read()
    assert "Traceback" not in log or "UnicodeDecodeError" not in log


def test_head_upper_case_ids_and_error_headers(api, keystone):
    token = keystone.env["ADMIN_TOKEN"]
    admin = keystone.env["ADMIN_PROJECT_ID"]
    name = "case-%s" % uuid.uuid4().hex[:6]
    status, data = call("POST", "%s/v1/%s/sites" % (api.url, admin), token,
                        _site_body(name))
    assert status == 201, data
    site_id = data["site"]["id"]
    # D18: an upper-case UUID finds the row on SQLite as on MariaDB.
    status, data = call("GET", "%s/v1/%s/sites/%s" % (
        api.url, admin, site_id.upper()), token)
    assert status == 200 and data["site"]["id"] == site_id, data
    # D17: HEAD is GET without a body, on every GET route and on /.
    for path in (b"/", b"/v1/" + admin.encode() + b"/sites/" +
                 site_id.encode()):
        status, head, answer = _raw(api, b"HEAD " + path + b" HTTP/1.1\r\n"
                                    b"Host: x\r\nX-Auth-Token: " +
                                    token.encode() +
                                    b"\r\nConnection: close\r\n\r\n")
        assert status == 200, (path, head)
        assert answer == b""
    # D19: a 413 carries the version headers.
    big = b"x" * (2 * 1024 * 1024)
    status, head, _ = _raw(api, b"POST /v1/" + admin.encode() + b"/sites "
                           b"HTTP/1.1\r\nHost: x\r\nX-Auth-Token: " +
                           token.encode() + b"\r\nContent-Type: "
                           b"application/json\r\nContent-Length: %d\r\n"
                           b"Connection: close\r\n\r\n" % len(big) + big)
    assert status == 413
    assert "OpenStack-API-Version: protector" in head
    assert "Vary: OpenStack-API-Version" in head


def test_keystone_unreachable_is_a_json_503(keystone, tmp_path):
    """D10: keystonemiddleware's HTML 503 becomes an API-WG error."""
    server = apiserver.APIServer(
        str(tmp_path), "sqlite:///%s/k.sqlite" % tmp_path, workers=1,
        authtoken=dict(fconf.authtoken_for(keystone),
                       www_authenticate_uri="http://127.0.0.1:9/v3",
                       auth_url="http://127.0.0.1:9/v3",
                       http_request_max_retries="0"))
    assert server.manage("db", "sync").returncode == 0
    server.start()
    try:
        status, data = call("GET", "%s/v1/x/sites" % server.url,
                            keystone.env["ADMIN_TOKEN"])
        assert status == 503, data
        assert data["errors"][0]["code"] == "protector.auth.unavailable"
    finally:
        server.stop()


def test_rename_clash_and_member_delete_without_cg(pair):
    """D7: renaming a group to a name the project uses is 409; D8: the
    member delete of a group with no consistency-group row is no 500."""
    env = pair.keystone.env
    dave = {"token": env["DAVE_TOKEN"], "project": env["GAMMA_ID"]}
    ids = pair.site_ids["a"]
    made = []
    for _ in range(2):
        status, data = pair.request("a", "POST", "/protection-groups", {
            "protection_group": {
                "name": "clash-%s" % uuid.uuid4().hex[:6],
                "replication_type": "async",
                "primary_site_id": ids["site-a"],
                "secondary_site_id": ids["site-b"],
                "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
            **dave)
        assert status == 201, data
        made.append(data["protection_group"])
    status, data = pair.request("a", "PUT", "/protection-groups/%s" %
                                made[1]["id"], {"protection_group": {
                                    "name": made[0]["name"]}}, **dave)
    assert status == 409, data
    assert data["errors"][0]["code"] == \
        "protector.protection_group.duplicate_name"
    # Site B's copy of the second group, pushed without a consistency
    # group but with a member; then its member delete on site B.
    pg = made[1]
    member_id = str(uuid.uuid4())
    doc = {"id": pg["id"], "name": pg["name"], "description": None,
           "status": "active", "status_reason": None,
           "replication_type": "async",
           "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
           "volume_type_name": None, "remote_volume_type_id": None,
           "failover_count": 0, "last_failover_at": None,
           "primary_site": "site-a", "secondary_site": "site-b",
           "current_primary_site": "site-a", "consistency_group": None,
           "members": [{"id": member_id, "instance_id": str(uuid.uuid4()),
                        "instance_name": "vm", "status": "protected",
                        "instance_config": {}, "current_site": "site-a",
                        "current_instance_id": None, "volumes": []}],
           "policy": None}
    status, data = pair.signed("b", "PUT", "/internal/protection-groups/%s"
                               "/metadata" % pg["id"], {"metadata": {
                                   "version": 2,
                                   "checksum": metadata.checksum(doc),
                                   "document": doc}}, **dave)
    assert status == 200, data
    status, data = pair.request("b", "DELETE", "/protection-groups/%s/"
                                "members/%s" % (pg["id"], member_id),
                                **dave)
    assert status < 500, data


def test_a_rejected_token_is_never_echoed(pair):
    """D15: a 400 about an API token does not send the token back."""
    env = pair.keystone.env
    dave = {"token": env["DAVE_TOKEN"], "project": env["GAMMA_ID"]}
    ids = pair.site_ids["a"]
    status, data = pair.request("a", "POST", "/protection-groups", {
        "protection_group": {
            "name": "echo-%s" % uuid.uuid4().hex[:6],
            "replication_type": "async", "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
        **dave)
    assert status == 201, data
    pg = data["protection_group"]["id"]
    secret = "T0KEN-%s" % uuid.uuid4().hex
    policy = {"primary_fa_url": "https://fa-a.example",
              "secondary_fa_url": "https://fa-b.example",
              "primary_fa_api_token": "ok-token",
              "secondary_fa_api_token": "ok-token",
              "pure_pg_name": "pg-echo", "replication_interval": 300,
              "rpo_minutes": 15}
    for bad in ({"primary_fa_api_token": secret + " with a space"},
                {"secondary_fa_api_token": secret * 40},
                {"primary_fa_api_token": [secret]},
                {"replication_interval": "x", "primary_fa_api_token": [
                    secret]}):
        status, data = pair.request(
            "a", "PUT", "/protection-groups/%s/policy" % pg,
            {"policy": dict(policy, **bad)}, **dave)
        assert status == 400, data
        assert secret not in json.dumps(data), data
    status, data = pair.request("a", "PUT", "/protection-groups/%s/policy" %
                                pg, [secret], **dave)
    assert status == 400 and secret not in json.dumps(data), data


def test_fifty_concurrent_writers_never_get_a_500(pair, request):
    """D16: concurrent changes of one group serialise or answer 409 on
    both databases (on SQLite they got 'database is locked' 500s while a
    writer held the lock across its push to the peer). The peer answers
    after 0.2 s, as over a WAN: 50 writers queue for some 10 s, twice
    SQLite's default busy timeout (5 s), which is what failed them.
    MariaDB's lock wait timeout is 50 s, which no test can afford to
    pass: 0.05 s there (the writers still overlap), 2.5 s in all."""
    from concurrent import futures
    env = pair.keystone.env
    dave = {"token": env["DAVE_TOKEN"], "project": env["GAMMA_ID"]}
    ids = pair.site_ids["a"]
    status, data = pair.request("a", "POST", "/protection-groups", {
        "protection_group": {
            "name": "busy-%s" % uuid.uuid4().hex[:6],
            "replication_type": "async", "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
        **dave)
    assert status == 201, data
    pg = data["protection_group"]["id"]
    policy = {"primary_fa_url": "https://fa-a.example",
              "secondary_fa_url": "https://fa-b.example",
              "primary_fa_api_token": "t-a", "secondary_fa_api_token": "t-b",
              "pure_pg_name": "pg-busy", "replication_interval": 300,
              "rpo_minutes": 15}

    mariadb = pair.a.db_url.startswith("mysql")
    slow = _SlowPeer(pair.b.url, delay=0.05 if mariadb else 0.2)
    _set_peer_url(pair, slow.url)
    request.addfinalizer(lambda: (_set_peer_url(pair, pair.b.url),
                                  slow.stop()))

    def change(i):
        if i % 2:
            return pair.request("a", "PUT", "/protection-groups/%s" % pg,
                                {"protection_group": {
                                    "description": "writer %d" % i}},
                                **dave)[0]
        return pair.request("a", "PUT", "/protection-groups/%s/policy" % pg,
                            {"policy": dict(policy, rpo_minutes=10 + i)},
                            **dave)[0]
    with futures.ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(change, range(50)))
    assert all(s in (200, 201, 409) for s in statuses), statuses
    assert statuses.count(200) + statuses.count(201) >= 1
    # Both sites agree on the version that won.
    _, here = pair.request("a", "GET", "/protection-groups/%s" % pg, **dave)
    _, there = pair.request("b", "GET", "/protection-groups/%s" % pg, **dave)
    assert here["protection_group"]["metadata_version"] == \
        there["protection_group"]["metadata_version"]
    assert here["protection_group"]["description"] == \
        there["protection_group"]["description"]


def _set_peer_url(pair, url):
    import sqlalchemy as sa

    from protector.db import models
    from tests.functional.engine import fixtures
    rows = fixtures.Rows(pair.a.db_url)
    with rows.session() as session, session.begin():
        session.execute(sa.update(models.Site).where(
            models.Site.name == "site-b").values(protector_url=url))


class _SlowPeer:
    """Forwards to the peer's protector-api after ``delay`` seconds."""

    def __init__(self, target, delay):
        import http.server
        import threading
        import time
        import urllib.error
        import urllib.request

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                time.sleep(delay)
                req = urllib.request.Request(
                    target + self.path, data=data, method=self.command,
                    headers={k: v for k, v in self.headers.items()
                             if k.lower() not in ("host", "content-length",
                                                  "connection")})
                try:
                    with urllib.request.urlopen(req, timeout=60) as resp:
                        code, payload = resp.status, resp.read()
                except urllib.error.HTTPError as exc:
                    code, payload = exc.code, exc.read()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _whole_document(pg, **changes):
    member = {"id": str(uuid.uuid4()), "instance_id": str(uuid.uuid4()),
              "instance_name": "vm", "status": "protected",
              "instance_config": {"flavor": {"original_name": "m1.small"}},
              "current_site": "site-a", "current_instance_id": None,
              "volumes": [{"volume_id": str(uuid.uuid4()), "volume_name": "v",
                           "size_gb": 1, "volume_type_id": None,
                           "device": "/dev/vda", "boot_index": 0,
                           "bootable": True, "backend_ref": None,
                           "current_volume_id": None}]}
    doc = {"id": pg["id"], "name": pg["name"], "description": None,
           "status": "active", "status_reason": None,
           "replication_type": "async",
           "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
           "volume_type_name": None, "remote_volume_type_id": None,
           "failover_count": 0, "last_failover_at": None,
           "primary_site": "site-a", "secondary_site": "site-b",
           "current_primary_site": "site-a", "consistency_group": None,
           "members": [member], "policy": None}
    for path, value in changes.items():
        target, keys = doc, path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
    return doc


BAD_DOCUMENTS = [
    {"members.0.volumes.0.size_gb": "big"},
    {"members.0.volumes.0.size_gb": 2 ** 40},
    {"members.0.volumes.0.size_gb": -1},
    {"members.0.volumes.0.boot_index": "first"},
    {"members.0.volumes.0.bootable": "yes"},
    {"members.0.volumes.0.device": "d" * 65},
    {"members.0.volumes.0.volume_id": "v" * 37},
    {"members.0.volumes.0.volume_id": None},
    {"members.0.volumes.0.volume_name": ["x"]},
    {"members.0.volumes.0.backend_ref": "b" * 256},
    {"members.0.volumes.0.current_volume_id": 7},
    {"members.0.volumes.0": "volume"},
    {"members.0.volumes": "all"},
    {"members.0.instance_id": "i" * 100},
    {"members.0.instance_id": 12},
    {"members.0.instance_name": "n" * 256},
    {"members.0.status": "s" * 33},
    {"members.0.status": None},
    {"members.0.id": "not-a-uuid"},
    {"members.0.current_site": "c" * 256},
    {"members.0.current_instance_id": "c" * 37},
    {"members.0.instance_config": "flavor"},
    {"members.0": 1},
    {"members": "all"},
    {"name": "n" * 256},
    {"name": 5},
    {"description": "d" * 1025},
    {"status": "exploded"},
    {"status_reason": "r" * 5000},
    {"replication_type": "semi"},
    {"volume_type_id": "v" * 37},
    {"volume_type_name": "v" * 256},
    {"remote_volume_type_id": {"id": 1}},
    {"failover_count": -1},
    {"failover_count": 2 ** 40},
    {"failover_count": "3"},
    {"last_failover_at": "yesterday"},
    {"last_failover_at": "2026-13-45T00:00:00Z"},
    {"consistency_group": {"id": 5}},
    {"consistency_group": {"id": str(uuid.uuid4()), "name": "cg",
                           "volume_type_id": "t", "status": "available",
                           "protection_group_id": str(uuid.uuid4())}},
    {"consistency_group": "cg"},
    {"policy": "p"},
    {"policy": {"rpo_minutes": "soon"}},
    {"policy": {"replication_interval": 2 ** 40}},
    {"policy": {"primary_fa_url": "not a url"}},
]


def test_pushed_documents_are_bounded_by_a_schema(pair):
    """D9/D11: a wrong type or size anywhere in a pushed document is a 400
    and nothing is stored (before: about 40 kinds gave 500, and SQLite
    stored some, e.g. size_gb "big"); so is a version beyond 32 bits."""
    env = pair.keystone.env
    dave = {"token": env["DAVE_TOKEN"], "project": env["GAMMA_ID"]}
    ids = pair.site_ids["a"]
    status, data = pair.request("a", "POST", "/protection-groups", {
        "protection_group": {
            "name": "doc-%s" % uuid.uuid4().hex[:6],
            "replication_type": "async", "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
        **dave)
    assert status == 201, data
    pg = data["protection_group"]
    path = "/internal/protection-groups/%s/metadata" % pg["id"]

    def push(doc, version=2):
        return pair.signed("b", "PUT", path, {"metadata": {
            "version": version, "checksum": metadata.checksum(doc),
            "document": doc}}, **dave)
    failures = []
    for changes in BAD_DOCUMENTS:
        status, data = push(_whole_document(pg, **changes))
        if status != 400:
            failures.append((changes, status, data))
    for version in (2 ** 31, 2 ** 63, 2 ** 64):
        status, data = push(_whole_document(pg), version)
        if status != 400:
            failures.append(("version", version, status, data))
    assert failures == []
    _, data = pair.request("b", "GET", "/protection-groups/%s" % pg["id"],
                           **dave)
    assert data["protection_group"]["metadata_version"] == 1
    assert data["protection_group"]["member_count"] == 0
    # The good one is stored.
    status, data = push(_whole_document(pg))
    assert status == 200, data

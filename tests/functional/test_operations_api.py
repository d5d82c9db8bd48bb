"""Operations, DR actions, replication policies and health over HTTP.

Runs against protector-api servers of its own (an encryption key for
policy tokens configured), on SQLite and MariaDB. Groups, members and
policies are inserted straight into the server's database
(``engine/fixtures.py``); the declarative cases are in
``gabbits/operations/*.yaml`` and read the seeded IDs from the
environment (``$ENVIRON['OPS_PG_READY']`` ...).
"""
import glob
import os
import subprocess
import sys
import time
import uuid

import pytest

from tests import conftest as top
from tests import services
from tests.functional import apiserver
from tests.functional import conftest as fconf
from tests.functional.engine import fixtures
from tests.functional import stubpeer
from tests.functional import test_api
from tests.functional.test_service import call

pytestmark = pytest.mark.keystone

HERE = os.path.dirname(__file__)
GABBITS = sorted(glob.glob(os.path.join(HERE, "gabbits", "operations",
                                        "*.yaml")))
KEY = "0rw-5G1VN2X8Pn0G4oJ4iyJ1eJv8lXyCzq6d1YVc8lI="
SECRET = "T-12345678-abcd-efgh-ijkl-mnopqrstuvwx"


def _server(keystone, work, url):
    # A policy PUT is pushed to the peer site (architecture 3): this server
    # is ops-site-a, ops-site-b's protector_url a stub peer (ops_api).
    return apiserver.APIServer(
        work, url, authtoken=fconf.authtoken_for(keystone),
        # Mock storage: these policies name arrays that do not exist,
        # which the pure driver's policy validation would refuse.
        extra={"DEFAULT": {"use_mock_storage": "True",
                           "site_name": "ops-site-a"},
               "storage": {"token_encryption_key": KEY},
               "cloud": {"connect_retries": "0", "request_timeout": "5"}})


@pytest.fixture(scope="module")
def sqlite_ops_api(keystone, tmp_path_factory):
    work = str(tmp_path_factory.mktemp("ops-sqlite"))
    server = _server(keystone, work, "sqlite:///%s/protector.sqlite" % work)
    yield server.start()
    server.stop(later=True)


@pytest.fixture(scope="module")
def mariadb_ops_api(keystone, tmp_path_factory):
    if not services.mysql_available():
        top.require_or_skip("MariaDB is not reachable on %s:3306" %
                            services.MYSQL_HOST)
    work = str(tmp_path_factory.mktemp("ops-maria"))
    with services.mysql_database() as url:
        server = _server(keystone, work, url)
        yield server.start()
        server.stop(later=True)


@pytest.fixture(scope="module")
def stub_peer():
    peer = stubpeer.StubPeer().start()
    yield peer
    peer.stop()


@pytest.fixture(params=["sqlite", pytest.param("mariadb",
                                               marks=pytest.mark.mariadb)])
def ops_api(request, keystone, stub_peer):
    server = request.getfixturevalue(request.param + "_ops_api")
    rows = fixtures.Rows(server.db_url)
    a = rows.site("ops-site-a", keystone.auth_url)
    b = rows.site("ops-site-b", keystone.auth_url, stub_peer.url)
    rows.pair(b, KEY)
    alpha = keystone.env["ALPHA_ID"]
    tag = uuid.uuid4().hex[:6]

    def group(name, **kw):
        # This server (ops-site-a) is the target of the group's next
        # action, where an action must be sent (doc/architecture.md 6;
        # elsewhere 409 protector.operation.wrong_site): a failover or a
        # test of a group running on ops-site-b, the failback of one that
        # failed over from ops-site-a to ops-site-b.
        primary, secondary = (a, b) if kw.get("status") == "failed_over" \
            else (b, a)
        return rows.group(alpha, primary, secondary,
                          name="%s-%s" % (name, tag), **kw)

    env = {
        "OPS_PG_READY": group("ready"),
        "OPS_PG_NOPOLICY": group("nopolicy", policy=False),
        "OPS_PG_NOMEMBERS": group("nomembers", members=0),
        "OPS_PG_UNMAPPED": group("unmapped"),
        "OPS_PG_TESTING": group("testing"),
        "OPS_PG_FAILEDOVER": group("failedover", status="failed_over"),
        "OPS_PG_POLICY": group("policy", policy=False),
        # Active on its original primary, this site: a failback's target.
        "OPS_PG_HOME": rows.group(alpha, a, b, name="home-%s" % tag),
        # Failed over from ops-site-b to this site: a failback goes back
        # to b; a failover is ruled out by its status.
        "OPS_PG_AWAY": rows.group(alpha, b, a, name="away-%s" % tag,
                                  status="failed_over"),
        "OPS_TAG": tag,
    }
    rows.set_group(env["OPS_PG_TESTING"],
                   active_test_operation_id=str(uuid.uuid4()))
    os.environ.update(env)
    server.rows = rows
    server.env = env
    return server


@pytest.mark.parametrize("path", GABBITS,
                         ids=[os.path.basename(p) for p in GABBITS])
def test_operations_gabbits(ops_api, path):
    result, report = test_api.run_gabbits(path, ops_api.url)
    assert result.wasSuccessful(), report


def _url(server, keystone, path):
    return "%s/v1/%s%s" % (server.url, keystone.env["ALPHA_ID"], path)


def test_concurrent_actions_start_exactly_one_operation(ops_api, keystone):
    """Many requests at once, through both API workers: one 202, the rest
    409, and one operation in the database."""
    pg = ops_api.env["OPS_PG_READY"]
    body = ('{"failover": {"type": "unplanned", "network_mapping": '
            '{"net-web": "net-b"}, "flavor_mapping": '
            '{"m1.small": "m1.small"}}}')
    script = (
        "import sys, urllib.request, urllib.error\n"
        "req = urllib.request.Request(sys.argv[1], data=sys.argv[3]"
        ".encode(), method='POST', headers={'X-Auth-Token': sys.argv[2], "
        "'Content-Type': 'application/json'})\n"
        "try:\n"
        "    print(urllib.request.urlopen(req, timeout=60).status)\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code, e.read().decode())\n")
    url = _url(ops_api, keystone, "/protection-groups/%s/action" % pg)
    procs = [subprocess.Popen([sys.executable, "-c", script, url,
                               keystone.env["ALICE_TOKEN"], body],
                              stdout=subprocess.PIPE, text=True)
             for _ in range(8)]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    codes = sorted(o.split()[0] for o in outputs)
    assert codes == ["202"] + ["409"] * 7, outputs
    assert all("protector.operation.conflict" in o for o in outputs
               if o.startswith("409"))
    status, data = call("GET", _url(
        ops_api, keystone, "/operations?protection_group_id=%s" % pg),
        keystone.env["ALICE_TOKEN"])
    assert status == 200 and len(data["operations"]) == 1


MAPPED = {"network_mapping": {"net-web": "net-b"},
          "flavor_mapping": {"m1.small": "m1.small"}}


def _trusts(rows):
    import sqlalchemy as sa

    from protector.db import models
    with rows.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(
            models.Trust))


@pytest.mark.parametrize("pg_key,path,body", [
    # Runs on this site (ops-site-a): a failover or a test goes to b.
    ("OPS_PG_HOME", "action", {"failover": dict(MAPPED, type="unplanned")}),
    ("OPS_PG_HOME", "action", {"failover": dict(MAPPED, type="planned")}),
    ("OPS_PG_HOME", "action", {"test_failover": {"auto_network": True}}),
    ("OPS_PG_HOME", "preflight", {"failover": dict(MAPPED,
                                                   type="unplanned")}),
    ("OPS_PG_HOME", "preflight", {"test_failover": {}}),
    # Its original primary is ops-site-b: a failback goes back there.
    ("OPS_PG_AWAY", "action", {"failback": MAPPED}),
    ("OPS_PG_AWAY", "preflight", {"failback": {}}),
    # The test of a group running here ran on b: so does its cleanup.
    ("HOME_TESTING", "action", {"test_cleanup": {}}),
])
def test_an_action_at_the_wrong_site_is_refused_and_queues_nothing(
        ops_api, keystone, stub_peer, pg_key, path, body):
    """doc/architecture.md 6: sent to the other site's protector-api, an
    action (or its preflight) is 409 protector.operation.wrong_site naming
    the site (and its protector_url) to send it to; nothing is queued,
    no trust is made, the group is as it was."""
    rows = ops_api.rows
    if pg_key == "HOME_TESTING":
        pg = rows.group(keystone.env["ALPHA_ID"],
                        rows.site("ops-site-a", keystone.auth_url),
                        rows.site("ops-site-b", keystone.auth_url),
                        name="hometest-%s" % ops_api.env["OPS_TAG"])
        rows.set_group(pg, active_test_operation_id=str(uuid.uuid4()))
    else:
        pg = ops_api.env[pg_key]
    kind = next(iter(body))
    before, trusts = rows.group_row(pg), _trusts(rows)
    status, data = call("POST", _url(
        ops_api, keystone, "/protection-groups/%s/%s" % (pg, path)),
        keystone.env["ALICE_TOKEN"], body,
        headers={"X-Protector-Peer-Token": keystone.env["ALICE_TOKEN"]})
    assert status == 409, data
    error = data["errors"][0]
    assert error["code"] == "protector.operation.wrong_site"
    detail = error["detail"]
    assert "must be sent to the protector-api of site ops-site-b (%s)" % (
        stub_peer.url) in detail, detail
    assert "a %s runs on" % kind in detail and "this is site ops-site-a" \
        in detail, detail
    if path == "preflight":
        assert detail.startswith("The preflight of %s" % kind), detail
    # Nothing queued, nothing changed, no trust made.
    status, ops = call("GET", _url(
        ops_api, keystone, "/operations?protection_group_id=%s" % pg),
        keystone.env["ALICE_TOKEN"])
    assert status == 200 and ops["operations"] == []
    assert rows.group_row(pg) == before
    assert _trusts(rows) == trusts


def test_a_status_refusal_comes_before_the_site(ops_api, keystone,
                                                stub_peer):
    """A failover of a group that is already failed over is refused for
    its status (412 invalid_status: fail back instead), not sent on to
    the other site, where it would be refused too."""
    pg = ops_api.env["OPS_PG_AWAY"]  # failed over, running here
    token = keystone.env["ALICE_TOKEN"]
    status, data = call("POST", _url(
        ops_api, keystone, "/protection-groups/%s/action" % pg), token,
        {"failover": dict(MAPPED, type="planned")},
        headers={"X-Protector-Peer-Token": token})
    assert status == 412, data
    assert data["errors"][0]["code"] == \
        "protector.precondition.invalid_status", data


def test_the_target_site_still_accepts_the_action(ops_api, keystone):
    """The same requests at the target site (this one): the preflight
    answers its table, the action is queued."""
    pg = ops_api.env["OPS_PG_UNMAPPED"]  # runs on ops-site-b
    url = _url(ops_api, keystone, "/protection-groups/%s/" % pg)
    token = keystone.env["ALICE_TOKEN"]
    body = {"failover": dict(MAPPED, type="unplanned")}
    status, data = call("POST", url + "preflight", token, body)
    assert status == 200 and data["preflight"]["ok"] is True, data
    status, data = call("POST", url + "action", token, body)
    assert status == 202, data
    op = data["operation"]
    assert op["operation_type"] == "failover" and op["status"] == "queued"
    assert op["target_site_id"] == ops_api.rows.site(
        "ops-site-a", keystone.auth_url)
    # ... and the failback of a failed-over group, back to this site.
    pg = ops_api.env["OPS_PG_FAILEDOVER"]
    status, data = call("POST", _url(
        ops_api, keystone, "/protection-groups/%s/action" % pg), token,
        {"failback": dict(MAPPED, type="planned")},
        headers={"X-Protector-Peer-Token": token})
    assert status == 202, data


def test_policy_token_is_encrypted_masked_and_never_logged(ops_api,
                                                           keystone):
    pg = ops_api.env["OPS_PG_POLICY"]
    url = _url(ops_api, keystone, "/protection-groups/%s/policy" % pg)
    body = {"policy": {
        "primary_fa_url": "https://flasharray-a.example.com",
        "primary_fa_api_token": SECRET,
        "secondary_fa_url": "https://flasharray-b.example.com",
        "secondary_fa_api_token": SECRET + "-b",
        "pure_pg_name": "pg-prod-web-app", "replication_interval": 300,
        "rpo_minutes": 15}}
    token = keystone.env["ALICE_TOKEN"]
    for expected in (201, 200):  # create, then replace
        status, data = call("PUT", url, token, body)
        assert status == expected, data
        assert data["policy"]["primary_fa_api_token"] == "*** (masked)"
        assert SECRET not in str(data)
    status, data = call("GET", url, token)
    assert data["policy"]["secondary_fa_api_token"] == "*** (masked)"
    assert SECRET not in str(data)
    # Encrypted at rest: neither token appears in the database.
    with ops_api.rows.session() as s:
        import sqlalchemy as sa
        stored = s.execute(sa.text(
            "SELECT primary_fa_api_token_encrypted, "
            "secondary_fa_api_token_encrypted FROM replication_policies "
            "WHERE protection_group_id = :pg"), {"pg": pg}).one()
    assert all(v and SECRET not in v for v in stored)
    from cryptography import fernet
    assert fernet.Fernet(KEY).decrypt(stored[0].encode()).decode() == SECRET
    # ... and never logged, even with debug = True.
    time.sleep(0.5)  # let the workers flush their log lines
    for name in os.listdir(ops_api.workdir):
        if name.endswith((".log", ".err")):
            text = open(os.path.join(ops_api.workdir, name)).read()
            assert SECRET not in text, name


def test_policy_refused_without_an_encryption_key(sqlite_api, keystone):
    rows = fixtures.Rows(sqlite_api.db_url)
    a = rows.site("nokey-a", keystone.auth_url)
    pg = rows.group(keystone.env["ALPHA_ID"], a, a, policy=False)
    url = "%s/v1/%s/protection-groups/%s/policy" % (
        sqlite_api.url, keystone.env["ALPHA_ID"], pg)
    status, data = call("PUT", url, keystone.env["ALICE_TOKEN"], {"policy": {
        "primary_fa_url": "https://a", "primary_fa_api_token": SECRET,
        "secondary_fa_url": "https://b", "secondary_fa_api_token": SECRET,
        "pure_pg_name": "pg1", "replication_interval": 300,
        "rpo_minutes": 15}})
    assert status == 503
    assert data["errors"][0]["code"] == \
        "protector.policy.encryption_unconfigured"
    assert call("GET", url, keystone.env["ALICE_TOKEN"])[0] == 404

"""The preflight over HTTP (``POST .../protection-groups/{pg}/preflight``,
preflight/__init__.py) against the real protector-api and Keystone.

The server is ``ops-site-a`` (test_operations_api's configuration: mock
storage, a real Keystone and no other OpenStack service, so the cloud
checks that list something warn "not checked"). Site ``pf-down``
shares the Keystone but its protector-api does not answer: a planned
failover from it fails the ``peer_site`` check - in the preflight's table
(200) and as the action's 412, with nothing queued or created.
"""
import pytest
import sqlalchemy as sa

from protector.db import models
from protector_lab import keystone as ks_mod
from tests.functional import apiserver
from tests.functional import conftest as fconf
from tests.functional.engine import fixtures
from tests.functional import test_operations_api as ops_test
from tests.functional.test_service import call

pytestmark = pytest.mark.keystone

MAPPED = {"network_mapping": {"net-web": "net-a"},
          "flavor_mapping": {"m1.small": "m1.small"}}


@pytest.fixture(scope="module")
def api(keystone, tmp_path_factory):
    work = str(tmp_path_factory.mktemp("preflight"))
    # A patient client: the checks ask this Keystone in parallel, and the
    # trust row must be Keystone's answer, not a timeout.
    server = apiserver.APIServer(
        work, "sqlite:///%s/protector.sqlite" % work,
        authtoken=fconf.authtoken_for(keystone),
        extra={"DEFAULT": {"use_mock_storage": "True",
                           "site_name": "ops-site-a"},
               "storage": {"token_encryption_key": ops_test.KEY},
               "cloud": {"connect_retries": "0", "request_timeout": "60"}})
    yield server.start()
    server.stop(later=True)


@pytest.fixture
def env(api, keystone):
    rows = fixtures.Rows(api.db_url)
    here = rows.site("ops-site-a", keystone.auth_url)
    down = rows.site("pf-down", keystone.auth_url,
                     "http://127.0.0.1:%d" % ks_mod.free_port())
    # Paired: the peer check finds it down, not unpaired.
    rows.pair(down, ops_test.KEY)
    alpha = keystone.env["ALPHA_ID"]
    # Runs on pf-down now; a failover comes to this site.
    pg = rows.group(alpha, down, here)
    base = "%s/v1/%s/protection-groups/%s" % (api.url, alpha, pg)
    token = keystone.env["ALICE_TOKEN"]

    def post(path, body, raw=None):
        return call("POST", base + path, token, body, raw=raw)

    def operations():
        status, data = call("GET", "%s/v1/%s/operations?protection_group_id"
                            "=%s" % (api.url, alpha, pg), token)
        assert status == 200
        return data["operations"]

    def trusts():
        with rows.session() as s:
            return s.scalar(sa.select(sa.func.count()).select_from(
                models.Trust))
    return type("Env", (), {"rows": rows, "pg": pg, "post": staticmethod(
        post), "operations": staticmethod(operations),
        "trusts": staticmethod(trusts)})


def checks(data):
    return {c["check"]: c for c in data["preflight"]["checks"]}


def test_preflight_answers_the_table_and_changes_nothing(env):
    before = env.rows.group_row(env.pg)
    trusts = env.trusts()
    status, data = env.post("/preflight", {"failover": dict(
        MAPPED, type="planned")})
    assert status == 200, data
    assert data["preflight"]["action"] == "failover"
    assert data["preflight"]["ok"] is False
    rows = checks(data)
    assert all(set(c) == {"check", "result", "detail"}
               for c in data["preflight"]["checks"])
    assert {c["result"] for c in rows.values()} <= {"ok", "warn", "fail"}
    assert [n for n, c in rows.items() if c["result"] == "fail"] == [
        "peer_site"]
    assert "pf-down" in rows["peer_site"]["detail"]
    for name in ("no_running_operation", "no_active_test", "group_status",
                 "replication_policy", "members"):
        assert rows[name]["result"] == "ok", rows[name]
    # Listings this Keystone-only site cannot answer are not guessed.
    for name in ("networks", "flavors", "volume_type", "volume_service"):
        assert rows[name]["result"] == "warn", rows[name]
        assert "not checked" in rows[name]["detail"]
    assert all(c["result"] == "warn" for n, c in rows.items()
               if n.startswith("quota")), rows
    assert rows["storage"]["result"] == "ok"  # the mock driver
    # alice holds 'member' on alpha: the trust would be made at queue time.
    assert rows["trust"]["result"] == "ok"
    assert "when the operation is queued" in rows["trust"]["detail"]
    # Nothing anywhere: no operation, no trust, the group as it was.
    assert env.operations() == []
    assert env.trusts() == trusts
    assert env.rows.group_row(env.pg) == before


def test_the_action_refuses_with_the_failed_check_and_queues_nothing(env):
    trusts = env.trusts()
    status, data = env.post("/action", {"failover": dict(
        MAPPED, type="planned")})
    assert status == 412, data
    error = data["errors"][0]
    assert error["code"] == "protector.precondition.peer_unreachable"
    assert "pf-down" in error["detail"] and "--type unplanned" in \
        error["detail"]
    assert env.operations() == []
    assert env.trusts() == trusts
    assert env.rows.group_row(env.pg)["status"] == "active"


def test_unplanned_needs_no_peer_and_passes(env):
    status, data = env.post("/preflight", {"failover": dict(
        MAPPED, type="unplanned")})
    assert status == 200, data
    assert data["preflight"]["ok"] is True
    assert "peer_site" not in checks(data)
    assert env.operations() == []


def test_the_existing_codes_still_win(env, api, keystone):
    # Unmapped names are the long-standing 412 unmapped_network, first.
    status, data = env.post("/action", {"failover": {"type": "planned"}})
    assert status == 412
    assert data["errors"][0]["code"] == \
        "protector.precondition.unmapped_network"
    assert "peer_site:" in data["errors"][0]["detail"]  # every failure
    # A failback of this (active) group would go to its original
    # primary, pf-down, but its status rules it out wherever it is sent:
    # the table says so here rather than naming another site.
    status, data = env.post("/preflight", {"failback": {}})
    assert status == 200, data
    assert checks(data)["group_status"]["result"] == "fail"
    assert env.operations() == []
    # One whose original primary is this site: the table says why not.
    home = env.rows.group(keystone.env["ALPHA_ID"], env.rows.site(
        "ops-site-a", keystone.auth_url), env.rows.site(
        "pf-down", keystone.auth_url))
    status, data = call(
        "POST", "%s/v1/%s/protection-groups/%s/preflight" % (
            api.url, keystone.env["ALPHA_ID"], home),
        keystone.env["ALICE_TOKEN"], {"failback": {}})
    assert status == 200, data
    assert checks(data)["group_status"]["result"] == "fail"


@pytest.mark.parametrize("body,raw", [
    ({}, None),
    ({"failover": {}, "failback": {}}, None),
    ({"test_cleanup": {}}, None),
    ({"prepare_failover": {"parent_operation_id": "x"}}, None),
    ({"failover": {"type": "sideways"}}, None),
    ({"test_failover": {"flavor_mapping": {"a": "b"}}}, None),
    ({"failover": []}, None),
    (None, b"{not json"),
])
def test_malformed_bodies_are_400(env, body, raw):
    status, data = env.post("/preflight", body, raw=raw)
    assert status == 400, data
    assert data["errors"][0]["code"].startswith("protector.")
    assert env.operations() == []

"""Replication policies and RPO through the real protector-api with
``[storage] driver = pure`` against the FlashArray simulator: PUT checks
both arrays (login, connection, type), show and health report the lag."""
import json
import os
import urllib.error
import urllib.request

import pytest

from protector.storage.pure import driver as pure_driver
from tests import services
from tests.functional import apiserver
from tests.functional import conftest as fconf
from tests.functional.engine import fixtures
from tests.functional import stubpeer
from tests.functional.storage.conftest import Env
from tests.functional.storage.conftest import make_sim

pytestmark = pytest.mark.keystone

KEY = "0rw-5G1VN2X8Pn0G4oJ4iyJ1eJv8lXyCzq6d1YVc8lI="


def call(method, url, token, body=None):
    req = urllib.request.Request(
        url, method=method, headers={"X-Auth-Token": token,
                                     "Content-Type": "application/json"},
        data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory):
    """One certificate path for the module: each test's simulator writes
    its own certificate there, and the module's protector-api, which
    reads ``pure_ca_bundle`` for each array login, trusts it."""
    return str(tmp_path_factory.mktemp("fa-sim-cert"))


@pytest.fixture
def sim(spec_validator, cert_dir):  # noqa: F811
    """A fresh simulator per test (tests change its connections, faults
    and clock), behind the module's one protector-api."""
    s = make_sim(spec_validator, cert_dir=cert_dir)
    try:
        yield s
    finally:
        s.stop()
    assert not s.recorder.problems, "\n".join(s.recorder.problems[:30])


@pytest.fixture(scope="module")
def pure_api(keystone, cert_dir, tmp_path_factory):
    # A protector-api starts in about 5 s: one for the module, a new
    # protection group per test.
    work = str(tmp_path_factory.mktemp("api"))
    # A policy PUT is pushed to the peer site (doc/architecture.md rule 3).
    peer = stubpeer.StubPeer().start()
    server = apiserver.APIServer(
        work, "sqlite:///%s/protector.sqlite" % work,
        authtoken=fconf.authtoken_for(keystone), workers=1,
        extra={"DEFAULT": {"site_name": "pure-a"},
               "storage": {"driver": "pure", "token_encryption_key": KEY,
                           "pure_verify_ssl": "True",
                           "pure_ca_bundle": os.path.join(cert_dir,
                                                          "cert.pem"),
                           "pure_api_retries": "0"},
               "cloud": {"connect_retries": "0", "request_timeout": "5"}})
    server.start()
    rows = fixtures.Rows(server.db_url)
    server.site_a = rows.site("pure-a", keystone.auth_url)
    server.site_b = rows.site("pure-b", keystone.auth_url, peer.url)
    rows.pair(server.site_b, KEY)
    server.rows = rows
    yield server
    server.stop(later=True)
    peer.stop()


class Client:
    def __init__(self, server, keystone):
        self.base = "%s/v1/%s" % (server.url, keystone.env["ALPHA_ID"])
        self.token = keystone.env["ALICE_TOKEN"]
        self.server = server
        self.alpha = keystone.env["ALPHA_ID"]

    def group(self, rtype="async"):
        pg = self.server.rows.group(self.alpha, self.server.site_a,
                                    self.server.site_b, policy=False)
        if rtype != "async":
            self.server.rows.set_group(pg, replication_type=rtype)
        return pg

    def put(self, pg, policy):
        return call("PUT", "%s/protection-groups/%s/policy" % (
            self.base, pg), self.token, {"policy": policy})

    def get(self, path):
        return call("GET", self.base + path, self.token)


@pytest.fixture
def api(pure_api, keystone):
    return Client(pure_api, keystone)


def _policy(sim, **kw):
    out = {"primary_fa_url": "https://" + sim.endpoint("array1"),
           "primary_fa_api_token": sim.token("array1"),
           "secondary_fa_url": "https://" + sim.endpoint("array2"),
           "secondary_fa_api_token": sim.token("array2"),
           "pure_pg_name": "dr-api", "replication_interval": 300,
           "rpo_minutes": 15}
    out.update(kw)
    return out


def _refused(api, pg, policy, *texts):
    status, data = api.put(pg, policy)
    assert status == 400, data
    err = data["errors"][0]
    assert err["code"] == "protector.policy.array_invalid", err
    for text in texts:
        assert text in err["detail"], err["detail"]
    for token in (policy["primary_fa_api_token"],
                  policy["secondary_fa_api_token"]):
        assert token not in json.dumps(data)
    assert api.get("/protection-groups/%s/policy" % pg)[0] == 404
    return err["detail"]


def test_valid_policy_is_stored_masked_with_rpo(api, sim):
    pg = api.group()
    status, data = api.put(pg, _policy(sim))
    assert status == 201, data
    assert data["policy"]["primary_fa_api_token"] == "*** (masked)"
    assert sim.token("array1") not in json.dumps(data)
    status, data = api.get("/protection-groups/%s/policy" % pg)
    assert status == 200
    assert data["policy"]["rpo_status"] == "unknown"
    assert data["policy"]["replication_lag_seconds"] is None
    status, data = api.get("/protection-groups/%s" % pg)
    assert data["protection_group"]["rpo_status"] == "unknown"
    assert "no complete replicated snapshot" in \
        data["protection_group"]["rpo_detail"]


def test_bad_token_is_refused_naming_the_array(api, sim):
    pg = api.group()
    _refused(api, pg, _policy(sim, secondary_fa_api_token="not-the-token"),
             "secondary array", sim.endpoint("array2"), "API token")


def test_unreachable_array_is_refused(api, sim):
    dead = "https://127.0.0.1:%d" % services.dead_port()
    _refused(api, api.group(), _policy(sim, primary_fa_url=dead),
             "primary array", dead, "unreachable")


def test_missing_array_connection_is_refused(api, sim):
    sim.fabric.disconnect("array1", "array2")
    _refused(api, api.group(), _policy(sim), "primary array",
             "no array connection to array2")


def test_sync_group_needs_a_sync_connection(api, sim):
    sim.fabric.disconnect("array1", "array2")
    sim.fabric.connect("array1", "array2", "async-replication")
    _refused(api, api.group("sync"), _policy(sim),
             "async-replication", "sync needs sync-replication")
    # The same connection is fine for an async group.
    assert api.put(api.group(), _policy(sim))[0] == 201


def test_rpo_breach_shows_in_group_policy_and_health(api, sim, conf):
    pg = api.group()
    policy = _policy(sim)
    assert api.put(pg, policy)[0] == 201
    # Replication set up by the driver (as the engine would).
    group = {"id": pg, "name": "g", "replication_type": "async",
             "primary_site_id": api.server.site_a,
             "secondary_site_id": api.server.site_b,
             "current_primary_site_id": api.server.site_a}
    env_volumes = Env(sim, conf, pg="dr-api").volumes
    driver = pure_driver.PureStorageDriver(
        policy, group, {"id": api.server.site_b}, conf=conf)
    driver.ensure_replication(env_volumes)
    sim.fabric.advance(301)
    pgshow = api.get("/protection-groups/%s" % pg)[1]["protection_group"]
    assert pgshow["rpo_status"] == "ok", pgshow
    assert 0 <= pgshow["replication_lag_seconds"] <= 300
    assert pgshow["rpo_minutes"] == 15

    sim.fabric.faults.link_down("array1", "array2")
    sim.fabric.advance(16 * 60)
    pgshow = api.get("/protection-groups/%s" % pg)[1]["protection_group"]
    assert pgshow["rpo_status"] == "breached", pgshow
    assert pgshow["replication_lag_seconds"] > 15 * 60
    pol = api.get("/protection-groups/%s/policy" % pg)[1]["policy"]
    assert pol["rpo_status"] == "breached"
    health = api.get("/health")[1]["health"]
    rpo = [c for c in health["components"]
           if c["component"] == "replication-rpo"]
    assert rpo and rpo[0]["status"] == "warning", health
    assert "RPO breached" in rpo[0]["detail"]
    assert health["status"] in ("warning", "degraded")

    # An unreachable target array: lag unknown, not an error.
    sim.fabric.faults.array_down("array2")
    pgshow = api.get("/protection-groups/%s" % pg)[1]["protection_group"]
    assert pgshow["rpo_status"] == "unknown"
    assert "unreachable" in pgshow["rpo_detail"]

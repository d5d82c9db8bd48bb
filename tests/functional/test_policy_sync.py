"""A replication policy PUT is a protection-group modification
(doc/architecture.md rule 3), shown with two real protector-api servers
(``pair``): it bumps the group's version and reaches the peer, which
stores the policy with the array tokens encrypted under its own key; with
the peer down it fails with 503 and changes nothing on either site;
sync-force converges afterwards.
"""
import os

from cryptography import fernet
import pytest
import sqlalchemy as sa

from tests.functional import conftest as fconf

pytestmark = pytest.mark.keystone

POLICY = {"primary_fa_url": "https://fa-a.example.com",
          "primary_fa_api_token": "T-aaaa-1111-secret",
          "secondary_fa_url": "https://fa-b.example.com",
          "secondary_fa_api_token": "T-bbbb-2222-secret",
          "pure_pg_name": "pg-policy-sync",
          "replication_interval": 300, "rpo_minutes": 15}


def _alice(pair):
    env = pair.keystone.env
    return {"token": env["ALICE_TOKEN"], "project": env["ALPHA_ID"]}


def _call(pair, server, method, path, body=None):
    return pair.request(server, method, path, body, **_alice(pair))


def _group(pair, server, pg_id):
    status, body = _call(pair, server, "GET", "/protection-groups/%s" %
                         pg_id)
    assert status == 200, body
    return body["protection_group"]


def _policy_row(server, pg_id):
    engine = sa.create_engine(server.db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT * FROM replication_policies WHERE "
                "protection_group_id = :p"), {"p": pg_id}).first()
            return dict(row._mapping) if row else None
    finally:
        engine.dispose()


def _token(key_name, encrypted):
    return fernet.Fernet(fconf.PAIR_KEYS[key_name].encode()).decrypt(
        encrypted.encode()).decode()


@pytest.fixture
def group(pair):
    ids = pair.site_ids["a"]
    status, body = _call(pair, "a", "POST", "/protection-groups", {
        "protection_group": {
            "name": "policy-sync", "replication_type": "async",
            "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}})
    assert status == 201, body
    pg = body["protection_group"]
    yield pg
    status, body = _call(pair, "a", "DELETE",
                         "/protection-groups/%s" % pg["id"])
    assert status == 204, body
    assert _call(pair, "b", "GET", "/protection-groups/%s/policy" %
                 pg["id"])[0] == 404


def test_policy_put_is_synced_to_the_peer(pair, group):
    path = "/protection-groups/%s/policy" % group["id"]
    status, body = _call(pair, "a", "PUT", path, {"policy": POLICY})
    assert status == 201, body
    assert body["policy"]["primary_fa_api_token"] == "*** (masked)"
    for server in ("a", "b"):
        assert _group(pair, server, group["id"])["metadata_version"] == 2
    status, body = _call(pair, "b", "GET", path)
    assert status == 200, body
    theirs = body["policy"]
    for key in ("primary_fa_url", "secondary_fa_url", "pure_pg_name",
                "replication_interval", "rpo_minutes"):
        assert theirs[key] == POLICY[key], key
    assert theirs["secondary_fa_api_token"] == "*** (masked)"
    # Each site holds the tokens under its own key.
    mine, peer = _policy_row(pair.a, group["id"]), _policy_row(
        pair.b, group["id"])
    for side in ("primary", "secondary"):
        col = side + "_fa_api_token_encrypted"
        assert _token("a", mine[col]) == POLICY[side + "_fa_api_token"]
        assert _token("b", peer[col]) == POLICY[side + "_fa_api_token"]
        with pytest.raises(fernet.InvalidToken):
            _token("a", peer[col])
    status, body = _call(pair, "a", "GET", "/protection-groups/%s/"
                         "sync-status" % group["id"])
    assert body["sync_status"]["in_sync"] is True, body

    # Replace: 200, version 3 on both sites.
    status, body = _call(pair, "a", "PUT", path, {"policy": dict(
        POLICY, rpo_minutes=30, secondary_fa_api_token="T-new-b")})
    assert status == 200, body
    assert _group(pair, "b", group["id"])["metadata_version"] == 3
    assert _call(pair, "b", "GET", path)[1]["policy"]["rpo_minutes"] == 30
    assert _token("b", _policy_row(pair.b, group["id"])[
        "secondary_fa_api_token_encrypted"]) == "T-new-b"

    # A later change without tokens (an update) keeps the peer's tokens.
    status, body = _call(pair, "a", "PUT", "/protection-groups/%s" %
                         group["id"], {"protection_group": {
                             "description": "policy kept"}})
    assert status == 200, body
    peer = _policy_row(pair.b, group["id"])
    assert _token("b", peer["primary_fa_api_token_encrypted"]) == \
        POLICY["primary_fa_api_token"]
    assert peer["rpo_minutes"] == 30


def test_policy_put_with_the_peer_down_changes_nothing(pair, group):
    path = "/protection-groups/%s/policy" % group["id"]
    status, body = _call(pair, "a", "PUT", path, {"policy": POLICY})
    assert status == 201, body
    before = {k: _policy_row(s, group["id"]) for k, s in
              (("a", pair.a), ("b", pair.b))}
    pair.b.stop()
    try:
        status, body = _call(pair, "a", "PUT", path, {"policy": dict(
            POLICY, rpo_minutes=99, primary_fa_api_token="T-other")})
        assert status == 503, body
        assert body["errors"][0]["code"] == "protector.peer.unreachable"
        assert _policy_row(pair.a, group["id"]) == before["a"]
        assert _group(pair, "a", group["id"])["metadata_version"] == 2
        status, body = _call(pair, "a", "GET", "/protection-groups/%s/"
                             "sync-status" % group["id"])
        assert body["sync_status"]["remote_status"] == "UNREACHABLE"
    finally:
        pair.b.start()
    assert _policy_row(pair.b, group["id"]) == before["b"]
    assert _group(pair, "b", group["id"])["metadata_version"] == 2
    status, body = _call(pair, "a", "POST", "/protection-groups/%s/"
                         "sync-force" % group["id"], {})
    assert status == 200 and body["sync_result"]["status"] == "success"
    status, body = _call(pair, "a", "GET", "/protection-groups/%s/"
                         "sync-status" % group["id"])
    assert body["sync_status"]["in_sync"] is True, body


def test_policy_defaults_interval_and_rpo(pair, group):
    """Issue 14 item 9: the client offers --replication-interval and
    --rpo-minutes as optional; the API now gives an async group the
    documented defaults (300 s, 15 min) instead of a 400."""
    path = "/protection-groups/%s/policy" % group["id"]
    policy = {k: v for k, v in POLICY.items()
              if k not in ("replication_interval", "rpo_minutes")}
    status, body = _call(pair, "a", "PUT", path, {"policy": policy})
    assert status == 201, body
    assert body["policy"]["replication_interval"] == 300
    assert body["policy"]["rpo_minutes"] == 15
    status, body = _call(pair, "b", "GET", path)
    assert body["policy"]["rpo_minutes"] == 15, body

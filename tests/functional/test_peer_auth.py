"""The peer-only endpoints answer the peer site's Protector only.

Two real protector-api servers (``pair``), paired at start-up (``POST
/sites/{site}/pair``). A project member who forges any internal call (no
signature, the old ``X-Protector-Sync-Origin: peer`` header, a wrong
key, a changed body, another site's key, an old date) gets 403 and
nothing changes; a replayed signed request is refused; a rotated key
retires the old one. The user's token still decides whose request it is.
"""
import copy
import os
import time
import uuid

import pytest

from protector.common import peer_auth
from protector.db import metadata
from tests.functional.engine import fixtures

pytestmark = pytest.mark.keystone


def _dave(pair):
    env = pair.keystone.env
    return {"token": env["DAVE_TOKEN"], "project": env["GAMMA_ID"]}


def _group(pair, name):
    ids = pair.site_ids["a"]
    status, body = pair.request("a", "POST", "/protection-groups", {
        "protection_group": {
            "name": "%s-%s" % (name, uuid.uuid4().hex[:6]),
            "replication_type": "async",
            "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
        **_dave(pair))
    assert status == 201, body
    return body["protection_group"]


def _on_b(pair, pg_id):
    status, body = pair.request("b", "GET", "/protection-groups/%s" % pg_id,
                                **_dave(pair))
    assert status == 200, body
    return body["protection_group"]


def _document(pair, pg, **changes):
    doc = {"id": pg["id"], "name": pg["name"], "description": "forged",
           "status": "failed_over", "status_reason": None,
           "replication_type": "async",
           "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
           "volume_type_name": None, "remote_volume_type_id": None,
           "failover_count": 7, "last_failover_at": None,
           "primary_site": "site-a", "secondary_site": "site-b",
           "current_primary_site": "site-b", "consistency_group": None,
           "members": [], "policy": None}
    doc.update(changes)
    return {"metadata": {"version": pg["metadata_version"] + 1,
                         "checksum": metadata.checksum(doc),
                         "document": doc}}


def _code(body):
    return body["errors"][0]["code"]


def test_forged_internal_calls_are_403_and_change_nothing(pair):
    pg = _group(pair, "forge")
    before = _on_b(pair, pg["id"])
    push = "/internal/protection-groups/%s/metadata" % pg["id"]
    body = _document(pair, pg)
    bob = {"token": pair.keystone.env["BOB_TOKEN"],
           "project": pair.keystone.env["BETA_ID"]}
    forged = [
        # Unsigned, with the header that used to be enough.
        ("PUT", push, body, {"x-protector-sync-origin": "peer"}),
        ("POST", "/internal/protection-groups/%s/sub-operations" % pg["id"],
         {"vacate_site": {"parent_operation_id": str(uuid.uuid4())}}, {}),
        ("POST", "/internal/tenant-mappings", {"tenant_mapping": {
            "id": str(uuid.uuid4()), "local_tenant": _dave(pair)["project"],
            "remote_site_id": "site-a", "remote_tenant": "x"}}, {}),
        ("DELETE", "/internal/tenant-mappings/%s" % uuid.uuid4(), None, {}),
        # A malformed signature.
        ("PUT", push, body, {peer_auth.HEADER: "key_id=x, sig=y"}),
    ]
    for method, path, data, headers in forged:
        status, answer = pair.request("b", method, path, data,
                                      headers=headers, **_dave(pair))
        assert status == 403, (path, answer)
        assert _code(answer) == "protector.peer.auth_failed", answer
    # Signed with a key nobody paired, or with the real key but the body
    # changed after signing, or dated beyond the window.
    key_id, secret = pair.peer_key("b")
    status, answer = pair.signed("b", "PUT", push, body, key=(
        str(uuid.uuid4()), secret), **_dave(pair))
    assert status == 403 and "unknown pairing key" in \
        answer["errors"][0]["detail"], answer
    status, answer = pair.signed("b", "PUT", push, body, key=(
        key_id, secret[::-1]), **_dave(pair))
    assert status == 403 and "bad signature" in \
        answer["errors"][0]["detail"], answer
    token = _dave(pair)["token"]
    path = "/v1/%s%s" % (_dave(pair)["project"], push)
    import json
    data = json.dumps(body).encode()
    header = peer_auth.sign(secret, key_id, "PUT", path, data, token)
    changed = json.dumps(_document(pair, pg, failover_count=8)).encode()
    status, answer = pair.request("b", "PUT", push, raw=changed, headers={
        peer_auth.HEADER: header}, **_dave(pair))
    assert status == 403 and "bad signature" in \
        answer["errors"][0]["detail"], answer
    old = peer_auth.sign(secret, key_id, "PUT", path, data, token,
                         now=time.time() - 3600)
    status, answer = pair.request("b", "PUT", push, raw=data, headers={
        peer_auth.HEADER: old}, **_dave(pair))
    assert status == 403 and "dated" in answer["errors"][0]["detail"]
    # The signature binds the user's token: another user's token with
    # the same signature is refused too.
    status, answer = pair.request("b", "PUT", push, raw=data, headers={
        peer_auth.HEADER: header}, **bob)
    assert status == 403, answer
    # The old public routes are gone.
    status, _ = pair.request("b", "PUT", "/protection-groups/%s/metadata" %
                             pg["id"], body, **_dave(pair))
    assert status == 404
    status, answer = pair.request(
        "b", "POST", "/protection-groups/%s/action" % pg["id"],
        {"vacate_site": {"parent_operation_id": str(uuid.uuid4())}},
        headers={"x-protector-sync-origin": "peer"}, **_dave(pair))
    assert status == 400 and _code(answer) == \
        "protector.operation.invalid_action", answer
    assert _on_b(pair, pg["id"]) == before
    status, ops = pair.request("b", "GET", "/operations?protection_group_id"
                               "=%s" % pg["id"], **_dave(pair))
    assert ops["operations"] == []


def test_a_signed_push_is_taken_once_and_a_replay_is_refused(pair):
    pg = _group(pair, "replay")
    push = "/internal/protection-groups/%s/metadata" % pg["id"]
    key_id, secret = pair.peer_key("b")
    body = _document(pair, pg, status="active", current_primary_site="site-a",
                     failover_count=0, description="signed")
    import json
    token, project = _dave(pair)["token"], _dave(pair)["project"]
    data = json.dumps(body).encode()
    header = peer_auth.sign(secret, key_id, "PUT", "/v1/%s%s" % (
        project, push), data, token)
    status, answer = pair.request("b", "PUT", push, raw=data, headers={
        peer_auth.HEADER: header}, **_dave(pair))
    assert status == 200, answer
    assert _on_b(pair, pg["id"])["description"] == "signed"
    # The same request again (same nonce): refused, nothing changed.
    status, answer = pair.request("b", "PUT", push, raw=data, headers={
        peer_auth.HEADER: header}, **_dave(pair))
    assert status == 403 and _code(answer) == "protector.peer.replayed"
    # A site that is not one of the group's cannot push it, even signed.
    dead_key = fixtures.Rows(pair.b.db_url).site_key(
        pair.site_ids["b"]["site-dead"])
    from cryptography import fernet

    from tests.functional import conftest as fconf
    dead = (dead_key["key_id"], fernet.Fernet(
        fconf.PAIR_KEYS["b"].encode()).decrypt(
        dead_key["secret_encrypted"].encode()).decode())
    later = copy.deepcopy(body)
    later["metadata"]["version"] += 1
    later["metadata"]["document"]["description"] = "from a stranger"
    later["metadata"]["checksum"] = metadata.checksum(
        later["metadata"]["document"])
    status, answer = pair.signed("b", "PUT", push, later, key=dead,
                                 **_dave(pair))
    assert status == 403 and "not a site of" in \
        answer["errors"][0]["detail"], answer
    assert _on_b(pair, pg["id"])["description"] == "signed"


def test_pairing_is_admin_only_and_rotation_retires_the_old_key(pair):
    ids = pair.site_ids["a"]
    status, answer = pair.request("a", "POST", "/sites/%s/pair" %
                                  ids["site-b"], {}, **_dave(pair))
    assert status == 403, answer
    status, answer = pair.request(
        "b", "PUT", "/internal/site-keys/site-a", {"site_key": {
            "key_id": str(uuid.uuid4()), "secret": "s" * 43}},
        **_dave(pair))
    assert status == 403, answer
    old = pair.peer_key("b")
    status, answer = pair.request("a", "POST", "/sites/%s/pair" %
                                  ids["site-b"], {})
    assert status == 200, answer
    assert "secret" not in answer["site_key"]
    new = pair.peer_key("b")
    assert new != old and pair.peer_key("a") == new
    pg = _group(pair, "rotated")  # the pushes use the new key
    push = "/internal/protection-groups/%s/metadata" % pg["id"]
    status, answer = pair.signed("b", "PUT", push, _document(pair, pg),
                                 key=old, **_dave(pair))
    assert status == 403 and "unknown pairing key" in \
        answer["errors"][0]["detail"], answer
    # Pairing a site with itself is refused.
    status, answer = pair.request("a", "POST", "/sites/%s/pair" %
                                  ids["site-a"], {})
    assert status == 400 and _code(answer) == \
        "protector.site.pairing_invalid", answer


def test_an_unpaired_peer_is_refused_before_anything_changes(pair):
    """Without a key, a change that must reach the peer says so (412
    protector.site.not_paired) and nothing is made on either site."""
    rows = fixtures.Rows(pair.a.db_url)
    site_b = pair.site_ids["a"]["site-b"]
    saved = rows.site_key(site_b)
    with rows.session() as s, s.begin():
        from protector.db import models
        s.query(models.SiteKey).filter_by(site_id=site_b).delete()
    try:
        ids = pair.site_ids["a"]
        status, answer = pair.request("a", "POST", "/protection-groups", {
            "protection_group": {
                "name": "unpaired", "replication_type": "async",
                "primary_site_id": ids["site-a"],
                "secondary_site_id": ids["site-b"],
                "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
            **_dave(pair))
        assert status == 412 and _code(answer) == \
            "protector.site.not_paired", answer
        assert "openstack dr site pair site-b" in \
            answer["errors"][0]["detail"]
        status, answer = pair.request("a", "GET", "/protection-groups/"
                                      "unpaired", **_dave(pair))
        assert status == 404
    finally:
        with rows.session() as s, s.begin():
            from protector.db import models
            s.add(models.SiteKey(site_id=site_b, key_id=saved["key_id"],
                                 secret_encrypted=saved["secret_encrypted"],
                                 created_at=fixtures._now()))

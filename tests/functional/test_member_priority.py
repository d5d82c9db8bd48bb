"""Boot tiers through the API of two real protector-api servers (``pair``):
a member's ``priority`` (1-5, default 3) and a group's ``tier_delay``
(0-3600 seconds) are shown and taken from microversion 1.4 on, changed on
both sites at once (the pushed document carries them), refused with a
stable code when out of range or asked below 1.4, and bounded when a peer
pushes them. A refused request changes nothing on either site.
"""
import copy
import os
import uuid

import pytest

from protector.db import metadata
from tests.functional import test_group_lifecycle as lc

pytestmark = pytest.mark.keystone

V13 = {"OpenStack-API-Version": "protector 1.3"}
V14 = {"OpenStack-API-Version": "protector 1.4"}
INVALID = "protector.request.invalid"


def _req(pair, server, method, path, body=None, headers=V14):
    return pair.request(server, method, path, body, headers=headers,
                        **lc._alice(pair))


def _state(pair, pg_id, member_id):
    """What must not change on a refusal: per site the group's version,
    tier_delay and the member's priority."""
    out = {}
    for server in "ab":
        _, pg = _req(pair, server, "GET", "/protection-groups/" + pg_id)
        _, member = _req(pair, server, "GET", "/protection-groups/%s/"
                         "members/%s" % (pg_id, member_id))
        pg = pg["protection_group"]
        out[server] = (pg["metadata_version"], pg["tier_delay"],
                       member["member"]["priority"])
    return out


def _refused(pair, status, body, code=INVALID, says=None):
    assert status == 400, body
    error = body["errors"][0]
    assert error["code"] == code, error
    if says:
        assert says in error["detail"], error


def test_priority_and_tier_delay(pair, made):
    pg = lc._create(pair, "tiers")
    made.append(pg["id"])
    pg_path = "/protection-groups/" + pg["id"]
    member_id = lc._add_member(pair, pg["id"])
    path = "%s/members/%s" % (pg_path, member_id)

    # Shown from 1.4 on only.
    _, body = _req(pair, "a", "GET", pg_path, headers=V13)
    assert "tier_delay" not in body["protection_group"]
    _, body = _req(pair, "a", "GET", path, headers=V13)
    assert "priority" not in body["member"]
    _, body = _req(pair, "a", "GET", pg_path + "/members")
    assert [m["priority"] for m in body["members"]] == [3]
    before = _state(pair, pg["id"], member_id)
    assert before == {"a": (1, 0, 3), "b": (1, 0, 3)}

    # Refused: below 1.4 (naming it), out of range, not an integer.
    status, body = _req(pair, "a", "PUT", path,
                        {"member": {"priority": 1}}, headers=V13)
    _refused(pair, status, body, says="1.4")
    status, body = _req(pair, "a", "PUT", pg_path, {
        "protection_group": {"tier_delay": 5}}, headers=V13)
    _refused(pair, status, body, says="1.4")
    for bad in (0, 6, -1, "x", "1", None, 2.5, True, []):
        status, body = _req(pair, "a", "PUT", path,
                            {"member": {"priority": bad}})
        _refused(pair, status, body, says="priority")
    for bad_body in ({"member": {}}, {"member": {"priority": 1,
                                                 "status": "x"}}, {}):
        status, body = _req(pair, "a", "PUT", path, bad_body)
        _refused(pair, status, body)
    for bad in (-1, 3601, "x", 1.5, None):
        status, body = _req(pair, "a", "PUT", pg_path, {
            "protection_group": {"tier_delay": bad}})
        _refused(pair, status, body, says="tier_delay")
    # member add validates before it looks the instance up in Nova.
    for bad in (0, 6, "x"):
        status, body = _req(pair, "a", "POST", pg_path + "/members", {
            "member": {"instance_id": str(uuid.uuid4()), "priority": bad}})
        _refused(pair, status, body, says="priority")
    status, body = _req(pair, "a", "POST", pg_path + "/members", {
        "member": {"instance_id": str(uuid.uuid4()), "priority": 2}},
        headers=V13)
    _refused(pair, status, body, says="1.4")
    status, body = _req(pair, "a", "PUT", "%s/members/%s" % (
        pg_path, uuid.uuid4()), {"member": {"priority": 1}})
    assert status == 404, body
    # Not while an operation runs (a recovery reads the tiers).
    op_id = lc._hold(pair, pg["id"])
    status, body = _req(pair, "a", "PUT", path, {"member": {"priority": 1}})
    assert status == 409, body
    assert body["errors"][0]["code"] == "protector.operation.conflict"
    assert op_id in body["errors"][0]["detail"]
    lc._set(pair, pg["id"], current_operation_id=None)
    assert _state(pair, pg["id"], member_id) == before

    # Changed on both sites, one version each.
    status, body = _req(pair, "a", "PUT", path, {"member": {"priority": 1}})
    assert status == 200, body
    assert body["member"]["priority"] == 1
    assert body["member"]["id"] == member_id
    status, body = _req(pair, "a", "PUT", pg_path, {
        "protection_group": {"tier_delay": 30}})
    assert status == 200, body
    assert body["protection_group"]["tier_delay"] == 30
    assert _state(pair, pg["id"], member_id) == {"a": (3, 30, 1),
                                                 "b": (3, 30, 1)}
    # The same value again changes nothing.
    status, body = _req(pair, "a", "PUT", path, {"member": {"priority": 1}})
    assert status == 200, body
    assert _state(pair, pg["id"], member_id)["a"][0] == 3
    # Both sites hold the same document (the checksum covers the tiers).
    _, body = _req(pair, "a", "GET", pg_path + "/sync-status")
    sync = body["sync_status"]
    assert sync["in_sync"] and sync["remote_checksum"] == \
        sync["local_checksum"], sync
    _sync_force(pair, "a", pg["id"])
    # Changed on site B, it comes back to site A.
    status, body = _req(pair, "b", "PUT", path, {"member": {"priority": 5}})
    assert status == 200, body
    assert _state(pair, pg["id"], member_id) == {"a": (4, 30, 5),
                                                 "b": (4, 30, 5)}
    # Back to the defaults: the document is the one of a group without
    # tiers again (the defaults are left out of it).
    for change in ((path, {"member": {"priority": 3}}),
                   (pg_path, {"protection_group": {"tier_delay": 0}})):
        assert _req(pair, "a", "PUT", *change)[0] == 200
    _, body = _req(pair, "a", "GET", pg_path + "/sync-status")
    assert body["sync_status"]["in_sync"], body


def _document(pg_id, member_id, **extra):
    member = {
        "id": member_id, "instance_id": str(uuid.uuid4()),
        "instance_name": "vm-pushed", "status": "protected",
        "instance_config": {}, "current_site": "site-a",
        "current_instance_id": None, "volumes": []}
    doc = {"id": pg_id, "name": "tiers-pushed-%s" % pg_id[:8],
           "description": None, "status": "active", "status_reason": None,
           "replication_type": "async",
           "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
           "volume_type_name": None, "remote_volume_type_id": None,
           "failover_count": 0, "last_failover_at": None,
           "primary_site": "site-a", "secondary_site": "site-b",
           "current_primary_site": "site-a", "consistency_group": None,
           "members": [member], "policy": None}
    doc.update(extra)
    return doc


def test_a_pushed_document_is_bounded(pair, made):
    from tests.functional import test_sync
    pg_id, member_id = str(uuid.uuid4()), str(uuid.uuid4())
    made.append(pg_id)
    good = _document(pg_id, member_id, tier_delay=60)
    good["members"][0]["priority"] = 2
    for where, value in (("priority", 0), ("priority", 6),
                         ("priority", "2"), ("tier_delay", -1),
                         ("tier_delay", 3601), ("tier_delay", "60")):
        bad = copy.deepcopy(good)
        if where == "priority":
            bad["members"][0]["priority"] = value
        else:
            bad["tier_delay"] = value
        status, body = test_sync._push(pair, "b", pg_id, 1, bad)
        _refused(pair, status, body, says=where)
        assert _req(pair, "b", "GET", "/protection-groups/" + pg_id)[0] == \
            404
    status, body = test_sync._push(pair, "b", pg_id, 1, good)
    assert status == 200, body
    _, body = _req(pair, "b", "GET", "/protection-groups/" + pg_id)
    pg = body["protection_group"]
    assert pg["tier_delay"] == 60
    assert pg["metadata_version"] == 1
    _, body = _req(pair, "b", "GET", "/protection-groups/%s/members/%s" % (
        pg_id, member_id))
    assert body["member"]["priority"] == 2
    # The receiver rebuilds the very document it was pushed: sync-force
    # from site B checks its stored checksum against it, then pushes.
    _, body = _req(pair, "b", "GET",
                   "/protection-groups/%s/sync-status?remote=0" % pg_id)
    assert body["sync_status"]["local_checksum"] == metadata.checksum(good)
    _sync_force(pair, "b", pg_id)


def _sync_force(pair, server, pg_id):
    status, body = _req(pair, server, "POST",
                        "/protection-groups/%s/sync-force" % pg_id, {})
    assert status == 200, body
    result = body["sync_result"]
    assert result["status"] == "success", result
    assert {"step": "calculate its checksum", "ok": True} in \
        result["steps"], result

"""Cross-site behaviour with two real protector-api servers (``pair``).

A change is applied on both sites or on neither (architecture rule 3): with the
peer's protector-api stopped, create, update, delete and member removal
fail with 503 ``protector.peer.unreachable`` and change nothing on either
site (database rows and mock Cinder groups); after a restart sync-force
converges the versions. The receiving side refuses older versions and
bad checksums.
"""
import copy
import os
import sqlite3
import uuid

import pytest
import sqlalchemy as sa

from protector.db import metadata
from protector.db import models
from tests.functional.engine import fixtures
from tests.functional import test_group_lifecycle as lifecycle

pytestmark = pytest.mark.keystone

MEMBER_ID = "6b1c7a3e-0000-4000-8000-000000000001"


@pytest.fixture(autouse=True)
def _projects_left_empty(pair):
    """The pair's gabbi files (test_pair_api.py) expect projects alpha and
    beta to hold no groups, and may run after this module in the same
    process."""
    yield
    env = pair.keystone.env
    projects = (env["ALPHA_ID"], env["BETA_ID"])
    for server in (pair.a, pair.b):
        rows = fixtures.Rows(server.db_url)
        with rows.session() as s:
            ids = s.scalars(sa.select(models.ProtectionGroup.id).where(
                models.ProtectionGroup.project_id.in_(projects))).all()
        rows.engine.dispose()
        for pg_id in ids:
            lifecycle._purge(server, pg_id)


def _alice(pair):
    env = pair.keystone.env
    return {"token": env["ALICE_TOKEN"], "project": env["ALPHA_ID"]}


def _create(pair, name, server="a", secondary="site-b"):
    ids = pair.site_ids[server]
    return pair.request(server, "POST", "/protection-groups", {
        "protection_group": {
            "name": name, "replication_type": "async",
            "primary_site_id": ids["site-a"],
            "secondary_site_id": ids[secondary],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
        **_alice(pair))


def _get(pair, server, path):
    return pair.request(server, "GET", path, **_alice(pair))


def _mock_groups(server):
    path = os.path.join(server.workdir, "mock_storage", "cinder.sqlite")
    if not os.path.exists(path):
        return set()
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM groups")}


def _push(pair, server, pg_id, version, document, checksum=None,
          signed=True, **kw):
    """The peer's metadata push to ``server`` (signed as the peer does,
    unless ``signed=False``: a forged one)."""
    call = pair.signed if signed else pair.request
    return call(server, "PUT", "/internal/protection-groups/%s/metadata" %
                pg_id, {"metadata": {
                    "version": version,
                    "checksum": checksum or metadata.checksum(document),
                    "document": document}}, **dict(_alice(pair), **kw))


@pytest.fixture
def peer_down(pair):
    pair.b.stop()
    try:
        yield pair
    finally:
        pair.b.start()


def test_unreachable_peer_changes_nothing_then_sync_force(pair):
    status, body = _create(pair, "sync-down")
    assert status == 201, body
    pg = body["protection_group"]
    path = "/protection-groups/%s" % pg["id"]
    groups_before = _mock_groups(pair.a)
    _, body = _get(pair, "a", path + "/consistency-group")
    cg = body["consistency_group"]
    assert {cg["primary_cg_id"], cg["secondary_cg_id"]} <= groups_before
    pair.b.stop()
    try:
        status, body = pair.request("a", "PUT", path, {"protection_group": {
            "description": "while the peer is down"}}, **_alice(pair))
        assert status == 503, body
        assert body["errors"][0]["code"] == "protector.peer.unreachable"
        assert "site-b" in body["errors"][0]["detail"]

        status, body = _create(pair, "sync-down-new")
        assert status == 503, body
        status, body = pair.request("a", "DELETE", path, **_alice(pair))
        assert status == 503, body
        status, body = pair.request("a", "DELETE", path + "/members/" +
                                    MEMBER_ID, **_alice(pair))
        assert status == 404, body  # no such member: refused before sync

        _, body = _get(pair, "a", path)
        after = body["protection_group"]
        assert after["description"] is None
        assert after["metadata_version"] == pg["metadata_version"] == 1
        assert after["status"] == "active"
        _, body = _get(pair, "a", "/protection-groups?name=sync-down-new")
        assert body["protection_groups"] == []
        assert _mock_groups(pair.a) == groups_before

        _, body = _get(pair, "a", path + "/sync-status")
        status_doc = body["sync_status"]
        assert status_doc["remote_status"] == "UNREACHABLE"
        assert status_doc["in_sync"] is False
        assert "site-b" in status_doc["last_error"]

        status, body = pair.request("a", "POST", path + "/sync-force", {},
                                    **_alice(pair))
        assert status == 200
        assert body["sync_result"]["status"] == "failed"
        assert body["sync_result"]["error"]
    finally:
        pair.b.start()

    _, body = _get(pair, "b", path)
    assert body["protection_group"]["metadata_version"] == 1
    assert body["protection_group"]["description"] is None

    status, body = pair.request("a", "POST", path + "/sync-force", {},
                                **_alice(pair))
    assert status == 200
    assert body["sync_result"]["status"] == "success", body
    assert body["sync_result"]["version"] == 1
    _, body = _get(pair, "a", path + "/sync-status")
    assert body["sync_status"]["in_sync"] is True
    assert body["sync_status"]["remote_version"] == 1
    _, local = _get(pair, "a", path + "/sync-status")
    _, remote = _get(pair, "b", path + "/sync-status")
    assert local["sync_status"]["local_checksum"] == \
        remote["sync_status"]["local_checksum"]

    # Modifications work again and land on both sites.
    status, body = pair.request("a", "PUT", path, {"protection_group": {
        "name": "sync-up"}}, **_alice(pair))
    assert status == 200, body
    _, body = _get(pair, "b", path)
    assert body["protection_group"]["name"] == "sync-up"
    assert body["protection_group"]["metadata_version"] == 2
    assert pair.request("a", "DELETE", path, **_alice(pair))[0] == 204
    assert _get(pair, "b", path)[0] == 404
    assert not {cg["primary_cg_id"], cg["secondary_cg_id"]} & \
        _mock_groups(pair.a)


def test_changes_made_on_the_peer_come_back(pair):
    status, body = _create(pair, "both-ways")
    pg_id = body["protection_group"]["id"]
    path = "/protection-groups/%s" % pg_id
    status, body = pair.request("b", "PUT", path, {"protection_group": {
        "description": "edited on site B"}}, **_alice(pair))
    assert status == 200, body
    assert body["protection_group"]["metadata_version"] == 2
    _, body = _get(pair, "a", path)
    assert body["protection_group"]["description"] == "edited on site B"
    assert body["protection_group"]["metadata_version"] == 2
    assert pair.request("b", "DELETE", path, **_alice(pair))[0] == 204
    assert _get(pair, "a", path)[0] == 404


def test_receiver_refuses_older_versions_and_bad_checksums(pair):
    status, body = _create(pair, "conflicts")
    pg_id = body["protection_group"]["id"]
    path = "/protection-groups/%s" % pg_id
    pair.request("a", "PUT", path, {"protection_group": {
        "description": "v2"}}, **_alice(pair))
    _, body = _get(pair, "b", path)
    assert body["protection_group"]["metadata_version"] == 2

    document = {"id": pg_id, "name": "conflicts", "description": "old",
                "status": "active", "status_reason": None,
                "replication_type": "async",
                "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
                "volume_type_name": None, "remote_volume_type_id": None,
                "failover_count": 0, "last_failover_at": None,
                "primary_site": "site-a", "secondary_site": "site-b",
                "current_primary_site": "site-a",
                "consistency_group": None, "members": [], "policy": None}
    status, body = _push(pair, "b", pg_id, 1, document)
    assert status == 409, body
    assert body["errors"][0]["code"] == "protector.sync.version_conflict"
    status, body = _push(pair, "b", pg_id, 2, document)
    assert status == 409, body  # same version, different content
    status, body = _push(pair, "b", pg_id, 3, document, checksum="0" * 64)
    assert status == 400, body
    assert body["errors"][0]["code"] == "protector.sync.checksum_mismatch"
    broken = dict(document, volume_type_id=None)
    status, body = _push(pair, "b", pg_id, 3, broken)
    assert status == 400, body
    assert "volume_type_id" in body["errors"][0]["detail"]
    unknown_site = dict(document, secondary_site="site-z")
    status, body = _push(pair, "b", pg_id, 3, unknown_site)
    assert status == 400, body
    assert body["errors"][0]["code"] == "protector.sync.unknown_site"
    _, body = _get(pair, "b", path)
    assert body["protection_group"]["description"] == "v2"
    assert body["protection_group"]["metadata_version"] == 2

    # Another project cannot overwrite the group with a valid push.
    env = pair.keystone.env
    status, body = _push(pair, "b", pg_id, 9, document,
                         token=env["BOB_TOKEN"], project=env["BETA_ID"])
    assert status == 404, body
    _, body = _get(pair, "b", path)
    assert body["protection_group"]["metadata_version"] == 2

    # A newer version from the peer is stored, members included.
    newer = copy.deepcopy(document)
    newer["description"] = "v3 with a member"
    newer["members"] = [{
        "id": MEMBER_ID, "instance_id": "a1b2c3d4-0001-0001-0001-000000000001",
        "instance_name": "web-server-1", "status": "protected",
        "instance_config": {"flavor": {"original_name": "m1.small"}},
        "current_site": "site-a", "current_instance_id": None,
        "volumes": [{"volume_id": "a1b2c3d4-0001-0001-0001-0000000000%02d" % i,
                     "volume_name": "vol-%d" % i, "size_gb": 1,
                     "volume_type_id": None, "device": "/dev/vd%s" % "ab"[i],
                     "boot_index": 0 if i == 0 else None,
                     "bootable": i == 0, "backend_ref": None,
                     "current_volume_id": None} for i in range(2)]}]
    status, body = _push(pair, "b", pg_id, 3, newer)
    assert status == 200, body
    _, body = _get(pair, "b", path + "/members")
    assert len(body["members"]) == 1
    member = body["members"][0]
    assert member["instance_name"] == "web-server-1"
    assert member["volumes_added"] == 2
    assert member["volumes"][0]["device"] == "/dev/vda"
    _, body = _get(pair, "b", path + "/members/" + MEMBER_ID)
    assert body["member"]["volume_count"] == 2

    # A group with members cannot be deleted (409), nor one that is busy.
    status, body = pair.request("b", "DELETE", path, **_alice(pair))
    assert status == 409, body
    assert body["errors"][0]["code"] == \
        "protector.protection_group.has_members"
    busy = copy.deepcopy(document)
    busy["status"] = "failed_over"
    assert _push(pair, "b", pg_id, 4, busy)[0] == 200
    status, body = pair.request("b", "DELETE", path, **_alice(pair))
    assert status == 409, body
    assert body["errors"][0]["code"] == \
        "protector.protection_group.invalid_status"
    _, body = _get(pair, "b", path)
    assert body["protection_group"]["status"] == "failed_over"

    # Site A (still at version 2) converges with a push of version 5.
    back = copy.deepcopy(document)
    back["description"] = "converged"
    assert _push(pair, "b", pg_id, 5, back)[0] == 200
    assert _push(pair, "a", pg_id, 5, back)[0] == 200
    assert pair.request("a", "DELETE", path, **_alice(pair))[0] == 204
    assert _get(pair, "b", path)[0] == 404


def _bob(pair):
    env = pair.keystone.env
    return {"token": env["BOB_TOKEN"], "project": env["BETA_ID"]}


def _document(pg_id, name, **values):
    doc = {"id": pg_id, "name": name, "description": None,
           "status": "active", "status_reason": None,
           "replication_type": "async",
           "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
           "volume_type_name": None, "remote_volume_type_id": None,
           "failover_count": 0, "last_failover_at": None,
           "primary_site": "site-a", "secondary_site": "site-b",
           "current_primary_site": "site-a",
           "consistency_group": None, "members": [], "policy": None}
    doc.update(values)
    return doc


def _member(member_id, instance_id, name):
    return {"id": member_id, "instance_id": instance_id,
            "instance_name": name, "status": "protected",
            "instance_config": {"flavor": {"original_name": "m1.small"}},
            "current_site": "site-a", "current_instance_id": None,
            "volumes": []}


def _cg(cg_id, name):
    return {"id": cg_id, "name": name,
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
            "volume_type_name": None, "backend_name": None,
            "group_type_id": None, "primary_cg_id": None,
            "secondary_cg_id": None, "status": "available"}


def test_a_push_never_writes_another_groups_member_or_cg(pair):
    """D12: a project's push of its own group that names another
    project's member ID or consistency-group ID is refused (409
    protector.sync.foreign_reference) and changes nothing; before the
    fix it rewrote the other project's member."""
    ids = pair.site_ids["a"]
    status, body = pair.request("a", "POST", "/protection-groups", {
        "protection_group": {
            "name": "victim", "replication_type": "async",
            "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
        **_bob(pair))
    assert status == 201, body
    victim = body["protection_group"]
    _, body = pair.request("b", "GET", "/protection-groups/%s" %
                           victim["id"], **_bob(pair))
    victim_cg = body["protection_group"]["consistency_group_id"]
    assert victim_cg
    theirs = "6b1c7a3e-0000-4000-8000-0000000000b0"
    # The victim's own site B copy gets a member (a push of its own).
    doc = _document(victim["id"], "victim", consistency_group=_cg(
        victim_cg, "victim-cg"), members=[
        _member(theirs, "b0b0b0b0-0001-0001-0001-000000000001", "bob-vm")])
    status, body = _push(pair, "b", victim["id"], 2, doc, **_bob(pair))
    assert status == 200, body

    status, body = _create(pair, "attacker")
    assert status == 201, body
    mine = body["protection_group"]["id"]
    forged = _document(mine, "attacker", members=[
        _member(theirs, "a77ac4e4-0001-0001-0001-000000000001", "stolen")])
    status, body = _push(pair, "b", mine, 2, forged)
    assert status == 409, body
    assert body["errors"][0]["code"] == "protector.sync.foreign_reference"
    status, body = _push(pair, "b", mine, 2, _document(
        mine, "attacker", consistency_group=_cg(victim_cg, "stolen-cg")))
    assert status == 409, body
    assert body["errors"][0]["code"] == "protector.sync.foreign_reference"

    # Nothing changed: the victim's member and CG, the attacker's version.
    path = "/protection-groups/%s" % victim["id"]
    _, body = pair.request("b", "GET", path + "/members/" + theirs,
                           **_bob(pair))
    assert body["member"]["instance_name"] == "bob-vm", body
    assert body["member"]["protection_group_id"] == victim["id"]
    _, body = pair.request("b", "GET", path, **_bob(pair))
    assert body["protection_group"]["consistency_group_id"] == victim_cg
    _, body = _get(pair, "b", "/protection-groups/%s" % mine)
    assert body["protection_group"]["metadata_version"] == 1


def test_sync_status_and_force_tell_the_truth_from_the_stale_site(pair):
    """Issue 14 item 3: asked of the stale site (site A here, as the
    original primary after an unplanned failover), sync-status compares
    both sites' versions and names the one ahead, and sync-force makes
    the newer site push, whichever site it is asked of."""
    env = pair.keystone.env
    dave = {"token": env["DAVE_TOKEN"], "project": env["GAMMA_ID"]}
    ids = pair.site_ids["a"]
    status, body = pair.request("a", "POST", "/protection-groups", {
        "protection_group": {
            "name": "stale-%s" % uuid.uuid4().hex[:6],
            "replication_type": "async", "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
        **dave)
    assert status == 201, body
    pg = body["protection_group"]
    path = "/protection-groups/%s" % pg["id"]
    # Site B moves on alone (what a failover with A down leaves).
    doc = _document(pg["id"], pg["name"], description="newer on B",
                    status="failed_over", current_primary_site="site-b",
                    failover_count=1)
    status, body = _push(pair, "b", pg["id"], 4, doc, **dave)
    assert status == 200, body
    status, body = pair.request("a", "GET", path + "/sync-status", **dave)
    sync = body["sync_status"]
    assert sync["in_sync"] is False, sync
    assert sync["ahead"] == "site-b", sync
    assert sync["remote_version"] == 4 and sync["local_version"] == 1
    assert sync["remote_status"] == "OUT_OF_SYNC" and sync["remote_checked"]
    # Site B's own view (what A asked it: remote=0) does not ask back.
    status, body = pair.request("b", "GET", path + "/sync-status?remote=0",
                                **dave)
    assert body["sync_status"]["remote_checked"] is False
    # sync-force asked of the stale site: B pushes its version 4 to A.
    status, body = pair.request("a", "POST", path + "/sync-force", {},
                                **dave)
    assert status == 200, body
    result = body["sync_result"]
    assert result["status"] == "success", result
    assert result["source_site"] == "site-b" and \
        result["target_site"] == "site-a", result
    assert result["version"] == 4
    _, body = pair.request("a", "GET", path, **dave)
    assert body["protection_group"]["description"] == "newer on B"
    assert body["protection_group"]["metadata_version"] == 4
    status, body = pair.request("a", "GET", path + "/sync-status", **dave)
    assert body["sync_status"]["in_sync"] is True, body
    assert body["sync_status"]["ahead"] is None
    # A forged call of the internal push (unsigned) is refused.
    status, body = pair.request("b", "POST", "/internal/protection-groups/"
                                "%s/push" % pg["id"], {}, **dave)
    assert status == 403, body

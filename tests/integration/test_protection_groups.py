"""Protection groups, members and metadata sync in the two-site lab.

The demo user of each site drives site A's protector-api with its site-A
token and its site-B token in ``X-Protector-Peer-Token`` (as the CLI does
with ``--secondary-cloud``). Consistency groups are checked in the real
Cinder of both sites; the peer outage stops site B's protector-api only.
"""
import uuid

import pytest

from protector_lab import client as lab_client

pytestmark = pytest.mark.lab

MV = lab_client.VOLUME_GROUPS


@pytest.fixture
def group(group_sites):
    a = group_sites["a"]
    name = "it-%s" % uuid.uuid4().hex[:8]
    status, body = a.call("POST", "/protection-groups", {
        "protection_group": {
            "name": name, "replication_type": "async",
            "primary_site_id": group_sites["ids"]["site-a"],
            "secondary_site_id": group_sites["ids"]["site-b"],
            "volume_type_id": group_sites["volume_type"]}})
    assert status == 201, body
    pg = body["protection_group"]
    yield pg
    _, members = a.call("GET", "/protection-groups/%s/members" % pg["id"])
    for member in (members or {}).get("members", []):
        a.call("DELETE", "/protection-groups/%s/members/%s" %
               (pg["id"], member["id"]))
    a.call("DELETE", "/protection-groups/%s" % pg["id"])


def _consistency_group(sites, pg):
    status, body = sites["a"].call(
        "GET", "/protection-groups/%s/consistency-group" % pg["id"])
    assert status == 200, body
    return body["consistency_group"]


def test_create_and_delete_make_and_remove_cinder_groups(group_sites, group):
    a, b = group_sites["a"], group_sites["b"]
    assert group["status"] == "active"
    assert group["metadata_version"] == 1
    cg = _consistency_group(group_sites, group)
    primary = lab_client.cinder_group(a.conn, cg["primary_cg_id"])
    secondary = lab_client.cinder_group(b.conn, cg["secondary_cg_id"])
    assert primary and primary["status"] == "available"
    assert secondary and secondary["status"] == "available"
    assert cg["volume_type_name"] == "replicated-async"

    status, body = b.call("GET", "/protection-groups/%s" % group["id"])
    assert status == 200, body
    assert body["protection_group"]["metadata_version"] == 1
    assert body["protection_group"]["project_id"] == b.project

    status, body = a.call("DELETE", "/protection-groups/%s" % group["id"])
    assert status == 204, body
    lab_client.wait_group_gone(a.conn, cg["primary_cg_id"])
    lab_client.wait_group_gone(b.conn, cg["secondary_cg_id"])
    assert b.call("GET", "/protection-groups/%s" % group["id"])[0] == 404


def test_member_add_and_remove(group_sites, group, server):
    a, b = group_sites["a"], group_sites["b"]
    members = "/protection-groups/%s/members" % group["id"]
    status, body = a.call("POST", members, {"member": {
        "instance_id": server["server"].id}})
    assert status == 201, body
    member = body["member"]
    assert member["status"] == "protected"
    assert member["volumes_added"] == 2
    assert member["instance_name"] == server["server"].name
    cg = _consistency_group(group_sites, group)
    assert cg["volume_count"] == 2
    for vol in server["volumes"]:
        vol = server["conn"].block_storage.get_volume(vol.id)
        assert vol.group_id == cg["primary_cg_id"]

    status, body = b.call("GET", members + "/" + member["id"])
    assert status == 200, body
    assert body["member"]["volume_count"] == 2
    _, mine = a.call("GET", "/protection-groups/%s/sync-status" %
                     group["id"])
    assert mine["sync_status"]["in_sync"] is True
    assert mine["sync_status"]["local_version"] == 2

    status, body = a.call("DELETE", members + "/" + member["id"])
    assert status == 204, body
    assert _consistency_group(group_sites, group)["volume_count"] == 0
    for vol in server["volumes"]:
        vol = server["conn"].block_storage.get_volume(vol.id)
        assert vol.group_id is None
        assert vol.status == "in-use"  # detached from the group only
    assert b.call("GET", members + "/" + member["id"])[0] == 404


def test_member_add_refuses_wrong_volume_type(group_sites, group, server):
    a = group_sites["a"]
    conn = server["conn"]
    conn.compute.create_volume_attachment(server["server"],
                                          volume_id=server["other"].id)
    conn.block_storage.wait_for_status(server["other"], "in-use", wait=120)
    status, body = a.call("POST", "/protection-groups/%s/members" %
                          group["id"], {"member": {
                              "instance_id": server["server"].id}})
    assert status == 400, body
    error = body["errors"][0]
    assert error["code"] == "protector.precondition.volume_type_mismatch"
    assert server["other"].id in error["detail"]
    assert "replicated-sync" in error["detail"]
    assert "--retype-policy on-demand" in error["detail"]
    _, body = a.call("GET", "/protection-groups/%s" % group["id"])
    assert body["protection_group"]["member_count"] == 0
    assert body["protection_group"]["metadata_version"] == 1

    # A subset without the odd volume is accepted.
    status, body = a.call("POST", "/protection-groups/%s/members" %
                          group["id"], {"member": {
                              "instance_id": server["server"].id,
                              "volume_ids": [v.id for v in
                                             server["volumes"]]}})
    assert status == 201, body
    assert body["member"]["volumes_added"] == 2


def test_unknown_instance_is_404(group_sites, group):
    missing = str(uuid.uuid4())
    status, body = group_sites["a"].call(
        "POST", "/protection-groups/%s/members" % group["id"],
        {"member": {"instance_id": missing}})
    assert status == 404, body
    assert body["errors"][0]["code"] == "protector.member.instance_not_found"
    assert missing in body["errors"][0]["detail"]


def test_peer_protector_down_blocks_every_change(lab, group_sites, group,
                                                 server):
    a = group_sites["a"]
    path = "/protection-groups/%s" % group["id"]
    status, body = a.call("POST", path + "/members", {"member": {
        "instance_id": server["server"].id}})
    assert status == 201, body
    member = body["member"]
    cinder_groups = {g["id"] for g in a.conn.block_storage.get(
        "/groups", headers=MV).json()["groups"]}
    lab.stop("site-b", "protector-api")
    try:
        for method, sub, body in (
                ("PUT", "", {"protection_group": {"description": "x"}}),
                ("DELETE", "/members/" + member["id"], None),
                ("POST", "/members", {"member": {
                    "instance_id": server["server"].id}})):
            status, resp = a.call(method, path + sub, body)
            if method == "POST":
                assert status in (409, 503), resp  # already a member
                continue
            assert status == 503, resp
            assert resp["errors"][0]["code"] == "protector.peer.unreachable"
        status, resp = a.call("POST", "/protection-groups", {
            "protection_group": {
                "name": group["name"] + "-new", "replication_type": "async",
                "primary_site_id": group_sites["ids"]["site-a"],
                "secondary_site_id": group_sites["ids"]["site-b"],
                "volume_type_id": group_sites["volume_type"]}})
        assert status == 503, resp
        _, resp = a.call("GET", path)
        assert resp["protection_group"]["metadata_version"] == 2
        assert resp["protection_group"]["description"] is None
        assert resp["protection_group"]["member_count"] == 1
        assert _consistency_group(group_sites, group)["volume_count"] == 2
        for vol in server["volumes"]:
            assert a.conn.block_storage.get_volume(vol.id).group_id
        assert {g["id"] for g in a.conn.block_storage.get(
            "/groups", headers=MV).json()["groups"]} == cinder_groups
        _, resp = a.call("GET", path + "/sync-status")
        assert resp["sync_status"]["in_sync"] is False
    finally:
        lab.start("site-b", "protector-api")
    status, resp = a.call("POST", path + "/sync-force", {})
    assert status == 200 and resp["sync_result"]["status"] == "success", resp
    _, mine = a.call("GET", path)
    _, theirs = group_sites["b"].call("GET", path)
    assert mine["protection_group"]["metadata_version"] == \
        theirs["protection_group"]["metadata_version"]


def test_other_projects_cannot_see_the_group(lab, group_sites, group):
    admin = lab_client.Protector(lab, "site-a", "site-b", user="admin",
                                 version=None)
    # The demo token on the admin project's URL: 403.
    status, body = group_sites["a"].call("GET", "/protection-groups",
                                         project=admin.project)
    assert status == 403, body
    # The admin's own project does not hold the demo group: 404.
    status, body = admin.call("GET", "/protection-groups/%s" % group["id"])
    assert status == 404, body
    _, body = admin.call("GET", "/protection-groups")
    assert group["id"] not in {g["id"] for g in body["protection_groups"]}

"""Protection groups, members and metadata sync in the two-site lab.

The demo user of each site drives site A's protector-api with its site-A
token and its site-B token in ``X-Protector-Peer-Token`` (as the CLI does
with ``--secondary-cloud``). Consistency groups are checked in the real
Cinder of both sites; the peer outage stops site B's protector-api only.
"""
import time
import uuid

import pytest
import requests

from tests.integration import dr_lab

pytestmark = pytest.mark.lab

MV = {"OpenStack-API-Version": "volume 3.13"}


class Protector:
    """Minimal REST client for one site's protector-api as one user."""

    def __init__(self, lab, site, peer_site, user="demo"):
        self.info = lab.site(site)
        self.conn = lab.connect(site if user == "demo" else site + "-admin")
        self.peer_conn = lab.connect(peer_site if user == "demo"
                                     else peer_site + "-admin")
        self.project = self.conn.current_project_id
        self.url = "%s/v1/%s" % (self.info.protector_url, self.project)

    def call(self, method, path, body=None, project=None):
        url = self.url if project is None else "%s/v1/%s" % (
            self.info.protector_url, project)
        headers = {"X-Auth-Token": self.conn.auth_token,
                   "X-Protector-Peer-Token": self.peer_conn.auth_token}
        resp = requests.request(method, url + path, json=body,
                                headers=headers, timeout=300)
        return resp.status_code, (resp.json() if resp.content else None)


@pytest.fixture(scope="module")
def sites(lab):
    dr_lab.register_sites(lab)
    a = Protector(lab, "site-a", "site-b")
    b = Protector(lab, "site-b", "site-a")
    ids = {}
    for name in ("site-a", "site-b"):
        status, body = a.call("GET", "/sites/%s" % name)
        assert status == 200, body
        ids[name] = body["site"]["id"]
    vtype = a.conn.block_storage.find_type("replicated-async")
    return {"a": a, "b": b, "ids": ids, "volume_type": vtype}


@pytest.fixture
def group(sites):
    a = sites["a"]
    name = "it-%s" % uuid.uuid4().hex[:8]
    status, body = a.call("POST", "/protection-groups", {
        "protection_group": {
            "name": name, "replication_type": "async",
            "primary_site_id": sites["ids"]["site-a"],
            "secondary_site_id": sites["ids"]["site-b"],
            "volume_type_id": sites["volume_type"].id}})
    assert status == 201, body
    pg = body["protection_group"]
    yield pg
    _, members = a.call("GET", "/protection-groups/%s/members" % pg["id"])
    for member in (members or {}).get("members", []):
        a.call("DELETE", "/protection-groups/%s/members/%s" %
               (pg["id"], member["id"]))
    a.call("DELETE", "/protection-groups/%s" % pg["id"])


def _cinder_group(conn, group_id):
    resp = conn.block_storage.get("/groups/%s" % group_id, headers=MV,
                                  raise_exc=False)
    if resp.status_code == 404:
        return None
    return resp.json()["group"]


def _wait_gone(conn, group_id, timeout=120):
    deadline = time.monotonic() + timeout
    while _cinder_group(conn, group_id) is not None:
        assert time.monotonic() < deadline, "group %s not deleted" % group_id
        time.sleep(1)


def _consistency_group(sites, pg):
    status, body = sites["a"].call(
        "GET", "/protection-groups/%s/consistency-group" % pg["id"])
    assert status == 200, body
    return body["consistency_group"]


def test_create_and_delete_make_and_remove_cinder_groups(sites, group):
    a, b = sites["a"], sites["b"]
    assert group["status"] == "active"
    assert group["metadata_version"] == 1
    cg = _consistency_group(sites, group)
    primary = _cinder_group(a.conn, cg["primary_cg_id"])
    secondary = _cinder_group(b.conn, cg["secondary_cg_id"])
    assert primary and primary["status"] == "available"
    assert secondary and secondary["status"] == "available"
    assert cg["volume_type_name"] == "replicated-async"

    status, body = b.call("GET", "/protection-groups/%s" % group["id"])
    assert status == 200, body
    assert body["protection_group"]["metadata_version"] == 1
    assert body["protection_group"]["project_id"] == b.project

    status, body = a.call("DELETE", "/protection-groups/%s" % group["id"])
    assert status == 204, body
    _wait_gone(a.conn, cg["primary_cg_id"])
    _wait_gone(b.conn, cg["secondary_cg_id"])
    assert b.call("GET", "/protection-groups/%s" % group["id"])[0] == 404


@pytest.fixture
def server(sites, lab):
    """A server on site A with two replicated-async volumes attached and
    one volume of another type (for the mismatch test), detached."""
    conn = sites["a"].conn
    info = lab.site("site-a")
    name = "it-%s" % uuid.uuid4().hex[:6]
    image = conn.image.find_image(info.image_name)
    flavor = conn.compute.find_flavor(info.flavor_names[0])
    net = conn.network.find_network(info.network_name)
    srv = conn.compute.create_server(name=name, image_id=image.id,
                                     flavor_id=flavor.id,
                                     networks=[{"uuid": net.id}])
    volumes = []
    try:
        srv = conn.compute.wait_for_server(srv, status="ACTIVE", wait=180)
        for i in range(2):
            vol = conn.block_storage.create_volume(
                name="%s-%d" % (name, i), size=1,
                volume_type="replicated-async")
            volumes.append(vol)
        other = conn.block_storage.create_volume(
            name=name + "-sync", size=1, volume_type="replicated-sync")
        volumes.append(other)
        for vol in volumes:
            conn.block_storage.wait_for_status(vol, "available", wait=90)
        for vol in volumes[:2]:
            conn.compute.create_volume_attachment(srv, volume_id=vol.id)
            conn.block_storage.wait_for_status(vol, "in-use", wait=120)
        yield {"server": srv, "volumes": volumes[:2], "other": other,
               "conn": conn}
    finally:
        conn.compute.delete_server(srv)
        conn.compute.wait_for_delete(srv, wait=120)
        for vol in volumes:
            try:
                conn.block_storage.wait_for_status(vol, "available", wait=90)
                conn.block_storage.delete_volume(vol)
            except Exception:
                pass


def test_member_add_and_remove(sites, group, server):
    a, b = sites["a"], sites["b"]
    members = "/protection-groups/%s/members" % group["id"]
    status, body = a.call("POST", members, {"member": {
        "instance_id": server["server"].id}})
    assert status == 201, body
    member = body["member"]
    assert member["status"] == "protected"
    assert member["volumes_added"] == 2
    assert member["instance_name"] == server["server"].name
    cg = _consistency_group(sites, group)
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
    assert _consistency_group(sites, group)["volume_count"] == 0
    for vol in server["volumes"]:
        vol = server["conn"].block_storage.get_volume(vol.id)
        assert vol.group_id is None
        assert vol.status == "in-use"  # detached from the group only
    assert b.call("GET", members + "/" + member["id"])[0] == 404


def test_member_add_refuses_wrong_volume_type(sites, group, server):
    a = sites["a"]
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


def test_unknown_instance_is_404(sites, group):
    missing = str(uuid.uuid4())
    status, body = sites["a"].call(
        "POST", "/protection-groups/%s/members" % group["id"],
        {"member": {"instance_id": missing}})
    assert status == 404, body
    assert body["errors"][0]["code"] == "protector.member.instance_not_found"
    assert missing in body["errors"][0]["detail"]


def test_peer_protector_down_blocks_every_change(lab, sites, group, server):
    a = sites["a"]
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
                "primary_site_id": sites["ids"]["site-a"],
                "secondary_site_id": sites["ids"]["site-b"],
                "volume_type_id": sites["volume_type"].id}})
        assert status == 503, resp
        _, resp = a.call("GET", path)
        assert resp["protection_group"]["metadata_version"] == 2
        assert resp["protection_group"]["description"] is None
        assert resp["protection_group"]["member_count"] == 1
        assert _consistency_group(sites, group)["volume_count"] == 2
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
    _, theirs = sites["b"].call("GET", path)
    assert mine["protection_group"]["metadata_version"] == \
        theirs["protection_group"]["metadata_version"]


def test_other_projects_cannot_see_the_group(lab, sites, group):
    admin = Protector(lab, "site-a", "site-b", user="admin")
    # The demo token on the admin project's URL: 403.
    status, body = sites["a"].call("GET", "/protection-groups",
                                   project=admin.project)
    assert status == 403, body
    # The admin's own project does not hold the demo group: 404.
    status, body = admin.call("GET", "/protection-groups/%s" % group["id"])
    assert status == 404, body
    _, body = admin.call("GET", "/protection-groups")
    assert group["id"] not in {g["id"] for g in body["protection_groups"]}

"""The two-site lab works as Protector's tests need it to.

Uses the session fixture ``lab`` (tests/integration/conftest.py), which
reuses a running lab or brings one up. Each test cleans up what it creates.
"""
import time
import uuid

import pytest
import requests

from protector_lab import infra
from protector_lab import rest

pytestmark = pytest.mark.lab

SITES = ("site-a", "site-b")


def wait_for(what, check, timeout=120, interval=1.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("timed out after %d s waiting for %s" % (timeout,
                                                                 what))
        time.sleep(interval)


def session(lab, site, user="demo"):
    info = lab.site(site)
    project = "admin" if user == "admin" else "demo"
    return rest.Session(info.auth_url, user, info.site.password(user),
                        project)


def wait_volume(s, volume_id, status, timeout=90):
    def check():
        vol = s.get("volumev3", "/volumes/%s" % volume_id)["volume"]
        if vol["status"] == "error":
            pytest.fail("volume %s went to error" % volume_id)
        return vol if vol["status"] == status else None
    return wait_for("volume %s %s" % (volume_id, status), check, timeout)


def delete_volume(s, volume_id):
    try:
        s.delete("volumev3", "/volumes/%s" % volume_id)
    except rest.APIError:
        pass


# ---- both clouds answer ---------------------------------------------------

@pytest.mark.parametrize("site", SITES)
def test_demo_user_gets_token_images_networks(lab, site):
    conn = lab.connect(site)
    assert conn.authorize()
    info = lab.site(site)
    assert info.image_name in [i.name for i in conn.image.images()]
    nets = {n.name: n for n in conn.network.networks()}
    assert info.network_name in nets
    subnets = [s.name for s in conn.network.subnets(
        network_id=nets[info.network_name].id)]
    assert subnets == [info.subnet_name]


@pytest.mark.parametrize("site", SITES)
def test_replicated_volume_types_and_group_type(lab, site):
    info = lab.site(site)
    s = session(lab, site, "admin")
    types = {t["name"]: t for t in s.get("volumev3", "/types")[
        "volume_types"]}
    for mode in ("async", "sync"):
        specs = types["replicated-%s" % mode]["extra_specs"]
        assert specs == {"replication_enabled": "<is> True",
                         "replication_type": "<in> %s" % mode,
                         "volume_backend_name": info.backend_name}
    groups = s.get("volumev3", "/group_types", headers={
        "OpenStack-API-Version": "volume 3.11"})["group_types"]
    specs = {g["name"]: g["group_specs"] for g in groups}
    assert specs[info.group_type] == {
        "consistent_group_snapshot_enabled": "<is> True"}


@pytest.mark.parametrize("site", SITES)
def test_protector_registered_and_answering(lab, site):
    info = lab.site(site)
    s = session(lab, site)
    endpoint = s.endpoint("protector")
    assert endpoint == info.protector_url + "/v1/" + s.project_id
    assert requests.get(info.protector_url + "/", timeout=10).status_code \
        == 200
    resp = requests.get(endpoint + "/sites",
                        headers={"X-Auth-Token": s.token}, timeout=10)
    assert resp.status_code == 200, resp.text
    # The protector service user exists with its site's own password.
    svc = info.protector_service
    rest.Session(info.auth_url, svc["username"], svc["password"], "service")


def test_names_differ_between_sites(lab):
    a, b = lab.site_a, lab.site_b
    assert a.network_name != b.network_name
    assert set(a.flavor_names).isdisjoint(b.flavor_names)
    for info in (a, b):
        conn = lab.connect(info.cloud)
        assert {f.name for f in conn.compute.flavors()} == set(
            info.flavor_names)
        assert [n.name for n in conn.network.networks()] == [
            info.network_name]
    assert a.auth_url != b.auth_url


def test_sites_do_not_share_credentials(lab):
    a, b = lab.site_a, lab.site_b
    with pytest.raises(rest.APIError) as exc:
        rest.Session(b.auth_url, "admin", a.admin["password"], "admin")
    assert exc.value.status == 401


# ---- compute + block storage, as the demo user ----------------------------

@pytest.mark.parametrize("site", SITES)
def test_server_active_with_volume_attached(lab, site):
    info = lab.site(site)
    conn = lab.connect(site)
    name = "lab-test-%s" % uuid.uuid4().hex[:6]
    image = conn.image.find_image(info.image_name)
    flavor = conn.compute.find_flavor(info.flavor_names[0])
    net = conn.network.find_network(info.network_name)
    server = conn.compute.create_server(
        name=name, image_id=image.id, flavor_id=flavor.id,
        networks=[{"uuid": net.id}])
    volume = None
    try:
        server = conn.compute.wait_for_server(server, status="ACTIVE",
                                              wait=180)
        volume = conn.block_storage.create_volume(
            name=name, size=1, volume_type="replicated-async")
        conn.block_storage.wait_for_status(volume, "available", wait=90)
        conn.compute.create_volume_attachment(server, volume_id=volume.id)
        volume = conn.block_storage.wait_for_status(volume, "in-use",
                                                    wait=120)
        assert volume.attachments[0]["server_id"] == server.id
        ports = list(conn.network.ports(device_id=server.id))
        # Bound by the ML2 "bindall" shim (binding details are admin-only).
        assert ports and ports[0].status == "ACTIVE"
    finally:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=120)
        if volume is not None:
            conn.block_storage.wait_for_status(volume, "available", wait=90)
            conn.block_storage.delete_volume(volume)


def test_unmanaged_volume_can_be_managed_back(lab):
    """doc/deployment.md's Cinder policy: the member role may manage and
    unmanage."""
    info = lab.site_a
    demo = session(lab, "site-a")
    admin = session(lab, "site-a", "admin")
    vol = demo.post("volumev3", "/volumes", {"volume": {
        "name": "lab-manage", "size": 1,
        "volume_type": "replicated-async"}})["volume"]
    wait_volume(demo, vol["id"], "available")
    demo.post("volumev3", "/volumes/%s/action" % vol["id"],
              {"os-unmanage": None})
    wait_for("unmanaged volume to leave Cinder", lambda: vol["id"] not in [
        v["id"] for v in demo.get("volumev3", "/volumes")["volumes"]])
    listed = admin.get("volumev3", "/manageable_volumes?host=%s" %
                       info.volume_host.replace("#", "%23"),
                       headers={"OpenStack-API-Version": "volume 3.8"})
    refs = {m["reference"]["source-name"]: m
            for m in listed["manageable-volumes"]}
    ref = "volume-%s" % vol["id"]
    assert refs[ref]["safe_to_manage"] is True
    managed = demo.post("volumev3", "/manageable_volumes", {"volume": {
        "host": info.volume_host, "ref": {"source-name": ref},
        "name": "lab-managed", "volume_type": "replicated-async",
        "bootable": False}}, headers={"OpenStack-API-Version": "volume 3.8"}
    )["volume"]
    try:
        wait_volume(demo, managed["id"], "available")
        listed = admin.get("volumev3", "/manageable_volumes?host=%s" %
                           info.volume_host.replace("#", "%23"),
                           headers={"OpenStack-API-Version": "volume 3.8"})
        assert ref not in [m["reference"]["source-name"]
                           for m in listed["manageable-volumes"]]
    finally:
        delete_volume(demo, managed["id"])


def test_consistency_group_snapshot(lab):
    info = lab.site_b
    demo = session(lab, "site-b")
    mv = {"OpenStack-API-Version": "volume 3.14"}
    types = {t["name"]: t["id"] for t in demo.get("volumev3", "/types")[
        "volume_types"]}
    gtypes = {g["name"]: g["id"] for g in demo.get(
        "volumev3", "/group_types", headers=mv)["group_types"]}
    group = demo.post("volumev3", "/groups", {"group": {
        "name": "lab-cg", "group_type": gtypes[info.group_type],
        "volume_types": [types["replicated-async"]]}}, headers=mv)["group"]
    vol_id = snap = None
    try:
        wait_for("group available", lambda: demo.get(
            "volumev3", "/groups/%s" % group["id"], headers=mv)["group"][
            "status"] == "available", 90)
        vol_id = demo.post("volumev3", "/volumes", {"volume": {
            "name": "lab-cg-vol", "size": 1, "group_id": group["id"],
            "volume_type": "replicated-async"}}, headers=mv)["volume"]["id"]
        wait_volume(demo, vol_id, "available")
        snap = demo.post("volumev3", "/group_snapshots", {"group_snapshot": {
            "group_id": group["id"], "name": "lab-cg-snap"}},
            headers=mv)["group_snapshot"]
        wait_for("group snapshot available", lambda: demo.get(
            "volumev3", "/group_snapshots/%s" % snap["id"], headers=mv)[
            "group_snapshot"]["status"] == "available", 90)
    finally:
        if snap:
            demo.delete("volumev3", "/group_snapshots/%s" % snap["id"],
                        headers=mv)
            wait_for("group snapshot deleted", lambda: snap["id"] not in [
                g["id"] for g in demo.get("volumev3", "/group_snapshots",
                                          headers=mv)["group_snapshots"]])
        demo.post("volumev3", "/groups/%s/action" % group["id"],
                  {"delete": {"delete-volumes": True}}, headers=mv)


def test_volume_from_image_is_bootable(lab):
    info = lab.site_a
    conn = lab.connect(info.cloud)
    image = conn.image.find_image(info.image_name)
    vol = conn.block_storage.create_volume(name="lab-from-image", size=1,
                                           image_id=image.id)
    try:
        vol = conn.block_storage.wait_for_status(vol, "available", wait=90)
        assert vol.is_bootable
        assert vol.volume_image_metadata["image_name"] == info.image_name
    finally:
        conn.block_storage.delete_volume(vol)


# ---- outages ----------------------------------------------------------------

def test_stop_and_start_one_service(lab):
    b = lab.site_b
    lab.stop("site-b", "glance")
    try:
        with pytest.raises(requests.ConnectionError):
            requests.get(b.url("glance") + "/", timeout=5)
        # The other site and the other services are untouched.
        assert lab.connect("site-a").image.find_image(lab.site_a.image_name)
        down = {(p["site"], p["process"]) for p in lab.status()["processes"]
                if not p["running"]}
        assert down == {("site-b", "glance")}
    finally:
        lab.start("site-b", "glance")
    assert lab.connect("site-b").image.find_image(b.image_name)


# ---- cleanup inventory -------------------------------------------------

def test_inventory_lists_every_lab_object(lab):
    """``down`` drops what the inventory lists: it must list everything."""
    inv = infra.Inventory(lab.state_dir + "/inventory.json").load()
    db = infra.MariaDB()
    mq = infra.RabbitMQ()
    for info in (lab.site_a, lab.site_b):
        prefix = info.site.db_prefix
        assert set(db.databases(prefix)) <= set(inv["database"])
        assert db.databases(prefix), "no %s* databases" % prefix
        assert info.site.db_user in inv["db_user"]
        assert info.site.rabbit_vhost in mq.vhosts()
        assert info.site.rabbit_vhost in inv["vhost"]
        assert info.site.rabbit_user in inv["mq_user"]

"""The mock storage driver (doc/deployment.md) against a fake openstacksdk
cloud.

The fake records what was asked of Glance and Cinder, so the tests show
the documented image-not-found error, idempotent promotion (also after a crash
between "create" and "record") and cleanup of exactly the given copies.
"""
import contextlib
import types
import uuid

from oslo_config import cfg
import pytest

from protector import exception
from protector import storage


class FakeBlockStorage:
    def __init__(self):
        self.volumes_by_id = {}
        self.created = []
        self.deleted = []

    def volumes(self, name=None):
        return [v for v in self.volumes_by_id.values()
                if name is None or getattr(v, "name", None) == name]

    def create_volume(self, **attrs):
        vol = types.SimpleNamespace(id=str(uuid.uuid4()), status="available",
                                    **dict({"metadata": {}}, **attrs))
        self.volumes_by_id[vol.id] = vol
        self.created.append(attrs)
        return vol

    def wait_for_status(self, vol, status, failures=None, wait=None,
                        interval=2):
        return vol

    def delete_volume(self, vol_id, ignore_missing=True):
        self.volumes_by_id.pop(vol_id, None)
        self.deleted.append(vol_id)


class FakeCloud:
    def __init__(self, images=("cirros",)):
        self.site = {"id": "site-b", "name": "site-b"}
        self.block = FakeBlockStorage()
        self.images = {n: types.SimpleNamespace(id="img-" + n, name=n)
                       for n in images}
        self.conn = types.SimpleNamespace(
            block_storage=self.block,
            image=types.SimpleNamespace(
                find_image=lambda n, ignore_missing=True:
                self.images.get(n)))

    def warm(self, *service_types):
        pass  # no token to have validated (SiteCloud.warm)

    @contextlib.contextmanager
    def guard(self, service):
        yield


def _driver(engine_db, cloud):
    group = {"id": str(uuid.uuid4()), "name": "pg",
             "volume_type_name": "replicated-async"}
    site = {"id": "site-b", "name": "site-b"}
    cfg.CONF.set_override("use_mock_storage", True)
    try:
        return storage.get_driver({"pure_pg_name": "pg-x"}, group, site,
                                  lambda: cloud)
    finally:
        cfg.CONF.clear_override("use_mock_storage")


VOLUMES = [
    {"volume_id": "boot-1", "size_gb": 2, "bootable": True,
     "boot_index": 0, "member_id": "m1", "volume_name": "web-boot",
     "description": "the web server's root disk",
     "metadata": {"tier": "web"}},
    {"volume_id": "data-1", "size_gb": 5, "bootable": False,
     "boot_index": None, "member_id": "m1"},
]


def test_missing_image_fails_with_the_documented_message(engine_db):
    cloud = FakeCloud(images=())
    driver = _driver(engine_db, cloud)
    snap = driver.latest_replicated_snapshot(VOLUMES)
    with pytest.raises(exception.MockImageNotFound) as err:
        driver.promote_volumes(snap, "op-1")
    assert err.value.code == "protector.storage.mock_image_not_found"
    assert "Image 'cirros' not found on target site site-b" in \
        err.value.message
    assert cloud.block.created == []


def test_promotion_is_idempotent_per_key(engine_db):
    cloud = FakeCloud()
    driver = _driver(engine_db, cloud)
    snap = driver.latest_replicated_snapshot(VOLUMES)
    first = driver.promote_volumes(snap, "op-2")
    again = driver.promote_volumes(snap, "op-2")
    assert first == again
    assert len(cloud.block.created) == 2
    boot = [c for c in cloud.block.created if c.get("image_id")]
    assert len(boot) == 1 and boot[0]["image_id"] == "img-cirros"
    assert boot[0]["volume_type"] == "replicated-async"
    data = [c for c in cloud.block.created if not c.get("image_id")]
    assert data[0]["size"] == 5
    # Another operation (a test copy) gets volumes of its own.
    test = driver.promote_volumes(snap, "op-3", purpose="test")
    assert {c["cinder_volume_id"] for c in test}.isdisjoint(
        {c["cinder_volume_id"] for c in first})


def test_a_volume_created_before_a_crash_is_found_by_its_key(engine_db):
    cloud = FakeCloud()
    driver = _driver(engine_db, cloud)
    snap = driver.latest_replicated_snapshot(VOLUMES[:1])
    # The source's own volume of the same name (a failback's target
    # still holds it) is not the copy; the one with the key is.
    cloud.block.create_volume(name="web-boot", size=2, metadata={})
    made = cloud.block.create_volume(
        name="web-boot", size=2,
        metadata={"protector_copy_key": "op-4:boot-1"})
    cloud.block.created.clear()
    copies = driver.promote_volumes(snap, "op-4")
    assert copies[0]["cinder_volume_id"] == made.id
    assert cloud.block.created == []


def test_a_fresh_copy_is_made_without_looking_for_one(engine_db):
    """A source volume the operation recorded just now (``fresh``) has no
    copy from an earlier attempt: no listing by name for it (Cinder's
    listings cost the lab's promote 1.5 s for 20 copies); the others are
    still looked for."""
    cloud = FakeCloud()
    driver = _driver(engine_db, cloud)
    snap = driver.latest_replicated_snapshot(VOLUMES)
    looked = []
    real = cloud.block.volumes

    def volumes(name=None):
        looked.append(name)
        return real(name)
    cloud.block.volumes = volumes
    made = driver.promote_volumes(snap, "op-8", fresh=frozenset({"boot-1"}))
    assert looked == [None]  # data-1 (no name): its look-up lists all
    assert len(made) == 2 and len(cloud.block.created) == 2


def test_copies_keep_the_source_name_description_and_metadata(engine_db):
    cloud = FakeCloud()
    driver = _driver(engine_db, cloud)
    snap = driver.latest_replicated_snapshot(VOLUMES)
    driver.promote_volumes(snap, "op-7")
    # Copies are made in parallel: find each by its copy key, not by the
    # order the threads happened to create them in.
    created = {c["metadata"]["protector_copy_key"]: c
               for c in cloud.block.created}
    boot, data = created["op-7:boot-1"], created["op-7:data-1"]
    assert boot["name"] == "web-boot" and data["name"] is None
    assert boot["description"] == "the web server's root disk"
    assert boot["metadata"] == {"tier": "web",
                                "protector_copy_key": "op-7:boot-1",
                                "protector_operation": "op-7"}
    assert data["metadata"] == {"protector_copy_key": "op-7:data-1",
                                "protector_operation": "op-7"}


def test_delete_copies_removes_only_those(engine_db):
    cloud = FakeCloud()
    driver = _driver(engine_db, cloud)
    snap = driver.latest_replicated_snapshot(VOLUMES)
    keep = driver.promote_volumes(snap, "op-5")
    drop = driver.promote_volumes(snap, "op-6", purpose="test")
    driver.delete_copies(drop)
    assert sorted(cloud.block.deleted) == sorted(
        c["cinder_volume_id"] for c in drop)
    assert all(c["cinder_volume_id"] in cloud.block.volumes_by_id
               for c in keep)
    assert driver.replication_lag() is not None


def test_the_pure_slot_loads_its_driver(engine_db):
    cfg.CONF.set_override("driver", "pure", group="storage")
    try:
        driver = storage.get_driver(
            {"pure_pg_name": "pg", "primary_fa_url": "https://fa-a",
             "secondary_fa_url": "https://fa-b"},
            {"id": "g", "replication_type": "async"}, {"id": "s"})
        assert driver.name == "pure"
        cfg.CONF.set_override("driver", "nosuch", group="storage")
        with pytest.raises(exception.StorageDriverNotFound) as err:
            storage.get_driver({}, {"id": "g"}, {"id": "s"})
        assert "pure" in err.value.message
    finally:
        cfg.CONF.clear_override("driver", group="storage")


def test_a_boot_volume_is_replicated_from_its_own_image(engine_db):
    """Issue 14 item 13 (doc/deployment.md): the image of the same name as the
    source volume's own image, captured at member add from Cinder's
    volume_image_metadata, not always [storage] mock_image_name."""
    from protector.pgroups import capture
    member = {"id": "m1", "instance_config": {
        "volume_images": {"boot-1": "ubuntu-22.04"}},
        "volumes": [dict(v) for v in VOLUMES]}
    volumes = capture.member_volumes([member])
    assert [v["image_name"] for v in volumes] == ["ubuntu-22.04", None]
    cloud = FakeCloud(images=("cirros", "ubuntu-22.04"))
    driver = _driver(engine_db, cloud)
    driver.promote_volumes(driver.latest_replicated_snapshot(volumes),
                           "op-img")
    boot = [c for c in cloud.block.created if c.get("image_id")]
    assert [b["image_id"] for b in boot] == ["img-ubuntu-22.04"]
    # An image-booted member's instance image comes next, then the
    # configured default.
    member["instance_config"] = {"image_name": "centos"}
    assert capture.member_volumes([member])[0]["image_name"] == "centos"


def test_copies_on_the_secondary_get_its_own_volume_type(engine_db):
    cloud = FakeCloud()
    group = {"id": str(uuid.uuid4()), "name": "pg",
             "volume_type_name": "replicated-async",
             "secondary_site_id": "site-b", "remote_volume_type_id": "vt-b"}
    cfg.CONF.set_override("use_mock_storage", True)
    try:
        driver = storage.get_driver({"pure_pg_name": "pg-y"}, group,
                                    {"id": "site-b", "name": "site-b"},
                                    lambda: cloud)
    finally:
        cfg.CONF.clear_override("use_mock_storage")
    snap = driver.latest_replicated_snapshot(VOLUMES)
    driver.promote_volumes(snap, "op-8")
    assert [c["volume_type"] for c in cloud.block.created] == ["vt-b"] * 2


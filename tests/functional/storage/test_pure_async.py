"""The ``pure`` driver, async: protection group replication, against the
FlashArray simulator through the real py-pure-client (never a mock)."""
from pypureclient import flasharray as fa
import pytest

from protector import exception
from protector.storage.pure import copies as pure_copies
from tests.functional.storage.conftest import SITE_A
from tests.functional.storage.conftest import SITE_B


def _pg(client, name):
    return list(client.get_protection_groups(names=[name]).items)[0]


def test_ensure_replication_sets_up_the_protection_group(env):
    driver = env.driver()
    out = driver.ensure_replication(env.volumes)
    assert out["source_array"] == "array1"
    assert out["target_array"] == "array2"
    assert out["volumes"] == sorted(env.array_name(v) for v in env.volumes)
    pg = _pg(env.fa1, "dr-web")
    assert pg.replication_schedule.enabled is True
    assert pg.replication_schedule.frequency == 300 * 1000
    assert pg.target_retention.all_for_sec >= 15 * 60 * 2
    members = sorted(m.member.name for m in
                     env.fa1.get_protection_groups_volumes(
                         group_names=["dr-web"]).items)
    assert members == out["volumes"]
    targets = list(env.fa1.get_protection_groups_targets(
        group_names=["dr-web"]).items)
    assert [(t.member.name, t.allowed) for t in targets] == [("array2", True)]
    # The target sees the group as array1:dr-web.
    assert list(env.fa2.get_protection_groups(
        names=["array1:dr-web"]).items)
    # Idempotent: a second run changes nothing and does not fail.
    assert driver.ensure_replication(env.volumes) == out


def test_async_full_cycle(env):
    """ensure -> replicate_now -> latest on target -> copy holds the data
    of the snapshot, not what was written after it."""
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    versions = env.write()
    snap = driver.create_replicated_snapshot(env.volumes, "op-1")
    assert snap["name"].startswith("array1:dr-web.protector-")
    assert snap["array"] == "array2"
    assert {v["volume_id"] for v in snap["volumes"]} == set(versions)
    for vol in snap["volumes"]:
        assert vol["snapshot_ref"] == "%s.%s" % (snap["name"],
                                                 env.array_name(vol))
        assert vol["backend_ref"] == env.array_name(vol)
    # Writes after the snapshot must not reach the copies.
    env.write()
    latest = driver.latest_replicated_snapshot(env.volumes)
    assert latest["name"] == snap["name"]

    copies = driver.promote_volumes(latest, "op-1")
    assert len(copies) == len(env.volumes)
    for copy in copies:
        assert copy["backend_ref"].startswith("protector-f-")
        assert copy["array"] == "array2"
        assert env.version("array2", copy["backend_ref"]) == \
            versions[copy["source_volume_id"]]
    # A resumed step finds its copies: same names, nothing copied twice.
    before = env.volume_names(env.fa2)
    assert driver.promote_volumes(latest, "op-1") == copies
    assert env.volume_names(env.fa2) == before


def test_replicate_now_is_idempotent_per_key(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    first = driver.create_replicated_snapshot(env.volumes, "op-1")
    env.write()
    again = driver.create_replicated_snapshot(env.volumes, "op-1")
    assert again["name"] == first["name"]
    snaps = [s.name for s in env.fa1.get_protection_group_snapshots(
        source_names=["dr-web"]).items]
    assert len(snaps) == 1


def test_scheduled_replication_gives_newer_snapshots(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    with pytest.raises(exception.SnapshotNotFound):
        driver.latest_replicated_snapshot(env.volumes)
    versions = env.write()
    env.sim.fabric.advance(301)
    snap = driver.latest_replicated_snapshot(env.volumes)
    copies = driver.promote_volumes(snap, "op-2")
    for copy in copies:
        assert env.version("array2", copy["backend_ref"]) == \
            versions[copy["source_volume_id"]]
    assert driver.replication_lag() is not None


def test_a_copy_overwrites_only_protector_volumes(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    snap = driver.create_replicated_snapshot(env.volumes, "op-1")
    local = driver.local
    ref = snap["volumes"][0]["snapshot_ref"]
    with pytest.raises(exception.ArrayError) as err:
        pure_copies.make_copy(local, ref, "volume-foreign-cinder")
    assert "not a Protector copy" in err.value.message
    with pytest.raises(exception.ArrayError):
        pure_copies.delete_copy(local, "volume-foreign-cinder")


def test_test_failover_copies_and_cleanup_leave_replication_alone(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    env.sim.fabric.advance(301)
    pg_before = _pg(env.fa1, "dr-web").to_dict()
    targets_before = [t.to_dict() for t in
                      env.fa1.get_protection_groups_targets(
                          group_names=["dr-web"]).items]
    other = env.fa2.post_volumes(names=["unrelated"], volume=fa.VolumePost(
        provisioned=1 << 30))
    assert other.status_code == 200
    snap = driver.create_replicated_snapshot(env.volumes, "test-op")
    failover = driver.promote_volumes(snap, "failover-op")
    tests = driver.promote_volumes(snap, "test-op", purpose="test")
    assert all(c["backend_ref"].startswith("protector-t-") for c in tests)
    assert not {c["backend_ref"] for c in tests} & \
        {c["backend_ref"] for c in failover}

    deleted = driver.delete_copies([{"backend_ref": c["backend_ref"]}
                                    for c in tests])
    assert sorted(deleted) == sorted(c["backend_ref"] for c in tests)
    names = env.volume_names(env.fa2)
    assert not any(c["backend_ref"] in names for c in tests)
    assert all(c["backend_ref"] in names for c in failover)
    assert "unrelated" in names
    # Eradicated, not merely destroyed.
    all_names = {v.name for v in env.fa2.get_volumes().items}
    assert not any(c["backend_ref"] in all_names for c in tests)
    # Replication untouched: same group, schedule and targets.
    assert _pg(env.fa1, "dr-web").to_dict() == pg_before
    assert [t.to_dict() for t in env.fa1.get_protection_groups_targets(
        group_names=["dr-web"]).items] == targets_before
    # Cleanup again: gone already is not an error.
    driver.delete_copies([{"backend_ref": c["backend_ref"]} for c in tests])


def test_unplanned_failover_needs_nothing_from_the_lost_array(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    versions = env.write()
    env.sim.fabric.advance(301)
    env.sim.fabric.faults.array_down("array1")
    snap = env.driver().latest_replicated_snapshot(env.volumes)
    copies = env.driver().promote_volumes(snap, "op-u")
    for copy in copies:
        assert env.version("array2", copy["backend_ref"]) == \
            versions[copy["source_volume_id"]]


def test_member_missing_from_snapshot_is_a_clear_error(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes[:1])
    env.sim.fabric.advance(301)
    with pytest.raises(exception.ReplicationNotReady) as err:
        driver.latest_replicated_snapshot(env.volumes)
    assert env.volumes[1]["volume_id"] in err.value.message
    assert err.value.code == "protector.storage.replication_not_ready"


def test_driver_is_registered_and_sides_follow_the_group(env):
    from protector import storage
    from protector.storage import pure
    assert storage._load("pure") is pure.PureStorageDriver
    assert {"mock", "pure"} <= set(storage.available())
    a = env.driver(site=SITE_A)
    b = env.driver(site=SITE_B)
    assert a.local is a.arrays["primary"]
    assert b.local is b.arrays["secondary"]
    src, dst = b.direction()
    assert (src.label, dst.label) == ("primary", "secondary")

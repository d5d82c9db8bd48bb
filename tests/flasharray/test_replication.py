"""Protection groups and async replication between two simulated arrays."""
import pytest
from pypureclient import flasharray

GiB = 1 << 30
PG = "dr-pg1"


def items(resp):
    assert resp.status_code == 200, getattr(resp, "errors", resp)
    return list(resp.items)


def names(resp):
    return [i.name for i in items(resp)]


def err(resp):
    assert resp.status_code >= 400, resp
    return resp.errors[0].message


@pytest.fixture
def pg(sim, fa1, fa2):
    """array1: vol-a, vol-b in PG dr-pg1 targeting array2 (allowed)."""
    fa1.post_volumes(names=["vol-a", "vol-b"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    items(fa1.post_protection_groups(names=[PG]))
    assert "already exists" in err(fa1.post_protection_groups(names=[PG]))
    items(fa1.post_protection_groups_volumes(group_names=[PG],
                                             member_names=["vol-a", "vol-b"]))
    t = items(fa1.post_protection_groups_targets(group_names=[PG],
                                                 member_names=["array2"]))
    assert t[0].allowed is False
    assert "already includes" in err(fa1.post_protection_groups_targets(
        group_names=[PG], member_names=["array2"]))
    # The remote PG appears on the target at once, named <src>:<pg>.
    remote = items(fa2.get_protection_groups(names=[f"array1:{PG}"]))[0]
    assert remote.is_local is False and remote.source.name == "array1"
    items(fa2.patch_protection_groups_targets(
        group_names=[f"array1:{PG}"],
        target=flasharray.TargetProtectionGroupPostPatch(allowed=True)))
    assert "already allowed on" in err(fa2.patch_protection_groups_targets(
        group_names=[f"array1:{PG}"],
        target=flasharray.TargetProtectionGroupPostPatch(allowed=True)))
    assert items(fa1.get_protection_groups_targets(
        group_names=[PG]))[0].allowed
    return PG


def test_pg_membership_queries(sim, fa1, pg):
    got = items(fa1.get_protection_groups_volumes(member_names=["vol-a"]))
    assert [(m.group.name, m.member.name) for m in got] == [(PG, "vol-a")]
    assert "already belongs to" in err(fa1.post_protection_groups_volumes(
        group_names=[PG], member_names=["vol-a"]))
    fa1.delete_protection_groups_volumes(group_names=[PG],
                                         member_names=["vol-b"])
    got = items(fa1.get_protection_groups_volumes(group_names=[PG]))
    assert [m.member.name for m in got] == ["vol-a"]
    pgi = items(fa1.get_protection_groups(names=[PG]))[0]
    assert (pgi.volume_count, pgi.target_count, pgi.is_local) == (1, 1, True)
    assert "does not exist" in err(fa1.get_protection_groups(names=["nope"]))
    # volumes can also join at creation time
    fa1.post_volumes(names=["vol-c"], add_to_protection_group_names=[PG],
                     with_default_protection=False,
                     volume=flasharray.VolumePost(provisioned=GiB))
    got = items(fa1.get_protection_groups_volumes(member_names=["vol-c"]))
    assert got[0].group.name == PG


def test_replicate_now_and_recover_on_target(sim, fa1, fa2, pg):
    fab = sim.fabric
    fab.write("array1", "vol-a", data_version=10)
    snap = items(fa1.post_protection_group_snapshots(
        source_names=[PG], replicate_now=True,
        protection_group_snapshot=flasharray.ProtectionGroupSnapshotPost(
            suffix="dr-1")))[0]
    assert (snap.name, snap.suffix, snap.source.name) == \
        (f"{PG}.dr-1", "dr-1", PG)
    assert names(fa1.get_volume_snapshots(filter=f"name='{PG}.dr-1.*'")) == \
        [f"{PG}.dr-1.vol-a", f"{PG}.dr-1.vol-b"]
    fab.write("array1", "vol-a")                      # 11, after the snapshot
    # On the target: replicated PG snapshot, complete transfer, volume snaps.
    tr = items(fa2.get_protection_group_snapshots_transfer(
        names=[f"array1:{PG}.dr-1"]))[0]
    assert tr.progress == 1.0 and tr.completed >= tr.started
    latest = items(fa2.get_protection_group_snapshots_transfer(
        source_names=[f"array1:{PG}"], destroyed=False,
        filter='progress="1.0"', sort=["started-"]))[0]
    assert latest.name == f"array1:{PG}.dr-1"
    vsnaps = items(fa2.get_volume_snapshots(
        filter=f"name='array1:{PG}.dr-1.*'"))
    assert [(v.name, v.source.name) for v in vsnaps] == [
        (f"array1:{PG}.dr-1.vol-a", "array1:vol-a"),
        (f"array1:{PG}.dr-1.vol-b", "array1:vol-b")]
    assert names(fa2.get_protection_group_snapshots(
        source_names=[f"array1:{PG}"])) == [f"array1:{PG}.dr-1"]
    # Recover: copy the replicated snapshot into a volume on array2.
    items(fa2.post_volumes(names=["vol-a"], volume=flasharray.VolumePost(
        source=flasharray.Reference(name=f"array1:{PG}.dr-1.vol-a"))))
    assert fab.data_version("array2", "vol-a") == 10
    assert fab.data_version("array1", "vol-a") == 11
    # The source side sees the snapshot as on its target.
    remote = items(fa1.get_remote_protection_group_snapshots(on=["array2"]))
    assert [r.name for r in remote] == [f"array1:{PG}.dr-1"]


def test_copy_from_older_snapshot_yields_older_data(sim, fa1, fa2, pg):
    fab = sim.fabric
    for version, suffix in ((1, "s1"), (2, "s2"), (3, "s3")):
        fab.write("array1", "vol-a", data_version=version)
        fa1.post_protection_group_snapshots(
            source_names=[PG], replicate_now=True,
            protection_group_snapshot=flasharray.ProtectionGroupSnapshotPost(
                suffix=suffix))
    items(fa2.post_volumes(names=["dr-vol"], volume=flasharray.VolumePost(
        source=flasharray.Reference(name=f"array1:{PG}.s3.vol-a"))))
    assert fab.data_version("array2", "dr-vol") == 3
    items(fa2.post_volumes(names=["dr-vol"], overwrite=True,
                           volume=flasharray.VolumePost(source=flasharray.Reference(
                               name=f"array1:{PG}.s1.vol-a"))))
    assert fab.data_version("array2", "dr-vol") == 1
    assert items(fa2.get_volumes(names=["dr-vol"]))[0].source.name == \
        f"array1:{PG}.s1.vol-a"


def test_slow_transfer_progress_follows_the_clock(sim, fa1, fa2, pg):
    sim.fabric.faults.slow_link("array1", "array2", seconds=100)
    fa1.post_protection_group_snapshots(
        source_names=[PG], replicate_now=True,
        protection_group_snapshot=flasharray.ProtectionGroupSnapshotPost(
            suffix="slow"))
    name = f"array1:{PG}.slow"
    tr = items(fa2.get_protection_group_snapshots_transfer(names=[name]))[0]
    assert tr.progress == 0.0 and not hasattr(tr, "completed")
    assert items(fa2.get_volume_snapshots(filter=f"name='{name}.*'")) == []
    assert items(fa2.get_protection_group_snapshots_transfer(
        source_names=[f"array1:{PG}"], filter='progress="1.0"')) == []
    sim.fabric.advance(40)
    tr = items(fa2.get_protection_group_snapshots_transfer(names=[name]))[0]
    assert tr.progress == pytest.approx(0.4)
    assert 0 < tr.data_transferred < 2 * GiB
    src = items(fa1.get_protection_group_snapshots_transfer(
        names=[f"{PG}.slow"]))[0]
    assert src.progress == pytest.approx(0.4)
    sim.fabric.advance(60)
    tr = items(fa2.get_protection_group_snapshots_transfer(names=[name]))[0]
    assert tr.progress == 1.0 and tr.completed - tr.started == 100_000
    assert len(items(fa2.get_volume_snapshots(filter=f"name='{name}.*'"))) == 2


def test_link_down_stops_replication(sim, fa1, fa2, pg):
    sim.fabric.faults.link_down("array1", "array2")
    conn = items(fa1.get_array_connections())[0]
    assert conn.status == "connecting"
    fa1.post_protection_group_snapshots(
        source_names=[PG], replicate_now=True,
        protection_group_snapshot=flasharray.ProtectionGroupSnapshotPost(
            suffix="while-down"))
    sim.fabric.advance(3600)
    assert "does not exist" in err(fa2.get_protection_group_snapshots(
        names=[f"array1:{PG}.while-down"]))
    assert items(fa2.get_protection_group_snapshots_transfer(
        source_names=[f"array1:{PG}"])) == []
    src = items(fa1.get_protection_group_snapshots_transfer(
        names=[f"{PG}.while-down"]))[0]
    assert src.progress == 0.0 and not hasattr(src, "started")
    sim.fabric.faults.link_up("array1", "array2")
    tr = items(fa2.get_protection_group_snapshots_transfer(
        names=[f"array1:{PG}.while-down"]))[0]
    assert tr.progress == 1.0


def test_scheduled_replication_and_target_retention(sim, fa1, fa2, pg):
    fab = sim.fabric
    fa1.patch_protection_groups(
        names=[PG], protection_group=flasharray.ProtectionGroup(
            target_retention=flasharray.RetentionPolicy(
                all_for_sec=3600, per_day=2, days=1)))
    fa1.patch_protection_groups(
        names=[PG], protection_group=flasharray.ProtectionGroup(
            replication_schedule=flasharray.ReplicationSchedule(
                frequency=600_000)))
    fa1.patch_protection_groups(
        names=[PG], protection_group=flasharray.ProtectionGroup(
            replication_schedule=flasharray.ReplicationSchedule(
                enabled=True)))
    pgi = items(fa1.get_protection_groups(names=[PG]))[0]
    assert pgi.replication_schedule.enabled
    assert pgi.replication_schedule.frequency == 600_000
    assert pgi.target_retention.all_for_sec == 3600
    fab.write("array1", "vol-a", data_version=5)
    fab.advance(599)
    assert items(fa2.get_protection_group_snapshots(
        source_names=[f"array1:{PG}"])) == []
    fab.advance(1)
    snaps = names(fa2.get_protection_group_snapshots(
        source_names=[f"array1:{PG}"]))
    assert snaps == [f"array1:{PG}.1"]
    assert fab.data_version("array2", f"array1:{PG}.1.vol-a") == 5
    # After two days of 10-minute replication: 6 snapshots in the last hour,
    # plus per_day=2 for the one retained day; older ones are eradicated.
    fab.advance(2 * 86_400)
    snaps = items(fa2.get_protection_group_snapshots(
        source_names=[f"array1:{PG}"]))
    assert len(snaps) == 6 + 2
    newest = max(s.created for s in snaps)
    assert newest == fab.now()


def test_replica_endpoint_resends_an_existing_snapshot(sim, fa1, fa2, pg):
    fa1.post_protection_group_snapshots(
        source_names=[PG],
        protection_group_snapshot=flasharray.ProtectionGroupSnapshotPost(
            suffix="local"))
    assert "does not exist" in err(fa2.get_protection_group_snapshots(
        names=[f"array1:{PG}.local"]))
    items(fa1.post_protection_group_snapshots_replica(
        names=[f"{PG}.local"], on=["array2"]))
    assert names(fa2.get_protection_group_snapshots(
        names=[f"array1:{PG}.local"])) == [f"array1:{PG}.local"]


def test_not_allowed_target_gets_nothing(sim, fa1, fa2):
    fa1.post_volumes(names=["v"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    fa1.post_protection_groups(names=["pg2"])
    fa1.post_protection_groups_volumes(group_names=["pg2"], member_names=["v"])
    fa1.post_protection_groups_targets(group_names=["pg2"],
                                       member_names=["array2"])
    fa1.post_protection_group_snapshots(source_names=["pg2"],
                                        replicate_now=True)
    assert items(fa2.get_protection_group_snapshots(
        source_names=["array1:pg2"])) == []
    assert "can only be allowed on its target" in err(
        fa1.patch_protection_groups_targets(
            group_names=["pg2"],
            target=flasharray.TargetProtectionGroupPostPatch(allowed=True)))


def test_pg_snapshot_and_pg_destroy_eradicate(sim, fa1, fa2, pg):
    fa1.post_protection_group_snapshots(source_names=[PG], replicate_now=True)
    snap = f"{PG}.1"
    assert names(fa1.get_protection_group_snapshots(names=[snap])) == [snap]
    fa1.patch_protection_group_snapshots(
        names=[snap],
        protection_group_snapshot=flasharray.ProtectionGroupSnapshotPatch(
            destroyed=True))
    assert items(fa1.get_protection_group_snapshots(destroyed=False)) == []
    fa1.delete_protection_group_snapshots(names=[snap])
    assert items(fa1.get_volume_snapshots(filter=f"name='{snap}.*'")) == []
    # target copy is independent of the source copy
    assert names(fa2.get_protection_group_snapshots()) == [f"array1:{snap}"]
    fa1.patch_protection_groups(
        names=[PG], protection_group=flasharray.ProtectionGroup(
            destroyed=True))
    fa1.delete_protection_groups(names=[PG])
    assert names(fa1.get_protection_groups()) == []

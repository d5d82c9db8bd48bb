"""The call sequences Cinder's Pure driver sends, replayed with py-pure-client.

Sequences and parameters were recorded from cinder 29.0.0
(doc/flasharray-simulator.md):
do_setup for async and sync replication, create_volume, create_snapshot,
initialize/terminate_connection, stats, and async/sync failover. This keeps
every endpoint the driver needs covered even where the real driver cannot
run (test_cinder_driver.py runs the real one when a cinder venv exists).
"""
from pypureclient import flasharray

GiB = 1 << 30
PG = "cinder-group"
POD = "cinder-pod"
IQN = "iqn.1993-08.org.debian:01:cinder-host"


def ok(resp):
    assert resp.status_code == 200, getattr(resp, "errors", resp)
    return list(resp.items) if resp.items is not None else None


def setup_async(fa1, fa2):
    """do_setup: _setup_replicated_pgroups (cinder pure.py 3465-3534)."""
    for fa in (fa1, fa2):
        arr = ok(fa.get_arrays())[0]
        assert arr.version >= "6.1.0"
    ok(fa1.post_protection_groups(names=[PG]))
    ok(fa1.patch_protection_groups(
        names=[PG], protection_group=flasharray.ProtectionGroup(
            target_retention=flasharray.RetentionPolicy(
                all_for_sec=14400, per_day=3, days=7))))
    ok(fa1.patch_protection_groups(
        names=[PG], protection_group=flasharray.ProtectionGroup(
            replication_schedule=flasharray.ReplicationSchedule(
                frequency=3600 * 1000))))
    ok(fa1.post_protection_groups_targets(group_names=[PG],
                                          member_names=["array2"]))
    # exists on target
    ok(fa2.get_protection_groups(names=[f"array1:{PG}"]))
    fa2.patch_protection_groups_targets(
        group_names=[f"array1:{PG}"],
        target=flasharray.TargetProtectionGroupPostPatch(allowed=True))
    assert ok(fa1.get_protection_groups_targets(group_names=[PG]))[0].allowed
    ok(fa1.patch_protection_groups(
        names=[PG], protection_group=flasharray.ProtectionGroup(
            replication_schedule=flasharray.ReplicationSchedule(
                enabled=True))))


def create_volume(fa, name, pg=PG):
    vol = ok(fa.post_volumes(names=[name], with_default_protection=False,
                             volume=flasharray.VolumePost(provisioned=GiB)))[0]
    if pg:
        ok(fa.post_protection_groups_volumes(group_names=[pg],
                                             member_names=[name]))
        assert ok(fa.get_protection_groups_volumes(member_names=[name]))
    ok(fa.put_volumes_tags_batch(resource_names=[name], tag=[
        flasharray.TagBatch(
            namespace="openstack-integration.purestorage.com",
            key="VolType", value="replicated", copyable=False)]))
    return vol


def initialize_connection(fa, vol_name,
                          host="compute1-0123456789abcdef-cinder"):
    hosts = ok(fa.get_hosts(filter=f"iqns='{IQN}' and is_local"))
    if not hosts:
        ok(fa.post_hosts(names=[host], host=flasharray.HostPost(iqns=[IQN])))
    else:
        host = hosts[0].name
    conn = ok(fa.post_connections(host_names=[host],
                                  volume_names=[vol_name]))[0]
    assert conn.lun
    portals = []
    for ct in ok(fa.get_controllers(filter="status='ready'")):
        for port in ok(fa.get_ports(filter=f"name='{ct.name}.*'")):
            if getattr(port, "iqn", None):
                portals.append((port.portal, port.iqn, conn.lun))
    ok(fa.get_network_interfaces(
        filter="eth.subtype='lacp_bond' or eth.subtype='vif'"))
    serial = ok(fa.get_volumes(names=[vol_name]))[0].serial
    return host, portals, "3624a9370" + serial.lower()


def test_async_setup_create_attach_snapshot_stats(sim, fa1, fa2):
    setup_async(fa1, fa2)
    name = "volume-11111111-2222-3333-4444-555555555555-cinder"
    create_volume(fa1, name)
    host, portals, wwn = initialize_connection(fa1, name)
    assert len(portals) == 4 and all(p[0].endswith(":3260") for p in portals)
    assert len(wwn) == 33
    ok(fa1.post_volume_snapshots(source_names=[name],
                                 volume_snapshot=flasharray.VolumeSnapshotPost(
                                     suffix="snapshot-abc")))
    # terminate_connection
    ok(fa1.get_hosts(filter=f"iqns='{IQN}' and is_local"))
    assert fa1.delete_connections(host_names=[host],
                                  volume_names=[name]).status_code == 200
    assert ok(fa1.get_connections(host_names=[host])) == []
    assert fa1.delete_hosts(names=[host]).status_code == 200
    # _update_volume_stats
    for call in (fa1.get_arrays_space, fa1.get_hosts, fa1.get_volumes,
                 fa1.get_volume_snapshots, fa1.get_protection_groups,
                 fa1.get_array_connections):
        ok(call())
    ok(fa1.get_arrays_performance(resolution=30000, total_item_count=True))


def test_async_failover_after_scheduled_replication(sim, fa1, fa2):
    fab = sim.fabric
    setup_async(fa1, fa2)
    name = "volume-aaaaaaaa-0000-0000-0000-000000000001-cinder"
    create_volume(fa1, name)
    fab.write("array1", name, data_version=1)
    fab.advance(3600)                       # first scheduled replication
    fab.write("array1", name, data_version=2)
    fab.faults.array_down("array1")         # primary lost before the next one
    fab.advance(3600)
    # _async_failover_host on the secondary
    latest = ok(fa2.get_protection_group_snapshots_transfer(
        names=[f"array1:{PG}"], destroyed=False, filter='progress="1.0"',
        sort=["started-"]))[0]
    assert latest.name == f"array1:{PG}.1"
    ok(fa2.get_arrays())
    snaps = ok(fa2.get_volume_snapshots(filter=f"name='{latest.name}.*'"))
    for snap in snaps:
        vol_name = snap.name.split(".")[-1]
        ok(fa2.post_volumes(names=[vol_name], overwrite=True,
                            volume=flasharray.VolumePost(
                                source=flasharray.Reference(name=snap.name))))
    assert fab.data_version("array2", name) == 1     # RPO: the last replica


def test_sync_setup_and_failover(sim, fa1, fa2):
    ok(fa1.post_pods(names=[POD], pod=flasharray.PodPost()))
    assert ok(fa1.get_container_default_protections(names=[POD]))
    ok(fa1.post_pods_arrays(group_names=[POD], member_names=["array2"]))
    setup_async(fa1, fa2)
    array2_id = ok(fa2.get_arrays())[0].id
    pod = ok(fa1.get_pods(names=[POD]))[0]
    assert array2_id in [a.id for a in pod.arrays]
    name = f"{POD}::volume-bbbbbbbb-0000-0000-0000-000000000002-cinder"
    create_volume(fa1, name, pg=None)
    sim.fabric.write("array1", name, data_version=9)
    sim.fabric.faults.array_down("array1")
    # _sync_failover_host: volumes of the pod on the secondary
    vols = ok(fa2.get_volumes(filter=f"pod.name='{POD}'"))
    assert [v.name for v in vols] == [name]
    assert sim.fabric.data_version("array2", name) == 9
    pod = ok(fa2.get_pods(names=[POD]))[0]
    assert {a.name: a.status for a in pod.arrays}["array1"] == "offline"
    # after failover, deletes go to the secondary
    ok(fa2.get_connections(volume_names=[name]))
    ok(fa2.patch_volumes(names=[name],
                         volume=flasharray.VolumePatch(destroyed=True)))

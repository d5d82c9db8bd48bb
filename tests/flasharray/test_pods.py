"""ActiveCluster pods stretched across the two simulated arrays."""
from pypureclient import flasharray

GiB = 1 << 30


def items(resp):
    assert resp.status_code == 200, getattr(resp, "errors", resp)
    return list(resp.items)


def names(resp):
    return [i.name for i in items(resp)]


def err(resp):
    assert resp.status_code >= 400, resp
    return resp.errors[0].message


def test_stretched_pod_serves_the_same_volumes(sim, fa1, fa2):
    fab = sim.fabric
    items(fa1.post_pods(names=["pod1"], pod=flasharray.PodPost(
        failover_preferences=[flasharray.Reference(name="array1")])))
    assert "does not exist" in err(fa2.get_pods(names=["pod1"]))
    items(fa1.post_pods_members(pod_names=["pod1"], member_names=["array2"]))
    assert "already exists" in err(fa1.post_pods_members(
        pod_names=["pod1"], member_names=["array2"]))
    for fa in (fa1, fa2):
        pod = items(fa.get_pods(names=["pod1"]))[0]
        assert pod.array_count == 2 and pod.promotion_status == "promoted"
        assert sorted((a.name, a.status) for a in pod.arrays) == \
            [("array1", "online"), ("array2", "online")]
        ids = {a.id for a in pod.arrays}
        assert ids == {fab.arrays["array1"].id, fab.arrays["array2"].id}
    items(fa1.post_volumes(names=["pod1::vol-1"],
                           volume=flasharray.VolumePost(provisioned=GiB)))
    v1 = items(fa1.get_volumes(names=["pod1::vol-1"]))[0]
    v2 = items(fa2.get_volumes(filter="pod.name='pod1'"))[0]
    assert (v1.name, v1.serial, v1.id) == (v2.name, v2.serial, v2.id)
    assert v2.pod.name == "pod1"
    # synchronous replication: a write through array1 is on array2 at once
    fab.write("array1", "pod1::vol-1", data_version=7)
    assert fab.data_version("array2", "pod1::vol-1") == 7
    # move an existing volume into the pod
    fa2.post_volumes(names=["loose"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    moved = items(fa2.patch_volumes(
        names=["loose"], volume=flasharray.VolumePatch(
            pod=flasharray.Reference(name="pod1"))))[0]
    assert moved.name == "pod1::loose"
    assert "pod1::loose" in names(fa1.get_volumes(filter="pod.name='pod1'"))
    cdp = items(fa1.get_container_default_protections(names=["pod1"]))[0]
    assert cdp.name == "pod1" and cdp.default_protections == []


def test_array_down_leaves_pod_online_on_the_survivor(sim, fa1, fa2):
    fa1.post_pods(names=["pod1"], pod=flasharray.PodPost())
    fa1.post_pods_arrays(group_names=["pod1"], member_names=["array2"])
    fa1.post_volumes(names=["pod1::v"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    sim.fabric.faults.array_down("array1")
    pod = items(fa2.get_pods(names=["pod1"]))[0]
    assert {a.name: a.status for a in pod.arrays} == \
        {"array1": "offline", "array2": "online"}
    sim.fabric.write("array2", "pod1::v", data_version=3)
    # unstretch while the peer is gone needs with_unknown
    assert "with_unknown" in err(fa2.delete_pods_arrays(
        group_names=["pod1"], member_names=["array1"]))
    assert fa2.delete_pods_arrays(
        group_names=["pod1"], member_names=["array1"],
        with_unknown=True).status_code == 200
    sim.fabric.faults.array_up("array1")
    assert "does not exist" in err(fa1.get_pods(names=["pod1"]))
    assert items(fa2.get_pods(names=["pod1"]))[0].array_count == 1
    assert sim.fabric.data_version("array2", "pod1::v") == 3


def test_promote_demote_unstretched_pod(sim, fa1, fa2):
    fa1.post_pods(names=["pod1"], pod=flasharray.PodPost())
    fa1.post_volumes(names=["pod1::v"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    fa1.post_pods_members(pod_names=["pod1"], member_names=["array2"])
    assert "stretched" in err(fa1.patch_pods(
        names=["pod1"], pod=flasharray.PodPatch(
            requested_promotion_state="demoted")))
    fa1.delete_pods_members(pod_names=["pod1"], member_names=["array2"])
    pod = items(fa1.patch_pods(
        names=["pod1"], quiesce=True, pod=flasharray.PodPatch(
            requested_promotion_state="demoted")))[0]
    assert pod.promotion_status == "demoted"
    assert items(fa1.get_volumes(
        names=["pod1::v"]))[0].promotion_status == "demoted"
    try:
        sim.fabric.write("array1", "pod1::v")
        raise AssertionError("write to a demoted pod succeeded")
    except PermissionError:
        pass
    assert "demoted" in err(fa1.post_volumes(
        names=["pod1::w"], volume=flasharray.VolumePost(provisioned=GiB)))
    pod = items(fa1.patch_pods(names=["pod1"], pod=flasharray.PodPatch(
        requested_promotion_state="promoted")))[0]
    assert pod.promotion_status == "promoted"
    assert sim.fabric.write("array1", "pod1::v") == 1


def test_pod_needs_sync_connection_and_lifecycle(sim, fa1, fa2):
    sim.fabric.disconnect("array1", "array2")
    sim.fabric.connect("array1", "array2", "async-replication")
    fa1.post_pods(names=["pod1"], pod=flasharray.PodPost())
    assert "sync-replication" in err(fa1.post_pods_members(
        pod_names=["pod1"], member_names=["array2"]))
    fa1.post_volumes(names=["pod1::v"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    assert "contains volumes" in err(fa1.patch_pods(
        names=["pod1"], pod=flasharray.PodPatch(destroyed=True)))
    fa1.patch_pods(names=["pod1"], destroy_contents=True,
                   pod=flasharray.PodPatch(destroyed=True))
    assert items(fa1.get_pods(names=["pod1"]))[0].destroyed
    assert fa1.delete_pods(names=["pod1"]).status_code == 200
    assert names(fa1.get_pods()) == []


def test_pod_protection_group_replicates_as_pod_colon_pg(sim, fa1, fa2):
    fa1.post_pods(names=["pod1"], pod=flasharray.PodPost())
    fa1.post_volumes(names=["pod1::v"],
                     volume=flasharray.VolumePost(provisioned=GiB))
    fa1.post_protection_groups(names=["pod1::pg"])
    fa1.post_protection_groups_volumes(group_names=["pod1::pg"],
                                       member_names=["pod1::v"])
    fa1.post_protection_groups_targets(group_names=["pod1::pg"],
                                       member_names=["array2"])
    fa2.patch_protection_groups_targets(
        group_names=["pod1:pg"],
        target=flasharray.TargetProtectionGroupPostPatch(allowed=True))
    sim.fabric.write("array1", "pod1::v", data_version=4)
    fa1.post_protection_group_snapshots(source_names=["pod1::pg"],
                                        replicate_now=True)
    assert names(fa2.get_volume_snapshots(filter="name='pod1:pg.1.*'")) == \
        ["pod1:pg.1.v"]
    assert sim.fabric.data_version("array2", "pod1:pg.1.v") == 4

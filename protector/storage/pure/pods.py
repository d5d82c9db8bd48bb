"""Sync replication: an ActiveCluster pod stretched over both arrays.

The policy's ``pure_pg_name`` names the pod. Its volumes
(``<pod>::volume-<id>-cinder``, as Cinder's Pure driver creates sync
volumes) are one copy of the data served by both arrays; when one array
is lost the other keeps serving (the mediator decides; Purity promotes the
survivor on its own), so a failover copies from the surviving array's pod
volumes and loses no acknowledged write.

Volumes are moved into the pod before it is stretched: Purity does not
move volumes into a pod that is already stretched.
"""
from protector import exception
from protector.storage.pure import client as pure_client
from protector.storage.pure import names
from protector.storage.pure import pgroups

get = pure_client.get


def _models():
    from pypureclient import flasharray
    return flasharray


def pod_row(array, pod):
    rows = array.items_or_none("get_pods", names=[pod], destroyed=False)
    return rows[0] if rows else None


def member_status(row):
    """``{array name: status}`` (``online``, ``offline``, ``resyncing``...)."""
    return {get(a, "name"): get(a, "status", "unknown")
            for a in get(row, "arrays", [])}


def ensure_pod(src, dst, pod, volumes):
    fa = _models()
    src_name, dst_name = src.name, dst.name
    if pod_row(src, pod) is None:
        src.tolerant("post_pods", ok=("already exists",), names=[pod],
                     pod=fa.PodPost(failover_preferences=[
                         fa.Reference(name=src_name)]))
    mapping = pgroups.resolve_volumes(src, volumes, pod=pod)
    for vol_id, name in sorted(mapping.items()):
        if "::" not in name:
            src.check("patch_volumes", names=[name],
                      volume=fa.VolumePatch(pod=fa.Reference(name=pod)))
            mapping[vol_id] = names.in_pod(pod, name)
    status = member_status(pod_row(src, pod))
    if dst_name not in status:
        src.tolerant("post_pods_arrays", ok=("already exists",),
                     group_names=[pod], member_names=[dst_name])
        status = member_status(pod_row(src, pod))
    return {"pure_pg_name": pod, "replication_type": "sync",
            "source_array": src_name, "target_array": dst_name,
            "volumes": sorted(mapping.values()), "pod_arrays": status}


def serving_volumes(local, pod, volumes):
    """The pod's volumes as ``local`` serves them, for a failover from
    this array: it must be an online member of the pod; an unstretched,
    demoted pod (ActiveDR style) is promoted first."""
    fa = _models()
    local.login()       # so that messages name the array
    row = pod_row(local, pod)
    if row is None:
        raise exception.ReplicationNotReady(
            array=local.display, reason="pod %s does not exist on this "
            "array; nothing to fail over from" % pod)
    status = member_status(row)
    if status.get(local.name, "online") != "online":
        raise exception.ReplicationNotReady(
            array=local.display, reason="this array is %s in pod %s, not "
            "online" % (status.get(local.name), pod))
    if get(row, "promotion_status") == "demoted":
        local.check("patch_pods", names=[pod], pod=fa.PodPatch(
            requested_promotion_state="promoted"))
    mapping = pgroups.resolve_volumes(local, volumes, pod=pod)
    outside = [n for n in mapping.values() if "::" not in n]
    if outside:
        raise exception.ReplicationNotReady(
            array=local.display, reason="volumes %s are not in pod %s, so "
            "they are not replicated" % (", ".join(outside), pod))
    return mapping, status

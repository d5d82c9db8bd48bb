"""Async replication: a FlashArray protection group replicating to a peer.

The protection group (the policy's ``pure_pg_name``) lives on the source
array, holds the member volumes, targets the peer array (which must allow
it) and replicates every ``replication_interval`` seconds. Its snapshots
arrive on the peer as ``<src>:<pg>.<suffix>``; a snapshot counts only once
its transfer is complete (``progress`` 1.0 and ``completed`` set), as in
Cinder's failover (``_get_latest_replicated_pg_snap``).

Every function is safe to re-run: it looks before it creates and treats
Purity's "already ..." answers as success.
"""
import time

from protector import exception
from protector.storage.pure import client as pure_client
from protector.storage.pure import names

get = pure_client.get


def _models():
    from pypureclient import flasharray
    return flasharray


def retention_for(interval, rpo_minutes):
    """Target retention: every snapshot for at least a day (and at least
    two RPO windows and three intervals, so the newest complete snapshot
    is never pruned while the next is in flight), then 4 a day for 7 days
    (Cinder's defaults for the long term)."""
    keep_all = max(86400, 2 * 60 * (rpo_minutes or 0), 3 * (interval or 0))
    return {"all_for_sec": int(keep_all), "per_day": 4, "days": 7}


def resolve_volumes(array, volumes, pod=None):
    """Map member volumes to the names they have on ``array`` now.

    Returns ``{volume_id: array_name}``; raises ``ArrayError`` naming the
    volumes that are not there (nothing is changed then).
    """
    present = {v.name: get(v, "created", 0)
               for v in array.items("get_volumes", destroyed=False)}
    out, missing = {}, []
    for vol in volumes:
        found = names.pick(vol, present, pod=pod)
        if found is None:
            missing.append("%s (tried %s)" % (
                vol["volume_id"], ", ".join(names.volume_candidates(vol))))
        else:
            out[vol["volume_id"]] = found
    if missing:
        raise exception.ArrayError(
            array=array.display, call="find member volumes",
            reason="not found on the array: %s" % "; ".join(missing))
    return out


def ensure_pg(src, dst, pg, volumes, interval, rpo_minutes):
    """Create or complete the protection group on ``src`` replicating to
    ``dst``; returns what it set up."""
    fa = _models()
    src_name, dst_name = src.name, dst.name
    rows = src.items_or_none("get_protection_groups", names=[pg])
    if rows and get(rows[0], "destroyed", False):
        src.check("patch_protection_groups", names=[pg],
                  protection_group=fa.ProtectionGroup(destroyed=False))
    elif not rows:
        src.tolerant("post_protection_groups", ok=("already exists",),
                     names=[pg])
    retention = retention_for(interval, rpo_minutes)
    src.check("patch_protection_groups", names=[pg],
              protection_group=fa.ProtectionGroup(
                  target_retention=fa.RetentionPolicy(**retention)))
    src.check("patch_protection_groups", names=[pg],
              protection_group=fa.ProtectionGroup(
                  replication_schedule=fa.ReplicationSchedule(
                      frequency=int(interval) * 1000)))
    mapping = resolve_volumes(src, volumes)
    members = {get(get(m, "member"), "name") for m in src.items(
        "get_protection_groups_volumes", group_names=[pg])}
    add = [n for n in mapping.values() if n not in members]
    if add:
        src.tolerant("post_protection_groups_volumes",
                     ok=("already belongs", "already"), group_names=[pg],
                     member_names=add)
    targets = {get(get(t, "member"), "name"): bool(get(t, "allowed"))
               for t in src.items("get_protection_groups_targets",
                                  group_names=[pg])}
    if dst_name not in targets:
        src.tolerant("post_protection_groups_targets",
                     ok=("already includes",), group_names=[pg],
                     member_names=[dst_name])
    if not targets.get(dst_name):
        dst.tolerant("patch_protection_groups_targets",
                     ok=("already allowed",),
                     group_names=[names.remote_pg(src_name, pg)],
                     target=fa.TargetProtectionGroupPostPatch(allowed=True))
    src.check("patch_protection_groups", names=[pg],
              protection_group=fa.ProtectionGroup(
                  replication_schedule=fa.ReplicationSchedule(enabled=True)))
    return {"pure_pg_name": pg, "replication_type": "async",
            "source_array": src_name, "target_array": dst_name,
            "volumes": sorted(mapping.values()),
            "replication_interval": interval, "target_retention": retention}


def disable_schedule(array, pg):
    """Stop ``pg`` on ``array`` replicating (the old direction after a
    reverse); a missing group is fine."""
    fa = _models()
    if array.items_or_none("get_protection_groups", names=[pg]) is None:
        return False
    array.check("patch_protection_groups", names=[pg],
                protection_group=fa.ProtectionGroup(
                    replication_schedule=fa.ReplicationSchedule(
                        enabled=False)))
    return True


def replicate_now(src, dst, pg, suffix, timeout, poll, sleep=time.sleep):
    """Snapshot ``pg`` on ``src`` now, replicate it at once, and wait until
    ``dst`` holds it completely. The suffix comes from the operation, so a
    re-run finds the snapshot it took instead of taking another."""
    fa = _models()
    src_name = src.name
    snap = "%s.%s" % (pg, suffix)
    if not src.items_or_none("get_protection_group_snapshots",
                             names=[snap]):
        src.check("post_protection_group_snapshots", source_names=[pg],
                  replicate_now=True, apply_retention=True,
                  protection_group_snapshot=fa.ProtectionGroupSnapshotPost(
                      suffix=suffix))
    remote = "%s:%s" % (src_name, snap)
    return wait_transfer(dst, remote, timeout, poll, sleep)


def _done(item):
    return get(item, "progress", 0) >= 1.0 and \
        get(item, "completed") is not None


def wait_transfer(dst, remote, timeout, poll, sleep=time.sleep):
    deadline = time.monotonic() + timeout
    while True:
        rows = dst.items_or_none("get_protection_group_snapshots_transfer",
                                 names=[remote])
        item = rows[0] if rows else None
        if item is not None and _done(item):
            return item
        if time.monotonic() >= deadline:
            raise exception.ReplicationTimeout(
                array=dst.display, snapshot=remote, timeout=timeout,
                progress=get(item, "progress", 0) if item else
                "not started")
        sleep(poll)


def completed_snapshots(dst, src_name, pg):
    """Completed replicated snapshots of ``src``'s ``pg`` on ``dst``,
    newest first (by completion time)."""
    rows = dst.items_or_none("get_protection_group_snapshots_transfer",
                             names=[names.remote_pg(src_name, pg)],
                             destroyed=False)
    done = [r for r in rows or [] if _done(r)]
    return sorted(done, key=lambda r: get(r, "completed"), reverse=True)


def snapshot_volumes(dst, snap_name):
    """``{volume name on the source: volume snapshot name}`` of one
    replicated protection group snapshot."""
    rows = dst.items("get_volume_snapshots",
                     filter="name='%s.*'" % snap_name, destroyed=False)
    prefix = snap_name + "."
    return {r.name[len(prefix):]: r.name for r in rows
            if r.name.startswith(prefix)}


def match_volume(vol, snap_vols):
    """The volume snapshot of member volume ``vol``, or None."""
    found = names.pick(vol, {n: 0 for n in snap_vols})
    if found is None:
        # Pod volumes replicate under their pod-qualified name.
        by_local = {names.local_part(n): n for n in snap_vols}
        found = names.pick(vol, {n: 0 for n in by_local})
        found = by_local.get(found) if found else None
    return snap_vols[found] if found else None

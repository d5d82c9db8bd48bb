"""Protection-group snapshots, their transfers and replicas."""
from .. import replication
from ..query import bad
from . import route
from .common import (destroy_fields, filter_destroyed, ref, required_list,
                     select, set_destroyed)
from .pgroups import find_pg


def pgsnap_item(arr, snap, now):
    pg = arr.find("pgroups", snap.pg_name)
    out = {"id": snap.id, "name": snap.name, "created": snap.created,
           "suffix": snap.suffix,
           "source": ref(snap.pg_name, pg.id) if pg else ref(snap.pg_name),
           "space": {"snapshots": 0}}
    if "::" in snap.name:
        pod = arr.fabric.pods[snap.name.split("::")[0]]
        out["pod"] = ref(pod.name, pod.id)
    return destroy_fields(snap, now, out)


def _selected(req):
    """Snapshots by ``names``/``source_names``/``destroyed``.

    As on Purity, a protection-group name in ``names`` stands for all of
    that group's snapshots: Cinder's failover asks the transfer endpoint
    for ``names=<src>:<pg>``.
    """
    arr = req.array
    all_snaps = arr.all("pgsnaps")
    names = req.query.list("names")
    if names:
        snaps = []
        by_name = {s.name: s for s in all_snaps}
        for n in names:
            if n in by_name:
                snaps.append(by_name[n])
            elif arr.find("pgroups", n) is not None:
                snaps += [s for s in all_snaps if s.pg_name == n]
            else:
                raise bad(f"Protection group snapshot '{n}' does not exist.",
                          n)
    else:
        snaps = select(req, all_snaps, "Protection group snapshot")
    srcs = req.query.list("source_names")
    if srcs:
        for s in srcs:
            find_pg(req.array, s)
        snaps = [s for s in snaps if s.pg_name in srcs]
    return filter_destroyed(req, snaps)


@route("GET", "/protection-group-snapshots")
def get_pgsnaps(req):
    return [pgsnap_item(req.array, s, req.now) for s in _selected(req)]


@route("POST", "/protection-group-snapshots")
def post_pgsnaps(req):
    arr = req.array
    replicate = req.query.bool("replicate", False)
    replicate_now = req.query.bool("replicate_now", False)
    if replicate and replicate_now:
        raise bad("'replicate' and 'replicate_now' are mutually exclusive.")
    suffix = req.body.get("suffix")
    if suffix is not None and (not suffix or "." in suffix):
        raise bad(f"Invalid snapshot suffix '{suffix}'.")
    out = []
    for name in required_list(req, "source_names"):
        pg = find_pg(arr, name, local_only=True)
        if pg.destroyed:
            raise bad(f"Protection group '{name}' has been destroyed.", name)
        snap = replication.take_snapshot(
            req.fabric, arr, pg, suffix=suffix,
            replicate=replicate or replicate_now,
            managed=req.query.bool("apply_retention", False), now=req.now)
        out.append(pgsnap_item(arr, snap, req.now))
    return out


@route("PATCH", "/protection-group-snapshots")
def patch_pgsnaps(req):
    arr = req.array
    out = []
    for snap in select(req, arr.all("pgsnaps"), "Protection group snapshot",
                       allow_all=False):
        if "destroyed" in req.body:
            set_destroyed(snap, req.body["destroyed"], req.now)
            for vs_name in snap.members.values():
                vs = arr.find("vsnaps", vs_name)
                if vs is not None:
                    set_destroyed(vs, req.body["destroyed"], req.now)
        out.append(pgsnap_item(arr, snap, req.now))
    return out


@route("DELETE", "/protection-group-snapshots")
def delete_pgsnaps(req):
    arr = req.array
    for snap in select(req, arr.all("pgsnaps"), "Protection group snapshot",
                       allow_all=False):
        if not snap.destroyed:
            raise bad(f"Protection group snapshot '{snap.name}' must be "
                      "destroyed before it can be eradicated.", snap.name)
        replication.eradicate_pgsnap(req.fabric, arr, snap)
    return None


def _transfer_item(snap, now):
    out = {"id": snap.id, "name": snap.name}
    trs = [snap.transfer] if snap.transfer else list(snap.transfers)
    destroy_fields(snap, now, out)
    if not trs:
        return out
    progress = min(t.progress for t in trs)
    out["progress"] = progress
    out["data_transferred"] = sum(t.data_transferred for t in trs)
    out["physical_bytes_written"] = out["data_transferred"]
    starts = [t.started for t in trs if t.started is not None]
    if starts:
        out["started"] = min(starts)
    if all(t.completed is not None for t in trs):
        out["completed"] = max(t.completed for t in trs)
    return out


@route("GET", "/protection-group-snapshots/transfer")
def get_pgsnap_transfer(req):
    # A source snapshot whose transfers are all stalled before starting has
    # progress 0 and no 'started'; target copies exist only once started.
    return [_transfer_item(s, req.now) for s in _selected(req)]


@route("POST", "/protection-group-snapshots/replica")
def post_pgsnap_replica(req):
    arr = req.array
    on = req.query.list("on")
    out = []
    for snap in select(req, arr.all("pgsnaps"), "Protection group snapshot",
                       allow_all=False):
        pg = find_pg(arr, snap.pg_name, local_only=True)
        targets = on or list(pg.targets)
        for t in targets:
            if t not in pg.targets:
                raise bad(f"Protection group '{pg.name}' does not include "
                          f"target '{t}'.", t)
            if any(tr.dst == t for tr in snap.transfers):
                raise bad(f"Snapshot '{snap.name}' has already been "
                          f"replicated to '{t}'.", snap.name)
        replication.start_transfers(req.fabric, arr, pg, snap, req.now,
                                    only=targets)
        out.append(pgsnap_item(arr, snap, req.now))
    return out


@route("GET", "/remote-protection-group-snapshots")
def get_remote_pgsnaps(req):
    """Snapshots of this array's PGs as held by its targets (``on=``)."""
    arr, fab = req.array, req.fabric
    on = req.query.list("on")
    out = []
    for pg in arr.all("pgroups"):
        if not pg.is_local:
            continue
        for target in pg.targets:
            if on and target not in on:
                continue
            dst = fab.arrays[target]
            if not fab.reachable(arr.name, target):
                continue
            rname = replication.remote_pg_name(arr.name, pg.name)
            for s in dst.local.pgsnaps.values():
                if s.pg_name != rname or (
                        s.transfer and s.transfer.completed is None):
                    continue
                item = {"id": s.id, "name": s.name, "created": s.created,
                        "suffix": s.suffix, "is_local": False,
                        "source": ref(pg.name, pg.id),
                        "remote": ref(dst.name, dst.id)}
                out.append(destroy_fields(s, req.now, item))
    names = req.query.list("names")
    if names:
        out = [o for o in out if o["name"] in names]
    return filter_by_destroyed(req, out)


def filter_by_destroyed(req, items):
    d = req.query.bool("destroyed")
    return items if d is None else [i for i in items if i["destroyed"] == d]

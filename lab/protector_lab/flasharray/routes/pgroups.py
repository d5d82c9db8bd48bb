"""Protection groups, their volume members and their replication targets.

Adding a target creates the remote PG ``<src>:<pg>`` on the target array at
once (Purity does it within seconds; Cinder polls for it), with
``allowed=false`` until the *target* side patches ``allowed=true``.
"""
from .. import replication
from ..query import bad
from ..state import ProtectionGroup
from . import route
from .common import (check_name, destroy_fields, filter_destroyed, ref,
                     required_list, select, set_destroyed)


def pg_item(arr, pg, now):
    fab = arr.fabric
    out = {"id": pg.id, "name": pg.name, "is_local": pg.is_local,
           "source": ref(pg.source, fab.arrays[pg.source].id)
           if pg.source in fab.arrays else ref(pg.source),
           "host_count": len(pg.hosts), "host_group_count": 0,
           "volume_count": len(pg.volumes),
           "replication_schedule": dict(pg.replication_schedule),
           "snapshot_schedule": dict(pg.snapshot_schedule),
           "source_retention": dict(pg.source_retention),
           "target_retention": dict(pg.target_retention),
           "retention_lock": "unlocked",
           "space": {"snapshots": 0, "total_physical": 0}}
    if pg.is_local:
        out["target_count"] = len(pg.targets)
    else:
        src = source_pg_of(fab, pg)
        out["target_count"] = len(src.targets) if src else 0
        out["volume_count"] = len(src.volumes) if src else 0
    if "::" in pg.name:
        pod = fab.pods[pg.name.split("::")[0]]
        out["pod"] = ref(pod.name, pod.id)
    return destroy_fields(pg, now, out)


def source_pg_of(fabric, rpg):
    """The source-side PG of a remote PG ``src:pg`` (None if gone)."""
    if rpg.is_local:
        return rpg
    prefix, _, base = rpg.name.partition(":")
    src = fabric.arrays.get(rpg.source)
    if src is None:
        return None
    if prefix in fabric.pods:           # pod PG: "pod:pg" <- "pod::pg"
        return src.find("pgroups", f"{prefix}::{base}")
    return src.local.pgroups.get(base)


def find_pg(arr, name, local_only=False):
    pg = arr.find("pgroups", name)
    if pg is None:
        raise bad(f"Protection group '{name}' does not exist.", name)
    if local_only and not pg.is_local:
        raise bad(f"Protection group '{name}' is not local to this array.",
                  name)
    return pg


@route("GET", "/protection-groups")
def get_pgs(req):
    pgs = select(req, req.array.all("pgroups"), "Protection group")
    pgs = filter_destroyed(req, pgs)
    return [pg_item(req.array, p, req.now) for p in pgs]


@route("POST", "/protection-groups")
def post_pgs(req):
    arr = req.array
    out = []
    for name in required_list(req, "names"):
        check_name(name, "protection group")
        cont = arr.container_for(name)
        if name in cont.pgroups:
            raise bad(f"Protection group '{name}' already exists.", name)
        pg = ProtectionGroup(req.fabric, name, arr.name)
        cont.pgroups[name] = pg
        _apply_patch(req, pg, req.body or {})
        out.append(pg_item(arr, pg, req.now))
    return out


def _apply_patch(req, pg, body):
    for key in ("replication_schedule", "snapshot_schedule"):
        if key in body:
            sched = getattr(pg, key)
            for k, v in (body[key] or {}).items():
                if k == "frequency" and (not isinstance(v, int) or v <= 0):
                    raise bad(f"Invalid {key}.frequency {v!r}.", pg.name)
                sched[k] = v
    for key in ("source_retention", "target_retention"):
        if key in body:
            getattr(pg, key).update(body[key] or {})
    replication.note_schedule_change(req.fabric, pg, req.now)


@route("PATCH", "/protection-groups")
def patch_pgs(req):
    arr = req.array
    out = []
    for pg in select(req, arr.all("pgroups"), "Protection group",
                     allow_all=False):
        body = req.body
        if "destroyed" in body:
            set_destroyed(pg, body["destroyed"], req.now)
        if any(k in body for k in ("replication_schedule", "snapshot_schedule",
                                   "source_retention", "target_retention")):
            if not pg.is_local:
                raise bad(f"Protection group '{pg.name}' is a replica; "
                          "change it on its source array.", pg.name)
            _apply_patch(req, pg, body)
        if "name" in body and body["name"] != pg.name:
            _rename(req, pg, body["name"])
        out.append(pg_item(arr, pg, req.now))
    return out


def _rename(req, pg, new):
    check_name(new, "protection group")
    if pg.targets or not pg.is_local:
        raise bad(f"Cannot rename replicated protection group '{pg.name}'.")
    cont = req.array.container_for(pg.name)
    if new in cont.pgroups:
        raise bad(f"Protection group '{new}' already exists.", new)
    del cont.pgroups[pg.name]
    pg.name = new
    cont.pgroups[new] = pg


@route("DELETE", "/protection-groups")
def delete_pgs(req):
    arr = req.array
    for pg in select(req, arr.all("pgroups"), "Protection group",
                     allow_all=False):
        if not pg.destroyed:
            raise bad(f"Protection group '{pg.name}' must be destroyed before "
                      "it can be eradicated.", pg.name)
        cont = arr.container_for(pg.name)
        for s in [s for s in cont.pgsnaps.values() if s.pg_name == pg.name]:
            replication.eradicate_pgsnap(req.fabric, arr, s)
        del cont.pgroups[pg.name]
    return None


# -------------------------------------------------------------- members

def add_member(req, pg_name, vol_name):
    arr = req.array
    pg = find_pg(arr, pg_name, local_only=True)
    if arr.find("volumes", vol_name) is None:
        raise bad(f"Volume '{vol_name}' does not exist.", vol_name)
    if ("::" in pg_name) != ("::" in vol_name) or (
            "::" in pg_name
            and pg_name.split("::")[0] != vol_name.split("::")[0]):
        raise bad(f"Volume '{vol_name}' and protection group '{pg_name}' "
                  "are not in the same container.", vol_name)
    if vol_name in pg.volumes:
        raise bad(f"Volume '{vol_name}' already belongs to protection group "
                  f"'{pg_name}'.", vol_name)
    pg.volumes.append(vol_name)
    return pg


def remove_member(req, pg_name, vol_name):
    pg = find_pg(req.array, pg_name, local_only=True)
    if vol_name not in pg.volumes:
        raise bad(f"Volume '{vol_name}' does not belong to protection group "
                  f"'{pg_name}'.", vol_name)
    pg.volumes.remove(vol_name)


def _member_item(arr, pg, vol_name):
    vol = arr.find("volumes", vol_name)
    member = {"name": vol_name}
    if vol is not None:
        member.update(id=vol.id, destroyed=vol.destroyed)
    return {"group": ref(pg.name, pg.id), "member": member}


@route("POST", "/protection-groups/volumes")
def post_pg_volumes(req):
    out = []
    for g in required_list(req, "group_names"):
        for m in required_list(req, "member_names"):
            pg = add_member(req, g, m)
            out.append(_member_item(req.array, pg, m))
    return out


@route("GET", "/protection-groups/volumes")
def get_pg_volumes(req):
    arr = req.array
    groups = req.query.list("group_names")
    members = req.query.list("member_names")
    pgs = [find_pg(arr, g) for g in groups] if groups else arr.all("pgroups")
    for m in members or []:
        if arr.find("volumes", m) is None:
            raise bad(f"Volume '{m}' does not exist.", m)
    out = []
    for pg in pgs:
        src = source_pg_of(req.fabric, pg) if not pg.is_local else pg
        if not pg.is_local:
            continue  # a replica PG has no local members
        for v in src.volumes:
            if members is None or v in members:
                out.append(_member_item(arr, pg, v))
    return out


@route("DELETE", "/protection-groups/volumes")
def delete_pg_volumes(req):
    for g in required_list(req, "group_names"):
        for m in required_list(req, "member_names"):
            remove_member(req, g, m)
    return None


# -------------------------------------------------------------- targets

def _target_item(fab, pg, target, info):
    arr = fab.arrays.get(target)
    member = {"name": target, "resource_type": "arrays"}
    if arr is not None:
        member["id"] = arr.id
    return {"group": ref(pg.name, pg.id), "member": member,
            "allowed": bool(info.get("allowed")),
            "status": "replicating" if info.get("allowed") else "disallowed"}


@route("POST", "/protection-groups/targets")
def post_pg_targets(req):
    arr, fab = req.array, req.fabric
    out = []
    for g in required_list(req, "group_names"):
        pg = find_pg(arr, g, local_only=True)
        for target in required_list(req, "member_names"):
            if target not in fab.arrays or not fab.link(arr.name, target):
                raise bad(f"Array '{target}' is not connected to "
                          f"'{arr.name}'.", target)
            if target in pg.targets:
                raise bad(f"Protection group '{g}' already includes "
                          f"target '{target}'.", g)
            if not fab.reachable(arr.name, target):
                raise bad(f"Array '{target}' is not reachable.", target)
            pg.targets[target] = {"allowed": False}
            _ensure_remote_pg(fab, arr, pg, target)
            out.append(_target_item(fab, pg, target, pg.targets[target]))
    return out


def _ensure_remote_pg(fab, arr, pg, target):
    dst = fab.arrays[target]
    rname = replication.remote_pg_name(arr.name, pg.name)
    rpg = dst.local.pgroups.get(rname)
    if rpg is None or rpg.destroyed:
        rpg = ProtectionGroup(fab, rname, arr.name, is_local=False)
        rpg.target_retention = pg.target_retention  # shared: one policy
        dst.local.pgroups[rname] = rpg
    return rpg


@route("GET", "/protection-groups/targets")
def get_pg_targets(req):
    arr, fab = req.array, req.fabric
    groups = req.query.list("group_names")
    pgs = [find_pg(arr, g) for g in groups] if groups else arr.all("pgroups")
    members = req.query.list("member_names")
    out = []
    for pg in pgs:
        src = source_pg_of(fab, pg)
        if src is None:
            continue
        for target, info in src.targets.items():
            # On a target array, show only the entry that concerns it.
            if not pg.is_local and target != arr.name:
                continue
            if members is None or target in members:
                out.append(_target_item(fab, pg, target, info))
    return out


@route("PATCH", "/protection-groups/targets")
def patch_pg_targets(req):
    arr, fab = req.array, req.fabric
    allowed = req.body.get("allowed")
    out = []
    for g in required_list(req, "group_names"):
        pg = find_pg(arr, g)
        if pg.is_local:
            raise bad(f"Protection group '{g}' can only be allowed on its "
                      "target array.", g)
        src = source_pg_of(fab, pg)
        if src is None or arr.name not in src.targets:
            raise bad(f"Protection group '{g}' does not target '{arr.name}'.",
                      g)
        info = src.targets[arr.name]
        if allowed is not None:
            if allowed and info.get("allowed"):
                raise bad(f"Protection group '{g}' is already allowed on "
                          f"'{arr.name}'.", g)
            info["allowed"] = bool(allowed)
        out.append(_target_item(fab, pg, arr.name, info))
    return out


@route("DELETE", "/protection-groups/targets")
def delete_pg_targets(req):
    for g in required_list(req, "group_names"):
        pg = find_pg(req.array, g, local_only=True)
        for target in required_list(req, "member_names"):
            if target not in pg.targets:
                raise bad(f"Protection group '{g}' does not include target "
                          f"'{target}'.", g)
            del pg.targets[target]
    return None

"""Volumes, volume tags and volume snapshots."""
from ..query import bad
from ..state import Pod, Volume, VolumeSnapshot
from . import route
from .common import (check_name, destroy_fields, filter_destroyed, ref,
                     required_list, select, set_destroyed)


def volume_item(arr, vol, now):
    out = {"id": vol.id, "name": vol.name, "serial": vol.serial,
           "provisioned": vol.provisioned, "created": vol.created,
           "connection_count": arr.connection_count(vol.name),
           "subtype": "regular", "priority": 0,
           "qos": dict(vol.qos),
           "space": {"total_provisioned": vol.provisioned,
                     "unique": min(vol.written, vol.provisioned),
                     "virtual": min(vol.written, vol.provisioned),
                     "data_reduction": 3.0, "total_reduction": 5.0,
                     "thin_provisioning": 0.9, "snapshots": 0}}
    destroy_fields(vol, now, out)
    if "::" in vol.name:
        pod = arr.fabric.pods[vol.name.split("::")[0]]
        out["pod"] = ref(pod.name, pod.id)
        out["promotion_status"] = pod.promotion_status
        out["requested_promotion_state"] = pod.requested_promotion_state
    else:
        out["promotion_status"] = "promoted"
        out["requested_promotion_state"] = "promoted"
    if vol.source:
        out["source"] = ref(*vol.source)
    return out


def find_volume(arr, name, must_live=False):
    vol = arr.find("volumes", name)
    if vol is None:
        raise bad(f"Volume '{name}' does not exist.", name)
    if must_live and vol.destroyed:
        raise bad(f"Volume '{name}' has been destroyed.", name)
    return vol


@route("GET", "/volumes")
def get_volumes(req):
    vols = select(req, req.array.all("volumes"), "Volume")
    vols = filter_destroyed(req, vols)
    return [volume_item(req.array, v, req.now) for v in vols]


def _source_of(arr, name):
    """A copy source: a volume or a volume snapshot on this array."""
    obj = arr.find("volumes", name) or arr.find("vsnaps", name)
    if obj is None:
        raise bad(f"No such volume or snapshot '{name}'.", name)
    if obj.destroyed:
        raise bad(f"Source '{name}' has been destroyed.", name)
    return obj


def _writable_container(arr, name):
    cont = arr.container_for(name)
    if isinstance(cont, Pod) and cont.promotion_status != "promoted":
        raise bad(f"Pod '{cont.name}' is demoted; its volumes are read-only.",
                  name)
    return cont


@route("POST", "/volumes")
def post_volumes(req):
    arr, fab = req.array, req.fabric
    names = required_list(req, "names")
    overwrite = req.query.bool("overwrite", False)
    body = req.body
    src_name = (body.get("source") or {}).get("name")
    out = []
    for name in names:
        check_name(name, "volume")
        cont = _writable_container(arr, name)
        existing = cont.volumes.get(name)
        if src_name:
            src = _source_of(arr, src_name)
            if existing is not None:
                if not overwrite:
                    raise bad(f"Volume '{name}' already exists.", name)
                if existing.destroyed:
                    raise bad(f"Volume '{name}' has been destroyed.", name)
                vol = existing
            else:
                vol = Volume(fab, name, src.provisioned, req.now)
                cont.volumes[name] = vol
            # A copy takes the source's contents (and size) at this moment.
            vol.provisioned = src.provisioned
            vol.data_version = src.data_version
            vol.written = getattr(src, "written", 0)
            vol.source = (src.name, src.id)
        else:
            if existing is not None:
                raise bad(f"Volume '{name}' already exists.", name)
            size = body.get("provisioned")
            if not isinstance(size, int) or size <= 0:
                raise bad("Volume size ('provisioned') is required.", name)
            if size % 512:
                raise bad("Volume size must be a multiple of 512.", name)
            vol = Volume(fab, name, size, req.now)
            cont.volumes[name] = vol
        if body.get("qos"):
            vol.qos = dict(body["qos"])
        for pg_name in req.query.list("add_to_protection_group_names") or []:
            from .pgroups import add_member
            add_member(req, pg_name, name)
        out.append(volume_item(arr, vol, req.now))
    return out


@route("PATCH", "/volumes")
def patch_volumes(req):
    arr = req.array
    vols = select(req, arr.all("volumes"), "Volume", allow_all=False)
    body = req.body
    out = []
    for vol in vols:
        if "destroyed" in body:
            if body["destroyed"] and arr.connection_count(vol.name):
                raise bad(f"Volume '{vol.name}' cannot be deleted due to "
                          "existing connections.", vol.name)
            set_destroyed(vol, body["destroyed"], req.now)
        if "provisioned" in body:
            size = int(body["provisioned"])
            if (size < vol.provisioned
                    and not req.query.bool("truncate", False)):
                raise bad("Cannot shrink a volume without 'truncate=true'.",
                          vol.name)
            vol.provisioned = size
        if "qos" in body:
            vol.qos = dict(body["qos"] or {})
        if "pod" in body or "name" in body:
            _move_or_rename(req, vol, body)
        for pg_name in req.query.list("add_to_protection_group_names") or []:
            from .pgroups import add_member
            add_member(req, pg_name, vol.name)
        for pg_name in (req.query.list("remove_from_protection_group_names")
                        or []):
            from .pgroups import remove_member
            remove_member(req, pg_name, vol.name)
        out.append(volume_item(arr, vol, req.now))
    return out


def _move_or_rename(req, vol, body):
    arr = req.array
    base = vol.name.split("::", 1)[-1]
    if "name" in body:
        base = body["name"].split("::", 1)[-1]
    pod_name = vol.name.split("::")[0] if "::" in vol.name else None
    if "pod" in body:
        pod_name = (body["pod"] or {}).get("name") or None
    new = f"{pod_name}::{base}" if pod_name else base
    if new == vol.name:
        return
    check_name(new, "volume")
    if arr.connection_count(vol.name):
        raise bad(f"Volume '{vol.name}' has host connections.", vol.name)
    dst = arr.container_for(new)
    if new in dst.volumes:
        raise bad(f"Volume '{new}' already exists.", new)
    old_cont = arr.container_for(vol.name)
    del old_cont.volumes[vol.name]
    for pg in arr.all("pgroups"):
        if vol.name in pg.volumes:
            pg.volumes[pg.volumes.index(vol.name)] = new
    vol.name = new
    dst.volumes[new] = vol


@route("DELETE", "/volumes")
def delete_volumes(req):
    arr = req.array
    for vol in select(req, arr.all("volumes"), "Volume", allow_all=False):
        if not vol.destroyed:
            raise bad(f"Volume '{vol.name}' must be destroyed before it can "
                      "be eradicated.", vol.name)
        del arr.container_for(vol.name).volumes[vol.name]
        for pg in arr.all("pgroups"):
            if vol.name in pg.volumes:
                pg.volumes.remove(vol.name)
    return None


# ------------------------------------------------------------------ tags

def _tag_targets(req):
    names = required_list(req, "resource_names")
    return [find_volume(req.array, n) for n in names]


@route("PUT", "/volumes/tags/batch")
def put_volume_tags(req):
    tags = req.body if isinstance(req.body, list) else []
    out = []
    for vol in _tag_targets(req):
        for t in tags:
            tag = {"namespace": t.get("namespace", "default"),
                   "key": t["key"], "value": t.get("value", ""),
                   "copyable": bool(t.get("copyable", True))}
            vol.tags[(tag["namespace"], tag["key"])] = tag
            out.append(dict(tag, resource=ref(vol.name, vol.id)))
    return out


@route("GET", "/volumes/tags")
def get_volume_tags(req):
    names = req.query.list("resource_names")
    vols = ([find_volume(req.array, n) for n in names] if names
            else req.array.all("volumes"))
    spaces = req.query.list("namespaces")
    return [dict(t, resource=ref(v.name, v.id)) for v in vols
            for t in v.tags.values()
            if spaces is None or t["namespace"] in spaces]


@route("DELETE", "/volumes/tags")
def delete_volume_tags(req):
    spaces = req.query.list("namespaces")
    keys = req.query.list("keys")
    for vol in _tag_targets(req):
        for k in list(vol.tags):
            if ((spaces is None or k[0] in spaces)
                    and (keys is None or k[1] in keys)):
                del vol.tags[k]
    return None


# ------------------------------------------------------ volume snapshots

def vsnap_item(arr, vs, now):
    out = {"id": vs.id, "name": vs.name, "serial": vs.serial,
           "created": vs.created, "provisioned": vs.provisioned,
           "source": ref(vs.source_name, vs.source_id) if vs.source_id
           else ref(vs.source_name),
           "space": {"total_provisioned": vs.provisioned, "snapshots": 0}}
    if vs.suffix is not None:
        out["suffix"] = vs.suffix
    if "::" in vs.name:
        pod = arr.fabric.pods[vs.name.split("::")[0]]
        out["pod"] = ref(pod.name, pod.id)
    return destroy_fields(vs, now, out)


@route("GET", "/volume-snapshots")
def get_volume_snapshots(req):
    snaps = select(req, req.array.all("vsnaps"), "Volume snapshot")
    srcs = req.query.list("source_names")
    if srcs:
        snaps = [s for s in snaps if s.source_name in srcs]
    snaps = filter_destroyed(req, snaps)
    return [vsnap_item(req.array, s, req.now) for s in snaps]


@route("POST", "/volume-snapshots")
def post_volume_snapshots(req):
    arr = req.array
    suffix = req.body.get("suffix")
    out = []
    for name in required_list(req, "source_names"):
        vol = find_volume(arr, name, must_live=True)
        cont = arr.container_for(name)
        sfx = suffix
        if sfx is None:
            n = 1
            while f"{name}.{n}" in cont.vsnaps:
                n += 1
            sfx = str(n)
        elif not sfx or "." in sfx:
            raise bad(f"Invalid snapshot suffix '{sfx}'.")
        snap_name = f"{name}.{sfx}"
        if snap_name in cont.vsnaps:
            raise bad(f"Snapshot '{snap_name}' already exists.", snap_name)
        vs = VolumeSnapshot(req.fabric, snap_name, vol.name, vol.id, req.now,
                            vol.provisioned, vol.data_version, sfx)
        cont.vsnaps[snap_name] = vs
        out.append(vsnap_item(arr, vs, req.now))
    return out


@route("PATCH", "/volume-snapshots")
def patch_volume_snapshots(req):
    out = []
    for vs in select(req, req.array.all("vsnaps"), "Volume snapshot",
                     allow_all=False):
        if "destroyed" in req.body:
            set_destroyed(vs, req.body["destroyed"], req.now)
        out.append(vsnap_item(req.array, vs, req.now))
    return out


@route("DELETE", "/volume-snapshots")
def delete_volume_snapshots(req):
    for vs in select(req, req.array.all("vsnaps"), "Volume snapshot",
                     allow_all=False):
        if not vs.destroyed:
            raise bad(f"Snapshot '{vs.name}' must be destroyed before it can "
                      "be eradicated.", vs.name)
        req.array.container_for(vs.name).vsnaps.pop(vs.name, None)
    return None

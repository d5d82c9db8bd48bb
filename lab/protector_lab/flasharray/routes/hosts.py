"""Hosts and host-volume connections.

LUNs start at 1 per host: Cinder skips a target whose ``lun`` is falsy.
"""
from ..query import bad
from ..state import Host
from . import route
from .common import check_name, ref, required_list, select
from .volumes import find_volume


def host_item(arr, host):
    out = {"name": host.name, "iqns": list(host.iqns),
            "wwns": list(host.wwns), "nqns": list(host.nqns),
            "is_local": True, "destroyed": False,
            "connection_count": sum(1 for (h, _v) in arr.connections
                                    if h == host.name),
            "host_group": {}, "chap": dict(host.chap),
            "port_connectivity": {"status": "healthy", "details": ""},
            "space": {"total_physical": 0}, "preferred_arrays": []}
    if host.personality:
        out["personality"] = host.personality
    return out


@route("GET", "/hosts")
def get_hosts(req):
    return [host_item(req.array, h) for h in
            select(req, req.array.hosts.values(), "Host", ids_param=None)]


def _check_ports(arr, host_name, iqns, wwns, nqns):
    for other in arr.hosts.values():
        if other.name == host_name:
            continue
        for kind, mine, theirs in (("IQN", iqns, other.iqns),
                                   ("WWN", wwns, other.wwns),
                                   ("NQN", nqns, other.nqns)):
            dup = set(mine or []) & set(theirs)
            if dup:
                raise bad(f"{kind} '{sorted(dup)[0]}' is already in use by "
                          f"host '{other.name}'.", host_name)


@route("POST", "/hosts")
def post_hosts(req):
    arr = req.array
    body = req.body
    out = []
    for name in required_list(req, "names"):
        check_name(name, "host")
        if name in arr.hosts:
            raise bad(f"Host '{name}' already exists.", name)
        _check_ports(arr, name, body.get("iqns"), body.get("wwns"),
                     body.get("nqns"))
        host = Host(name, body.get("iqns") or (), body.get("wwns") or (),
                    body.get("nqns") or (), body.get("personality"))
        if body.get("chap"):
            host.chap = dict(body["chap"])
        arr.hosts[name] = host
        out.append(host_item(arr, host))
    return out


@route("PATCH", "/hosts")
def patch_hosts(req):
    arr = req.array
    body = req.body
    out = []
    for host in select(req, arr.hosts.values(), "Host", ids_param=None,
                       allow_all=False):
        for kind in ("iqns", "wwns", "nqns"):
            cur = getattr(host, kind)
            new = list(cur)
            if kind in body:
                new = list(body[kind] or [])
            new += [x for x in body.get("add_" + kind) or [] if x not in new]
            new = [x for x in new
                   if x not in (body.get("remove_" + kind) or [])]
            _check_ports(arr, host.name, *(new if k == kind else None
                                           for k in ("iqns", "wwns", "nqns")))
            setattr(host, kind, new)
        if "personality" in body:
            host.personality = body["personality"]
        if "chap" in body:
            host.chap = dict(body["chap"] or {})
        if "name" in body and body["name"] != host.name:
            _rename(arr, host, body["name"])
        out.append(host_item(arr, host))
    return out


def _rename(arr, host, new):
    check_name(new, "host")
    if new in arr.hosts:
        raise bad(f"Host '{new}' already exists.", new)
    del arr.hosts[host.name]
    for (h, v) in list(arr.connections):
        if h == host.name:
            arr.connections[(new, v)] = arr.connections.pop((h, v))
    host.name = new
    arr.hosts[new] = host


@route("DELETE", "/hosts")
def delete_hosts(req):
    arr = req.array
    for host in select(req, arr.hosts.values(), "Host", ids_param=None,
                       allow_all=False):
        if any(h == host.name for (h, _v) in arr.connections):
            raise bad(f"Host '{host.name}' cannot be deleted due to existing "
                      "connections.", host.name)
        del arr.hosts[host.name]
    return None


# ----------------------------------------------------------- connections

def conn_item(arr, host, vol_name, lun):
    vol = arr.find("volumes", vol_name)
    return {"host": {"name": host}, "lun": lun,
            "volume": ref(vol_name, vol.id) if vol else ref(vol_name)}


def _host(arr, name):
    if name not in arr.hosts:
        raise bad(f"Host does not exist: '{name}'.", name)
    return arr.hosts[name]


@route("POST", "/connections")
def post_connections(req):
    arr = req.array
    out = []
    for h in required_list(req, "host_names"):
        _host(arr, h)
        for v in required_list(req, "volume_names"):
            find_volume(arr, v, must_live=True)
            if (h, v) in arr.connections:
                raise bad(f"Connection already exists between host '{h}' "
                          f"and volume '{v}'.", v)
            used = {lun for (hh, _), lun in arr.connections.items() if hh == h}
            lun = next(n for n in range(1, 16384) if n not in used)
            arr.connections[(h, v)] = lun
            out.append(conn_item(arr, h, v, lun))
    return out


@route("GET", "/connections")
def get_connections(req):
    arr = req.array
    hosts = req.query.list("host_names")
    vols = req.query.list("volume_names")
    for h in hosts or []:
        _host(arr, h)
    for v in vols or []:
        find_volume(arr, v)
    return [conn_item(arr, h, v, lun)
            for (h, v), lun in sorted(arr.connections.items())
            if (hosts is None or h in hosts) and (vols is None or v in vols)]


@route("DELETE", "/connections")
def delete_connections(req):
    arr = req.array
    for h in required_list(req, "host_names"):
        _host(arr, h)
        for v in required_list(req, "volume_names"):
            find_volume(arr, v)
            if (h, v) not in arr.connections:
                raise bad(f"Connection between host '{h}' and volume '{v}' "
                          "does not exist.", v)
            del arr.connections[(h, v)]
    return None

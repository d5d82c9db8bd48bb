"""Arrays, array connections, controllers, ports, network interfaces."""
from ..query import bad
from . import route
from .common import select


def _array_item(arr, now):
    return {
        "id": arr.id, "name": arr.name, "version": arr.version,
        "os": "Purity//FA", "capacity": arr.capacity, "time_zone": "UTC",
        "space": _space(arr), "_as_of": now,
    }


def _space(arr):
    provisioned = sum(v.provisioned for v in arr.all("volumes"))
    written = sum(min(v.written, v.provisioned) for v in arr.all("volumes"))
    return {"total_physical": written, "total_provisioned": provisioned,
            "total_reduction": 5.0, "data_reduction": 3.0,
            "thin_provisioning": 0.9, "unique": written, "snapshots": 0,
            "shared": 0, "system": 0, "virtual": written,
            "total_used": written, "used_provisioned": provisioned}


@route("GET", "/arrays")
def get_arrays(req):
    return [_array_item(req.array, req.now)]


@route("GET", "/arrays/space")
def get_arrays_space(req):
    arr = req.array
    return [{"id": arr.id, "name": arr.name, "capacity": arr.capacity,
             "capacity_installed": arr.capacity, "parity": 1.0,
             "space": _space(arr), "time": req.now}]


@route("GET", "/arrays/performance")
def get_arrays_performance(req):
    # Cinder zero-fills missing stats; an empty list is a valid answer.
    return []


def _link_item(fabric, arr, link):
    other = link.arrays[1] if link.arrays[0] == arr.name else link.arrays[0]
    remote = fabric.arrays[other]
    if not fabric.reachable(arr.name, other):
        status = "connecting"
    else:
        status = "connected"
    return {"id": link.id, "name": other, "status": status, "type": link.type,
            "management_address": remote.management_address or other,
            "replication_addresses": ["127.0.0.1"],
            "replication_transport": link.transport,
            "remote": {"id": remote.id, "name": other,
                       "resource_type": "arrays"},
            "version": remote.version, "os": "Purity//FA",
            "encryption": "disabled", "encryption_mode": "",
            "throttle": {}}


def _links(req):
    return [link for link in req.fabric.links.values()
            if req.array.name in link.arrays]


@route("GET", "/array-connections")
def get_array_connections(req):
    items = [_link_item(req.fabric, req.array, link) for link in _links(req)]
    names = req.query.list("names") or req.query.list("remote_names")
    if names:
        have = {i["name"] for i in items}
        for n in names:
            if n not in have:
                raise bad(f"Array connection '{n}' does not exist.", n)
        items = [i for i in items if i["name"] in names]
    return items


@route("GET", "/array-connections/connection-key")
def get_connection_key(req):
    return [{"connection_key": req.array.connection_key}]


def _resolve_remote(fabric, address):
    for arr in fabric.arrays.values():
        if address in (arr.management_address, arr.name):
            return arr
    return None


@route("POST", "/array-connections")
def post_array_connections(req):
    body = req.body
    remote = _resolve_remote(req.fabric, body.get("management_address", ""))
    if remote is None or remote is req.array:
        raise bad("Could not connect to the remote array at "
                  f"'{body.get('management_address')}'.")
    if body.get("connection_key") != remote.connection_key:
        raise bad("Invalid connection key.")
    if req.fabric.link(req.array.name, remote.name):
        raise bad(f"Array connection to '{remote.name}' already exists.",
                  remote.name)
    type_ = body.get("type", "async-replication")
    if type_ not in ("async-replication", "sync-replication"):
        raise bad(f"Invalid connection type '{type_}'.")
    link = req.fabric.connect(req.array.name, remote.name, type_,
                              body.get("replication_transport", "ip"))
    return [_link_item(req.fabric, req.array, link)]


@route("DELETE", "/array-connections")
def delete_array_connections(req):
    names = req.query.list("names") or []
    for n in names:
        if not req.fabric.link(req.array.name, n):
            raise bad(f"Array connection '{n}' does not exist.", n)
        req.fabric.disconnect(req.array.name, n)
    return None


class _Named:
    def __init__(self, d):
        self.d, self.name = d, d["name"]


@route("GET", "/controllers")
def get_controllers(req):
    items = [{"name": f"CT{i}", "status": "ready",
              "mode": "primary" if i == 0 else "secondary",
              "model": "FA-X70R4", "type": "array_controller",
              "version": req.array.version} for i in (0, 1)]
    return [o.d for o in select(req, [_Named(i) for i in items], "Controller")]


def ports_of(arr):
    out = []
    for ct in (0, 1):
        for eth in (4, 5):
            out.append({"name": f"CT{ct}.ETH{eth}", "iqn": arr.iqn,
                        "portal": f"127.0.0.{10 + ct * 2 + eth - 4}:3260"})
        for fc in (0, 1):
            out.append({"name": f"CT{ct}.FC{fc}",
                        "wwn": f"52:4A:93:7{ct}:{arr.wwn_base[:2]}:"
                               f"{arr.wwn_base[2:4]}:{arr.wwn_base[4:6]}:0{fc}"})
    return out


@route("GET", "/ports")
def get_ports(req):
    return [o.d for o in select(req, [_Named(p) for p in ports_of(req.array)],
                                "Port")]


@route("GET", "/network-interfaces")
def get_network_interfaces(req):
    items = []
    for p in ports_of(req.array):
        if "portal" not in p:
            continue
        items.append({"name": p["name"].lower(),
                      "enabled": True, "interface_type": "eth",
                      "services": ["iscsi"], "speed": 25_000_000_000,
                      "eth": {"address": p["portal"].split(":")[0],
                              "subtype": "physical", "mtu": 1500,
                              "netmask": "255.255.255.0"}})
    return [o.d for o in select(req, [_Named(i) for i in items],
                                "Network interface")]



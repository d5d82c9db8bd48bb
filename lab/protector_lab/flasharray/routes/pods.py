"""Pods (ActiveCluster), pod membership and container default protections.

A pod is one shared container: once stretched to a second array over a
``sync-replication`` connection, both arrays serve the same volumes (same
ids, serials and contents). A member array that is down shows ``offline``
in ``arrays[]``; the surviving member keeps serving the pod, as with a
mediator.

Promotion (``requested_promotion_state``) is modelled for unstretched pods
only (the ActiveDR use): a demoted pod's volumes are read-only.
"""
from ..query import bad
from ..state import Pod
from . import route
from .common import (check_name, destroy_fields, filter_destroyed, ref,
                     required_list, select, set_destroyed)


def pod_item(fab, pod, now):
    arrays = []
    for m in pod.members:
        a = fab.arrays[m]
        arrays.append({"id": a.id, "name": a.name,
                       "status": "online" if a.down is None else "offline",
                       "mediator_status": "online",
                       "member": {"id": a.id, "name": a.name,
                                  "resource_type": "arrays"},
                       "pre_elected": False, "progress": 1.0})
    out = {"id": pod.id, "name": pod.name, "array_count": len(pod.members),
           "arrays": arrays,
           "members": [{"id": fab.arrays[m].id, "name": m,
                        "resource_type": "arrays"} for m in pod.members],
           "failover_preferences": [ref(n, fab.arrays[n].id)
                                    for n in pod.failover_preferences
                                    if n in fab.arrays],
           "mediator": "purestorage", "mediator_version": "1.0",
           "promotion_status": pod.promotion_status,
           "requested_promotion_state": pod.requested_promotion_state,
           "link_source_count": 0, "link_target_count": 0,
           "footprint": 0, "space": {"total_physical": 0}}
    return destroy_fields(pod, now, out)


def _my_pods(req):
    return req.array.pods()


def find_pod(req, name):
    pod = req.fabric.pods.get(name)
    if pod is None or req.array.name not in pod.members:
        raise bad(f"Pod '{name}' does not exist.", name)
    return pod


@route("GET", "/pods")
def get_pods(req):
    pods = filter_destroyed(req, select(req, _my_pods(req), "Pod"))
    return [pod_item(req.fabric, p, req.now) for p in pods]


@route("POST", "/pods")
def post_pods(req):
    fab = req.fabric
    prefs = [p.get("name") for p in req.body.get("failover_preferences") or []]
    out = []
    for name in required_list(req, "names"):
        check_name(name, "pod")
        if "::" in name or name in fab.pods or name in fab.arrays:
            raise bad(f"Pod '{name}' already exists.", name)
        for p in prefs:
            if p not in fab.arrays:
                raise bad(f"Array '{p}' does not exist.", p)
        pod = Pod(fab, name, req.array.name, prefs)
        fab.pods[name] = pod
        out.append(pod_item(fab, pod, req.now))
    return out


@route("PATCH", "/pods")
def patch_pods(req):
    fab = req.fabric
    out = []
    for pod in select(req, _my_pods(req), "Pod", allow_all=False):
        body = req.body
        if "destroyed" in body:
            if body["destroyed"] and len(pod.members) > 1:
                raise bad(f"Pod '{pod.name}' is stretched; unstretch it "
                          "before destroying it.", pod.name)
            live = [v for v in pod.volumes.values() if not v.destroyed]
            if body["destroyed"] and live and not req.query.bool(
                    "destroy_contents", False):
                raise bad(f"Pod '{pod.name}' contains volumes.", pod.name)
            for v in live if body["destroyed"] else []:
                set_destroyed(v, True, req.now)
            set_destroyed(pod, body["destroyed"], req.now)
        if "failover_preferences" in body:
            pod.failover_preferences = [p["name"] for p in
                                        body["failover_preferences"] or []]
        state = body.get("requested_promotion_state")
        if state is not None:
            if state not in ("promoted", "demoted"):
                raise bad(f"Invalid promotion state '{state}'.")
            if len(pod.members) > 1:
                raise bad(f"Pod '{pod.name}' is stretched; promotion state "
                          "applies to unstretched (ActiveDR) pods.", pod.name)
            pod.requested_promotion_state = state
            pod.promotion_status = state
        out.append(pod_item(fab, pod, req.now))
    return out


@route("DELETE", "/pods")
def delete_pods(req):
    for pod in select(req, _my_pods(req), "Pod", allow_all=False):
        if not pod.destroyed:
            raise bad(f"Pod '{pod.name}' must be destroyed before it can be "
                      "eradicated.", pod.name)
        if any(not v.destroyed for v in pod.volumes.values()):
            raise bad(f"Pod '{pod.name}' contains volumes.", pod.name)
        del req.fabric.pods[pod.name]
    return None


# ------------------------------------------------------------ membership

def _stretch(req, pod, target):
    fab, arr = req.fabric, req.array
    if target not in fab.arrays:
        raise bad(f"Array '{target}' does not exist.", target)
    if target in pod.members:
        raise bad(f"Pod '{pod.name}' already exists on array '{target}'.",
                  pod.name)
    link = fab.link(arr.name, target)
    if link is None or link.type != "sync-replication":
        raise bad(f"Array '{target}' has no sync-replication connection to "
                  f"'{arr.name}'.", target)
    if not fab.reachable(arr.name, target):
        raise bad(f"Array '{target}' is not reachable.", target)
    if pod.promotion_status != "promoted":
        raise bad(f"Pod '{pod.name}' is demoted.", pod.name)
    pod.members.append(target)


def _unstretch(req, pod, target):
    if target not in pod.members:
        raise bad(f"Array '{target}' is not a member of pod '{pod.name}'.",
                  target)
    if len(pod.members) == 1:
        raise bad(f"Cannot remove the last array from pod '{pod.name}'.",
                  pod.name)
    other = [m for m in pod.members if m != target]
    peer_ok = all(req.fabric.reachable(target, o) for o in other)
    if not peer_ok and not req.query.bool("with_unknown", False):
        raise bad(f"Array '{target}' is unreachable; use with_unknown=true.",
                  target)
    pod.members.remove(target)
    # Hosts on the removed array lose their connections to pod volumes.
    removed = req.fabric.arrays[target]
    for key in [k for k in removed.connections
                if k[1].startswith(pod.name + "::")]:
        del removed.connections[key]


def _member_pairs(req, pod_param):
    pods = [find_pod(req, n) for n in required_list(req, pod_param)]
    members = required_list(req, "member_names")
    return [(p, m) for p in pods for m in members]


@route("POST", "/pods/arrays")
def post_pods_arrays(req):
    out = []
    for pod, m in _member_pairs(req, "group_names"):
        _stretch(req, pod, m)
        out.append({"group": ref(pod.name, pod.id),
                    "member": ref(m, req.fabric.arrays[m].id)})
    return out


@route("POST", "/pods/members")
def post_pods_members(req):
    out = []
    for pod, m in _member_pairs(req, "pod_names"):
        _stretch(req, pod, m)
        out.append(_pod_member(req, pod, m))
    return out


def _pod_member(req, pod, m):
    return {"pod": {"id": pod.id, "name": pod.name, "resource_type": "pods"},
            "member": {"id": req.fabric.arrays[m].id, "name": m,
                       "resource_type": "arrays"}}


@route("DELETE", "/pods/arrays")
def delete_pods_arrays(req):
    for pod, m in _member_pairs(req, "group_names"):
        _unstretch(req, pod, m)
    return None


@route("DELETE", "/pods/members")
def delete_pods_members(req):
    for pod, m in _member_pairs(req, "pod_names"):
        _unstretch(req, pod, m)
    return None


@route("GET", "/pods/arrays")
def get_pods_arrays(req):
    groups = req.query.list("group_names")
    pods = [find_pod(req, g) for g in groups] if groups else _my_pods(req)
    return [{"group": ref(p.name, p.id),
             "member": ref(m, req.fabric.arrays[m].id)}
            for p in pods for m in p.members]


@route("GET", "/pods/members")
def get_pods_members(req):
    names = req.query.list("pod_names")
    pods = [find_pod(req, g) for g in names] if names else _my_pods(req)
    return [_pod_member(req, p, m) for p in pods for m in p.members]


@route("GET", "/container-default-protections")
def get_container_default_protections(req):
    names = req.query.list("container_names")
    pods = [find_pod(req, n) for n in names] if names else _my_pods(req)
    # No SafeMode default protection is configured in the simulator.
    return [{"id": p.id, "name": p.name, "type": "pod",
             "default_protections": []} for p in pods]

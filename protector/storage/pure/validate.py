"""Check a replication policy against its two FlashArrays before saving.

Run by ``PUT .../policy`` when the storage driver is ``pure``: log in to
each array with the policy's token, then check that each array has a
*connected* array connection to the other whose type carries the group's
replication type:

* async: ``async-replication`` or ``sync-replication`` (a sync connection
  also carries async protection-group replication);
* sync (ActiveCluster pods): ``sync-replication``.

Any problem raises ``PolicyArrayInvalid`` (HTTP 400) naming the side, the
array and the problem; the caller then stores nothing. Tokens never appear
in messages.
"""
from protector import exception
from protector.storage.pure import client as pure_client

get = pure_client.get

CARRIES = {
    "async": ("async-replication", "sync-replication"),
    "sync": ("sync-replication",),
}


def _find_connection(array, peer_name, peer_target):
    for conn in array.items("get_array_connections"):
        if conn.name == peer_name or \
                get(conn, "management_address") == peer_target:
            return conn
    return None


def check_connection(array, peer, rtype):
    """``array`` must have a connected link to ``peer`` able to carry
    ``rtype``; raises a storage exception otherwise."""
    needed = " or ".join(CARRIES[rtype])
    conn = _find_connection(array, peer.name, peer.target)
    if conn is None:
        raise exception.ArrayConnectionMissing(
            array=array.display, peer=peer.display, needed=needed)
    ctype = get(conn, "type", "unknown")
    if ctype not in CARRIES[rtype]:
        raise exception.ArrayConnectionWrongType(
            array=array.display, peer=peer.display, rtype=rtype,
            needed=needed, reason="is of type %s" % ctype)
    status = get(conn, "status", "unknown")
    if status != "connected":
        raise exception.ArrayConnectionWrongType(
            array=array.display, peer=peer.display, rtype=rtype,
            needed="a connected link (%s)" % needed,
            reason="is %s, not connected" % status)
    return {"name": conn.name, "type": ctype, "status": status}


def check_policy(values, group, conf=None):
    """Validate the clear-text policy ``values`` for ``group``; returns a
    summary (array names and connection types) for logging."""
    kwargs = {"conf": conf} if conf is not None else {}
    arrays = {side: pure_client.Array(values[side + "_fa_url"],
                                      values[side + "_fa_api_token"], side,
                                      **kwargs)
              for side in ("primary", "secondary")}
    rtype = group.get("replication_type") or "async"
    summary = {}
    for side, array in arrays.items():
        try:
            summary[side] = {"array": array.login()}
        except exception.ArrayError as exc:
            raise exception.PolicyArrayInvalid(
                side=side, url=values[side + "_fa_url"], reason=exc.message)
    if summary["primary"]["array"] == summary["secondary"]["array"]:
        raise exception.PolicyArrayInvalid(
            side="secondary", url=values["secondary_fa_url"],
            reason="it is the same array as the primary (%s)" %
            summary["primary"]["array"])
    for side, array in arrays.items():
        other = arrays["secondary" if side == "primary" else "primary"]
        try:
            summary[side]["connection"] = check_connection(array, other,
                                                           rtype)
        except exception.ArrayError as exc:
            raise exception.PolicyArrayInvalid(
                side=side, url=values[side + "_fa_url"], reason=exc.message)
    return summary

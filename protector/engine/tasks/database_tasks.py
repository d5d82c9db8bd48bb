"""Record what an operation achieved in this site's database.

These run last in their flows; each is idempotent (conditional updates),
so a re-run after a crash does not count a failover twice.
"""
from oslo_log import log as logging
from oslo_utils import timeutils

from protector.db import members as members_db
from protector.db import protection_groups as pg_db
from protector.engine import flows
from protector.engine import subops
from protector.engine import tasks
from protector.engine.tasks import storage_tasks
from protector import exception

LOG = logging.getLogger(__name__)
MOVE_CHUNK = 500


def _members_moved(ctx, store, target_id):
    servers = flows.read(store, "servers") or {}
    # The promote's copies, with those that replaced failed ones.
    volumes = storage_tasks.copy_mapping(
        ctx, store, flows.read(store, "volumes") or {})
    pg_id = tasks.op(store)["protection_group_id"]
    moves = []
    for member in members_db.list_all(ctx, pg_id):
        own = {v["volume_id"]: volumes[v["volume_id"]]
               for v in member["volumes"] if volumes.get(v["volume_id"])}
        values = {"current_site_id": target_id}
        if member["id"] in servers:
            values["current_instance_id"] = servers[member["id"]]
        moves.append((member["id"], values, own))
    # A transaction per MOVE_CHUNK members, not per member: at 5,000
    # members one each took 11 s of the engine's time (doc/benchmarks.md).
    for start in range(0, len(moves), MOVE_CHUNK):
        members_db.set_locations(ctx, moves[start:start + MOVE_CHUNK])


def _swap_primary(ctx, store, status, count):
    operation = tasks.op(store)
    pg_id = operation["protection_group_id"]
    target = operation["target_site_id"]
    values = {"status": status, "status_reason": None,
              "current_primary_site_id": target}
    grp = tasks.group(ctx, store)
    swapped = grp["current_primary_site_id"] == target
    if not swapped:
        if count:
            values["failover_count"] = (grp["failover_count"] or 0) + 1
            values["last_failover_at"] = timeutils.utcnow()
        # Conditional: only the first run of this step swaps and counts.
        pg_db.set_values(ctx, pg_id, values, expect={
            "current_primary_site_id": operation["source_site_id"]})
    else:
        pg_db.set_values(ctx, pg_id, {"status": status,
                                      "status_reason": None})
    _members_moved(ctx, store, target)
    sync = _push_to_peer(ctx, store)
    grp = tasks.group(ctx, store)
    return {"status": grp["status"],
            "current_primary_site_id": grp["current_primary_site_id"],
            "failover_count": grp["failover_count"], "sync": sync}


def _push_to_peer(ctx, store):
    """New metadata version, pushed to the peer (the source site).

    Planned: pushed with the caller's source-site token kept for the
    operation (dr/subops.py); a failed push does not undo the failover,
    it leaves sync-status FAILED/UNREACHABLE for 'sync-force'. Unplanned:
    the source is presumed down and is not contacted: UNREACHABLE until
    'sync-force' (doc/engine.md, "Source-site sub-operations").
    """
    operation = tasks.op(store)
    pg_id = operation["protection_group_id"]
    _, version, checksum, doc = pg_db.bump_version(
        ctx, operation["project_id"], pg_id)
    source = operation["source_site_id"]
    reason = "changed by %s operation %s; run 'sync-force' to push it to " \
        "the peer" % (operation["operation_type"], operation["id"])
    if tasks.params(store).get("type", "planned") != "planned":
        pg_db.record_sync(ctx, pg_id, source, "UNREACHABLE", error=reason)
        return {"status": "UNREACHABLE", "version": version}
    try:
        peer = subops.peer_of(ctx, operation, source)
        duration = peer.push_metadata(pg_id, version, checksum, doc)
    except exception.ProtectorException as exc:
        status = "UNREACHABLE" if isinstance(
            exc, (exception.PeerUnreachable, exception.SiteUnreachable)) \
            else "FAILED"
        LOG.warning("Operation %s: metadata push to the peer failed: %s",
                    operation["id"], exc.message)
        pg_db.record_sync(ctx, pg_id, source, status,
                          error="%s (%s)" % (reason, exc.message))
        return {"status": status, "version": version, "error": exc.message}
    pg_db.record_sync(ctx, pg_id, source, "SYNCED", remote_version=version,
                      duration_ms=duration)
    return {"status": "SYNCED", "version": version}


def mark_group_failed_over(ctx, store):
    return _swap_primary(ctx, store, "failed_over", count=True)


def mark_group_failed_back(ctx, store):
    return _swap_primary(ctx, store, "active", count=False)


def mark_test_active(ctx, store):
    """The test's resources stay until test-cleanup (the group keeps
    ``active_test_operation_id``, set when the test was queued)."""
    return {"active_test_operation_id": tasks.op(store)["id"]}


def clear_test(ctx, store):
    test_id = tasks.params(store).get("test_operation_id")
    pg_db.set_values(ctx, tasks.op(store)["protection_group_id"],
                     {"active_test_operation_id": None},
                     expect={"active_test_operation_id": test_id})
    return {"cleared_test_operation_id": test_id}

"""Tasks of the rollback flow (``flows/rollback_flows.py``).

A rollback undoes a failed failover, failback or test failover (``store``
parameters ``rolled_back_operation_id``/``_type``, ``previous_status``,
``type``). It acts on what that operation *recorded*: its
``RecoveryResource`` rows (servers, test network/subnet, volume copies,
all on this site), its step states (did the reversal or the source
shutdown happen?) and, on the source site, the ``stopped_server`` rows of
its ``prepare_failover`` sub-operation. Nothing else of the project is
touched. Every task is idempotent: a row is marked ``deleted`` once its
resource is gone, and a re-run skips it.
"""
from oslo_config import cfg
from oslo_log import log as logging

from protector.cloud import probe
from protector.common import fanout
from protector.db import dr as dr_db
from protector.db import members as members_db
from protector.db import operations as ops_db
from protector.db import protection_groups as pg_db
from protector.engine import flows
from protector.engine import subops
from protector.engine import tasks
from protector.engine.tasks import source_tasks
from protector.engine.tasks import storage_tasks
from protector import exception
from protector.pgroups import capture

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
MARKER = "protector_operation"
SERVER_TIMEOUT = 900


def _original_id(store):
    return tasks.params(store).get("rolled_back_operation_id")


def original(ctx, store):
    """The rolled-back operation, with its steps."""
    op_id = _original_id(store)
    row = ops_db.get_by_id(ctx, op_id) if op_id else None
    if row is None:
        raise exception.OperationNotFound(operation=op_id)
    return row


def _step_status(op, name):
    for step in op.get("steps") or []:
        if step["name"] == name:
            return step["status"]
    return None


def needs_source_restart(ctx, store):
    """A planned failover/failback whose source shutdown had started."""
    orig = original(ctx, store)
    params = orig.get("parameters") or {}
    return orig["operation_type"] in ("failover", "failback") and \
        params.get("type", "planned") == "planned" and \
        _step_status(orig, "snapshot_consistency_group") not in (
            None, "pending")


def validate_sites(ctx, store):
    """The target (this site) reachable; the source too when instances
    must be restarted there."""
    operation = tasks.op(store)
    orig = original(ctx, store)
    tasks.group(ctx, store)  # still exists
    source = tasks.site(ctx, operation["source_site_id"])
    target = tasks.site(ctx, operation["target_site_id"])
    result = {"source_site": source["name"], "target_site": target["name"],
              "rolled_back_operation_id": orig["id"],
              "rolled_back_operation_type": orig["operation_type"]}
    report = probe.probe(target)
    if report["keystone"]:
        raise exception.SiteUnreachable(site=target["name"],
                                        reason=report["keystone"])
    result["target"] = "reachable"
    if needs_source_restart(ctx, store):
        report = probe.probe(source)
        if report["keystone"]:
            raise exception.SiteUnreachable(
                site=source["name"], reason="%s (the rollback must start "
                "there the instances that the failed %s shut down; retry "
                "the rollback once the site is back)" % (
                    report["keystone"], orig["operation_type"]))
        result["source"] = "reachable"
    else:
        result["source"] = "not contacted"
    return result


def _servers_of(conn, row, op_id):
    """The server(s) a ``server`` row stands for: by its recorded ID,
    else (a create whose ID was never recorded) by its name and the
    operation marker in its metadata. ERROR servers included."""
    if row["resource_id"]:
        server = conn.compute.find_server(row["resource_id"],
                                          ignore_missing=True)
        return [server] if server is not None else []
    name = (row["details"] or {}).get("name")
    if not name:
        return []
    return [s for s in conn.compute.servers(name="^%s$" % name)
            if (s.metadata or {}).get(MARKER) == op_id]


def delete_recovered_instances(ctx, store):
    """Delete the servers the rolled-back operation built here (and
    nothing else), waiting for each to be gone. Their volumes survive
    (``source_tasks.keep_volumes``): the next step deletes the copies
    through the storage driver, which also cleans up the array."""
    orig_id = _original_id(store)
    rows = dr_db.resources(ctx, op_id=orig_id, rtype="server",
                           exclude_status="deleted")
    if not rows:
        raise flows.Skip("the rolled-back operation made no instances")
    cloud = tasks.target_cloud(ctx, store, warm=("compute",))
    conn = cloud.conn

    def delete(row):
        gone = []
        with cloud.guard("compute"):
            for server in _servers_of(conn, row, orig_id):
                source_tasks.keep_volumes(cloud, server.id)
                conn.compute.delete_server(server)
                conn.compute.wait_for_delete(server, wait=SERVER_TIMEOUT)
                gone.append(server.id)
        dr_db.record_resource(ctx, row["id"], row["resource_id"] or
                              (gone[0] if gone else None), status="deleted")
        return gone

    deleted = sorted(s for gone in fanout.run(
        delete, rows, CONF.engine.max_parallel_instances) for s in gone)
    return {"deleted": deleted, "records": len(rows)}


def delete_recovered_networks(ctx, store):
    """A test failover's --auto-network network and subnet (subnet
    first)."""
    orig_id = _original_id(store)
    rows = [r for rtype in ("subnet", "network") for r in dr_db.resources(
        ctx, op_id=orig_id, rtype=rtype, exclude_status="deleted")]
    if not rows:
        raise flows.Skip("the rolled-back operation made no networks")
    cloud = tasks.target_cloud(ctx, store)
    conn = cloud.conn
    deleted = []
    for row in rows:
        rtype = row["resource_type"]
        ids = [row["resource_id"]] if row["resource_id"] else []
        with cloud.guard("network"):
            if not ids and rtype == "network":
                # Created but not recorded: by name and marker.
                marker = "%s=%s" % (MARKER, orig_id)
                ids = [n.id for n in conn.network.networks(
                    name=(row["details"] or {}).get("name"))
                    if (n.description or "") == marker]
            # A subnet never recorded goes with its network.
            for res_id in ids:
                getattr(conn.network, "delete_" + rtype)(
                    res_id, ignore_missing=True)
                deleted.append(res_id)
        dr_db.record_resource(ctx, row["id"], row["resource_id"],
                              status="deleted")
    return {"deleted": deleted}


def delete_recovered_volumes(ctx, store):
    """Delete the volume copies the rolled-back operation made here (the
    storage driver's ``delete_copies``, as test cleanup does): the Cinder
    volume and the array copy, only those."""
    orig = original(ctx, store)
    rows = dr_db.resources(ctx, op_id=orig["id"], rtype="volume",
                           exclude_status="deleted")
    if not rows:
        raise flows.Skip("the rolled-back operation made no volumes")
    deleted, never_made = storage_tasks.delete_recorded_copies(
        ctx, tasks.driver(ctx, store), orig["id"], rows)
    return {"deleted": deleted, "never_made": never_made}


def restore_replication(ctx, store):
    """Put the replication direction back if the failed failback had
    reversed it (its reverse_replication completed). Forward-only."""
    orig = original(ctx, store)
    if orig["operation_type"] != "failback" or \
            _step_status(orig, "reverse_replication") != "completed":
        raise flows.Skip("replication was not reversed")
    members = members_db.list_all(ctx, tasks.op(store)["protection_group_id"])
    return tasks.driver(ctx, store).restore_replication(
        capture.member_volumes(members))


def _with_source_credential(ctx, store):
    """The rollback as run_on_source needs it: its own peer credential,
    else the one the rolled-back operation kept (a failed operation keeps
    it for this)."""
    operation = dict(tasks.op(store))
    params = dict(operation["parameters"] or {})
    if not (params.get(subops.CREDENTIAL_KEY) or
            params.get(subops.TOKEN_KEY)):
        kept = original(ctx, store).get("parameters") or {}
        for key in (subops.CREDENTIAL_KEY, subops.TOKEN_KEY):
            if kept.get(key):
                params[key] = kept[key]
    operation["parameters"] = params
    return operation


def restart_source_instances(ctx, store):
    """Planned failover/failback whose source shutdown had started: a
    ``restore_source`` sub-operation on the source site starts the
    instances its ``prepare_failover`` stopped (dr/subops.py)."""
    if not needs_source_restart(ctx, store):
        raise flows.Skip("the rolled-back operation stopped nothing on the "
                         "source site")
    orig_id = _original_id(store)
    sub_id, result = subops.run_on_source(
        ctx, _with_source_credential(ctx, store), "restore_source",
        extra={"rolled_back_operation_id": orig_id})
    started = result.get("start_instances") or {}
    return {"sub_operation_id": sub_id,
            "started": started.get("started", []),
            "already_active": started.get("already_active", []),
            "missing": started.get("missing", [])}


def _previous_status(orig, grp):
    previous = (orig.get("parameters") or {}).get("previous_status")
    if previous:
        return previous
    return {"failover": "active", "failback": "failed_over"}.get(
        orig["operation_type"], grp["status"])


def mark_group_rolled_back(ctx, store):
    """The group as before the rolled-back operation: its previous
    status, the same current primary (never swapped: a rollback is
    refused once the swap started), the test marker freed if it was the
    rolled-back test's. The failed operation records what undid it."""
    operation = tasks.op(store)
    orig = original(ctx, store)
    grp = tasks.group(ctx, store)
    status = _previous_status(orig, grp)
    reason = None if orig["operation_type"] == "test_failover" else \
        "%s operation %s was rolled back by operation %s" % (
            orig["operation_type"], orig["id"], operation["id"])
    pg_db.set_values(ctx, grp["id"], {"status": status,
                                      "status_reason": reason})
    cleared = None
    if orig["operation_type"] == "test_failover" and pg_db.set_values(
            ctx, grp["id"], {"active_test_operation_id": None},
            expect={"active_test_operation_id": orig["id"]}):
        cleared = orig["id"]
    ops_db.update_result(ctx, orig["id"], {"rolled_back_by":
                                           operation["id"]})
    return {"status": status, "status_reason": reason,
            "current_primary_site_id": grp["current_primary_site_id"],
            "cleared_test_operation_id": cleared}


def mark_group_after_failure(ctx, store, step_name, error):
    """on_failure: a rollback that failed after it started changing
    things leaves the group in 'error', saying which step and how to go
    on (retry the rollback; a test failover's rollback only sets the
    reason); one that failed in validate_sites changes nothing. Never
    raises."""
    operation = tasks.op(store)
    # Every step after validate_sites changes something
    # (Step.changes_cloud in flows/rollback_flows.py).
    if not flows.changed_clouds(store, step_name):
        return
    reason = ("rollback operation %s failed in step %s: %s; retry it: "
              "openstack dr operation retry %s" % (
                  operation["id"], step_name,
                  getattr(error, "message", str(error)), operation["id"]))
    values = {"status": "error", "status_reason": reason}
    if tasks.params(store).get("rolled_back_operation_type") == \
            "test_failover":
        # A drill's leftovers do not affect the workload: the status stays.
        values.pop("status")
    try:
        pg_db.set_values(ctx, operation["protection_group_id"], values)
    except Exception:
        LOG.exception("Could not record the failure of rollback %s on its "
                      "group", operation["id"])


def release_rolled_back_credential(ctx, store):
    """on_complete: the rolled-back operation kept its peer credential
    for a retry or this rollback; neither needs it any more."""
    try:
        subops.release_peer_credential(ctx, original(ctx, store))
    except Exception:
        LOG.exception("Peer credential of operation %s not released",
                      _original_id(store))

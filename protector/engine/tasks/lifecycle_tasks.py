"""Checks before anything changes, and the group's status around a flow.

``mark_group_*`` are the flows' ``on_start`` hooks (idempotent: they run
again on resume); ``mark_group_after_failure`` is the ``on_failure`` hook
(never raises). A failure before the first step that changes a cloud
leaves the group as it was; a failure after it puts the group in ``error``
with a reason pointing at the operation - forward-only recovery, the
operator decides what to do next.
"""
from oslo_log import log as logging

from protector.cloud import probe
from protector.db import dr as dr_db
from protector.db import protection_groups as pg_db
from protector.engine import flows
from protector.engine import subops
from protector.engine import tasks
from protector import exception
from protector.pgroups import remedies
from protector import preflight

LOG = logging.getLogger(__name__)

TRANSIENT = {"failover": "failing_over", "failback": "failing_back"}


def validate_sites(ctx, store):
    """Both sites known; the target reachable; the source too unless the
    failover is unplanned (which must work with the source down)."""
    operation = tasks.op(store)
    tasks.group(ctx, store)  # still exists
    source = tasks.site(ctx, operation["source_site_id"])
    target = tasks.site(ctx, operation["target_site_id"])
    result = {"source_site": source["name"], "target_site": target["name"]}
    report = probe.probe(target)
    if report["keystone"]:
        raise exception.SiteUnreachable(site=target["name"],
                                        reason=report["keystone"])
    result["target"] = "reachable"
    needs_source = operation["operation_type"] in ("failover", "failback") \
        and tasks.params(store).get("type", "planned") == "planned"
    if needs_source:
        report = probe.probe(source)
        if report["keystone"]:
            raise exception.SiteUnreachable(
                site=source["name"],
                reason="%s (a planned %s needs the source site; use "
                "--type unplanned if it is down)" % (
                    report["keystone"], operation["operation_type"]))
        result["source"] = "reachable"
    else:
        result["source"] = "not contacted"
    if operation["operation_type"] in preflight.KINDS:
        result["preflight"] = _preflight(ctx, store, source, target,
                                         needs_source)
    return result


def _preflight(ctx, store, source, target, needs_source):
    """The API's preflight again, right before the first step that
    changes a cloud, as the project's trust sees the target (time has
    passed since the request: a queued or resumed run). A failure fails
    this step, so nothing has changed yet."""
    from protector.engine.tasks import capacity
    operation = tasks.op(store)
    params = tasks.params(store)
    peer = None
    # The source is reached with what the request kept (engine/subops.py);
    # nothing kept fails the peer check (a planned operation needs it).
    if needs_source and (params.get(subops.CREDENTIAL_KEY) or
                         params.get(subops.TOKEN_KEY)):
        def peer():
            return subops.peer_of(ctx, operation, source["id"])
    pc = preflight.Context(
        ctx, tasks.group(ctx, store), operation["operation_type"],
        params, target, source,
        lambda: tasks.target_cloud(ctx, store), peer=peer,
        service_cloud=capacity.service_cloud, engine=True)
    report = preflight.run(pc)
    refusal = preflight.failure(report, pc.pg)
    if refusal is not None:
        raise refusal
    return [{k: r[k] for k in ("check", "result", "detail")}
            for r in report["checks"]]


def mark_group_in_progress(ctx, store):
    """active -> failing_over / failed_over -> failing_back."""
    kind = tasks.op(store)["operation_type"]
    transient = TRANSIENT.get(kind)
    if transient:
        pg_db.set_values(ctx, tasks.op(store)["protection_group_id"],
                         {"status": transient, "status_reason": None})


def _made_anything(ctx, op_id):
    try:
        return bool(dr_db.resources(ctx, op_id=op_id))
    except Exception:  # the hook never raises; assume it did
        LOG.exception("Could not read the resources of operation %s", op_id)
        return True


def mark_group_after_failure(ctx, store, step_name, error):
    """``error`` (failover/failback that changed a cloud), else the status
    it had; status_reason names the operation, step and error and says
    what to run next (retry / rollback / test-cleanup)."""
    operation = tasks.op(store)
    kind, op_id = operation["operation_type"], operation["id"]
    params = tasks.params(store)
    ran = flows.ran(store, step_name)
    # The steps that changed a cloud say so (Step.changes_cloud): for a
    # planned failover/failback already snapshot_consistency_group (the
    # source shutdown); for a test failover everything from
    # create_test_volumes on (the group keeps its status; the test
    # marker stays).
    changed = flows.changed_clouds(store, step_name)
    previous = params.get("previous_status")
    what = "%s operation %s failed in step %s: %s" % (
        kind, op_id, step_name, getattr(error, "message", str(error)))
    if changed and kind in TRANSIENT:
        status = "error"
        reason = "%s. It changed the clouds. %s" % (
            what, remedies.fix_then(op_id, kind, ran, previous))
    elif kind in TRANSIENT and previous:
        status = previous
        reason = ("%s. Nothing was changed. Fix the cause (openstack dr "
                  "operation show %s), then 'openstack dr operation retry "
                  "%s'." % (what, op_id, op_id))
    elif kind == "test_failover":
        # A drill never changes the group's status (architecture 7); what it
        # made (its recovery resources) stays for test-cleanup, as the
        # test marker does (keeps_test_on_failure).
        status = None
        if changed and _made_anything(ctx, op_id):
            reason = ("%s. It left test resources on the DR site: "
                      "'openstack dr operation retry %s' to finish the "
                      "test, or 'openstack dr test-cleanup %s' (or "
                      "'openstack dr operation rollback %s') to remove "
                      "them." % (what, op_id, operation.get(
                          "protection_group_name") or "<group>", op_id))
        else:
            reason = ("%s. Nothing was made. Fix the cause (openstack dr "
                      "operation show %s), then 'openstack dr operation "
                      "retry %s'." % (what, op_id, op_id))
    else:
        return
    values = {"status_reason": reason}
    if status:
        values["status"] = status
    try:
        pg_db.set_values(ctx, operation["protection_group_id"], values)
    except Exception:
        LOG.exception("Could not record the failure of operation %s on its "
                      "group", operation["id"])

"""Ways forward from a failed DR operation: retry it, or roll it back.

``POST /v1/{t}/operations/{id}/action`` with ``{"retry": {}}`` or
``{"rollback": {}}`` (``api/handlers/operations.py``) calls ``retry`` or
``rollback`` here; both answer with the operation to follow (202).

* **Retry** re-queues the *same* operation (``db.operations.requeue``, one
  transaction that also claims the group): its failed step runs again,
  its completed steps are not re-run, and what it made is found through
  its ``RecoveryResource`` rows, so nothing is made twice.
* **Rollback** queues a *new* operation of type ``rollback``
  (``engine/flows/rollback_flows.py``) that deletes what the failed one
  made on the target site, restarts the source instances that its planned
  shutdown stopped, puts replication back if a failback reversed it, and
  returns the group to the status it had before. The failed operation
  stays ``failed``; its result records ``rolled_back_by``.

Only the group's newest top-level operation on this site can be retried
or rolled back, and only while nothing else runs on the group: an older
failure has been superseded by what came after it (a rollback, a
cleanup, a new operation). Refusals are 412 with a code saying which way
forward remains (``protector.precondition.not_retryable`` /
``not_rollbackable`` / ``rollback_impossible``), a busy group is 409
``protector.operation.conflict``.

An operation lives on its target site (doc/architecture.md 6), so sent to
the other site it is 404 there. One queued on a site that is not its
target (accepted before ``dr/actions.check_site`` refused that) cannot
run where it is: retrying or rolling it back there is refused with 409
``protector.operation.wrong_site`` (``_check_site``).

The check functions (``check_retry``, ``check_rollback``,
``allowed_actions``) take no request, for anything that wants to tell a
user what they may do next.
"""
from oslo_log import log as logging

from protector.cloud import trusts
from protector.db import protection_groups as pg_db
from protector.db import operations as ops_db
from protector.db import sites as sites_db
from protector.dr import actions
from protector.engine import flows
from protector.engine import rpcapi
from protector.engine import subops
from protector import exception
from protector import storage

LOG = logging.getLogger(__name__)

ACTIONS = ("retry", "rollback")
RETRYABLE = ("failover", "failback", "test_failover", "test_cleanup",
             "rollback")
ROLLBACKABLE = ("failover", "failback", "test_failover")
# Once one of these steps has started, the failed operation has changed
# what a rollback cannot put back (the previous site's instances retired
# or vacated, the group's primary swapped): only a retry goes on.
POINT_OF_NO_RETURN = {
    "failover": ("update_protection_group",),
    "failback": ("retire_previous_instances", "unmanage_source_volumes",
                 "update_protection_group"),
}


def _show(op_id):
    return "'openstack dr operation show %s'" % op_id


def _steps(op):
    return {s["name"]: s["status"] for s in op.get("steps") or []}


def _group(ctx, op, error):
    if not op.get("protection_group_id"):
        raise error(operation=op["id"], reason="its protection group no "
                    "longer exists")
    try:
        return pg_db.get_by_id(ctx, op["protection_group_id"])
    except exception.ProtectionGroupNotFound:
        raise error(operation=op["id"], reason="its protection group no "
                    "longer exists")


def _check_common(ctx, op, pg, error, verb):
    """Failed, the newest top-level operation of its group here, and the
    group free. Raises ``error`` (412) or OperationConflict (409)."""
    if op["status"] != "failed":
        raise error(operation=op["id"], reason=(
            "it is %s; only a failed operation can be %s" % (
                op["status"], "retried" if verb == "retry" else
                "rolled back")))
    latest = ops_db.latest_top_level(ctx, pg["id"])
    if latest is not None and latest["id"] != op["id"]:
        rolled = (op.get("result") or {}).get("rolled_back_by")
        why = ("it was rolled back by operation %s" % rolled) if rolled \
            else ("operation %s (%s, %s) came after it" % (
                latest["id"], latest["operation_type"], latest["status"]))
        raise error(operation=op["id"], reason=(
            "it is not the newest operation of protection group %s: %s. "
            "Only the newest one can be retried or rolled back; see %s" % (
                pg["name"], why, _show(latest["id"]))))
    if pg["current_operation_id"]:
        current = ops_db.get_by_id(ctx, pg["current_operation_id"]) or {}
        raise exception.OperationConflict(
            pg=pg["name"], operation=pg["current_operation_id"],
            operation_type=current.get("operation_type", "unknown"),
            status=current.get("status", "unknown"))


def check_retry(ctx, op, pg=None):
    """Raise unless ``op`` can be retried now."""
    error = exception.OperationNotRetryable
    if op["parent_operation_id"]:
        raise error(operation=op["id"], reason=(
            "it is a sub-operation (%s) of operation %s on the peer site; "
            "retry that operation there ('openstack dr operation retry "
            "%s'): it runs this one again" % (
                op["operation_type"], op["parent_operation_id"],
                op["parent_operation_id"])))
    if op["operation_type"] not in RETRYABLE:
        raise error(operation=op["id"], reason=(
            "operations of type %s are not retried (retry works for %s)" % (
                op["operation_type"], ", ".join(RETRYABLE))))
    pg = pg or _group(ctx, op, error)
    _check_common(ctx, op, pg, error, "retry")
    return pg


def _restore_refusal(op, pg):
    """Why the replication reversal of a failed failback cannot be undone
    by this site's storage driver, or None (also when none happened)."""
    if op["operation_type"] != "failback" or \
            _steps(op).get("reverse_replication") != "completed":
        return None
    cls = storage.driver_class()
    if cls is None:
        return "the storage driver %s is not available here" % \
            storage.driver_name()
    return cls.restore_refusal(pg)


def check_rollback(ctx, op, pg=None):
    """Raise unless ``op`` can be rolled back now."""
    error = exception.OperationNotRollbackable
    if op["parent_operation_id"]:
        raise error(operation=op["id"], reason=(
            "it is a sub-operation (%s) of operation %s on the peer site; "
            "roll back that operation there ('openstack dr operation "
            "rollback %s')" % (op["operation_type"],
                               op["parent_operation_id"],
                               op["parent_operation_id"])))
    if op["operation_type"] not in ROLLBACKABLE:
        hint = "retry it instead ('openstack dr operation retry %s')" % \
            op["id"] if op["operation_type"] in RETRYABLE else \
            "only %s are rolled back" % ", ".join(ROLLBACKABLE)
        raise error(operation=op["id"], reason=(
            "a %s is not rolled back; %s" % (op["operation_type"], hint)))
    pg = pg or _group(ctx, op, error)
    _check_common(ctx, op, pg, error, "roll back")
    steps = _steps(op)
    for name in POINT_OF_NO_RETURN.get(op["operation_type"], ()):
        if steps.get(name, "pending") != "pending":
            raise exception.RollbackImpossible(
                operation=op["id"], operation_type=op["operation_type"],
                reason="its step %s has started (%s), so the %s has gone "
                "too far to be undone" % (name, steps[name],
                                          op["operation_type"]))
    refusal = _restore_refusal(op, pg)
    if refusal:
        raise exception.RollbackImpossible(
            operation=op["id"], operation_type=op["operation_type"],
            reason="its reverse_replication completed and cannot be "
            "undone: %s" % refusal)
    return pg


def allowed_actions(ctx, op):
    """Which of ``ACTIONS`` the operation allows now (no exception)."""
    out = []
    for name, check in (("retry", check_retry),
                        ("rollback", check_rollback)):
        try:
            check(ctx, op)
            out.append(name)
        except exception.ProtectorException:
            pass
    return out


def _planned(op):
    """Whether the operation needs the source site (planned failover or
    failback, or the rollback of one)."""
    params = op.get("parameters") or {}
    kind = op["operation_type"]
    if kind == "rollback":
        kind = params.get("rolled_back_operation_type")
    return kind in ("failover", "failback") and \
        params.get("type", "planned") == "planned"


def _fresh_peer_credential(caller, op, params, purpose):
    """With ``X-Protector-Peer-Token`` in the request, make a new source
    credential into ``params`` (the old one is dropped from them).
    Returns whether one was made."""
    if not caller.peer_token:
        return False
    for key in (subops.CREDENTIAL_KEY, subops.TOKEN_KEY):
        params.pop(key, None)
    subops.keep_peer_token(caller, sites_db.get(caller.context,
                                             op["source_site_id"]),
                           params, purpose)
    return bool(params.get(subops.CREDENTIAL_KEY) or
                params.get(subops.TOKEN_KEY))


def _check_site(ctx, op, verb):
    """Refuse an operation whose target is not this site (it was queued
    at the wrong site's API; this site's engine cannot run it)."""
    if not op.get("protection_group_id") or not op.get("target_site_id"):
        return
    try:
        pg = pg_db.get_by_id(ctx, op["protection_group_id"])
    except exception.ProtectionGroupNotFound:
        return  # check_retry/check_rollback say so
    wrong = actions.misdirected(ctx, pg, op["target_site_id"])
    if wrong is None:
        return
    here, site = wrong
    raise exception.OperationWrongSite(
        operation=op["id"], action=op["operation_type"], pg=pg["name"],
        site=site["name"], url=actions.site_url(site), here=here["name"],
        verb=verb)


def _wake(ctx, op_id):
    try:
        rpcapi.EngineAPI().wake(ctx, op_id)
    except Exception:
        # The operation is durable in the database; engines poll for it.
        LOG.exception("Could not wake engines for operation %s; it starts "
                      "at the next poll", op_id)


def retry(caller, op_id):
    """Re-queue failed operation ``op_id``; return it (plain dict)."""
    ctx = caller.context
    op = ops_db.get(ctx, caller.tenant_id, op_id)
    _check_site(ctx, op, "retried")
    check_retry(ctx, op)
    params = dict(op["parameters"] or {})
    fresh = _planned(op) and _fresh_peer_credential(
        caller, op, params, op["operation_type"])
    trusts.ensure(caller, sites_db.get(ctx, op["target_site_id"]))
    try:
        queued = ops_db.requeue(
            ctx, op["id"], parameters=params if fresh else None,
            test=op["operation_type"] == "test_failover")
    except Exception:
        if fresh:
            subops.release_peer_credential(ctx, dict(op, parameters=params))
        raise
    if fresh:
        # The old credential is replaced; deleting it is best effort.
        subops.release_peer_credential(ctx, op)
    LOG.info("Operation %s (%s) re-queued for a retry", op["id"],
             op["operation_type"])
    _wake(ctx, op["id"])
    return queued


def rollback(caller, op_id):
    """Queue the rollback of failed operation ``op_id``; return the new
    ``rollback`` operation (plain dict)."""
    ctx = caller.context
    op = ops_db.get(ctx, caller.tenant_id, op_id)
    _check_site(ctx, op, "rolled back")
    pg = check_rollback(ctx, op)
    original = op["parameters"] or {}
    params = {"rolled_back_operation_id": op["id"],
              "rolled_back_operation_type": op["operation_type"],
              "previous_status": original.get("previous_status")}
    if op["operation_type"] in ("failover", "failback"):
        params["type"] = original.get("type", "planned")
    made = _planned(op) and _fresh_peer_credential(caller, op, params,
                                                   "rollback")
    trusts.ensure(caller, sites_db.get(ctx, op["target_site_id"]))
    try:
        new = ops_db.create(ctx, pg["id"], {
            "project_id": caller.tenant_id, "user_id": ctx.user_id,
            "protection_group_id": pg["id"],
            "protection_group_name": pg["name"],
            "operation_type": "rollback",
            "source_site_id": op["source_site_id"],
            "target_site_id": op["target_site_id"],
            "parameters": params}, flows.step_names("rollback", params))
    except Exception:
        if made:
            subops.release_peer_credential(ctx, dict(op, parameters=params))
        raise
    # The failed operation stays failed; it says what undid it (and is
    # no longer its group's newest operation, so it is not retried).
    ops_db.update_result(ctx, op["id"], {"rolled_back_by": new["id"]})
    LOG.info("Operation %s (%s) queued to roll back operation %s",
             new["id"], "rollback", op["id"])
    _wake(ctx, new["id"])
    return new

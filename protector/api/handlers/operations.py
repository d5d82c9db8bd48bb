"""DR operations: start one (action), list and show them (doc/api-ref.md), and
retry or roll back a failed one (issue 11, ``dr/recovery.py``)."""
from oslo_config import cfg

from protector.api.schemas import operations as schema
from protector.api import util
from protector.common import times
from protector.db import operations as db
from protector.dr import actions
from protector.dr import recovery
from protector import exception

FILTERS = ("protection_group_id", "status", "operation_type")
# From this microversion an operation shows ``tiers``.
TIERS_VERSION = "1.4"


def serialize(req, op):
    steps = op.get("steps") or []
    data = {
        "id": op["id"],
        "protection_group_id": op["protection_group_id"],
        "protection_group_name": op["protection_group_name"],
        "operation_type": op["operation_type"],
        "status": op["status"],
        "source_site_id": op["source_site_id"],
        "target_site_id": op["target_site_id"],
        "progress": op["progress"],
        "current_step": op.get("current_step"),
        "started_at": times.isotime(op["started_at"]),
        "completed_at": times.isotime(op["completed_at"]),
        "error_message": op["error_message"],
        "steps_completed": [s["name"] for s in steps
                            if s["status"] == "completed"],
        "steps_failed": [s["name"] for s in steps
                         if s["status"] == "failed"],
        "result_data": {s["name"]: s["result"] for s in steps
                        if s["status"] in ("completed", "skipped")},
    }
    if req.microversion.matches("1.2"):
        data["steps"] = [{
            "name": s["name"], "status": s["status"],
            "attempts": s["attempts"],
            "started_at": times.isotime(s["started_at"]),
            "completed_at": times.isotime(s["completed_at"]),
            "error_message": s["error_message"],
            "result": s["result"]} for s in steps]
    if req.microversion.matches(TIERS_VERSION):
        # Per boot tier and per VM timings of the recreate step
        # (engine/tasks/compute_tasks.py TierLog); [] before it ran.
        data["tiers"] = (op.get("result") or {}).get("tiers") or []
    return data


def list_operations(req):
    util.authorize(req, "protector:operations:index")
    filters = {k: req.GET[k] for k in FILTERS if k in req.GET}
    rows = db.list_all(req.context, req.tenant_id, filters,
                       limit=cfg.CONF.api.max_limit)
    return util.json_response(
        req, {"operations": [serialize(req, op) for op in rows]})


def show_operation(req):
    util.authorize(req, "protector:operations:show")
    op = db.get(req.context, req.tenant_id, req.urlvars["operation_id"])
    return util.json_response(req, {"operation": serialize(req, op)})


def group_action(req):
    util.authorize(req, "protector:protection_groups:failover")
    body = util.extract_json(req, {"type": "object"})
    names = sorted(body)
    if len(names) != 1 or names[0] not in actions.ACTIONS:
        raise exception.ActionInvalid(
            actions=", ".join(actions.ACTIONS),
            got=", ".join(names) if names else "none")
    util.extract_json(req, schema.ACTION)
    kind = names[0]
    op = actions.start(util.caller(req), req.urlvars["pg"], kind, body[kind])
    location = "%s/v1/%s/operations/%s" % (req.host_url, req.tenant_id,
                                           op["id"])
    return util.json_response(req, {"operation": serialize(req, op)},
                              status=202, headers={"Location": location})


def operation_action(req):
    """``{"retry": {}}``: the failed operation is re-queued (202, the same
    operation); ``{"rollback": {}}``: a new rollback operation undoes it
    (202, the new operation). Refusals: 412 saying why and what to do
    instead, 409 while the group is busy."""
    body = util.extract_json(req, {"type": "object"})
    names = sorted(body)
    if len(names) != 1 or names[0] not in recovery.ACTIONS:
        raise exception.ActionInvalid(
            actions=", ".join(recovery.ACTIONS),
            got=", ".join(names) if names else "none")
    kind = names[0]
    util.authorize(req, "protector:operations:%s" % kind)
    util.extract_json(req, schema.OPERATION_ACTION)
    op_id = req.urlvars["operation_id"]
    if kind == "retry":
        op = recovery.retry(util.caller(req), op_id)
    else:
        op = recovery.rollback(util.caller(req), op_id)
    location = "%s/v1/%s/operations/%s" % (req.host_url, req.tenant_id,
                                           op["id"])
    return util.json_response(req, {"operation": serialize(req, op)},
                              status=202, headers={"Location": location})


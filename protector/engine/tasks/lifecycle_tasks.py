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
from protector.engine import tasks
from protector import exception

LOG = logging.getLogger(__name__)

# Steps after which the clouds have changed (a failure leaves 'error').
CHANGING = ("promote_volumes", "recreate_instances", "reverse_replication",
            "create_test_network", "retire_previous_instances",
            "unmanage_source_volumes",
            "update_protection_group")

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
    return result


def mark_group_in_progress(ctx, store):
    """active -> failing_over / failed_over -> failing_back."""
    kind = tasks.op(store)["operation_type"]
    transient = TRANSIENT.get(kind)
    if transient:
        dr_db.update_group(ctx, tasks.op(store)["protection_group_id"],
                           {"status": transient, "status_reason": None})


def mark_group_after_failure(ctx, store, step_name, error):
    operation = tasks.op(store)
    kind = operation["operation_type"]
    changed = step_name in CHANGING or any(
        name in CHANGING for name in store["results"])
    reason = "%s operation %s failed in step %s: %s" % (
        kind, operation["id"], step_name,
        getattr(error, "message", str(error)))
    previous = tasks.params(store).get("previous_status")
    try:
        if changed and kind in ("failover", "failback"):
            dr_db.update_group(ctx, operation["protection_group_id"],
                               {"status": "error", "status_reason": reason})
        elif kind in TRANSIENT and previous:
            dr_db.update_group(ctx, operation["protection_group_id"],
                               {"status": previous,
                                "status_reason": reason})
    except Exception:
        LOG.exception("Could not record the failure of operation %s on its "
                      "group", operation["id"])

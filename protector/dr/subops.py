"""Sub-operations: the source-site half of a planned failover/failback.

doc/architecture.md 6: a failover runs on the target site's engine;
the steps that must happen on the source site (graceful shutdown and the
final replicated snapshot; after a failback, giving the vacated side's
volumes back to the array) run as *sub-operations* on the source site,
queued through its protector-api and run by its engine with its own
Keystone trust. No site ever acts on the other's cloud directly.

Authentication: the engine reaches the source site with the caller's
token for it, kept as an application credential (``engine/subops.py``).

Idempotency: the source API returns the existing sub-operation of a parent
(``parent_operation_id`` + type) instead of queueing a second one, so a
target engine that crashed while waiting re-attaches to the same one. A
*failed* one is re-queued instead (retry semantics, ``ops_db.requeue``):
the parent asks again only when it is itself retried, and returning the
failed one would fail the parent again.

Sub-operation types (flows in ``engine/flows/source_flows.py``):

* ``prepare_failover``: shutdown_instances, final_snapshot
* ``vacate_site``: delete_instances, unmanage_volumes
* ``restore_source``: start_instances (the rollback of a planned
  failover/failback starts what its ``prepare_failover`` stopped;
  ``rolled_back_operation_id`` names that operation)
"""
from oslo_log import log as logging

from protector.cloud import sites
from protector.cloud import trusts
from protector.db import protection_groups as pg_db
from protector.db import operations as ops_db
from protector.db import sites as sites_db
from protector.engine import flows
from protector.engine import rpcapi
from protector import exception

LOG = logging.getLogger(__name__)

TYPES = ("prepare_failover", "vacate_site", "restore_source")

SCHEMA = {
    "type": "object",
    "properties": {
        "parent_operation_id": {"type": "string", "minLength": 1,
                                "maxLength": 64},
        "parent_operation_type": {"type": "string", "maxLength": 32},
        # restore_source: the failed operation whose shutdown is undone.
        "rolled_back_operation_id": {"type": "string", "minLength": 1,
                                     "maxLength": 64},
    },
    "required": ["parent_operation_id"],
    "additionalProperties": False,
}


# Group statuses in which the source site takes no sub-operation: a group
# being created or deleted here has no workload to shut down or vacate.
REFUSED_STATUSES = ("creating", "deleting")


def _check_acceptable(ctx, pg, kind, sender):
    """Only the group's other site may ask (its signature proved who it
    is), only while this site is the group's current primary (where the
    instances to stop, vacate or restart run: a failover's source, a
    failback's source, a rolled-back one's source; never the site the
    workload has moved to), and never in a group being created or
    deleted."""
    primary = sites_db.get(ctx, pg["primary_site_id"])
    secondary = sites_db.get(ctx, pg["secondary_site_id"])
    local, other = sites.split_sites(primary, secondary)
    if sender["id"] != other["id"]:
        raise exception.PeerAuthFailed(
            reason="site %s is not a site of protection group %s" % (
                sender["name"], pg["id"]))
    current = pg.get("current_primary_site_id") or pg["primary_site_id"]
    if current != local["id"]:
        raise exception.ProtectionGroupBusy(
            pg=pg["id"], status="%s (the workload runs on site %s)" % (
                pg["status"], other["name"]),
            needed="'%s' to run on this site, its current primary" % kind)
    if pg["status"] in REFUSED_STATUSES:
        raise exception.ProtectionGroupBusy(
            pg=pg["id"], status=pg["status"],
            needed="other than %s" % " or ".join(REFUSED_STATUSES))
    return local, other


def start(caller, pg_ident, kind, args):
    """Queue (or return the existing) sub-operation ``kind`` of a parent
    operation running on the peer site ``caller.peer_site`` (whose
    signature the API checked). Returns ``(operation, created)``."""
    ctx, sender = caller.context, caller.peer_site
    pg = pg_db.get(ctx, caller.tenant_id, pg_ident)
    parent = args["parent_operation_id"]
    local, other = _check_acceptable(ctx, pg, kind, sender)
    for op in ops_db.list_all(ctx, caller.tenant_id, {
            "protection_group_id": pg["id"], "operation_type": kind,
            "parent_operation_id": parent}, limit=1):
        if op["status"] != "failed":
            return op, False
        # The parent is being retried: run this one again from its
        # failed step (its completed steps are kept).
        op = ops_db.requeue(ctx, op["id"])
        LOG.info("Sub-operation %s (%s) of %s re-queued", op["id"], kind,
                 parent)
        _wake(ctx, op["id"])
        return op, True
    params = {"parent_operation_id": parent,
              "parent_operation_type": args.get("parent_operation_type")}
    if args.get("rolled_back_operation_id"):
        params["rolled_back_operation_id"] = args["rolled_back_operation_id"]
    # This site's engine acts through the caller's trust here.
    trusts.ensure(caller, local)
    # The sub-operation acts on this site: it is its "target" (the site
    # whose cloud and array the engine's tasks use).
    op = ops_db.create(ctx, pg["id"], {
        "project_id": caller.tenant_id, "user_id": ctx.user_id,
        "protection_group_id": pg["id"],
        "protection_group_name": pg["name"], "operation_type": kind,
        "source_site_id": other["id"], "target_site_id": local["id"],
        "parent_operation_id": parent,
        "parameters": params}, flows.step_names(kind, {}))
    _wake(ctx, op["id"])
    return op, True


def _wake(ctx, op_id):
    try:
        rpcapi.EngineAPI().wake(ctx, op_id)
    except Exception:
        LOG.exception("Could not wake engines for sub-operation %s; it "
                      "starts at the next poll", op_id)

"""Start a DR operation: check everything checkable, then queue it.

Failover, failback and test failover run the preflight first
(``preflight/__init__.py``): an operation already in progress (409
``protector.operation.conflict``), a second test (409
``protector.operation.test_active``), then the preconditions (412
``protector.precondition.*``): group status, policy, members, mappings,
images, volume type, a cinder-volume service, quotas, the arrays and the
peer site. The first failed check's code is the answer, its message names
every failed check. Nothing is changed until all of them pass;
the final claim of the group is the atomic conditional UPDATE in
``db.operations.create``, so concurrent requests on different API workers
cannot both start an operation.
"""
from oslo_log import log as logging

from protector.cloud import tokens
from protector.cloud import trusts
from protector.common import crypto
from protector.db import protection_groups as pg_db
from protector.db import operations as ops_db
from protector.db import sites as sites_db
from protector.engine import flows
from protector.engine import rpcapi
from protector.engine import subops
from protector.engine.tasks import storage_tasks
from protector import exception
from protector.pgroups import peers
from protector import preflight

LOG = logging.getLogger(__name__)

ACTIONS = ("failover", "failback", "test_failover", "test_cleanup")
NEEDED_STATUS = preflight.NEEDED_STATUS


def _other(pg, site_id):
    return pg["secondary_site_id"] if site_id == pg["primary_site_id"] \
        else pg["primary_site_id"]


def _sites(pg, kind):
    """(source, target) site IDs of an action on ``pg``."""
    current = pg["current_primary_site_id"]
    if kind == "failback":
        return current, pg["primary_site_id"]
    return current, _other(pg, current)


def _check(caller, pg, kind, args):
    """Test cleanup's checks (the other actions run the preflight)."""
    if pg["current_operation_id"]:
        current = ops_db.get_by_id(caller.context, pg["current_operation_id"])
        raise exception.OperationConflict(
            pg=pg["name"], operation=pg["current_operation_id"],
            operation_type=(current or {}).get("operation_type", "unknown"),
            status=(current or {}).get("status", "unknown"))
    if not pg["active_test_operation_id"]:
        raise exception.PreconditionNoTest(pg=pg["name"])


def preflight_context(caller, pg, kind, args):
    """The preflight's view of an action requested through the API: the
    target's cloud with the caller's token, the source's protector-api
    with the peer token when the request carries one."""
    ctx = caller.context
    source, target = _sites(pg, kind)
    target_site, source_site = sites_db.get(ctx, target), \
        sites_db.get(ctx, source)
    peer = None
    if tokens.is_local(source_site) or \
            caller.peer_token:
        def peer():
            return peers.resolve(caller, caller.tenant_id, source_site)
    pc = preflight.Context(
        ctx, pg, kind, args, target_site, source_site,
        lambda: tokens.cloud_for(caller, target_site), peer=peer,
        service_cloud=storage_tasks._service_cloud)
    # What subops.keep_peer_token will keep for the engine: nothing for a
    # source sharing this Keystone or without an encryption key.
    pc.peer_kept = bool(caller.peer_token) and \
        not tokens.is_local(source_site) and crypto.configured()
    return pc


def run_preflight(caller, pg_ident, kind, args):
    """The preflight table of ``kind`` on the group (changes nothing)."""
    pg = pg_db.get(caller.context, caller.tenant_id, pg_ident)
    return preflight.public(preflight.run(preflight_context(
        caller, pg, kind, dict(args or {}))))


def start(caller, pg_ident, kind, args):
    """Queue ``kind`` on the group; return the operation (plain dict)."""
    ctx = caller.context
    pg = pg_db.get(ctx, caller.tenant_id, pg_ident)
    args = dict(args or {})
    if kind == "test_cleanup":
        _check(caller, pg, kind, args)
        test = ops_db.get_by_id(ctx, pg["active_test_operation_id"]) or {}
        source = test.get("source_site_id") or pg["current_primary_site_id"]
        target = test.get("target_site_id") or _other(pg, source)
        args["test_operation_id"] = pg["active_test_operation_id"]
    else:
        source, target = _sites(pg, kind)
        # Everything predictable is checked before anything is queued
        # (preflight/__init__.py); the engine checks again before it acts.
        report = preflight.run(preflight_context(caller, pg, kind, args))
        refusal = preflight.failure(report, pg)
        if refusal is not None:
            raise refusal
        if kind in ("failover", "failback"):
            args.setdefault("type", "planned")
            # Its source-site steps and the metadata push need the
            # caller's token for that site (engine/subops.py).
            subops.keep_peer_token(caller, sites_db.get(ctx, source), args,
                                   kind)
    args["previous_status"] = pg["status"]
    # The engine of the target site (this one) acts through the caller's
    # trust in this site's Keystone.
    trusts.ensure(caller, sites_db.get(ctx, target))
    op = ops_db.create(ctx, pg["id"], {
        "project_id": caller.tenant_id, "user_id": ctx.user_id,
        "protection_group_id": pg["id"],
        "protection_group_name": pg["name"], "operation_type": kind,
        "source_site_id": source, "target_site_id": target,
        "parameters": args}, flows.step_names(kind, args),
        test=kind == "test_failover")
    try:
        rpcapi.EngineAPI().wake(ctx, op["id"])
    except Exception:
        # The operation is durable in the database; engines poll for it.
        LOG.exception("Could not wake engines for operation %s; it starts "
                      "at the next poll", op["id"])
    return op

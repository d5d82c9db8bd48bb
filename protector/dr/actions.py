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

Before all of those, an action (or its preflight) sent to the protector-api
of the group's other site is refused (409 ``protector.operation.wrong_site``,
``check_site``): the operation runs on its target site's engine
(doc/architecture.md 6), which only that site's API can queue it for.
"""
from oslo_log import log as logging

from protector.cloud import sites
from protector.cloud import tokens
from protector.cloud import trusts
from protector.common import crypto
from protector.db import protection_groups as pg_db
from protector.db import operations as ops_db
from protector.db import sites as sites_db
from protector.engine import flows
from protector.engine import rpcapi
from protector.engine import subops
from protector.engine.tasks import capacity
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


def this_site(ctx, pg):
    """This site, as one of the group's two sites (``cloud/sites``:
    ``[DEFAULT] site_name``, else the site whose Keystone is this
    service's), or None when that cannot be told (then no request is
    refused for its site: the engine's checks decide, as before)."""
    ids = {pg["primary_site_id"], pg["secondary_site_id"]}
    try:
        return sites.local_site([sites_db.get(ctx, i) for i in sorted(ids)])
    except exception.LocalSiteUnknown:
        return None


def misdirected(ctx, pg, target):
    """``(this site, target site)`` when ``target`` (a site ID of ``pg``)
    is not this site; None when it is, or when this site is not known."""
    here = this_site(ctx, pg)
    if here is None or here["id"] == target:
        return None
    return here, sites_db.get(ctx, target)


def site_url(site):
    """`` (<protector_url>)`` of a site row, or nothing when it has none."""
    return " (%s)" % site["protector_url"] if site.get("protector_url") \
        else ""


def check_site(ctx, pg, kind, target, preflight_only=False):
    """Refuse ``kind`` on ``pg`` unless this site is its target (409
    ``protector.operation.wrong_site``, naming the site to send it to).

    Not when the group's status rules the action out anyway (a second
    failover of a failed-over group): the status check answers (412
    ``protector.precondition.invalid_status``), which is what the user
    must fix; naming a site where it would be refused too would not
    help."""
    needed = NEEDED_STATUS.get(kind)
    if needed and pg["status"] not in needed:
        return
    wrong = misdirected(ctx, pg, target)
    if wrong is None:
        return
    here, site = wrong
    raise exception.WrongSite(
        request=("The preflight of %s" if preflight_only else "Action %s")
        % kind, pg=pg["name"], action=kind, site=site["name"],
        url=site_url(site), here=here["name"])


def _test_sites(ctx, pg):
    """(source, target) of a test cleanup: its test's, when this site
    holds the test operation; else the current primary and the other
    site (where a test failover runs)."""
    test_id = pg["active_test_operation_id"]
    test = (ops_db.get_by_id(ctx, test_id) if test_id else None) or {}
    source = test.get("source_site_id") or pg["current_primary_site_id"]
    return source, test.get("target_site_id") or _other(pg, source)


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
        service_cloud=capacity.service_cloud)
    # What subops.keep_peer_token will keep for the engine: nothing for a
    # source sharing this Keystone or without an encryption key.
    pc.peer_kept = bool(caller.peer_token) and \
        not tokens.is_local(source_site) and crypto.configured()
    return pc


def run_preflight(caller, pg_ident, kind, args):
    """The preflight table of ``kind`` on the group (changes nothing).
    Only the target site answers it: its table is the one the action
    would meet there (``check_site``)."""
    pg = pg_db.get(caller.context, caller.tenant_id, pg_ident)
    check_site(caller.context, pg, kind, _sites(pg, kind)[1],
               preflight_only=True)
    return preflight.public(preflight.run(preflight_context(
        caller, pg, kind, dict(args or {}))))


def start(caller, pg_ident, kind, args):
    """Queue ``kind`` on the group; return the operation (plain dict)."""
    ctx = caller.context
    pg = pg_db.get(ctx, caller.tenant_id, pg_ident)
    args = dict(args or {})
    source, target = _test_sites(ctx, pg) if kind == "test_cleanup" \
        else _sites(pg, kind)
    # First: at the other site's API every later check (and the trust
    # made below) would be for an operation this site's engine cannot run.
    check_site(ctx, pg, kind, target)
    if kind == "test_cleanup":
        _check(caller, pg, kind, args)
        args["test_operation_id"] = pg["active_test_operation_id"]
    else:
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

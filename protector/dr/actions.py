"""Start a DR operation: check everything checkable, then queue it.

The order of checks is the order a user needs the answers in: an
operation already in progress (409 ``protector.operation.conflict``), a
second test (409 ``protector.operation.test_active``), then the
preconditions (412 ``protector.precondition.*``): group status, an active
test before a real failover/failback, the replication policy, members,
and network/flavor mappings. Nothing is changed until all of them pass;
the final claim of the group is the atomic conditional UPDATE in
``db.operations.create``, so concurrent requests on different API workers
cannot both start an operation.
"""
from oslo_log import log as logging

from protector.cloud import tokens
from protector.cloud import trusts
from protector.db import dr as dr_db
from protector.db import operations as ops_db
from protector.db import sites as sites_db
from protector.dr import subops
from protector.engine import flows
from protector.engine import rpcapi
from protector import exception

LOG = logging.getLogger(__name__)

ACTIONS = ("failover", "failback", "test_failover", "test_cleanup")
NEEDED_STATUS = {
    "failover": ("active",),
    "failback": ("failed_over",),
    "test_failover": ("active", "failed_over"),
}


def _other(pg, site_id):
    return pg["secondary_site_id"] if site_id == pg["primary_site_id"] \
        else pg["primary_site_id"]


def _sites(pg, kind):
    """(source, target) site IDs of an action on ``pg``."""
    current = pg["current_primary_site_id"]
    if kind == "failback":
        return current, pg["primary_site_id"]
    return current, _other(pg, current)


def _needed_names(members):
    networks, flavors = set(), set()
    for member in members:
        config = member["instance_config"] or {}
        for port in config.get("ports") or []:
            if port.get("network_name"):
                networks.add(port["network_name"])
        flavor = config.get("flavor") or {}
        name = flavor.get("original_name") or flavor.get("name")
        if name:
            flavors.add(name)
    return networks, flavors


def _target_names(req, site, what):
    """Names of the target's networks or flavors, or (None, reason)."""
    try:
        cloud = tokens.cloud_for(req, site)
        if what == "network":
            with cloud.guard("network"):
                return {n.name for n in cloud.conn.network.networks()}, None
        with cloud.guard("compute"):
            return {f.name for f in cloud.conn.compute.flavors()}, None
    except exception.ProtectorException as exc:
        return None, exc.message
    except Exception as exc:  # SDK errors: report, do not start
        return None, str(exc)


def flavor_shape(flavor):
    """(vcpus, ram, disk) of a captured or a Nova flavor, or None."""
    get = flavor.get if isinstance(flavor, dict) else \
        (lambda k: getattr(flavor, k, None))
    shape = (get("vcpus"), get("ram"), get("disk"))
    return None if None in shape else tuple(int(x) for x in shape)


def _without_same_shape(req, site, members, names):
    """A drill keeps the source flavors; where the target names them
    differently, a target flavor of the same vCPUs/RAM/disk is used (see
    compute_tasks), so only flavors with no such twin are missing."""
    try:
        cloud = tokens.cloud_for(req, site)
        with cloud.guard("compute"):
            shapes = {flavor_shape(f) for f in cloud.conn.compute.flavors()}
    except Exception:  # report the names as missing
        return names
    captured = {}
    for member in members:
        flavor = (member["instance_config"] or {}).get("flavor") or {}
        name = flavor.get("original_name") or flavor.get("name")
        captured[name] = flavor_shape(flavor)
    return [n for n in names if captured.get(n) not in shapes]


def _check_mappings(req, pg, members, target, args, kind):
    networks, flavors = _needed_names(members)
    checks = [("network", networks, args.get("network_mapping") or {})]
    if kind != "test_failover":
        checks.append(("flavor", flavors, args.get("flavor_mapping") or {}))
    elif args.get("auto_network"):
        checks = []
    else:
        # A drill keeps the source flavors (mapped on failover only).
        checks.append(("flavor", flavors, {}))
    for what, needed, mapping in checks:
        unmapped = sorted(n for n in needed if n not in mapping)
        if not unmapped:
            continue
        present, reason = _target_names(req, target, what)
        missing = unmapped if present is None else \
            [n for n in unmapped if n not in present]
        if missing and what == "flavor" and kind == "test_failover":
            missing = _without_same_shape(req, target, members, missing)
        if missing:
            exc = exception.PreconditionUnmapped(
                what=what, names=", ".join(missing), pg=pg["name"],
                site=target["name"])
            if reason:
                exc.message += (" (The target's %ss could not be listed: "
                                "%s)" % (what, reason))
            raise exc


def _check_images(req, pg, members, target):
    """Image-booted members need their image (by name) on the target."""
    needed = {}
    for member in members:
        config = member["instance_config"] or {}
        if config.get("boot_from_volume", True) or not config.get(
                "image_name"):
            continue  # an uncaptured name fails in the step, clearly
        needed.setdefault(config["image_name"], []).append(
            config.get("name") or member["id"])
    if not needed:
        return
    try:
        cloud = tokens.cloud_for(req, target)
        with cloud.guard("image"):
            present = {i.name for i in cloud.conn.image.images()}
    except Exception as exc:  # the step checks again; do not guess here
        LOG.warning("Images of site %s not listed (%s); the operation "
                    "checks them when it rebuilds", target["name"], exc)
        return
    missing = sorted(n for n in needed if n not in present)
    if missing:
        raise exception.PreconditionImageMissing(
            members=", ".join(sorted(m for n in missing for m in needed[n])),
            pg=pg["name"], site=target["name"], images=", ".join(missing))


def _check(req, pg, kind, args):
    if pg["current_operation_id"]:
        current = ops_db.get_by_id(req.context, pg["current_operation_id"])
        raise exception.OperationConflict(
            pg=pg["name"], operation=pg["current_operation_id"],
            operation_type=(current or {}).get("operation_type", "unknown"),
            status=(current or {}).get("status", "unknown"))
    test = pg["active_test_operation_id"]
    if kind == "test_failover" and test:
        raise exception.TestFailoverActive(pg=pg["name"], operation=test)
    if kind == "test_cleanup":
        if not test:
            raise exception.PreconditionNoTest(pg=pg["name"])
        return
    if pg["status"] not in NEEDED_STATUS[kind]:
        raise exception.PreconditionStatus(
            pg=pg["name"], status=pg["status"], action=kind,
            needed=" or ".join("'%s'" % s for s in NEEDED_STATUS[kind]))
    if test:
        raise exception.PreconditionTestActive(pg=pg["name"],
                                               operation=test,
                                               action=kind)
    if not pg["has_policy"]:
        raise exception.PreconditionNoPolicy(pg=pg["name"])
    if not pg["member_count"]:
        raise exception.PreconditionNoMembers(pg=pg["name"],
                                              action=kind.replace("_", " "))


def start(req, pg_ident, kind, args):
    """Queue ``kind`` on the group; return the operation (plain dict)."""
    ctx = req.context
    pg = dr_db.get_group(ctx, req.tenant_id, pg_ident)
    args = dict(args or {})
    _check(req, pg, kind, args)
    if kind == "test_cleanup":
        test = ops_db.get_by_id(ctx, pg["active_test_operation_id"]) or {}
        source = test.get("source_site_id") or pg["current_primary_site_id"]
        target = test.get("target_site_id") or _other(pg, source)
        args["test_operation_id"] = pg["active_test_operation_id"]
    else:
        source, target = _sites(pg, kind)
        target_site = sites_db.get(ctx, target)
        members = dr_db.members(ctx, pg["id"])
        _check_mappings(req, pg, members, target_site, args, kind)
        _check_images(req, pg, members, target_site)
        if kind in ("failover", "failback"):
            args.setdefault("type", "planned")
            # Its source-site steps and the metadata push need the
            # caller's token for that site (dr/subops.py).
            subops.keep_peer_token(req, sites_db.get(ctx, source), args,
                                   kind)
    args["previous_status"] = pg["status"]
    # The engine of the target site (this one) acts through the caller's
    # trust in this site's Keystone.
    trusts.ensure(req, sites_db.get(ctx, target))
    op = ops_db.create(ctx, pg["id"], {
        "project_id": req.tenant_id, "user_id": ctx.user_id,
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

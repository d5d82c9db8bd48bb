"""Preflight: everything a DR operation can know before it changes a cloud.

One set of checks, used three ways (doc/engine.md, "Preflight"):

* ``POST .../protection-groups/{pg}/preflight`` and the CLI's
  ``--dry-run``: the table, nothing changed anywhere;
* ``dr/actions.start``: a failed check refuses the operation (412, or 409
  for a busy group) before anything is queued;
* the engine's first step ``validate_sites``: the same checks again, with
  the project's trust, right before the first step that changes a cloud
  (time may have passed since the request, e.g. a queued or retried run).

A check answers ``ok``, ``warn`` or ``fail`` with a detail saying what was
found and, for a failure, what to do. A check that could not ask (a
service that refuses the listing to this user, say) warns instead of
failing: it does not know. Only the mapping checks keep their older rule
(a name that cannot be confirmed on the target is missing).

The checks look at what *this* operation will create for *these* members
on the target: one volume per member volume, one instance per member, the
mapped flavors' vCPUs and RAM, one port per captured port, a network and a
subnet for ``--auto-network``. Current usage counts: a failback makes its
copies before it retires the instances it replaces, so that is the peak.
"""
from concurrent import futures

from oslo_log import log as logging

from protector.db import dr as dr_db
from protector import exception
from protector.dr import quotas

LOG = logging.getLogger(__name__)

OK, WARN, FAIL = "ok", "warn", "fail"
NEEDED_STATUS = {
    "failover": ("active",),
    "failback": ("failed_over",),
    "test_failover": ("active", "failed_over"),
}
KINDS = tuple(NEEDED_STATUS)


class PreflightFailed(exception.PreconditionFailed):
    code = "protector.precondition.preflight_failed"
    msg_fmt = "The preflight of %(action)s of group %(pg)s failed: %(failed)s"


def row(check, result, detail, error=None):
    out = {"check": check, "result": result, "detail": detail}
    if error is not None:
        out["error"] = error  # not serialised; what start() raises
    return out


class Context:
    """What the checks read: the group, its members, the operation's
    arguments and sites, and how to reach the target cloud and the peer.

    ``target_cloud()`` returns the target's ``SiteCloud`` (the caller's
    token in the API, the trust in the engine); ``peer()`` a
    ``peers.Peer`` for the source site, or None when there is no way to
    reach it (no peer token); ``service_cloud(cloud)`` Protector's own
    user on the target, for listings a tenant may not make.
    """

    def __init__(self, ctx, pg, kind, args, target, source, target_cloud,
                 peer=None, service_cloud=None, engine=False):
        self.ctx = ctx
        self.pg = pg
        self.kind = kind
        self.args = args or {}
        self.target = target
        self.source = source
        self._target_cloud = target_cloud
        self._cloud = None
        self._cloud_error = None
        self.peer = peer
        self.service_cloud = service_cloud
        self.engine = engine
        self.members = dr_db.members(ctx, pg["id"]) if pg else []

    @property
    def planned(self):
        return self.kind in ("failover", "failback") and \
            self.args.get("type", "planned") == "planned"

    def cloud(self):
        """The target cloud, or raise what building it raised (once)."""
        if self._cloud is None and self._cloud_error is None:
            try:
                self._cloud = self._target_cloud()
            except Exception as exc:
                self._cloud_error = exc
        if self._cloud_error is not None:
            raise self._cloud_error
        return self._cloud


def _message(exc):
    return getattr(exc, "message", None) or "%s: %s" % (
        type(exc).__name__, exc)


# -- the group and the operation -------------------------------------------

def check_operation(pc):
    pg = pc.pg
    if pc.engine:
        return []  # the operation itself holds the group
    if pg["current_operation_id"]:
        from protector.db import operations as ops_db
        current = ops_db.get_by_id(pc.ctx, pg["current_operation_id"]) or {}
        exc = exception.OperationConflict(
            pg=pg["name"], operation=pg["current_operation_id"],
            operation_type=current.get("operation_type", "unknown"),
            status=current.get("status", "unknown"))
        return [row("no_running_operation", FAIL, exc.message, exc)]
    test = pg["active_test_operation_id"]
    if test:
        exc = exception.TestFailoverActive(pg=pg["name"], operation=test) \
            if pc.kind == "test_failover" else \
            exception.PreconditionTestActive(pg=pg["name"], operation=test,
                                             action=pc.kind)
        return [row("no_running_operation", OK, "none running"),
                row("no_active_test", FAIL, exc.message, exc)]
    return [row("no_running_operation", OK, "none running"),
            row("no_active_test", OK, "no DR test active")]


def check_group(pc):
    pg, kind = pc.pg, pc.kind
    out = []
    needed = NEEDED_STATUS[kind]
    if pc.engine:
        out.append(row("group_status", OK, "claimed by this operation"))
    elif pg["status"] not in needed:
        exc = exception.PreconditionStatus(
            pg=pg["name"], status=pg["status"], action=kind,
            needed=" or ".join("'%s'" % s for s in needed))
        out.append(row("group_status", FAIL, exc.message, exc))
    else:
        out.append(row("group_status", OK, "'%s'" % pg["status"]))
    if not pg["has_policy"]:
        exc = exception.PreconditionNoPolicy(pg=pg["name"])
        out.append(row("replication_policy", FAIL, exc.message, exc))
    else:
        out.append(row("replication_policy", OK, "configured"))
    if not pg["member_count"]:
        exc = exception.PreconditionNoMembers(
            pg=pg["name"], action=kind.replace("_", " "))
        out.append(row("members", FAIL, exc.message, exc))
    else:
        volumes = sum(len(m["volumes"]) for m in pc.members)
        out.append(row("members", OK, "%d member(s), %d volume(s)" % (
            pg["member_count"], volumes)))
    return out


# -- the target cloud --------------------------------------------------------

def check_trust(pc):
    """Engine: the project's trust opens the target (what every later
    step uses). API: whether one is stored; the action then makes or
    re-checks it with the caller's token (``trusts.ensure``), which
    reports its own refusal."""
    if not pc.engine:
        stored = dr_db.find_trust(pc.ctx, pc.target["id"],
                                  pc.pg["project_id"], pc.ctx.user_id)
        return [row("trust", OK, "trust %s stored for site %s" % (
            stored, pc.target["name"]) if stored else "created from your "
            "token on site %s when the operation is queued" %
            pc.target["name"])]
    try:
        project = pc.cloud().project_id
    except Exception as exc:
        err = exception.PreconditionFailed(
            reason="site %s cannot be used with the project's trust: %s" % (
                pc.target["name"], _message(exc)))
        err.code = "protector.precondition.trust_unusable"
        return [row("trust", FAIL, err.message, err)]
    return [row("trust", OK, "the project's trust works on site %s "
                "(project %s)" % (pc.target["name"], project))]


def _list(pc, service, fn):
    cloud = pc.cloud()
    with cloud.guard(service):
        return fn(cloud.conn)


def check_mappings(pc):
    """Every network and flavor the members use, after the mappings,
    exists on the target (a drill keeps the source flavors, or a target
    flavor of the same shape; --auto-network makes its own network)."""
    from protector.dr import actions
    networks, flavors = actions._needed_names(pc.members)
    out = []
    checks = []
    if not (pc.kind == "test_failover" and pc.args.get("auto_network")):
        checks.append(("network", networks,
                       pc.args.get("network_mapping") or {}))
    else:
        out.append(row("networks", OK, "an isolated test network is "
                       "created (--auto-network)"))
    checks.append(("flavor", flavors, {} if pc.kind == "test_failover"
                   else pc.args.get("flavor_mapping") or {}))
    for what, needed, mapping in checks:
        targets = sorted({mapping.get(n, n) for n in needed})
        try:
            if what == "network":
                present = _list(pc, "network", lambda c: {
                    n.name for n in c.network.networks()} | {
                    n.id for n in c.network.networks()})
            else:
                present = _list(pc, "compute", lambda c: {
                    f.name for f in c.compute.flavors()})
            reason = None
        except Exception as exc:
            present, reason = set(), _message(exc)
        # Names with no mapping must exist as they are (a name that
        # cannot be confirmed is missing: the older rule); a mapping's
        # target must exist too, when the target can be listed at all.
        missing = [n for n in sorted(needed) if n not in mapping and
                   n not in present]
        if missing and what == "flavor" and pc.kind == "test_failover":
            missing = _without_same_shape(pc, missing)
        dangling = [] if reason else sorted(
            "%s=%s" % (n, mapping[n]) for n in needed
            if n in mapping and mapping[n] not in present)
        if missing:
            exc = exception.PreconditionUnmapped(
                what=what, names=", ".join(missing), pg=pc.pg["name"],
                site=pc.target["name"])
            if reason:
                exc.message += (" (The target's %ss could not be listed: "
                                "%s)" % (what, reason))
            out.append(row(what + "s", FAIL, exc.message, exc))
        elif dangling:
            exc = exception.PreconditionUnmapped(
                message="The %s mapping(s) %s of protection group %s name "
                "%ss that do not exist on target site %s; map to one that "
                "does ('openstack %s list' there)." % (
                    what, ", ".join(dangling), pc.pg["name"], what,
                    pc.target["name"], what), what=what)
            out.append(row(what + "s", FAIL, exc.message, exc))
        elif reason:
            out.append(row(what + "s", WARN, "%s (mapped; not checked: the "
                           "target's %ss could not be listed: %s)" % (
                               ", ".join(targets), what, reason)))
        else:
            out.append(row(what + "s", OK, ", ".join(targets) or "none"))
    return out


def _without_same_shape(pc, names):
    from protector.dr import actions
    try:
        shapes = _list(pc, "compute", lambda c: {
            actions.flavor_shape(f) for f in c.compute.flavors()})
    except Exception:
        return names
    captured = {}
    for member in pc.members:
        flavor = (member["instance_config"] or {}).get("flavor") or {}
        captured[flavor.get("original_name") or flavor.get("name")] = \
            actions.flavor_shape(flavor)
    return [n for n in names if captured.get(n) not in shapes]


def check_images(pc):
    """Image-booted members need their image (by name) on the target; in
    mock storage mode bootable copies are made from an image too."""
    from oslo_config import cfg
    from protector import storage
    needed = {}
    for member in pc.members:
        config = member["instance_config"] or {}
        name = config.get("name") or member["id"]
        if not config.get("boot_from_volume", True) and \
                config.get("image_name"):
            needed.setdefault(config["image_name"], []).append(name)
    mock_needed = {}
    if storage.driver_name() == "mock":
        for member in pc.members:
            for vol in member["volumes"]:
                if vol.get("bootable") or vol.get("boot_index") == 0:
                    image = vol.get("image_name") or (
                        member["instance_config"] or {}).get(
                        "image_name") or cfg.CONF.storage.mock_image_name
                    mock_needed.setdefault(image, []).append(
                        vol["volume_id"])
    if not needed and not mock_needed:
        return [row("images", OK, "no member needs an image")]
    try:
        present = _list(pc, "image", lambda c: {
            i.name for i in c.image.images()})
    except Exception as exc:
        return [row("images", WARN, "not checked: the images of site %s "
                    "could not be listed (%s)" % (pc.target["name"],
                                                  _message(exc)))]
    out = []
    missing = sorted(n for n in needed if n not in present)
    if missing:
        exc = exception.PreconditionImageMissing(
            members=", ".join(sorted(m for n in missing for m in needed[n])),
            pg=pc.pg["name"], site=pc.target["name"],
            images=", ".join(missing))
        out.append(row("images", FAIL, exc.message, exc))
    elif needed:
        out.append(row("images", OK, ", ".join(sorted(needed))))
    mock_missing = sorted(n for n in mock_needed if n not in present)
    if mock_missing:
        exc = exception.PreconditionFailed(reason=(
            "mock storage mode makes the bootable copies from image(s) %s, "
            "which site %s does not have; upload them there ('openstack "
            "image create <name> ...') or set [storage] mock_image_name" %
            (", ".join(mock_missing), pc.target["name"])))
        exc.code = "protector.precondition.image_missing"
        out.append(row("mock_images", FAIL, exc.message, exc))
    elif mock_needed:
        out.append(row("mock_images", OK, ", ".join(sorted(mock_needed))))
    return out


def check_volume_type(pc):
    from protector.pgroups import groups
    from protector import volume_groups
    pg, target = pc.pg, pc.target
    ident = pg["volume_type_id"] if target["id"] == pg["primary_site_id"] \
        else (pg["remote_volume_type_id"] or pg["volume_type_name"])
    try:
        vt = volume_groups.for_site(target, pc.cloud).find_volume_type(
            ident)
    except Exception as exc:
        return [row("volume_type", WARN, "not checked: %s" % _message(exc))]
    try:
        groups._check_volume_type(target, vt, ident, pg["replication_type"])
    except exception.ProtectorException as exc:
        return [row("volume_type", FAIL, exc.message, exc)]
    return [row("volume_type", OK, "%s on site %s is replication-enabled "
                "(%s)" % (vt["name"], target["name"],
                          pg["replication_type"]))]


def check_volume_service(pc):
    from openstack import exceptions as sdk_exc

    def up(conn):
        return [s.host for s in conn.block_storage.services(
            binary="cinder-volume") if s.state == "up"]
    try:
        try:
            hosts = _list(pc, "block-storage", up)
        except sdk_exc.ForbiddenException:
            if pc.service_cloud is None:
                raise
            service = pc.service_cloud(pc.cloud())
            with service.guard("block-storage"):
                hosts = up(service.conn)
    except Exception as exc:
        return [row("volume_service", WARN, "not checked: the cinder-volume "
                    "services could not be listed (%s)" % _message(exc))]
    if not hosts:
        exc = exception.PreconditionFailed(reason=(
            "no cinder-volume service is up on site %s to make the volumes "
            "in; start one ('openstack volume service list' shows them)" %
            pc.target["name"]))
        exc.code = "protector.precondition.no_volume_service"
        return [row("volume_service", FAIL, exc.message, exc)]
    return [row("volume_service", OK, "up: %s" % ", ".join(sorted(hosts)))]


def check_storage(pc):
    """The arrays answer; the recovery point's age against the RPO is a
    warning (an old point is still a point to recover from)."""
    from protector.db import replication_policies as policy_db
    from protector.storage import rpo
    if not pc.pg["has_policy"]:
        return []
    state = rpo.status(pc.pg, policy_db.get(pc.ctx, pc.pg["id"]))
    detail = state["rpo_detail"]
    if state["rpo_status"] == "ok":
        return [row("storage", OK, "arrays reachable"),
                row("rpo", OK, detail)]
    if state["rpo_status"] == "breached":
        return [row("storage", OK, "arrays reachable"),
                row("rpo", WARN, detail)]
    if detail == "no complete replicated snapshot yet":
        # A planned operation replicates now; an unplanned one needs a
        # replicated snapshot, which its snapshot step (changing nothing)
        # looks for with the driver's own, surer, view.
        return [row("storage", OK, "arrays reachable"),
                row("rpo", WARN, detail)]
    exc = exception.PreconditionFailed(reason=(
        "the storage driver cannot reach the arrays: %s" % detail))
    exc.code = "protector.precondition.array_unreachable"
    # An unplanned failover must work with the source array lost: the
    # driver's probe may only reach the target's.
    result = WARN if (pc.kind == "failover" and not pc.planned) else FAIL
    return [row("storage", result, exc.message,
                exc if result == FAIL else None)]


def check_peer(pc):
    if not pc.planned:
        return []
    if pc.peer is None:
        return [row("peer_site", WARN, "not checked: no token for site %s "
                    "(pass --secondary-cloud); a planned %s needs it" % (
                        pc.source["name"], pc.kind))]
    try:
        pc.peer()._request("GET", "/protection-groups/%s" % pc.pg["id"])
    except exception.ProtectorException as exc:
        err = exception.PreconditionFailed(reason=(
            "the protector-api of source site %s does not answer for this "
            "group (%s); a planned %s shuts the workload down there first. "
            "Fix it, or use --type unplanned if that site is lost" % (
                pc.source["name"], exc.message, pc.kind)))
        err.code = "protector.precondition.peer_unreachable"
        return [row("peer_site", FAIL, err.message, err)]
    return [row("peer_site", OK, "protector-api of %s answers" %
                pc.source["name"])]


def check_quotas(pc):
    try:
        cloud = pc.cloud()
    except Exception as exc:
        return [row("quotas", WARN, "not checked: %s" % _message(exc))]
    return quotas.check(pc, cloud, row)


# In the order a refusal reports them: the first failed row's code is the
# answer's (the mappings keep their long-standing codes).
CLOUD_CHECKS = (check_mappings, check_images, check_volume_type,
                check_volume_service, check_quotas, check_storage,
                check_peer, check_trust)


def run(pc):
    """The preflight table: ``{"action", "ok", "checks": [row...]}``.

    Rows keep an ``error`` (the exception a refusal raises) that
    ``public`` drops before it is shown."""
    rows = check_operation(pc) + check_group(pc)
    if all(r["result"] != FAIL for r in rows):
        # The cloud checks run in parallel: each is one or two API calls.
        with futures.ThreadPoolExecutor(max_workers=4) as pool:
            jobs = [pool.submit(_safe, fn, pc) for fn in CLOUD_CHECKS]
            for job in jobs:
                rows += job.result()
    return {"action": pc.kind, "ok": all(r["result"] != FAIL for r in rows),
            "checks": rows}


def _safe(fn, pc):
    try:
        return fn(pc)
    except Exception as exc:  # a check never fails the preflight itself
        LOG.exception("Preflight check %s of group %s raised", fn.__name__,
                      pc.pg["id"])
        return [row(fn.__name__.replace("check_", ""), WARN,
                    "not checked: %s" % _message(exc))]


def public(report):
    return {"action": report["action"], "ok": report["ok"],
            "checks": [{k: r[k] for k in ("check", "result", "detail")}
                       for r in report["checks"]]}


def failure(report, pg):
    """The exception that refuses the operation: the first failed check's
    own (its stable code), its message naming every failed check."""
    failed = [r for r in report["checks"] if r["result"] == FAIL]
    if not failed:
        return None
    first = failed[0].get("error")
    text = "; ".join("%s: %s" % (r["check"], r["detail"]) for r in failed)
    if first is None:
        return PreflightFailed(action=report["action"], pg=pg["name"],
                               failed=text)
    if len(failed) > 1:
        first.message = "Preflight failed: %s" % text
    return first

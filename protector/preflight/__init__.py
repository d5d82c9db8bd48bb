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

This module runs them and holds the checks of the group itself; the
others are in ``target_checks`` (the target cloud: mappings, images,
volume type, cinder-volume service, quotas through ``quotas``) and
``site_checks`` (arrays and RPO, the peer site, the trust); a row and
the refusals it carries are in ``check_rows``.

The checks look at what *this* operation will create for *these* members
on the target: one volume per member volume, one instance per member, the
mapped flavors' vCPUs and RAM, one port per captured port, a network and a
subnet for ``--auto-network``. Current usage counts: a failback makes its
copies before it retires the instances it replaces, so that is the peak.
"""
import threading

from oslo_log import log as logging

from protector.common import fanout
from protector.db import members as members_db
from protector.db import operations as ops_db
from protector.preflight import check_rows
from protector.preflight import site_checks
from protector.preflight import target_checks
from protector import exception

LOG = logging.getLogger(__name__)

OK, WARN, FAIL = check_rows.OK, check_rows.WARN, check_rows.FAIL
row, _message = check_rows.row, check_rows.message
PreflightFailed = check_rows.PreflightFailed
NEEDED_STATUS = {
    "failover": ("active",),
    "failback": ("failed_over",),
    "test_failover": ("active", "failed_over"),
}
KINDS = tuple(NEEDED_STATUS)


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
        # API: whether the request leaves the engine a way to reach the
        # source (dr/subops.keep_peer_token); None: not known.
        self.peer_kept = None
        self.service_cloud = service_cloud
        self.engine = engine
        self.members = members_db.list_all(ctx, pg["id"]) if pg else []
        self._lock = threading.Lock()  # the checks run in parallel

    @property
    def planned(self):
        return self.kind in ("failover", "failback") and \
            self.args.get("type", "planned") == "planned"

    def cloud(self):
        """The target cloud, or raise what building it raised (once)."""
        with self._lock:
            if self._cloud is None and self._cloud_error is None:
                try:
                    self._cloud = self._target_cloud()
                except Exception as exc:
                    self._cloud_error = exc
        if self._cloud_error is not None:
            raise self._cloud_error
        return self._cloud


# -- the group and the operation -------------------------------------------

def check_operation(pc):
    pg = pc.pg
    if pc.engine:
        return []  # the operation itself holds the group
    if pg["current_operation_id"]:
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


# In the order a refusal reports them: the first failed row's code is the
# answer's (the mappings keep their long-standing codes).
CLOUD_CHECKS = (target_checks.check_mappings, target_checks.check_images,
                target_checks.check_volume_type,
                target_checks.check_volume_service,
                target_checks.check_quotas, site_checks.check_storage,
                site_checks.check_peer, site_checks.check_trust)


def run(pc):
    """The preflight table: ``{"action", "ok", "checks": [row...]}``.

    Rows keep an ``error`` (the exception a refusal raises) that
    ``public`` drops before it is shown."""
    table = _safe(check_operation, pc) + _safe(check_group, pc)
    if all(r["result"] != FAIL for r in table):
        # The cloud checks run in parallel: each is one or two API calls.
        checks = CLOUD_CHECKS
        if pc.engine and site_checks.check_trust in checks:
            # The trust opens the target for every other check: a broken
            # one is the answer, not the names it could not confirm.
            checks = (site_checks.check_trust,) + tuple(
                c for c in checks if c is not site_checks.check_trust)
        for rows_of_check in fanout.run(lambda fn: _safe(fn, pc), checks,
                                        len(checks)):
            table += rows_of_check
    return {"action": pc.kind,
            "ok": all(r["result"] != FAIL for r in table), "checks": table}


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

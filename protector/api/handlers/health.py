"""Health of this site's Protector (doc/api-ref.md, "Health").

Components: protector-api (answering this request), protector-engine (its
heartbeat in the services table), the database (a query and its dialect),
and every registered site (``cloud/probe.check``: its Keystone root, then
its protector-api's versions document at its ``protector_url`` or at the
``protector`` endpoint of its Keystone catalog, read with the caller's
token for a site sharing this Keystone, else with the request's
``X-Protector-Peer-Token``). Sites are probed in parallel with a short
timeout.
The project's protection groups with a replication policy add a
``replication-rpo`` component (``warning`` when an RPO is breached).
"""
from oslo_config import cfg
from oslo_utils import timeutils
import sqlalchemy as sa

from protector.api import util
from protector.cloud import probe
from protector.cloud import tokens
from protector.common import fanout
from protector.db import api as db_api
from protector.db import protection_groups as pg_db
from protector.db import replication_policies as policy_db
from protector.db import services as services_db
from protector.db import sites as sites_db
from protector.engine import manager
from protector.storage import rpo

CONF = cfg.CONF


def _engine(ctx):
    rows = services_db.list_binary(ctx, manager.BINARY)
    if not rows:
        # A stopped engine removes its row (engine/manager.py).
        return "down", "Not running (no engine heartbeat recorded)"
    now = timeutils.utcnow()
    ages = {r["host"]: int((now - r["last_seen_at"]).total_seconds())
            for r in rows if r["last_seen_at"]}
    alive = sorted(h for h, age in ages.items()
                   if age <= CONF.engine.stale_after)
    if len(alive) == 1:
        return "ok", "Running"  # doc/api-ref.md's wording
    if alive:
        return "ok", "Running (%d engines: %s)" % (len(alive),
                                                   ", ".join(alive))
    if not ages:
        return "down", "Not running (no engine heartbeat recorded)"
    host, age = min(ages.items(), key=lambda kv: kv[1])
    return "down", "Not running (no heartbeat for %ds; last: %s)" % (
        age, host)


@db_api.read
def _database(ctx, session):
    session.execute(sa.text("SELECT 1"))
    dialect = session.get_bind().dialect
    if dialect.name == "mysql":
        return "MariaDB" if getattr(dialect, "is_mariadb", False) \
            else "MySQL"
    return {"sqlite": "SQLite"}.get(dialect.name, dialect.name)


def _catalog_token(req, site):
    """A token of ``site`` to read its catalog with, if the request has
    one (only needed without a protector_url)."""
    if site.get("protector_url"):
        return None
    if tokens.is_local(site):
        return req.context.auth_token
    return req.headers.get(tokens.PEER_TOKEN_HEADER)


def _site(site, token):
    try:
        state, detail = probe.check(site, token=token)
    except Exception as exc:  # report, do not fail the health request
        return "unknown", "Not checked: %s" % exc
    if state == "unchecked":
        if token is None and not tokens.is_local(site):
            detail += " (the CLI sends one with --secondary-cloud)"
        return "unknown", detail
    return state, detail


def _rpo(ctx, project_id):
    """One component for the project's groups that have a policy:
    ``warning`` if any breaches its RPO, ``ok`` if all are within it,
    ``unknown`` otherwise (nothing replicated yet, an array unreachable,
    a driver that cannot tell). None when no group has a policy."""
    pairs = []
    for pg in pg_db.list_all(ctx, project_id, limit=CONF.api.max_limit):
        policy = policy_db.get(ctx, pg["id"])
        if policy is not None:
            pairs.append((pg, policy))
    if not pairs:
        return None
    results = fanout.run(lambda p: rpo.status(*p), pairs, 8)
    by = {"ok": [], "breached": [], "unknown": []}
    for (pg, _), res in zip(pairs, results):
        by[res["rpo_status"]].append((pg["name"], res))
    if by["breached"]:
        return "warning", "RPO breached: " + "; ".join(
            "%s (lag %ss > %s min)" % (name, r["replication_lag_seconds"],
                                      r["rpo_minutes"])
            for name, r in by["breached"])
    if by["unknown"]:
        return "unknown", "%d within RPO; lag unknown: %s" % (
            len(by["ok"]), "; ".join("%s (%s)" % (name, r["rpo_detail"])
                                     for name, r in by["unknown"]))
    return "ok", "%d protection group(s) within their RPO" % len(by["ok"])


def show_health(req):
    util.authorize(req, "protector:health:show")
    ctx = req.context
    components = [{"component": "protector-api", "status": "ok",
                   "detail": "Responding on port %d" % CONF.api.bind_port}]
    try:
        database = ("ok", "Connected (%s)" % _database(ctx))
        engine = _engine(ctx)
        sites = sites_db.list_all(ctx)
    except Exception as exc:  # report, do not fail the health request
        database = ("down", "Not connected: %s" % exc)
        engine = ("unknown", "Unknown (the database is not reachable)")
        sites = []
    for name, (status, detail) in (("protector-engine", engine),
                                   ("database", database)):
        components.append({"component": name, "status": status,
                           "detail": detail})
    if sites:
        # The tokens from the request here, the site calls in threads.
        pairs = [(s, _catalog_token(req, s)) for s in sites]
        results = fanout.run(lambda p: _site(*p), pairs, 8)
        for site, (status, detail) in zip(sites, results):
            components.append({"component": site["name"], "status": status,
                               "detail": detail})
    overall = "ok" if all(c["status"] == "ok" for c in components) \
        else "degraded"
    try:
        replication = _rpo(ctx, req.tenant_id)
    except Exception as exc:  # report, do not fail the health request
        replication = ("unknown", "RPO not available: %s" % exc)
    if replication is not None:
        components.append({"component": "replication-rpo",
                           "status": replication[0],
                           "detail": replication[1]})
        # A breached RPO is a warning of its own; an unknown lag (e.g.
        # nothing replicated yet) does not degrade the site.
        if overall == "ok" and replication[0] == "warning":
            overall = "warning"
    return util.json_response(req, {"health": {
        "status": overall, "components": components}})

"""Health of this site's Protector (seed 000 "Health").

Components: protector-api (answering this request), protector-engine (its
heartbeat in the services table), the database (a query and its dialect),
and every registered site (unauthenticated GETs of its Keystone root and
protector-api root; "version compatible" when the peer's microversion
range overlaps ours). Sites are probed in parallel with a short timeout.
"""
from concurrent import futures
import datetime

from oslo_config import cfg
import sqlalchemy as sa

from protector.api import util
from protector.cloud import probe
from protector.db import api as db_api
from protector.db import services as services_db
from protector.db import sites as sites_db
from protector.engine import manager

CONF = cfg.CONF


def _engine(ctx):
    rows = services_db.list_binary(ctx, manager.BINARY)
    if not rows:
        return "down", "Not running (no engine heartbeat recorded)"
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    ages = {r["host"]: int((now - r["last_seen_at"]).total_seconds())
            for r in rows if r["last_seen_at"]}
    alive = sorted(h for h, age in ages.items()
                   if age <= CONF.engine.stale_after)
    if alive:
        return "ok", "Running (%s)" % ", ".join(alive)
    host, age = min(ages.items(), key=lambda kv: kv[1])
    return "down", "No heartbeat for %ds (last: %s)" % (age, host)


@db_api.read
def _database(ctx, session):
    session.execute(sa.text("SELECT 1"))
    dialect = session.get_bind().dialect
    if dialect.name == "mysql":
        return "MariaDB" if getattr(dialect, "is_mariadb", False) \
            else "MySQL"
    return {"sqlite": "SQLite"}.get(dialect.name, dialect.name)


def _site(site):
    report = probe.probe(site)
    if report["keystone"]:
        return "unreachable", report["keystone"]
    if report["protector"] == "unset":
        return "ok", "Reachable (Keystone); no protector_url registered"
    if report["protector"]:
        return "unreachable", report["protector"]
    if not report["compatible"]:
        return "error", ("Reachable, version incompatible (no common "
                         "microversion)")
    return "ok", "Reachable, version compatible"


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
        with futures.ThreadPoolExecutor(max_workers=min(8, len(sites))) \
                as pool:
            results = list(pool.map(_site, sites))
        for site, (status, detail) in zip(sites, results):
            components.append({"component": site["name"], "status": status,
                               "detail": detail})
    overall = "ok" if all(c["status"] == "ok" for c in components) \
        else "degraded"
    return util.json_response(req, {"health": {
        "status": overall, "components": components}})

"""Keep every registered site's ``status`` current (``site list``:
active, unreachable, error; doc/engine.md, "Site status"), not only when
someone runs ``site validate``.

protector-engine runs this at start and then every ``[engine]
site_check_interval`` seconds. The check is the cheap one of
``cloud/probe.check``: GETs of the site's Keystone root and of its
protector-api's versions document (at its ``protector_url``), each bounded
by a short timeout and tried once, sites in parallel. The engine holds no
token of another site, so a site without a ``protector_url`` is judged by
its Keystone alone.

A site that ``site validate`` put in ``error`` (Nova, Cinder or Neutron
failing) stays there when this check finds nothing wrong: those services
are beyond what it looks at, so only the next validate clears them. An
error this check found itself (its reason starts with ``REASON_PREFIX``)
it clears itself.
"""
from oslo_log import log as logging

from protector.cloud import probe
from protector.common import fanout
from protector.db import site_status as status_db
from protector.db import sites as sites_db

LOG = logging.getLogger(__name__)
REASON_PREFIX = "protector-engine check: "
# probe.check's states -> site statuses. "unchecked": Keystone answers and
# nothing else could be looked at.
STATUS = {"ok": "active", "unchecked": "active",
          "unreachable": "unreachable", "error": "error"}


def _check(site):
    try:
        return probe.check(site)
    except Exception:  # one odd site must not stop the others
        LOG.exception("Checking site %s failed", site["name"])
        return None


def _verdict(site, state, detail):
    """(status, reason) to write, or None to leave the row alone."""
    status = STATUS[state]
    reason = None if state == "ok" else REASON_PREFIX + detail
    if status == "active" and site["status"] == "error" and \
            not (site["status_reason"] or "").startswith(REASON_PREFIX):
        return None
    return status, reason


def run(ctx):
    """Check every site; return {site name: status} of those written."""
    sites = sites_db.list_all(ctx)
    if not sites:
        return {}
    results = fanout.run(_check, sites, 8)
    written = {}
    for site, result in zip(sites, results):
        verdict = result and _verdict(site, *result)
        if not verdict:
            continue
        status, reason = verdict
        if not status_db.record(ctx, site["id"],
                                (site["status"], site["status_reason"]),
                                status, reason):
            continue  # changed (a validate) or deleted meanwhile
        written[site["name"]] = status
        if status != site["status"]:
            log = LOG.info if status == "active" else LOG.warning
            log("Site %s is now %s (was %s)%s", site["name"], status,
                site["status"], ": %s" % reason if reason else "")
    return written

"""Keep every protection group's RPO state cached for the list of groups
(doc/engine.md, "RPO check"; doc/api-ref.md, microversion 1.5).

``protection-group show`` computes the RPO state live
(``storage/rpo.status``: the replication lag the storage driver reads on
the arrays, against the policy's ``rpo_minutes``); a list cannot ask the
arrays per row. protector-engine runs this at start and then every
``[engine] rpo_check_interval`` seconds: the same ``rpo.status`` for every
group of this site's database (every project) that has a replication
policy and is neither being created nor deleted, groups in parallel
(``FANOUT`` at a time; each probe has the driver's short timeouts), and
writes each result to ``group_rpo_status`` (``db/rpo_status.py``).

One group whose check fails in an unexpected way is recorded ``unknown``
(with the error's type) and does not stop the others; a group deleted
meanwhile is skipped.
"""
from oslo_log import log as logging

from protector.common import fanout
from protector.db import rpo_status as rpo_db
from protector.storage import rpo

LOG = logging.getLogger(__name__)
# Groups probed at once (as the health report's RPO component).
FANOUT = 8


def _check(pair):
    group, policy = pair
    try:
        return rpo.status(group, policy)
    except Exception as exc:  # one odd group must not stop the others
        LOG.exception("RPO check of protection group %s failed",
                      group["id"])
        return {"rpo_status": "unknown", "replication_lag_seconds": None,
                "rpo_minutes": policy.get("rpo_minutes"),
                "rpo_detail": "RPO check failed: %s" % type(exc).__name__}


def run(ctx):
    """Check every group with a policy; return {group id: rpo_status} of
    those written."""
    pairs = rpo_db.targets(ctx)
    if not pairs:
        return {}
    before = rpo_db.get_many(ctx, [group["id"] for group, _ in pairs])
    results = fanout.run(_check, pairs, FANOUT)
    written = {}
    for (group, _), result in zip(pairs, results):
        try:
            if not rpo_db.record(ctx, group["id"], result):
                continue  # deleted (or being deleted) meanwhile
        except Exception:  # e.g. a lock wait: the next round writes it
            LOG.exception("Recording the RPO state of protection group %s "
                          "failed", group["id"])
            continue
        status = written[group["id"]] = result["rpo_status"]
        was = (before.get(group["id"]) or {}).get("rpo_status")
        if status != was and "breached" in (status, was):
            # Logged when it changes, not at every round.
            log = LOG.warning if status == "breached" else LOG.info
            log("Protection group %s (%s): RPO %s (was %s): %s",
                group["name"], group["id"], status, was or "not checked",
                result["rpo_detail"])
    return written

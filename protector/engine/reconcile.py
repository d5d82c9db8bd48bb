"""Finish or undo group creates and deletes that protector-api left half way.

``groups.create`` and ``groups.delete`` commit ``creating`` / ``deleting``
before they call another site or Cinder, and record their progress in
``status_reason``. An API process that stops in the middle leaves such a
row. A group of this site's database still ``creating`` or ``deleting``
``[engine] lifecycle_stale_after`` seconds after its last change is:

* ``creating`` -> ``error``: the peer was never told (the push is the
  last thing a create does and moves it to ``active`` in the same
  transaction); ``protection-group delete`` of an error group that was
  never synced removes what was made, on both sites, locally;
* ``deleting`` with the peer notified -> finished: this site's consistency
  group is deleted through the project's trust (the engine acts on its
  own cloud only), then the row. The peer site's Cinder group, if the API
  had not deleted it yet, is left (an empty group, logged);
* ``deleting`` without the peer notified -> back to ``active``: nothing
  was deleted; the user runs the delete again.

Every change is a conditional update on ``(status, updated_at)`` as read,
so two engines (or a still-running API process) never both act.
"""
import datetime

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from protector.cloud import connection
from protector.cloud import sites
from protector.db import protection_groups as pg_db
from protector.db import sites as sites_db
from protector.db import trusts as trusts_db
from protector import exception
from protector.pgroups import groups
from protector import volume_groups

LOG = logging.getLogger(__name__)


def run(ctx, stale_after, host="protector-engine"):
    """Reconcile every stale group; returns {pg_id: what was done}."""
    before = timeutils.utcnow() - datetime.timedelta(seconds=stale_after)
    done = {}
    for pg in pg_db.stale_lifecycle(ctx, before):
        try:
            if pg["status"] == "creating":
                what = _interrupted_create(ctx, pg, stale_after)
            elif (pg["status_reason"] or "").startswith(
                    groups.PEER_NOTIFIED):
                what = _finish_delete(ctx, pg, stale_after, host)
            else:
                what = _undo_delete(ctx, pg, stale_after)
        except Exception:  # one group must not stop the others
            LOG.exception("Reconciling protection group %s (%s) failed; "
                          "trying again later", pg["id"], pg["status"])
            what = "failed"
        done[pg["id"]] = what
    return done


def _expect(pg):
    return {"status": pg["status"], "updated_at": pg["updated_at"]}


def _interrupted_create(ctx, pg, stale_after):
    cg = pg_db.get_consistency_group(ctx, pg["id"]) or {}
    made = [i for i in (cg.get("primary_cg_id"), cg.get("secondary_cg_id"))
            if i]
    reason = (
        "create was interrupted (still 'creating' after %d s; the "
        "protector-api process creating it stopped) and the peer site was "
        "never told. 'openstack dr protection-group delete %s' removes "
        "what it made (consistency groups recorded: %s; a Cinder group "
        "'pg-%s-cg' made just before the interruption may be left, check "
        "both sites), then create the group again." % (
            stale_after, pg["name"], ", ".join(made) or "none", pg["name"]))
    if not pg_db.set_values(ctx, pg["id"], {"status": "error",
                                            "status_reason": reason},
                            expect=_expect(pg)):
        return "changed meanwhile"
    LOG.warning("Protection group %s (%s): create interrupted; marked "
                "'error' (delete it to remove what was made)", pg["id"],
                pg["name"])
    return "error"


def _undo_delete(ctx, pg, stale_after):
    reason = (
        "delete was interrupted before the peer site accepted it (still "
        "'deleting' after %d s); nothing was deleted on this site. Run "
        "'openstack dr protection-group delete %s' again." % (
            stale_after, pg["name"]))
    if not pg_db.set_values(ctx, pg["id"], {"status": "active",
                                            "status_reason": reason},
                            expect=_expect(pg)):
        return "changed meanwhile"
    LOG.warning("Protection group %s (%s): delete interrupted before the "
                "peer was told; back to 'active'", pg["id"], pg["name"])
    return "active"


def _local_site(ctx, pg):
    primary = sites_db.get(ctx, pg["primary_site_id"])
    secondary = sites_db.get(ctx, pg["secondary_site_id"])
    try:
        return sites.local_site([primary, secondary])
    except (exception.LocalSiteUnknown, cfg.NoSuchOptError):
        # No [DEFAULT] site_name and no [keystone_authtoken] to compare:
        # the peer is the site the group last synced with.
        peer_id = (pg.get("sync") or {}).get("peer_site_id")
        if peer_id not in (primary["id"], secondary["id"]):
            raise
        return secondary if peer_id == primary["id"] else primary


def driver(ctx, site, project_id):
    """This site's group driver acting through the project's trust."""
    def cloud():
        trust_id = trusts_db.find(ctx, site["id"], project_id)
        if not trust_id:
            raise exception.TrustNotFound(project=project_id,
                                          site=site["name"])
        return connection.SiteCloud.from_trust(site, trust_id)
    return volume_groups.for_site(site, cloud)


def _finish_delete(ctx, pg, stale_after, host):
    # Claim it (a new updated_at): another engine reading the same row
    # finds its expectation gone and leaves it.
    claim = "%s; finishing (protector-engine %s)" % (groups.PEER_NOTIFIED,
                                                     host)
    if not pg_db.set_values(ctx, pg["id"], {"status_reason": claim},
                            expect=_expect(pg)):
        return "changed meanwhile"
    cg = pg_db.get_consistency_group(ctx, pg["id"]) or {}
    site = _local_site(ctx, pg)
    role = "primary" if site["id"] == pg["primary_site_id"] else "secondary"
    cg_id = cg.get(role + "_cg_id")
    if cg_id:
        try:
            driver(ctx, site, pg["project_id"]).delete_group(cg_id)
        except Exception as exc:
            message = getattr(exc, "message", str(exc))
            LOG.warning("Protection group %s: deleting consistency group "
                        "%s on site %s failed (%s); trying again in %d s",
                        pg["id"], cg_id, site["name"], message, stale_after)
            pg_db.set_values(ctx, pg["id"], {
                "status_reason": "%s; deleting consistency group %s on "
                "site %s failed: %s; protector-engine tries again every "
                "%d s" % (groups.PEER_NOTIFIED, cg_id, site["name"],
                          message, stale_after)},
                expect={"status": "deleting"})
            return "retry"
    other = cg.get(("secondary" if role == "primary" else "primary") +
                   "_cg_id")
    pg_db.delete(ctx, pg["id"])
    LOG.warning("Protection group %s (%s): finished the interrupted delete "
                "(consistency group %s on site %s deleted; the peer site's "
                "group %s, if still there, is empty and can be deleted in "
                "its Cinder)", pg["id"], pg["name"], cg_id or "-",
                site["name"], other or "-")
    return "deleted"

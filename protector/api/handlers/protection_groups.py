"""Protection groups (doc/api-ref.md): CRUD, consistency group, metadata sync.

The handlers check policy and input; ``protector.pgroups`` applies changes
on both sites or on neither.
"""
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from protector.api.schemas import protection_groups as schema
from protector.api import paging
from protector.api import util
from protector.common import times
from protector.db import protection_groups as db
from protector.db import replication_policies as policy_db
from protector.db import rpo_status as rpo_db
from protector import exception
from protector.pgroups import groups
from protector.pgroups import remedies
from protector.storage import rpo

LOG = logging.getLogger(__name__)
NOT_CHECKED = "not checked yet"


def serialize(pg, ctx=None, version=None):
    """The API form of a group; with ``ctx``, ``next_action`` (what to run
    next, from its status and latest operation: pgroups/remedies.py);
    ``version``: the request's microversion (``tier_delay`` from 1.4;
    from 1.5 the cached RPO state of a listed group, whose dict carries
    ``rpo_cache``: list_groups)."""
    sync = pg.get("sync") or {}
    data = {k: pg[k] for k in (
        "id", "project_id", "name", "description", "status",
        "status_reason", "replication_type", "primary_site_id",
        "primary_site", "secondary_site_id", "secondary_site",
        "current_primary_site_id", "current_primary_site", "volume_type_id",
        "volume_type_name", "consistency_group_id", "member_count",
        "failover_count", "metadata_version")}
    # Additive, every microversion (as next_action): the type chosen on
    # the secondary site, which may have another name (doc/api-ref.md).
    data["secondary_volume_type_id"] = pg["remote_volume_type_id"]
    data["last_failover_at"] = times.isotime(pg["last_failover_at"])
    data["created_at"] = times.isotime(pg["created_at"])
    data["updated_at"] = times.isotime(pg["updated_at"])
    data["remote_sync_status"] = sync.get("status")
    data["remote_sync_version"] = sync.get("remote_version")
    # A list reads every group's latest operation at once (list_groups).
    latest = pg["latest_operation"] if "latest_operation" in pg else \
        db.latest_operation(ctx, pg) if ctx is not None else None
    data["next_action"] = remedies.next_action(
        pg, latest,
        cfg.CONF.engine.lifecycle_stale_after) if ctx is not None else None
    if version is not None and version.matches(schema.TIER_DELAY_VERSION):
        data["tier_delay"] = pg["tier_delay"]
    if "rpo_cache" in pg and version is not None and \
            version.matches(schema.RPO_LIST_VERSION):
        data.update(_cached_rpo(pg))
    return data


def _cached_rpo(pg):
    """The list's RPO fields (1.5): the group's last RPO check as the
    engine's periodic check or a show stored it (db/rpo_status.py)."""
    cached = pg["rpo_cache"]
    if not pg.get("has_policy"):
        # As show says; a row left from a deleted policy is stale.
        return {"rpo_status": "unknown", "rpo_detail":
                "no replication policy", "replication_lag_seconds": None,
                "rpo_checked_at": None}
    if cached is None:
        return {"rpo_status": "unknown", "rpo_detail": NOT_CHECKED,
                "replication_lag_seconds": None, "rpo_checked_at": None}
    return {"rpo_status": cached["rpo_status"],
            "rpo_detail": cached["rpo_detail"],
            "replication_lag_seconds": cached["replication_lag_seconds"],
            "rpo_checked_at": times.isotime(cached["checked_at"])}


def list_groups(req):
    util.authorize(req, "protector:protection_groups:index")
    filters = {k: req.GET[k] for k in ("name", "status") if k in req.GET}
    limit, marker = paging.params(req)
    rows = db.list_all(req.context, req.tenant_id, filters, limit=limit,
                       marker=marker)
    latest = db.latest_operations(req.context, rows)
    # The RPO state of the whole page in one read (1.5): the list cannot
    # ask the arrays per row; the engine keeps it current.
    cache = rpo_db.get_many(req.context, [r["id"] for r in rows]) \
        if req.microversion.matches(schema.RPO_LIST_VERSION) and rows \
        else None
    for row in rows:
        row["latest_operation"] = latest.get(row["id"])
        if cache is not None:
            row["rpo_cache"] = cache.get(row["id"])
    body = {"protection_groups": [serialize(r, req.context,
                                            req.microversion)
                                  for r in rows]}
    links = paging.links(req, rows, limit)
    if links is not None:
        body["protection_groups_links"] = links
    return util.json_response(req, body)


def show_group(req):
    util.authorize(req, "protector:protection_groups:show")
    pg = db.get(req.context, req.tenant_id, req.urlvars["pg"])
    data = serialize(pg, req.context, req.microversion)
    # Replication lag against the policy's RPO (asks the arrays; the list
    # shows the last result, which this one refreshes).
    policy = policy_db.get(req.context, pg["id"])
    result = rpo.status(pg, policy)
    data.update(result)
    checked_at = timeutils.utcnow()
    if policy is not None:
        try:
            rpo_db.record(req.context, pg["id"], result, checked_at)
        except Exception:  # the cache only; never fail a show over it
            LOG.exception("Caching the RPO state of protection group %s "
                          "failed", pg["id"])
    if req.microversion.matches(schema.RPO_LIST_VERSION):
        data["rpo_checked_at"] = times.isotime(checked_at)
    return util.json_response(req, {"protection_group": data})


def create_group(req):
    util.authorize(req, "protector:protection_groups:create")
    body = util.extract_json(req, schema.CREATE)["protection_group"]
    _check_tier_delay(req, body)
    pg = groups.create(util.caller(req), body)
    location = "%s/%s" % (req.path_url.rstrip("/"), pg["id"])
    return util.json_response(req, {"protection_group": serialize(
        pg, req.context, req.microversion)}, status=201,
        headers={"Location": location})


def update_group(req):
    util.authorize(req, "protector:protection_groups:update")
    _reject_immutable(req)
    body = util.extract_json(req, schema.UPDATE)["protection_group"]
    _check_tier_delay(req, body)
    pg = groups.update(util.caller(req), req.urlvars["pg"], body)
    return util.json_response(req, {"protection_group": serialize(
        pg, req.context, req.microversion)})


def _check_tier_delay(req, body):
    if "tier_delay" in body:
        util.require_microversion(req, schema.TIER_DELAY_VERSION,
                                  "'tier_delay'")
        body["tier_delay"] = int(body["tier_delay"])


def _reject_immutable(req):
    """Name the first read-only field before the schema's generic 400."""
    try:
        fields = req.json_body.get("protection_group") or {}
    except (ValueError, AttributeError, UnicodeDecodeError):
        return
    if isinstance(fields, dict):
        for field in schema.IMMUTABLE:
            if field in fields:
                raise exception.ProtectionGroupImmutable(field=field)


def delete_group(req):
    util.authorize(req, "protector:protection_groups:delete")
    groups.delete(util.caller(req), req.urlvars["pg"])
    return util.no_content()


def show_consistency_group(req):
    util.authorize(req, "protector:protection_groups:consistency_group")
    pg = db.get(req.context, req.tenant_id, req.urlvars["pg"])
    cg = db.get_consistency_group(req.context, pg["id"])
    if cg is None:
        raise exception.NotFound(
            "Protection group %s has no consistency group (status %s)." %
            (pg["name"], pg["status"]))
    data = {k: cg[k] for k in (
        "id", "protection_group_id", "name", "volume_type_id",
        "volume_type_name", "backend_name", "primary_cg_id",
        "secondary_cg_id", "status", "volume_count")}
    return util.json_response(req, {"consistency_group": data})


def sync_status(req):
    util.authorize(req, "protector:sync:status")
    # remote=0: this site's own view only (what a peer asks, so that it
    # never asks back).
    status = groups.sync_status(util.caller(req), req.urlvars["pg"],
                                ask_peer=req.GET.get("remote") != "0")
    return util.json_response(req, {"sync_status": status})


def sync_force(req):
    util.authorize(req, "protector:sync:force")
    if req.body:
        util.extract_json(req, schema.SYNC_FORCE)
    result = groups.force_sync(util.caller(req), req.urlvars["pg"])
    return util.json_response(req, {"sync_result": result})

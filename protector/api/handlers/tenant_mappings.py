"""Tenant mappings (seed 004): a project here <-> its project on a remote
site. A mapping created or deleted on one site is mirrored on the remote
site in the same request (with the peer token, signed: the peer's
``/internal/tenant-mappings``, ``api/handlers/internal.py``), or the
request fails and nothing changes; the mirrored copy keeps the same ID.
"""
from oslo_config import cfg

from protector.api.schemas import tenant_mappings as schema
from protector.api import util
from protector.db import api as db_api
from protector.db import sites as sites_db
from protector.db import tenant_mappings as db
from protector import exception
from protector.pgroups import peers


def serialize(mapping):
    return {
        "id": mapping["id"],
        "local_tenant": mapping["local_tenant"],
        "remote_site": mapping["remote_site"],
        "remote_site_id": mapping["remote_site_id"],
        "remote_tenant": mapping["remote_tenant"],
        "description": mapping["description"],
        "created_at": util.isotime(mapping["created_at"]),
    }


def list_mappings(req):
    util.authorize(req, "protector:tenant_mappings:index")
    rows = db.list_all(req.context, local_tenant=req.tenant_id,
                       limit=cfg.CONF.api.max_limit)
    return util.json_response(
        req, {"tenant_mappings": [serialize(m) for m in rows]})


def show_mapping(req):
    util.authorize(req, "protector:tenant_mappings:show")
    mapping = db.get(req.context, req.urlvars["mapping_id"],
                     local_tenant=req.tenant_id)
    return util.json_response(req, {"tenant_mapping": serialize(mapping)})


def create_mapping(req):
    body = util.extract_json(req, schema.CREATE)["tenant_mapping"]
    # Only the owner of the local project (or an admin) may map it.
    util.authorize(req, "protector:tenant_mappings:create",
                   {"project_id": body["local_tenant"]})
    if body["local_tenant"] != req.tenant_id:
        raise exception.Invalid(
            reason="local_tenant %s is not the project of the URL (%s)" %
            (body["local_tenant"], req.tenant_id))
    ctx = req.context
    remote = sites_db.get(ctx, body["remote_site_id"])
    values = dict(body, remote_site_id=remote["id"])
    # The peer knows this site by name: find which registered site
    # (other than the remote one) is this one.
    is_here = (remote["name"] == cfg.CONF.site_name) \
        if cfg.CONF.site_name else peers.tokens.is_local(remote)
    if is_here:
        raise exception.TenantMappingSiteIsLocal(site=remote["name"])
    local = peers.local_site([s for s in sites_db.list_all(ctx)
                              if s["id"] != remote["id"]])
    with db_api.transaction(ctx):
        mapping = db.create(ctx, values)
        peer = peers.resolve(req, body["local_tenant"], remote,
                             peer_project=body["remote_tenant"])
        peer.create_mapping({
            "id": mapping["id"], "local_tenant": body["remote_tenant"],
            "remote_site_id": local["name"],
            "remote_tenant": body["local_tenant"],
            "description": body.get("description")})
    location = "%s/%s" % (req.path_url.rstrip("/"), mapping["id"])
    return util.json_response(req, {"tenant_mapping": serialize(mapping)},
                              status=201, headers={"Location": location})


def delete_mapping(req):
    util.authorize(req, "protector:tenant_mappings:delete")
    ctx = req.context
    mapping = db.get(ctx, req.urlvars["mapping_id"],
                     local_tenant=req.tenant_id)
    remote = sites_db.get(ctx, mapping["remote_site_id"])
    with db_api.transaction(ctx):
        db.delete(ctx, mapping["id"])
        peer = peers.resolve(req, mapping["local_tenant"], remote,
                             peer_project=mapping["remote_tenant"])
        peer.delete_mapping(mapping["id"])
    return util.no_content()

"""Tenant mappings (doc/api-ref.md): a project here <-> its project on a remote
site. A mapping created or deleted on one site is mirrored on the remote
site in the same request (with the peer token, signed: the peer's
``/internal/tenant-mappings``, ``api/handlers/internal.py``), or the
request fails and nothing changes; the mirrored copy keeps the same ID
(``pgroups/mappings.py``).
"""
from oslo_config import cfg

from protector.api.schemas import tenant_mappings as schema
from protector.api import util
from protector.common import times
from protector.db import tenant_mappings as db
from protector.pgroups import mappings


def serialize(mapping):
    return {
        "id": mapping["id"],
        "local_tenant": mapping["local_tenant"],
        "remote_site": mapping["remote_site"],
        "remote_site_id": mapping["remote_site_id"],
        "remote_tenant": mapping["remote_tenant"],
        "description": mapping["description"],
        "created_at": times.isotime(mapping["created_at"]),
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
    mapping = mappings.create(util.caller(req), body)
    location = "%s/%s" % (req.path_url.rstrip("/"), mapping["id"])
    return util.json_response(req, {"tenant_mapping": serialize(mapping)},
                              status=201, headers={"Location": location})


def delete_mapping(req):
    util.authorize(req, "protector:tenant_mappings:delete")
    mappings.delete(util.caller(req), req.urlvars["mapping_id"])
    return util.no_content()

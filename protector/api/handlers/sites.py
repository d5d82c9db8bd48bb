"""Sites: the two OpenStack clouds Protector coordinates (seed 000)."""
from protector.api.schemas import sites as schema
from protector.api import util
from protector.db import sites as db

from oslo_config import cfg


def _serialize(req, site):
    data = {
        "id": site["id"],
        "name": site["name"],
        "description": site["description"],
        "site_type": site["site_type"],
        "auth_url": site["auth_url"],
        "region_name": site["region_name"],
        "protector_url": site["protector_url"],
        "status": site["status"],
        "capabilities": site["capabilities"],
        "created_at": util.isotime(site["created_at"]),
        "updated_at": util.isotime(site["updated_at"]),
    }
    if req.microversion.matches("1.2"):
        data["status_reason"] = site["status_reason"]
        data["last_checked_at"] = util.isotime(site["last_checked_at"])
    return data


def list_sites(req):
    util.authorize(req, "protector:sites:index")
    filters = {}
    for key in ("name", "site_type", "status"):
        if key in req.GET:
            filters[key] = req.GET[key]
    rows = db.list_all(req.context, filters,
                       limit=cfg.CONF.api.max_limit)
    return util.json_response(
        req, {"sites": [_serialize(req, s) for s in rows]})


def show_site(req):
    util.authorize(req, "protector:sites:show")
    site = db.get(req.context, req.urlvars["site_id"])
    return util.json_response(req, {"site": _serialize(req, site)})


def create_site(req):
    util.authorize(req, "protector:sites:create")
    body = util.extract_json(req, schema.CREATE)["site"]
    site = db.create(req.context, body)
    location = "%s/%s" % (req.path_url.rstrip("/"), site["id"])
    return util.json_response(req, {"site": _serialize(req, site)},
                              status=201, headers={"Location": location})


def delete_site(req):
    util.authorize(req, "protector:sites:delete")
    db.delete(req.context, req.urlvars["site_id"])
    return util.no_content()

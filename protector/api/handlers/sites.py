"""Sites: the two OpenStack clouds Protector coordinates (doc/api-ref.md)."""
from oslo_config import cfg
from oslo_utils import timeutils

from protector.api.schemas import sites as schema
from protector.api import util
from protector.cloud import auth
from protector.cloud import checks
from protector.cloud import connection
from protector.cloud import tokens
from protector.common import times
from protector.db import sites as db
from protector import exception
from protector.pgroups import pairing


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
        "created_at": times.isotime(site["created_at"]),
        "updated_at": times.isotime(site["updated_at"]),
    }
    if req.microversion.matches("1.2"):
        data["status_reason"] = site["status_reason"]
        data["last_checked_at"] = times.isotime(site["last_checked_at"])
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
    if "id" in body:
        # The peer site's ID, so that both sites hold the site under one
        # ID (the CLI's site create --secondary-cloud).
        if not req.microversion.matches(schema.ID_VERSION):
            raise exception.Invalid(
                reason="'id' needs microversion %s or later (send "
                "'OpenStack-API-Version: protector %s')" %
                (schema.ID_VERSION, schema.ID_VERSION))
        body["id"] = body["id"].lower()
    site = db.create(req.context, body)
    location = "%s/%s" % (req.path_url.rstrip("/"), site["id"])
    return util.json_response(req, {"site": _serialize(req, site)},
                              status=201, headers={"Location": location})


def delete_site(req):
    util.authorize(req, "protector:sites:delete")
    db.delete(req.context, req.urlvars["site_id"])
    return util.no_content()


def pair_site(req):
    """Make a new pairing key with the peer site (rotating any old one);
    needs an admin token of that site (X-Protector-Peer-Token)."""
    util.authorize(req, "protector:sites:pair")
    if req.body:
        util.extract_json(req, {"type": "object", "maxProperties": 0})
    key = pairing.pair(util.caller(req), req.urlvars["site_id"])
    return util.json_response(req, {"site_key": key})


def validate_site(req):
    util.authorize(req, "protector:sites:validate")
    site = db.get(req.context, req.urlvars["site_id"])
    token = tokens.token_for(util.caller(req), site)
    try:
        cloud = connection.SiteCloud(site, auth.token_plugin(site, token))
    except exception.SiteUnreachable as exc:
        report = {"site": site["name"], "reachable": False,
                  "services": {"keystone": "UNREACHABLE: %s" % exc.message,
                               "nova": "NOT CHECKED",
                               "cinder": "NOT CHECKED",
                               "neutron": "NOT CHECKED"},
                  "replicated_volume_types": [], "capabilities": {}}
        status, reason = "unreachable", exc.message
    else:
        report, status, reason = checks.validate(cloud)
    values = {"status": status, "status_reason": reason,
              "last_checked_at": timeutils.utcnow()}
    if report["capabilities"]:
        values["capabilities"] = dict(
            report["capabilities"],
            replicated_volume_types=report["replicated_volume_types"])
    db.update(req.context, site["id"], values)
    report["status"] = status
    return util.json_response(req, {"validation": report})


def list_volume_types(req):
    util.authorize(req, "protector:sites:list_volume_types")
    site = db.get(req.context, req.urlvars["site_id"])
    cloud = tokens.cloud_for(util.caller(req), site)
    types = checks.replicated_volume_types(cloud)
    return util.json_response(req, {"volume_types": types})

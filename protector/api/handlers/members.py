"""Members of a protection group: the Nova instances it protects."""
from protector.api.schemas import members as schema
from protector.api import util
from protector.common import times
from protector.db import members as db
from protector.db import protection_groups as pg_db
from protector.pgroups import members


def serialize(req, member):
    volumes = [{"volume_id": v["volume_id"], "name": v["volume_name"],
                "size_gb": v["size_gb"], "device": v["device"],
                "bootable": v["bootable"]} for v in member["volumes"]]
    data = {
        "id": member["id"],
        "protection_group_id": member["protection_group_id"],
        "instance_id": member["instance_id"],
        "instance_name": member["instance_name"],
        "status": member["status"],
        "volumes_added": len(volumes),
        "volume_count": len(volumes),
        "volumes": volumes,
        "created_at": times.isotime(member["created_at"]),
    }
    if req.microversion.matches(schema.PRIORITY_VERSION):
        data["priority"] = member["priority"]
    return data


def list_members(req):
    util.authorize(req, "protector:members:index")
    pg = pg_db.get(req.context, req.tenant_id, req.urlvars["pg"])
    rows = db.list_all(req.context, pg["id"])
    return util.json_response(
        req, {"members": [serialize(req, m) for m in rows]})


def show_member(req):
    util.authorize(req, "protector:members:show")
    pg = pg_db.get(req.context, req.tenant_id, req.urlvars["pg"])
    member = db.get(req.context, pg["id"], req.urlvars["member_id"])
    return util.json_response(req, {"member": serialize(req, member)})


def add_member(req):
    util.authorize(req, "protector:members:create")
    body = util.extract_json(req, schema.CREATE)["member"]
    if "priority" in body:
        util.require_microversion(req, schema.PRIORITY_VERSION,
                                  "'priority'")
        body["priority"] = int(body["priority"])
    member = members.add(util.caller(req), req.urlvars["pg"], body)
    location = "%s/%s" % (req.path_url.rstrip("/"), member["id"])
    return util.json_response(req, {"member": serialize(req, member)},
                              status=201, headers={"Location": location})


def update_member(req):
    """Change a member's boot tier (``priority``) on both sites."""
    util.authorize(req, "protector:members:update")
    util.require_microversion(req, schema.PRIORITY_VERSION,
                              "changing a member")
    body = util.extract_json(req, schema.UPDATE)["member"]
    member = members.set_priority(util.caller(req), req.urlvars["pg"],
                                  req.urlvars["member_id"],
                                  int(body["priority"]))
    return util.json_response(req, {"member": serialize(req, member)})


def remove_member(req):
    util.authorize(req, "protector:members:delete")
    members.remove(util.caller(req), req.urlvars["pg"],
                   req.urlvars["member_id"])
    return util.no_content()

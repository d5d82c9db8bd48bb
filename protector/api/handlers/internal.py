"""Internal endpoints: called by the peer site's Protector only.

``/v1/{tenant_id}/internal/...``: the metadata push, the source-site
sub-operations of a planned failover/failback, the tenant-mapping mirror,
and the receiving half of site pairing. Each call but the pairing itself
must be signed with the two sites' pairing key (``common/peer_auth.py``);
a project member who forges one gets 403 and nothing changes. The user's
token still decides whose request it is: keystonemiddleware, the tenant
check and each route's own policy rule (``protector:internal:*``) run as
for any request. Documented as internal in doc/api-ref.md.
"""
import jsonschema

from protector.api.handlers import operations as ops_handlers
from protector.api.handlers import tenant_mappings as tm_handlers
from protector.api.schemas import protection_groups as pg_schema
from protector.api.schemas import sites as site_schema
from protector.api.schemas import tenant_mappings as tm_schema
from protector.api import util
from protector.common import peer_auth
from protector.db import sites as sites_db
from protector.dr import subops
from protector import exception
from protector.pgroups import groups
from protector.pgroups import mappings
from protector.pgroups import pairing


def _signed_by(req):
    """The caller, with the peer site that signed ``req`` (403 if none
    did)."""
    path = req.path_info + ("?" + req.query_string if req.query_string
                            else "")
    site_id = pairing.verify(
        req.context, req.method, path, req.body,
        req.headers.get("X-Auth-Token"), req.headers.get(peer_auth.HEADER))
    return util.caller(req, peer_site=sites_db.get(req.context, site_id))


def _check(value, schema, what):
    """400 naming where in the pushed ``what`` the value is wrong."""
    try:
        util.validate(value, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise exception.Invalid(reason="metadata %s %s: %s" % (
            what, where or "", exc.message))


def receive_metadata(req):
    caller = _signed_by(req)
    util.authorize(req, "protector:internal:metadata")
    body = util.extract_json(req, pg_schema.METADATA)["metadata"]
    if not util.is_uuid(req.urlvars["pg"]):
        raise exception.Invalid(reason="a metadata push names the group by "
                                "its UUID")
    delta = [k for k in pg_schema.DELTA_KEYS if k in body]
    if "document" in body:
        if delta:
            raise exception.Invalid(reason="a metadata push carries either "
                                    "'document' or a delta (%s), not both" %
                                    ", ".join(pg_schema.DELTA_KEYS))
        if not body["document"].get("deleted"):
            _check(body["document"], pg_schema.DOCUMENT, "document")
    elif len(delta) != len(pg_schema.DELTA_KEYS):
        raise exception.Invalid(reason="a metadata push carries 'document', "
                                "or a delta with all of %s" %
                                ", ".join(pg_schema.DELTA_KEYS))
    else:
        # Only what the delta carries: O(1) in the group's size.
        _check(body["group"], pg_schema.GROUP, "group")
        for index, member in enumerate(body["members"]):
            _check(member, pg_schema.MEMBER, "members/%d" % index)
    result = groups.receive(caller.context, caller.tenant_id,
                            req.urlvars["pg"], body, caller.peer_site)
    return util.json_response(req, {"metadata": result})


def start_sub_operation(req):
    """The source-site half of the peer's planned failover/failback:
    202 when queued, 200 with the existing sub-operation of that parent."""
    caller = _signed_by(req)
    util.authorize(req, "protector:internal:sub_operation")
    body = util.extract_json(req, {
        "type": "object",
        "properties": {kind: subops.SCHEMA for kind in subops.TYPES},
        "minProperties": 1, "maxProperties": 1,
        "additionalProperties": False})
    kind = next(iter(body))
    op, created = subops.start(caller, req.urlvars["pg"], kind, body[kind])
    location = "%s/v1/%s/operations/%s" % (req.host_url, req.tenant_id,
                                           op["id"])
    return util.json_response(
        req, {"operation": ops_handlers.serialize(req, op)},
        status=202 if created else 200, headers={"Location": location})


def push_to_caller(req):
    """The stale site's sync-force found this site ahead: push this
    site's document to it (the caller's token for it comes along in
    X-Protector-Peer-Token)."""
    caller = _signed_by(req)
    util.authorize(req, "protector:internal:metadata")
    if req.body:
        util.extract_json(req, {"type": "object", "maxProperties": 0})
    result = groups.force_sync(caller, req.urlvars["pg"], pull=False)
    return util.json_response(req, {"sync_result": result})


def mirror_mapping(req):
    """The mirror of a tenant mapping created on the peer (same ID)."""
    caller = _signed_by(req)
    body = util.extract_json(req, tm_schema.MIRROR)["tenant_mapping"]
    util.authorize(req, "protector:internal:tenant_mapping",
                   {"project_id": body["local_tenant"]})
    mapping = mappings.mirror(caller, body)
    return util.json_response(
        req, {"tenant_mapping": tm_handlers.serialize(mapping)}, status=201)


def unmirror_mapping(req):
    caller = _signed_by(req)
    util.authorize(req, "protector:internal:tenant_mapping")
    mappings.unmirror(caller, req.urlvars["mapping_id"])
    return util.no_content()


def install_site_key(req):
    """The receiving half of ``POST /sites/{site}/pair`` on the other
    site: an admin's token of this site authorizes it (the pairing is what
    later signed calls are checked against, so it cannot be signed)."""
    util.authorize(req, "protector:sites:pair")
    body = util.extract_json(req, site_schema.SITE_KEY)["site_key"]
    key = pairing.install(req.context, req.urlvars["site"], body["key_id"],
                          body["secret"])
    return util.json_response(req, {"site_key": pairing.serialize(key)})

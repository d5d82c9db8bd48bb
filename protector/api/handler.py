"""The route table of protector-api and the dispatcher.

Every URL and verb is in ROUTE_DECLARATIONS. A path that exists but lacks
the verb gets 405 with an ``Allow`` header; an unknown path gets 404. Every
handler under ``/v1/{tenant_id}`` is called after the tenant check.
"""
import re

from oslo_db import exception as db_exc
import routes
import webob.dec

from protector.api import errors
from protector.api.handlers import health
from protector.api.handlers import internal
from protector.api.handlers import members
from protector.api.handlers import operations
from protector.api.handlers import preflight
from protector.api.handlers import protection_groups as pgs
from protector.api.handlers import replication_policies as policies
from protector.api.handlers import root
from protector.api.handlers import sites
from protector.api.handlers import tenant_mappings
from protector.api import util
from protector.db import api as db_api
from protector import exception

# Keystone project IDs (the URL's tenant_id is stored as a project ID).
TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DASHED_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

ROUTE_DECLARATIONS = {
    "/": {
        "GET": root.home,
    },
    "/v1/{tenant_id}/sites": {
        "GET": sites.list_sites,
        "POST": sites.create_site,
    },
    "/v1/{tenant_id}/sites/{site_id}": {
        "GET": sites.show_site,
        "DELETE": sites.delete_site,
    },
    "/v1/{tenant_id}/sites/{site_id}/validate": {
        "POST": sites.validate_site,
    },
    "/v1/{tenant_id}/sites/{site_id}/pair": {
        "POST": sites.pair_site,
    },
    "/v1/{tenant_id}/sites/{site_id}/volume-types": {
        "GET": sites.list_volume_types,
    },
    "/v1/{tenant_id}/protection-groups": {
        "GET": pgs.list_groups,
        "POST": pgs.create_group,
    },
    "/v1/{tenant_id}/protection-groups/{pg}": {
        "GET": pgs.show_group,
        "PUT": pgs.update_group,
        "DELETE": pgs.delete_group,
    },
    "/v1/{tenant_id}/protection-groups/{pg}/consistency-group": {
        "GET": pgs.show_consistency_group,
    },
    "/v1/{tenant_id}/protection-groups/{pg}/sync-status": {
        "GET": pgs.sync_status,
    },
    "/v1/{tenant_id}/protection-groups/{pg}/sync-force": {
        "POST": pgs.sync_force,
    },
    "/v1/{tenant_id}/protection-groups/{pg}/members": {
        "GET": members.list_members,
        "POST": members.add_member,
    },
    "/v1/{tenant_id}/protection-groups/{pg}/members/{member_id}": {
        "GET": members.show_member,
        "PUT": members.update_member,
        "DELETE": members.remove_member,
    },
    "/v1/{tenant_id}/tenant-mappings": {
        "GET": tenant_mappings.list_mappings,
        "POST": tenant_mappings.create_mapping,
    },
    "/v1/{tenant_id}/tenant-mappings/{mapping_id}": {
        "GET": tenant_mappings.show_mapping,
        "DELETE": tenant_mappings.delete_mapping,
    },
    "/v1/{tenant_id}/protection-groups/{pg}/policy": {
        "GET": policies.show_policy,
        "PUT": policies.put_policy,
    },
    "/v1/{tenant_id}/protection-groups/{pg}/action": {
        "POST": operations.group_action,
    },
    "/v1/{tenant_id}/protection-groups/{pg}/preflight": {
        "POST": preflight.group_preflight,
    },
    "/v1/{tenant_id}/operations": {
        "GET": operations.list_operations,
    },
    "/v1/{tenant_id}/operations/{operation_id}": {
        "GET": operations.show_operation,
    },
    "/v1/{tenant_id}/operations/{operation_id}/action": {
        "POST": operations.operation_action,
    },
    "/v1/{tenant_id}/health": {
        "GET": health.show_health,
    },
    # Internal: the peer site's Protector only (signed; doc/api-ref.md).
    "/v1/{tenant_id}/internal/protection-groups/{pg}/metadata": {
        "PUT": internal.receive_metadata,
    },
    "/v1/{tenant_id}/internal/protection-groups/{pg}/push": {
        "POST": internal.push_to_caller,
    },
    "/v1/{tenant_id}/internal/protection-groups/{pg}/sub-operations": {
        "POST": internal.start_sub_operation,
    },
    "/v1/{tenant_id}/internal/tenant-mappings": {
        "POST": internal.mirror_mapping,
    },
    "/v1/{tenant_id}/internal/tenant-mappings/{mapping_id}": {
        "DELETE": internal.unmirror_mapping,
    },
    "/v1/{tenant_id}/internal/site-keys/{site}": {
        "PUT": internal.install_site_key,
    },
}


def _method_not_allowed(allowed):
    def handler(req):
        return errors.error_response(
            req.environ, 405, "protector.request.method_not_allowed",
            "Method %s is not allowed here; use one of: %s." %
            (req.method, ", ".join(allowed)),
            headers={"Allow": ", ".join(allowed)})
    return handler


def make_map(declarations):
    mapper = routes.Mapper()
    for path, methods in declarations.items():
        for method, function in methods.items():
            mapper.connect(path, action=function,
                           conditions={"method": [method]})
        mapper.connect(path, action=_method_not_allowed(sorted(methods)))
    return mapper


class Dispatcher:
    """Find the handler for a request and call it, mapping exceptions."""

    def __init__(self, declarations=None):
        self.mapper = make_map(declarations or ROUTE_DECLARATIONS)

    @webob.dec.wsgify(RequestClass=util.Request)
    def __call__(self, req):
        match = self.mapper.match(environ=req.environ)
        if match is None:
            return errors.error_response(
                req.environ, 404, "protector.request.not_found",
                "The resource %s does not exist." % req.path)
        handler = match.pop("action")
        for key, value in match.items():
            # IDs are lower-case UUIDs: an upper-case spelling finds the
            # same row on SQLite as it does on MariaDB.
            if key != "tenant_id" and DASHED_UUID.match(value):
                match[key] = value.lower()
        req.urlvars = match
        try:
            if "tenant_id" in match:
                if not TENANT.match(match["tenant_id"]):
                    raise exception.Invalid(
                        reason="'%s' is not a project ID (1-64 letters, "
                        "digits, '-' or '_')" % match["tenant_id"][:80])
                util.check_tenant(req)
            return handler(req)
        except exception.ProtectorException as exc:
            return errors.from_exception(req.environ, exc)
        except db_exc.DBError as exc:
            if not db_api.is_busy(exc):
                raise
            # Concurrent changes of one group serialise or answer 409,
            # never 500 (the transaction was rolled back).
            return errors.from_exception(req.environ,
                                         exception.DatabaseBusy())

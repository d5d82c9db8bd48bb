"""The OpenAPI 3.1 description of protector-api, built from the code.

Paths and verbs come from ``handler.ROUTE_DECLARATIONS``; request bodies
are the very JSON schemas the handlers validate with (``REQUEST_BODIES``);
errors are the API-WG document of ``errors.py``. ``tools/gen_openapi.py``
writes ``doc/api/openapi.yaml``; ``tests/unit/test_openapi.py`` fails when
the file is stale, when a route is missing, or when a handler validates
with a schema this table does not name, so the description cannot drift.
The fuzz tests (``tests/functional/test_fuzz.py``) drive the real API from
it. Prose and samples stay in doc/api-ref.md.
"""
import copy
import re

from protector.api import handler
from protector.api import microversion
from protector.api.schemas import members as member_schema
from protector.api.schemas import operations as op_schema
from protector.api.schemas import protection_groups as pg_schema
from protector.api.schemas import replication_policies as policy_schema
from protector.api.schemas import sites as site_schema
from protector.api.schemas import tenant_mappings as tm_schema
from protector.dr import subops

V1 = "/v1/{tenant_id}"
SUB_OPERATIONS = {
    "type": "object",
    "properties": {kind: subops.SCHEMA for kind in subops.TYPES},
    "minProperties": 1, "maxProperties": 1, "additionalProperties": False}
EMPTY = {"type": "object", "maxProperties": 0}

REQUEST_BODIES = {
    (V1 + "/sites", "POST"): site_schema.CREATE,
    (V1 + "/sites/{site_id}/pair", "POST"): EMPTY,
    (V1 + "/protection-groups", "POST"): pg_schema.CREATE,
    (V1 + "/protection-groups/{pg}", "PUT"): pg_schema.UPDATE,
    (V1 + "/protection-groups/{pg}/sync-force", "POST"):
        pg_schema.SYNC_FORCE,
    (V1 + "/protection-groups/{pg}/members", "POST"): member_schema.CREATE,
    (V1 + "/protection-groups/{pg}/members/{member_id}", "PUT"):
        member_schema.UPDATE,
    (V1 + "/protection-groups/{pg}/policy", "PUT"): policy_schema.PUT,
    (V1 + "/protection-groups/{pg}/action", "POST"): op_schema.ACTION,
    (V1 + "/protection-groups/{pg}/preflight", "POST"): op_schema.ACTION,
    (V1 + "/operations/{operation_id}/action", "POST"):
        op_schema.OPERATION_ACTION,
    (V1 + "/tenant-mappings", "POST"): tm_schema.CREATE,
    (V1 + "/internal/protection-groups/{pg}/metadata", "PUT"):
        pg_schema.METADATA,
    (V1 + "/internal/protection-groups/{pg}/push", "POST"): EMPTY,
    (V1 + "/internal/protection-groups/{pg}/sub-operations", "POST"):
        SUB_OPERATIONS,
    (V1 + "/internal/tenant-mappings", "POST"): tm_schema.MIRROR,
    (V1 + "/internal/site-keys/{site}", "PUT"): site_schema.SITE_KEY,
}

QUERY = {
    (V1 + "/sites", "GET"): ("name", "site_type", "status"),
    (V1 + "/protection-groups", "GET"): ("name", "status", "limit",
                                         "marker"),
    (V1 + "/operations", "GET"): ("protection_group_id", "status",
                                  "operation_type"),
    (V1 + "/protection-groups/{pg}/sync-status", "GET"): ("remote",),
}

# Path parameters: a name or a UUID where the API takes either.
PARAMETERS = {
    "tenant_id": {"type": "string", "pattern": handler.TENANT.pattern},
    "site_id": {"type": "string", "minLength": 1, "maxLength": 255},
    "site": {"type": "string", "minLength": 1, "maxLength": 255},
    "pg": {"type": "string", "minLength": 1, "maxLength": 255},
    "member_id": {"type": "string", "format": "uuid"},
    "operation_id": {"type": "string", "format": "uuid"},
    "mapping_id": {"type": "string", "format": "uuid"},
}

ERROR = {
    "type": "object",
    "properties": {"errors": {"type": "array", "minItems": 1, "items": {
        "type": "object",
        "properties": {
            "status": {"type": "integer"},
            "code": {"type": "string", "pattern": r"^protector\."},
            "title": {"type": "string"},
            "detail": {"type": "string"},
            "request_id": {"type": ["string", "null"]},
        },
        "required": ["status", "code", "title", "detail"]}}},
    "required": ["errors"],
}


def _summary(function):
    doc = (function.__doc__ or "").strip().splitlines()
    return doc[0] if doc else function.__name__.replace("_", " ")


def _operation(path, method, function):
    internal = "/internal/" in path
    op = {
        "operationId": "%s_%s" % (function.__module__.rsplit(".", 1)[-1],
                                  function.__name__),
        "summary": _summary(function),
        "tags": ["internal" if internal else
                 path.split("/")[3] if path.startswith(V1 + "/") else
                 "versions"],
        "responses": {
            "default": {"description": "An API-WG error",
                        "content": {"application/json": {
                            "schema": {"$ref":
                                       "#/components/schemas/Error"}}}},
        },
    }
    ok = {"description": "Success", "content": {"application/json": {
        "schema": {"type": "object"}}}}
    status = {"POST": "200", "PUT": "200", "GET": "200", "DELETE": "204"}[
        method]
    op["responses"][status] = ok if method != "DELETE" else {
        "description": "Deleted"}
    if method in ("POST",):
        op["responses"]["201"] = ok
        op["responses"]["202"] = ok
    params = [{"name": name, "in": "path", "required": True,
               "schema": copy.deepcopy(PARAMETERS[name])}
              for name in re.findall(r"{(\w+)}", path)]
    params += [{"name": name, "in": "query", "required": False,
                "schema": {"type": "string"}}
               for name in QUERY.get((path, method), ())]
    if path != "/":
        params.append({"name": microversion.HEADER, "in": "header",
                       "required": False, "schema": {
                           "type": "string",
                           "pattern": r"^protector \d+\.\d+$"}})
    if params:
        op["parameters"] = params
    body = REQUEST_BODIES.get((path, method))
    if body is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": copy.deepcopy(body)}}}
    if internal:
        op["description"] = ("Internal: for the peer site's Protector "
                             "only; signed with the sites' pairing key "
                             "(X-Protector-Peer-Signature, doc/api-ref.md)")
    if path != "/":
        op["security"] = [{"keystone": []}]
    return op


def document():
    """The OpenAPI document as a dict."""
    paths = {}
    for path, methods in handler.ROUTE_DECLARATIONS.items():
        paths[path] = {method.lower(): _operation(path, method, function)
                       for method, function in sorted(methods.items())}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Protector API", "version": "v1 (%s-%s)" % (
            microversion.MIN_VERSION_STRING, microversion.MAX_VERSION_STRING),
            "description": "Disaster-recovery orchestration for pairs of "
            "OpenStack clouds. Generated from the code by "
            "tools/gen_openapi.py; prose in doc/api-ref.md."},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"keystone": {
                "type": "apiKey", "in": "header", "name": "X-Auth-Token",
                "description": "A Keystone token scoped to tenant_id"}},
        },
    }

"""Errors in the OpenStack API-WG format.

Every error response has the body::

    {"errors": [{"status": 404, "code": "protector.site.not_found",
                 "title": "Not Found", "detail": "...",
                 "request_id": "req-..."}]}

Domain exceptions are mapped to HTTP statuses here and only here.
"""
import json

from oslo_log import log as logging
import webob

from protector import exception

LOG = logging.getLogger(__name__)

KIND_STATUS = {
    "invalid": 400,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "conflict": 409,
    "precondition": 412,
    "too_large": 413,
    "unsupported_media": 415,
    "unavailable": 503,
    "internal": 500,
}


def error_response(req_env, status, code, detail, headers=None):
    """A webob.Response carrying one API-WG error."""
    response = webob.Response(status=status, content_type="application/json",
                              charset="UTF-8")
    response.text = json.dumps({"errors": [{
        "status": status,
        "code": code,
        "title": response.status.split(" ", 1)[1],
        "detail": detail,
        "request_id": req_env.get("openstack.request_id"),
    }]})
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_exception(req_env, exc):
    status = KIND_STATUS.get(exc.kind, 500)
    return error_response(req_env, status, exc.code, exc.message)


class FaultWrapper:
    """Outermost guard: any unhandled exception becomes a JSON 500."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        try:
            return self.application(environ, start_response)
        except exception.ProtectorException as exc:
            return from_exception(environ, exc)(environ, start_response)
        except Exception:
            LOG.exception("Unexpected error handling %s %s",
                          environ.get("REQUEST_METHOD"),
                          environ.get("PATH_INFO"))
            response = error_response(
                environ, 500, "protector.internal_error",
                "An unexpected error occurred; the request ID above "
                "identifies it in the protector-api log.")
            return response(environ, start_response)

"""Helpers every handler uses: JSON in and out, schemas, tenant checks."""
import json

import jsonschema
from oslo_utils import uuidutils
import webob

from protector.api import microversion
from protector import exception
from protector import policy


class Request(webob.Request):
    """webob.Request with Protector's per-request state."""

    @property
    def context(self):
        return self.environ["protector.context"]

    @property
    def microversion(self):
        return self.environ.get(microversion.ENV_KEY,
                                microversion.MIN_VERSION)

    @property
    def tenant_id(self):
        return self.urlvars.get("tenant_id")


def json_response(req, body, status=200, headers=None):
    response = webob.Response(status=status, content_type="application/json",
                              charset="UTF-8")
    response.text = json.dumps(body)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def no_content():
    response = webob.Response(status=204)
    response.content_type = None
    return response


def check_tenant(req):
    """403 unless the token's project is the URL's or policy allows more."""
    ctx = req.context
    if ctx.project_id != req.tenant_id:
        if not policy.authorize(ctx, "protector:cross_project",
                                {"project_id": req.tenant_id},
                                do_raise=False):
            raise exception.ProjectMismatch(token_project=ctx.project_id,
                                            url_project=req.tenant_id)


def authorize(req, action, target=None):
    """Policy check against the URL's project (or a given target)."""
    target = target or {"project_id": req.tenant_id}
    policy.authorize(req.context, action, target)


def extract_json(req, schema):
    """Decode and validate the JSON body, or raise Invalid (400)."""
    if req.content_type != "application/json":
        raise UnsupportedMediaType(content_type=req.content_type or "none")
    try:
        data = json.loads(req.body.decode("utf-8") or "null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise exception.Invalid(reason="the body is not valid JSON (%s)" %
                                exc)
    try:
        jsonschema.validate(data, schema,
                            format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as exc:
        raise exception.Invalid(reason=_describe(exc))
    return data


def _describe(exc):
    where = "/".join(str(p) for p in exc.absolute_path)
    if where:
        return "field '%s': %s" % (where, exc.message)
    return exc.message


class UnsupportedMediaType(exception.ProtectorException):
    kind = "unsupported_media"
    code = "protector.request.unsupported_media_type"
    msg_fmt = ("Content type '%(content_type)s' is not supported: send "
               "'Content-Type: application/json'.")


def is_uuid(value):
    return uuidutils.is_uuid_like(value)


def isotime(value):
    """Render a naive UTC datetime the way the seeds do (...Z) or None."""
    if value is None:
        return None
    return value.replace(microsecond=0).isoformat() + "Z"

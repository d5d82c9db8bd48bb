"""Helpers every handler uses: JSON in and out, schemas, tenant checks."""
import json
from urllib import parse

import jsonschema
from oslo_utils import uuidutils
import webob

from protector.api import microversion
from protector import caller as caller_mod
from protector.cloud import tokens
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


def require_microversion(req, version, what):
    """400 (naming ``version``) unless the request's microversion is
    ``version`` or later; ``what`` says what needs it."""
    if not req.microversion.matches(version):
        raise exception.Invalid(
            reason="%s needs microversion %s or later (send "
            "'OpenStack-API-Version: protector %s')" % (what, version,
                                                        version))


def caller(req, peer_site=None):
    """The plain value the domain layer gets instead of the request:
    context, the URL's project, the peer token if any and (internal
    endpoints) the peer site that signed the request."""
    return caller_mod.Caller(
        context=req.context, tenant_id=req.tenant_id,
        peer_token=req.headers.get(tokens.PEER_TOKEN_HEADER) or None,
        peer_site=peer_site)


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


FORMAT_CHECKER = jsonschema.FormatChecker()


@FORMAT_CHECKER.checks("http-url", raises=ValueError)
def _http_url(value):
    if not isinstance(value, str):
        return True
    parts = parse.urlsplit(value)
    parts.port  # raises ValueError for a port out of range
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# Deeper than any body the API takes (a pushed document is ~6 levels).
MAX_DEPTH = 32
# Fields whose rejected values are never echoed back (nor logged).
SECRET_FIELDS = ("primary_fa_api_token", "secondary_fa_api_token",
                 "secret", "password", "token")


def extract_json(req, schema):
    """Decode and validate the JSON body, or raise Invalid (400)."""
    # Media types and charsets are case-insensitive (RFC 9110).
    if (req.content_type or "").lower() != "application/json":
        raise UnsupportedMediaType(content_type=req.content_type or "none")
    charset = (req.headers.get("Content-Type", "").lower()
               .partition("charset=")[2].split(";")[0].strip(' "'))
    if charset and charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(content_type=req.content_type +
                                   "; charset=" + charset)
    try:
        data = json.loads(req.body.decode("utf-8") or "null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise exception.Invalid(reason="the body is not valid JSON (%s)" %
                                exc)
    except RecursionError:
        raise exception.Invalid(reason="the JSON body is nested deeper than "
                                "%d levels" % MAX_DEPTH)
    _check_text(data)
    try:
        validate(data, schema)
    except jsonschema.ValidationError as exc:
        raise exception.Invalid(reason=_describe(exc))
    return data


# Compiled validators by id(schema), each with its schema (which keeps
# that id taken): jsonschema.validate() checks the schema itself on every
# call, ~18 ms for a pushed document's (doc/benchmarks.md). Bounded, for
# schemas a handler builds per request.
_VALIDATORS = {}


def validate(instance, schema):
    """As ``jsonschema.validate`` (the same best-matching error), with
    the schema checked and compiled once."""
    entry = _VALIDATORS.get(id(schema))
    if entry is None or entry[0] is not schema:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        entry = (schema, cls(schema, format_checker=FORMAT_CHECKER))
        if len(_VALIDATORS) < 256:
            _VALIDATORS[id(schema)] = entry
    error = jsonschema.exceptions.best_match(entry[1].iter_errors(instance))
    if error is not None:
        raise error


def _check_text(value, depth=0, where=""):
    """No nesting beyond MAX_DEPTH, and only valid Unicode text: JSON's
    ``\\ud800`` escapes decode to lone surrogates that no database (nor
    UTF-8) can store."""
    if depth > MAX_DEPTH:
        raise exception.Invalid(reason="the JSON body is nested deeper than "
                                "%d levels" % MAX_DEPTH)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise exception.Invalid(
                reason="field '%s' holds a lone UTF-16 surrogate "
                "(\\ud800-\\udfff), which is not valid text" % (
                    where or "/"))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, depth + 1, where)
            _check_text(item, depth + 1, "%s/%s" % (where, key)
                        if where else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_text(item, depth + 1, "%s/%d" % (where, i))


def _expected(exc):
    value = exc.validator_value
    return {
        "type": "is not of type %r" % (value,),
        "minItems": "has fewer than %r items" % (value,),
        "maxItems": "has more than %r items" % (value,),
        "minProperties": "has fewer than %r properties" % (value,),
        "maxProperties": "has more than %r properties" % (value,),
        "enum": "is not one of %r" % (value,),
    }.get(exc.validator, "is not valid here (%s)" % exc.validator)


def _describe(exc):
    path = [str(p) for p in exc.absolute_path]
    where = "/".join(path)
    # Messages of these name properties, never values.
    names_only = exc.validator in ("required", "additionalProperties")
    secret = not names_only and any(p in SECRET_FIELDS for p in path)
    message = exc.message
    if secret:
        # jsonschema's messages quote the rejected value: not for secrets.
        message = "the value is invalid (%s; not shown: it is a secret)" % (
            exc.validator)
    elif not names_only and isinstance(exc.instance, (dict, list)):
        # A whole object or list quoted back could carry a secret (or
        # megabytes): say what was expected instead.
        message = "%s %s" % ({"dict": "an object", "list": "a list"}[
            type(exc.instance).__name__], _expected(exc))
    if where:
        return "field '%s': %s" % (where, message)
    return message


class UnsupportedMediaType(exception.ProtectorException):
    kind = "unsupported_media"
    code = "protector.request.unsupported_media_type"
    msg_fmt = ("Content type '%(content_type)s' is not supported: send "
               "'Content-Type: application/json'.")


def is_uuid(value):
    return uuidutils.is_uuid_like(value)

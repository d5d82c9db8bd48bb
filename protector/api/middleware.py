"""WSGI middleware of protector-api (the stack is built in deploy.py)."""
from oslo_log import log as logging
import webob
import webob.dec

from protector.api import errors
from protector.api import microversion
from protector import context as protector_context
from protector import exception
from protector import policy

LOG = logging.getLogger(__name__)


class Microversion:
    """Parse the requested microversion; stamp every response with one."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        headers = {k[5:].replace("_", "-").title(): v
                   for k, v in environ.items() if k.startswith("HTTP_")}
        try:
            version = microversion.extract_version(headers)
        except exception.ProtectorException as exc:
            response = errors.from_exception(environ, exc)
            self._stamp(response.headers, microversion.MIN_VERSION)
            return response(environ, start_response)
        environ[microversion.ENV_KEY] = version

        def stamping_start_response(status, response_headers, exc_info=None):
            response_headers = [(k, v) for k, v in response_headers
                                if k.lower() not in ("openstack-api-version",
                                                     "vary")]
            response_headers.append(
                (microversion.HEADER, microversion.header_value(version)))
            response_headers.append(("Vary", microversion.HEADER))
            return start_response(status, response_headers, exc_info)

        return self.application(environ, stamping_start_response)

    @staticmethod
    def _stamp(headers, version):
        headers[microversion.HEADER] = microversion.header_value(version)
        headers["Vary"] = microversion.HEADER


class RootBypass:
    """Serve ``/`` (the versions document) without authentication."""

    def __init__(self, application, public_app):
        self.application = application
        self.public_app = public_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "") in ("", "/"):
            return self.public_app(environ, start_response)
        return self.application(environ, start_response)


class AuthErrorFormatter:
    """Rewrite keystonemiddleware's 401 body into the API-WG error format."""

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        response = req.get_response(self.application)
        if response.status_int == 401:
            formatted = errors.error_response(
                req.environ, 401, "protector.auth.unauthenticated",
                "Authentication required: send a valid Keystone token in "
                "the X-Auth-Token header.")
            if "WWW-Authenticate" in response.headers:
                formatted.headers["WWW-Authenticate"] = \
                    response.headers["WWW-Authenticate"]
            return formatted
        return response


class NoAuth:
    """Development only: trust ``X-Auth-Token: <user>:<project>``.

    Selected by ``[api] auth_strategy = noauth2``. The project ``admin``
    gets the admin role. Never use it where the API is reachable.
    """

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        token = req.headers.get("X-Auth-Token", "")
        if ":" not in token:
            return errors.error_response(
                req.environ, 401, "protector.auth.unauthenticated",
                "noauth2 mode: send 'X-Auth-Token: <user>:<project>'.")
        user_id, project_id = token.split(":", 1)
        roles = "admin,member,reader" if project_id == "admin" \
            else "member,reader"
        req.headers.update({"X-Identity-Status": "Confirmed",
                            "X-User-Id": user_id,
                            "X-Project-Id": project_id,
                            "X-Roles": roles})
        return req.get_response(self.application)


class Context:
    """Build the RequestContext from the headers auth_token verified."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        ctx = protector_context.RequestContext.from_environ(environ)
        ctx.is_admin = policy.check_is_admin(ctx)
        environ["protector.context"] = ctx
        return self.application(environ, start_response)


def json_body_limit(max_size):
    """Reject bodies over ``max_size`` bytes with 413, before reading them."""

    def factory(application):
        @webob.dec.wsgify
        def limit(req):
            if req.content_length is not None and \
                    req.content_length > max_size:
                return errors.error_response(
                    req.environ, 413, "protector.request.too_large",
                    "The request body is %d bytes; the limit is %d." %
                    (req.content_length, max_size))
            if req.content_length is None and req.body_file_raw is not None \
                    and req.method in ("POST", "PUT", "PATCH"):
                body = req.body_file.read(max_size + 1)
                if len(body) > max_size:
                    return errors.error_response(
                        req.environ, 413, "protector.request.too_large",
                        "The request body exceeds the limit of %d bytes." %
                        max_size)
                req.body = body
            return req.get_response(application)
        return limit
    return factory

"""WSGI middleware of protector-api (the stack is built in deploy.py)."""
import io
from urllib import parse

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


class VersionHeaders:
    """Every response carries ``OpenStack-API-Version`` and ``Vary``,
    also those made before the microversion was parsed or outside it
    (413 of the body limit, 400 of RequestSanity, 500 of FaultWrapper):
    the version the request asked for if it was parsed, else the
    minimum."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            if not any(k.lower() == "openstack-api-version"
                       for k, _ in headers):
                version = environ.get(microversion.ENV_KEY) or \
                    microversion.MIN_VERSION
                headers = list(headers) + [
                    (microversion.HEADER,
                     microversion.header_value(version)),
                    ("Vary", microversion.HEADER)]
            return start_response(status, headers, exc_info)
        return self.application(environ, start)


def _latin1_to_utf8(text):
    """WSGI hands over the URL as latin-1-decoded bytes."""
    return text.encode("latin-1").decode("utf-8")


class RequestSanity:
    """What must hold before any handler runs, answered 400 otherwise:

    * the logging context is this request's (a worker thread must not log
      this request under the previous one's ID and user);
    * the URL path and query string are UTF-8 (after %-decoding): a
      handler must never see text it cannot store;
    * a chunked body is read here, so a malformed one is a 400, not a
      500 from deep inside a handler;
    * HEAD is served as GET without the body (RFC 9110).
    """

    def __init__(self, application, max_body):
        self.application = application
        self.max_body = max_body

    def _refuse(self, environ, start_response, detail):
        response = errors.error_response(environ, 400,
                                         "protector.request.invalid", detail)
        return response(environ, start_response)

    def __call__(self, environ, start_response):
        protector_context.RequestContext(
            request_id=environ.get("openstack.request_id"), overwrite=True)
        try:
            _latin1_to_utf8(environ.get("PATH_INFO", ""))
            for part in environ.get("QUERY_STRING", "").split("&"):
                for item in part.split("="):
                    parse.unquote_to_bytes(item.replace("+", " ")).decode(
                        "utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return self._refuse(environ, start_response,
                                "The URL is not valid UTF-8 once its "
                                "%-escapes are decoded.")
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            try:
                body = environ["wsgi.input"].read(self.max_body + 1)
            except Exception as exc:  # the server's chunk parser
                LOG.info("Malformed chunked body: %s", exc)
                return self._refuse(environ, start_response,
                                    "The chunked request body is malformed.")
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        if environ.get("REQUEST_METHOD") == "HEAD":
            environ["REQUEST_METHOD"] = "GET"
            result = self.application(environ, start_response)
            if hasattr(result, "close"):
                result.close()
            return []
        return self.application(environ, start_response)


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
        if response.status_int >= 500 and not (
                response.content_type or "").endswith("json"):
            # keystonemiddleware's own answer (its HTML 503 when Keystone
            # cannot be reached to check the token).
            return errors.error_response(
                req.environ, 503, "protector.auth.unavailable",
                "The token could not be checked: this site's Keystone "
                "does not answer. Retry once it is back.")
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


# A client still sending its body when the 413 goes out gets a broken pipe
# (the server closes the connection) instead of the answer, depending on
# timing. A body up to this many times the limit is read and dropped
# first, so the client reads its 413 (nginx's "lingering close" does the
# same); a larger one is answered at once, unread.
DRAIN_FACTOR = 8
_CHUNK = 64 * 1024


def _drain(req, length):
    stream = req.body_file_raw
    while length > 0:
        chunk = stream.read(min(_CHUNK, length))
        if not chunk:
            return
        length -= len(chunk)


def json_body_limit(max_size):
    """Reject bodies over ``max_size`` bytes with 413, reading at most
    ``DRAIN_FACTOR`` times that (and keeping none of it)."""

    def factory(application):
        @webob.dec.wsgify
        def limit(req):
            if req.content_length is not None and \
                    req.content_length > max_size:
                if req.content_length <= DRAIN_FACTOR * max_size:
                    _drain(req, req.content_length)
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

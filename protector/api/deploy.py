"""Build the protector-api WSGI application and its middleware stack.

From the outside in, and why in this order:

1. HTTPProxyToWSGI - fix scheme/host first so every later link is right
   behind a TLS-terminating proxy.
2. RequestId - give the request its ID before anything can fail, so every
   error body and log line carries it.
3. VersionHeaders - ``OpenStack-API-Version``/``Vary`` on every response,
   errors made outside the microversion middleware included.
4. FaultWrapper - turn any unexpected exception below into a JSON 500.
4a. RequestSanity - a fresh logging context, UTF-8 URLs, a chunked body
   read (400 if malformed), HEAD served as GET without the body.
4b. body size limit - refuse oversized bodies before anyone reads them.
5. Microversion - parse the version header (400/406 before auth, like the
   other OpenStack services) and stamp it on every response, errors too.
6. RootBypass - ``/`` (versions) is public; everything else continues.
7. AuthErrorFormatter + auth_token - verify the Keystone token; 401s are
   rewritten into the API-WG error format.
8. Context - the RequestContext for handlers, with is_admin from policy.
9. Dispatcher - the route table (handler.py).
"""
from keystonemiddleware import auth_token
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id

from protector.api import errors
from protector.api import handler
from protector.api.handlers import root
from protector.api import middleware
from protector.db import api as db_api
from protector import policy


def deploy(conf):
    """Return the WSGI application configured by ``conf``."""
    db_api.configure(conf)
    policy.init(conf)

    app = handler.Dispatcher()
    app = middleware.Context(app)
    if conf.api.auth_strategy == "noauth2":
        app = middleware.NoAuth(app)
    else:
        app = auth_token.AuthProtocol(app, {"oslo_config_config": conf})
        app = middleware.AuthErrorFormatter(app)
    public = handler.Dispatcher({"/": {"GET": root.home}})
    app = middleware.RootBypass(app, public)
    app = middleware.Microversion(app)
    app = middleware.json_body_limit(conf.api.max_request_body_size)(app)
    app = middleware.RequestSanity(app, conf.api.max_request_body_size)
    app = errors.FaultWrapper(app)
    app = middleware.VersionHeaders(app)
    app = request_id.RequestId(app)
    app = http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf)
    return app

"""keystoneauth plugins for a site: from a token, from a trust, or as the
protector service user."""
from http import cookiejar as http_cookiejar
import os
import threading

from keystoneauth1 import access
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import access as access_plugin
from keystoneauth1 import loading
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from oslo_config import cfg
import requests

from protector import exception

CONF = cfg.CONF


# One HTTP connection pool per process for every site call. A
# keystoneauth Session made without one opens its own requests.Session, and
# its keep-alive connections stay open until the garbage collector gets to
# them: protector-api held ~70 idle connections to one cinder-api, whose
# eventlet server (100 green threads) then stopped accepting new ones.
_HTTP = {"pid": None, "session": None}
_HTTP_LOCK = threading.Lock()
# Connections per host. A call beyond them waits for one to be free
# (pool_block) instead of opening one more: the engine may run up to
# [engine] max_parallel_instances threads against one service, and an
# eventlet API server holds a green thread per open connection.
POOL_SIZE = 32


def http_session():
    """The process's requests.Session (made after a fork, never shared
    with the parent). Cookies are not kept: the session serves every
    user and site."""
    with _HTTP_LOCK:
        if _HTTP["pid"] != os.getpid():
            sess = requests.Session()
            sess.cookies.set_policy(http_cookiejar.DefaultCookiePolicy(
                allowed_domains=[]))
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=16, pool_maxsize=POOL_SIZE,
                pool_block=True)
            sess.mount("http://", adapter)
            sess.mount("https://", adapter)
            _HTTP.update(pid=os.getpid(), session=sess)
        return _HTTP["session"]


def base_session(auth=None):
    """A session with Protector's timeout; retries are set per request."""
    return ks_session.Session(auth=auth, timeout=CONF.cloud.request_timeout,
                              session=http_session())


def keystone_base(site):
    """The site's Keystone URL without a trailing /v3."""
    url = site["auth_url"].rstrip("/")
    return url[:-3] if url.endswith("/v3") else url


CONNECT_ERRORS = (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
                  ks_exc.RetriableConnectionFailure)


def bare_token_plugin(site, token):
    """Plugin that sends ``token`` to the site's Keystone as it is, for a
    single identity call whose answer says whether the token is good: no
    validation round trip first (``token_plugin`` does one)."""
    return token_endpoint.Token(keystone_base(site) + "/v3", token)


def token_plugin(site, token):
    """Plugin for a token issued by the site's Keystone.

    The token validates itself (GET /v3/auth/tokens with the token as both
    the caller and the subject), which gives its scope and service catalog
    without any service credentials of that site (doc/architecture.md 1).
    """
    sess = base_session()
    url = keystone_base(site) + "/v3/auth/tokens"
    try:
        resp = sess.get(url, headers={"X-Auth-Token": token,
                                      "X-Subject-Token": token},
                        authenticated=False, raise_exc=False,
                        connect_retries=CONF.cloud.connect_retries)
    except CONNECT_ERRORS as exc:
        raise exception.SiteUnreachable(site=site["name"],
                                        reason="Keystone: %s" % exc)
    if resp.status_code in (401, 403, 404):
        raise exception.PeerTokenInvalid(site=site["name"],
                                         reason="HTTP %d" % resp.status_code)
    if resp.status_code >= 500:
        raise exception.SiteUnreachable(
            site=site["name"], reason="Keystone answered HTTP %d" %
            resp.status_code)
    auth_ref = access.create(body=resp.json(), auth_token=token)
    return access_plugin.AccessInfoPlugin(
        auth_ref, auth_url=keystone_base(site) + "/v3")


# The protector service user is configured once, in [keystone_authtoken]
# (the section keystonemiddleware reads), and read only here, through
# keystoneauth's conf loading: the trustee of every trust, the engine's
# trust-scoped tokens and its own service calls all use it.
SERVICE_USER_GROUP = "keystone_authtoken"

# Scope options of keystoneauth's password plugins: cleared for a trust,
# which carries its own project (Keystone refuses two scopes).
_NO_SCOPE = ("project_id", "project_name", "project_domain_id",
             "project_domain_name", "domain_id", "domain_name",
             "system_scope")


def _register_service_user_opts():
    """protector-api registers [keystone_authtoken] by loading
    keystonemiddleware; the engine never loads the middleware, so it
    registers the group (and keystoneauth's auth_type/auth_section)
    itself."""
    try:
        CONF[SERVICE_USER_GROUP].auth_type
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        from keystonemiddleware import auth_token  # noqa: F401
        loading.register_auth_conf_options(CONF, SERVICE_USER_GROUP)


def service_plugin(site, trust_id=None):
    """The protector service user on ``site``'s Keystone (this site's):
    scoped as configured, or to ``trust_id``."""
    _register_service_user_opts()
    group = CONF[SERVICE_USER_GROUP]
    name = CONF[group.auth_section or SERVICE_USER_GROUP].auth_type
    if not name:
        raise exception.TrustCreateFailed(
            site=site["name"], reason="[keystone_authtoken] auth_type is "
            "not set, so the protector service user is unknown")
    overrides = {"auth_url": keystone_base(site) + "/v3"}
    if trust_id:
        overrides.update(dict.fromkeys(_NO_SCOPE), trust_id=trust_id)
    # Only the options this plugin type has (an unknown one is a
    # TypeError in its constructor).
    known = {o.dest for o in loading.get_plugin_options(name)}
    return loading.load_auth_from_conf_options(
        CONF, SERVICE_USER_GROUP,
        **{k: v for k, v in overrides.items() if k in known})


def trust_plugin(site, trust_id):
    """Plugin acting through a trust in this site's own Keystone."""
    return service_plugin(site, trust_id=trust_id)

"""keystoneauth plugins for a site: from a token, or from a trust."""
from http import cookiejar as http_cookiejar
import os
import threading

from keystoneauth1 import access
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import access as access_plugin
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
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
# Per host: the engine runs up to [engine] max_parallel_instances calls at
# once against one service.
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
                pool_connections=16, pool_maxsize=POOL_SIZE)
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


def keystone_request(site, method, path, token, body=None):
    """A raw Keystone v3 call with a token (no raise on HTTP errors);
    an unreachable Keystone is ``SiteUnreachable``."""
    url = keystone_base(site) + "/v3" + path
    try:
        return base_session().request(
            url, method, json=body, headers={"X-Auth-Token": token},
            authenticated=False, raise_exc=False,
            connect_retries=CONF.cloud.connect_retries)
    except CONNECT_ERRORS as exc:
        raise exception.SiteUnreachable(site=site["name"],
                                        reason="Keystone: %s" % exc)


def keystone_error(resp):
    """The message of a Keystone error response."""
    try:
        return resp.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return resp.text[:300]


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
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
            ks_exc.RetriableConnectionFailure) as exc:
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


def _authtoken_group():
    """[keystone_authtoken], registered if nothing did yet.

    protector-api registers it by loading keystonemiddleware; the engine
    never loads the middleware, so it registers the options (and those of
    the configured auth plugin, e.g. username/password) itself.
    """
    try:
        CONF.keystone_authtoken.username
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, AttributeError):
        from keystoneauth1 import loading
        from keystonemiddleware import auth_token  # noqa: F401
        loading.register_auth_conf_options(CONF, "keystone_authtoken")
        loading.load_auth_from_conf_options(CONF, "keystone_authtoken")
    return CONF.keystone_authtoken


def service_user_options():
    """The protector service user's settings from [keystone_authtoken]."""
    group = _authtoken_group()
    return {
        "auth_url": group.auth_url,
        "username": group.username,
        "password": group.password,
        "user_domain_name": group.user_domain_name or "Default",
    }


def trust_plugin(site, trust_id):
    """Plugin acting through a trust in this site's own Keystone."""
    opts = service_user_options()
    return v3.Password(auth_url=keystone_base(site) + "/v3",
                       username=opts["username"], password=opts["password"],
                       user_domain_name=opts["user_domain_name"],
                       trust_id=trust_id)

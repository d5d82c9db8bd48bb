"""Which token reaches which site during a synchronous API request.

A site whose Keystone is this service's own (``[keystone_authtoken]
www_authenticate_uri`` or ``auth_url``) is *local*: the caller's token works
there. Any other site is reached with the token the caller sent for it in
``X-Protector-Peer-Token`` (the CLI's ``--secondary-cloud``), so a site never
needs another site's passwords (doc/architecture.md 1).
"""
from oslo_config import cfg

from protector.cloud import auth
from protector.cloud import connection
from protector import exception

CONF = cfg.CONF
PEER_TOKEN_HEADER = "X-Protector-Peer-Token"


def _normalise(url):
    url = (url or "").rstrip("/")
    return url[:-3].rstrip("/") if url.endswith("/v3") else url


def _own_keystone():
    """This service's Keystone URLs. keystonemiddleware registers
    ``www_authenticate_uri``, the auth plugin ``auth_url``; with
    ``auth_strategy = noauth2`` neither may be registered, and then no
    site's Keystone is known to be ours."""
    urls = set()
    for name in ("www_authenticate_uri", "auth_url"):
        try:
            urls.add(_normalise(getattr(CONF.keystone_authtoken, name)))
        except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
            continue
    return urls - {""}


def is_local(site):
    return _normalise(site["auth_url"]) in _own_keystone()


def token_for(caller, site):
    """The token of ``caller`` (a ``caller.Caller``) for ``site``."""
    if is_local(site):
        return caller.context.auth_token
    token = caller.peer_token
    if not token:
        raise exception.PeerTokenRequired(site=site["name"])
    return token


def cloud_for(caller, site):
    """A SiteCloud for ``site`` authenticated as the caller."""
    return connection.SiteCloud(
        site, auth.token_plugin(site, token_for(caller, site)))

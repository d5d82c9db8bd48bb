"""The user's sign-in to the peer site, kept in the Django session.

protector-api wants a token of the peer site (``X-Protector-Peer-Token``)
for requests it pushes to, or runs against, that site, unless both sites
share its Keystone (doc/api-ref.md). The user signs in to the peer site's
Keystone once per Horizon login (doc/dashboard.md "Peer-site sign-in"):
the dashboard asks that Keystone for a project-scoped token with the
password typed in, and keeps in the session only the site's name, the
token, its expiry and the names it was issued for. The password is used
for that one request and dropped; it is never stored or logged.

The session lives in Horizon's session backend (server-side with the
file, database or cache engines: the browser holds the session id only),
so Horizon's logout, which flushes the session, forgets the token too.
The sign-in is also bound to the Horizon login, project and region it was
made in: after a project switch (a token for another project) or any new
login reusing the session, it counts as absent.
"""
import datetime
import hashlib

from django.conf import settings
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

SESSION_KEY = "protector_peer"
# A token with less than this many seconds left counts as absent: it must
# outlive the request it goes with (the page waits PROTECTOR_API_TIMEOUT,
# 30 s by default, and protector-api uses the token at once to push to the
# peer, or to make the operation's own credential there).
DEFAULT_MARGIN = 120
# Seconds the sign-in waits for the peer site's Keystone.
KEYSTONE_TIMEOUT = 20
CLIENT_SIDE_SESSIONS = ("django.contrib.sessions.backends.signed_cookies",)
_CONNECT_ERRORS = (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
                   ks_exc.UnknownConnectionError)


class SignInError(Exception):
    """The peer site's Keystone did not give a token (message for users)."""


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _margin():
    return datetime.timedelta(seconds=getattr(
        settings, "PROTECTOR_PEER_TOKEN_MARGIN", DEFAULT_MARGIN))


def verify():
    if getattr(settings, "OPENSTACK_SSL_NO_VERIFY", False):
        return False
    return getattr(settings, "OPENSTACK_SSL_CACERT", None) or True


def normalise_url(url):
    """A Keystone URL without trailing ``/`` or ``/v3`` (as protector-api
    compares them to tell a local site, protector/cloud/tokens.py)."""
    url = (url or "").rstrip("/")
    return url[:-3].rstrip("/") if url.endswith("/v3") else url


def dashboard_keystone(request):
    """The Keystone the dashboard's user signed in to."""
    return normalise_url(getattr(request.user, "endpoint", None) or
                         getattr(settings, "OPENSTACK_KEYSTONE_URL", ""))


def is_local(request, site):
    """Whether ``site`` shares the dashboard's Keystone: the user's own
    token works there, and no sign-in is needed."""
    own = dashboard_keystone(request)
    return bool(own) and normalise_url(site.auth_url) == own


def _binding(request):
    """What the sign-in belongs to: this login (its token), project and
    region. A hash, so the session holds no second copy of the token."""
    user = request.user
    parts = (user.id, user.project_id, user.token.id,
             getattr(user, "services_region", None) or "")
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()


def sign_in(request, site, username, password, project,
            user_domain="Default", project_domain="Default"):
    """Get a token of ``site`` (a site record) for the user and keep it.

    Raises :class:`SignInError` with a message for the user; the session
    is not touched then.
    """
    if settings.SESSION_ENGINE in CLIENT_SIDE_SESSIONS:
        # The session is the browser's cookie there: the token would leave
        # the server (signed, not encrypted).
        raise SignInError(
            "This dashboard keeps its sessions in the browser's cookie "
            "(SESSION_ENGINE %s), where a peer-site token must not go: the "
            "operator sets a server-side session engine (file, db or cache; "
            "doc/dashboard.md)." % settings.SESSION_ENGINE)
    auth_url = site.auth_url.rstrip("/")
    if not auth_url.endswith("/v3"):
        auth_url += "/v3"
    auth = v3.Password(auth_url=auth_url, username=username,
                       password=password, user_domain_name=user_domain,
                       project_name=project,
                       project_domain_name=project_domain)
    session = ks_session.Session(auth=auth, verify=verify(),
                                 timeout=KEYSTONE_TIMEOUT)
    try:
        access = auth.get_access(session)
    except ks_exc.Unauthorized:
        raise SignInError(
            "The Keystone of site %s (%s) did not accept these credentials "
            "(401): check the user name, password, project and domains for "
            "that site." % (site.name, auth_url)) from None
    except _CONNECT_ERRORS as exc:
        raise SignInError(
            "The Keystone of site %s (%s) cannot be reached: %s. Requests "
            "that need that site cannot run until it is back; an unplanned "
            "failover to this site does not need it."
            % (site.name, auth_url, exc)) from None
    except ks_exc.ClientException as exc:
        raise SignInError("The Keystone of site %s (%s) refused the "
                          "sign-in: %s" % (site.name, auth_url, exc)) \
            from None
    if not access.project_id:
        raise SignInError("The Keystone of site %s gave a token without a "
                          "project: name the project." % site.name)
    expires = access.expires.astimezone(datetime.timezone.utc)
    if expires - _margin() <= _now():
        # It would count as absent at once (a short token lifetime on that
        # site, or this server's clock far off).
        raise SignInError(
            "The Keystone of site %s gave a token that expires in less than "
            "%d seconds (at %s): check that site's token lifetime and this "
            "server's clock." % (site.name, _margin().total_seconds(),
                                 expires.strftime("%H:%M:%S UTC")))
    request.session[SESSION_KEY] = {
        "site": site.name,
        # Where that site's protector-api is: DR actions run on their
        # target site's protector-api (api/protector.py action_client).
        "endpoint": _protector_endpoint(access, site),
        "project_id": access.project_id,
        # Where the token came from, so the DR action forms can list that
        # site's networks and flavors with it (api/clouds.py): a URL and
        # a region, no password.
        "auth_url": auth_url,
        "region_name": getattr(site, "region_name", None) or None,
        "token": access.auth_token,
        "expires": expires.isoformat(),
        "username": access.username or username,
        "project": access.project_name or project,
        "binding": _binding(request),
    }
    return status(request)


def _protector_endpoint(access, site):
    """The peer site's protector-api: its catalog's public ``protector``
    endpoint, else the URL the site was registered with (None if
    neither)."""
    try:
        url = access.service_catalog.url_for(
            service_type="protector", interface="public",
            region_name=getattr(site, "region_name", None) or None)
    except ks_exc.EndpointNotFound:
        url = None
    if not url and getattr(site, "protector_url", None):
        url = site.protector_url.rstrip("/") + "/v1/%(tenant_id)s"
    return url


def endpoint(request):
    """The signed-in peer site's protector-api endpoint for the project
    signed in to, or None."""
    record = _record(request)
    if not record or not record.get("endpoint"):
        return None
    url = record["endpoint"]
    for key in ("tenant_id", "project_id"):
        url = url.replace("%%(%s)s" % key, record.get("project_id") or "")
    return url


def sign_out(request):
    """Forget the sign-in; the name of the site it was for, or None."""
    record = request.session.pop(SESSION_KEY, None)
    return record.get("site") if isinstance(record, dict) else None


def _record(request):
    """The stored sign-in if it belongs to this login, project and region
    and its token is still good for a while; else None."""
    record = request.session.get(SESSION_KEY)
    if not isinstance(record, dict) or \
            record.get("binding") != _binding(request):
        return None
    try:
        expires = datetime.datetime.fromisoformat(record["expires"])
    except (KeyError, TypeError, ValueError):
        return None
    if expires - _margin() <= _now():
        return None
    return dict(record, expires=expires)


def status(request):
    """What the pages show: None when not signed in (or the token is too
    close to its expiry), else a dict with ``site``, ``username``,
    ``project`` and ``expires`` (an aware UTC datetime). No token."""
    record = _record(request)
    if record is None:
        return None
    record.pop("token")
    record.pop("binding")
    record.pop("endpoint", None)
    record.pop("project_id", None)
    record.pop("auth_url", None)
    record.pop("region_name", None)
    return record


def cloud(request):
    """What a client of the signed-in peer site's other services needs:
    a dict with ``site``, ``auth_url``, ``project_id``, ``region_name``
    and ``token``; None when not signed in (or signed in before the
    record kept its Keystone URL)."""
    record = _record(request)
    if record is None or not record.get("auth_url"):
        return None
    return {key: record.get(key) for key in
            ("site", "auth_url", "project_id", "region_name", "token")}


class SessionPeer:
    """protectorclient's ``peer`` (``name`` and ``token()``) read from the
    session; ``token()`` is None when not signed in, and protectorclient
    then sends no peer token (protector-api decides: fine with a shared
    Keystone, else ``protector.peer.token_required``)."""

    def __init__(self, request):
        self._request = request

    @property
    def name(self):
        record = _record(self._request)
        return record["site"] if record else None

    def token(self):
        record = _record(self._request)
        return record["token"] if record else None

"""protector-api for the dashboard, called through protectorclient.

One :class:`protectorclient.client.Client` per Django request, on a
keystoneauth session that carries the signed-in user's token (the token
Horizon holds for the user, already scoped to the current project) and
talks to the ``protector`` endpoint of the user's catalog in the region
the user chose. No second REST client: the paths, microversion header and
error format are protectorclient's (doc/api-ref.md).

Results are wrapped in :class:`Resource` (Horizon's ``APIDictWrapper``) so
tables and templates read ``group.status`` as they read Nova's objects.

The peer site's token (``X-Protector-Peer-Token``) comes from the user's
peer-site sign-in kept in the session (:mod:`.peer`, doc/dashboard.md
"Peer-site sign-in"). Without one, a request goes without the header and
protector-api decides: with a Keystone shared by both sites it needs none;
otherwise it refuses with ``protector.peer.token_required`` and the
dashboard says to sign in to the peer site.
"""
from django.conf import settings
from horizon.utils import memoized
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from openstack_dashboard.api import base

from protector_dashboard.api import peer
from protectorclient import client as protector_client
from protectorclient import exceptions
from protectorclient import sites

SERVICE_TYPE = protector_client.SERVICE_TYPE
# What the policy tab shows for the FlashArray API tokens, whatever the
# API returned (it masks them too: doc/api-ref.md "Replication policy").
MASK = "*** (masked)"
TOKEN_FIELDS = ("primary_fa_api_token", "secondary_fa_api_token")
# Seconds a page waits for protector-api before it shows an error.
DEFAULT_TIMEOUT = 30


class Resource(base.APIDictWrapper):
    """A protector-api object (group, member, operation, site, ...)."""


def is_enabled(request):
    """Whether the user's catalog has a protector-api."""
    return base.is_service_enabled(request, SERVICE_TYPE)


@memoized.memoized
def protectorclient(request):
    """The client for this request (one per request: memoized on it)."""
    url = base.url_for(request, SERVICE_TYPE)
    project_id = request.user.project_id
    endpoint = sites.expand_endpoint(url, project_id)
    # The user's token as it is: Horizon keeps it scoped to the current
    # project, so it needs no re-authentication (an identity plugin would
    # ask Keystone for a new token on every page).
    auth = token_endpoint.Token(endpoint, request.user.token.id)
    session = ks_session.Session(
        auth=auth, verify=peer.verify(),
        timeout=getattr(settings, "PROTECTOR_API_TIMEOUT", DEFAULT_TIMEOUT))
    # The peer object never refuses on its own (protectorclient would, with
    # a message about the CLI's --secondary-cloud, if it were None).
    return protector_client.Client(
        session, endpoint, peer=peer.SessionPeer(request),
        site_label=getattr(request.user, "services_region", None))


def _wrap(items):
    return [Resource(item) for item in items]


# -- protection groups --------------------------------------------------------

def pg_list(request, **filters):
    # With each group's RPO state (microversion 1.5): the table's RPO
    # column, from this one request.
    return _wrap(protectorclient(request).pg_list(rpo=True, **filters))


def pg_get(request, pg):
    return Resource(protectorclient(request).pg_show(pg))


def pg_create(request, **fields):
    fields = {k: v for k, v in fields.items() if v not in (None, "")}
    return Resource(protectorclient(request).pg_create(fields))


def pg_update(request, pg, **changes):
    return Resource(protectorclient(request).pg_update(pg, changes))


def pg_delete(request, pg):
    protectorclient(request).pg_delete(pg)


def consistency_group_get(request, pg):
    return Resource(protectorclient(request).pg_consistency_group(pg))


def sync_status_get(request, pg):
    return Resource(protectorclient(request).pg_sync_status(pg))


# -- members ------------------------------------------------------------------

def member_list(request, pg):
    return _wrap(protectorclient(request).member_list(pg))


def member_add(request, pg, instance_id, volume_ids=None):
    member = {"instance_id": instance_id}
    if volume_ids:
        member["volume_ids"] = list(volume_ids)
    return Resource(protectorclient(request).member_add(pg, member))


def member_remove(request, pg, member_id):
    protectorclient(request).member_remove(pg, member_id)


# -- replication policy -------------------------------------------------------

def _masked(policy):
    policy = dict(policy)
    for field in TOKEN_FIELDS:
        if field in policy:
            policy[field] = MASK
    return Resource(policy)


def policy_get(request, pg):
    """The group's replication policy (tokens masked), None if it has
    none yet (``protector.policy.not_found``)."""
    try:
        return _masked(protectorclient(request).policy_show(pg))
    except exceptions.APIError as exc:
        if exc.code == "protector.policy.not_found":
            return None
        raise


def policy_set(request, pg, **policy):
    policy = {k: v for k, v in policy.items() if v not in (None, "")}
    return _masked(protectorclient(request).policy_set(pg, policy))


# -- DR operations ------------------------------------------------------------

class _ThisSite:
    """This site as the peer of a request sent to the other site's
    protector-api: the user's own token (as the CLI sends the primary
    cloud's token with ``--secondary-cloud``)."""

    def __init__(self, request):
        self.name = getattr(request.user, "services_region", None)
        self._token = request.user.token.id

    def token(self):
        return self._token


def _peer_client(request):
    """protectorclient on the signed-in peer site's protector-api, with
    the peer-site token as the user's and this site's token as the peer
    token; None when not signed in."""
    url, token = peer.endpoint(request), peer.SessionPeer(request).token()
    if not url or not token:
        return None
    session = ks_session.Session(
        auth=token_endpoint.Token(url, token), verify=peer.verify(),
        timeout=getattr(settings, "PROTECTOR_API_TIMEOUT", DEFAULT_TIMEOUT))
    return protector_client.Client(session, url, peer=_ThisSite(request),
                                   site_label=peer.SessionPeer(request).name)


def _target_site_id(group, action):
    """Where ``action`` runs (protector/dr/actions.py: the engine of the
    target site acts, with the caller's trust in that site's Keystone)."""
    current = group["current_primary_site_id"]
    if action == "failback":
        return group["primary_site_id"]
    return group["secondary_site_id"] \
        if current == group["primary_site_id"] else group["primary_site_id"]


@memoized.memoized
def group_and_target(request, pg, action):
    """The group and the site record of ``action``'s target, read once per
    request (the form's preflight, the action and the mapping lists all
    need them)."""
    group = pg_get(request, pg)
    return group, site_get(request, _target_site_id(group, action))


def action_client(request, pg, action):
    """The client of the protector-api ``action`` must be sent to: this
    site's when it is the target, else the peer site's, which needs the
    peer-site sign-in (doc/dashboard.md "DR actions")."""
    local = protectorclient(request)
    _, target = group_and_target(request, pg, action)
    if peer.is_local(request, target):
        return local
    client = _peer_client(request)
    if client is None or peer.SessionPeer(request).name != target["name"]:
        raise exceptions.APIError(
            403, code="protector.peer.token_required",
            detail="%s runs on its target site, with a token for site %s: "
                   "sign in to that site first." % (action, target["name"]))
    return client


def pg_preflight(request, pg, action, params):
    """The preflight table of ``action`` (changes nothing anywhere), from
    the protector-api of the site it would run on."""
    return Resource(action_client(request, pg, action).pg_preflight(
        pg, action, params))


def pg_action(request, pg, action, params):
    """Start ``action`` (failover, failback, test_failover, test_cleanup)
    on its target site; returns the queued operation."""
    return Resource(action_client(request, pg, action).pg_action(
        pg, action, params))


def _clients(request):
    """This site's client, then the signed-in peer site's, if any: an
    operation lives on the site whose engine runs it."""
    yield protectorclient(request)
    other = _peer_client(request)
    if other is not None:
        yield other


def _on_either(request, call):
    """``call(client)`` on this site, and on the peer site when this site
    does not know the object (404)."""
    clients = list(_clients(request))
    for i, client in enumerate(clients):
        try:
            return call(client)
        except exceptions.APIError as exc:
            if exc.status != 404 or i == len(clients) - 1:
                raise
    raise AssertionError("unreachable")


def operation_list(request, **filters):
    """The operations of both sites (the peer's when signed in), newest
    first, as ``openstack dr operation list`` merges them."""
    seen, items = set(), []
    for i, client in enumerate(_clients(request)):
        try:
            found = client.operation_list(**filters)
        except (exceptions.ProtectorClientError,
                ks_exc.ClientException):
            if i == 0:
                raise
            # The peer site down (an outage): this site's list still shows.
            continue
        for op in found:
            if op.get("id") not in seen:
                seen.add(op.get("id"))
                items.append(op)
    items.sort(key=lambda op: op.get("created_at") or "", reverse=True)
    return _wrap(items)


def operation_get(request, operation_id):
    return Resource(_on_either(
        request, lambda c: c.operation_show(operation_id)))


def operation_action(request, operation_id, action):
    """``retry`` or ``rollback``; returns the operation to follow."""
    return Resource(_on_either(
        request, lambda c: c.operation_action(operation_id, action)))


# -- sites --------------------------------------------------------------------

def site_list(request, **filters):
    return _wrap(protectorclient(request).site_list(**filters))


def site_get(request, site):
    return Resource(protectorclient(request).site_show(site))


def site_create(request, **fields):
    fields = {k: v for k, v in fields.items() if v not in (None, "")}
    return Resource(protectorclient(request).site_create(fields))


def site_delete(request, site):
    protectorclient(request).site_delete(site)


def site_validate(request, site):
    return Resource(protectorclient(request).site_validate(site))


def site_volume_types(request, site):
    return _wrap(protectorclient(request).site_volume_types(site))

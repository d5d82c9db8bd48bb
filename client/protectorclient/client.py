"""REST client for protector-api v1 (doc/api-ref.md is the contract).

One :class:`Client` talks to one site's protector-api through a keystoneauth
session. Requests that change something synchronised to the peer site carry
the peer site's token in ``X-Protector-Peer-Token``; where that token comes
from is the business of a *peer* object (see :mod:`protectorclient.sites`),
asked lazily so commands that do not need it never authenticate twice.
"""
import logging
from urllib import parse

from keystoneauth1 import exceptions as ks_exc

from protectorclient import exceptions

LOG = logging.getLogger(__name__)

API_VERSION_HEADER = "OpenStack-API-Version"
PEER_TOKEN_HEADER = "X-Protector-Peer-Token"
SERVICE_TYPE = "protector"
# The newest microversion this client knows (doc/cli.md): a server older
# than it answers 406; give --os-protector-api-version its maximum then.
DEFAULT_API_VERSION = "1.6"
MIN_API_VERSION = "1.1"
# POST /sites takes the site's ID from this microversion on.
SITE_ID_API_VERSION = "1.3"
# Boot tiers: members' priority, groups' tier_delay, member set, and the
# operations' tiers.
TIERS_API_VERSION = "1.4"
# The list of protection groups shows each group's cached RPO state.
RPO_LIST_API_VERSION = "1.5"
# The list of protection groups pages (limit, marker, next links).
PAGING_API_VERSION = "1.6"

# How a request uses the peer token.
PEER_NONE = None          # never sent
PEER_OPTIONAL = "optional"  # sent when a peer site is configured
PEER_REQUIRED = "required"  # the command cannot run without it


def _quote(value):
    return parse.quote(str(value), safe="")


def _older(version, than):
    """``"1.2"`` < ``"1.10"``: compare as numbers."""
    def parts(text):
        return tuple(int(p) for p in str(text).split("."))
    return parts(version) < parts(than)


def _next_page(links):
    """``{"limit", "marker"}`` of a list's ``next`` link, or None."""
    for link in links or ():
        if link.get("rel") == "next" and link.get("href"):
            query = parse.parse_qs(parse.urlsplit(link["href"]).query)
            return {k: query[k][-1] for k in ("limit", "marker")
                    if query.get(k)}
    return None


class Client:
    """protector-api v1 at ``endpoint`` (``http://host:8788/v1/<project>``)."""

    def __init__(self, session, endpoint, api_version=DEFAULT_API_VERSION,
                 peer=None, site_label=None):
        self.session = session
        self.endpoint = endpoint.rstrip("/")
        self.api_version = api_version
        # ``peer`` has ``name`` and ``token()``; None when no peer configured.
        self.peer = peer
        # Human label of the site this client talks to (for messages).
        self.site_label = site_label

    # -- plumbing -----------------------------------------------------------

    def peer_token(self, mode):
        if mode is PEER_NONE:
            return None
        if self.peer is None:
            if mode == PEER_REQUIRED:
                raise exceptions.UsageError(
                    "This command changes state on both sites: name the "
                    "peer (secondary) site's cloud with --secondary-cloud "
                    "or OS_SECONDARY_CLOUD.")
            return None
        return self.peer.token()

    def request(self, method, path, body=None, params=None, peer=PEER_NONE,
                api_version=None):
        url = self.endpoint + path
        version = api_version or self.api_version
        headers = {API_VERSION_HEADER: "%s %s" % (SERVICE_TYPE, version),
                   "Accept": "application/json"}
        peer_token = self.peer_token(peer)
        log = True
        if peer_token:
            headers[PEER_TOKEN_HEADER] = peer_token
            # keystoneauth would log this header in clear with --debug.
            log = False
            LOG.debug("REQ: %s %s (%s: <redacted>) body=%s", method, url,
                      PEER_TOKEN_HEADER, body)
        kwargs = {"headers": headers, "raise_exc": False, "log": log}
        if body is not None:
            kwargs["json"] = body
        if params:
            kwargs["params"] = {k: v for k, v in params.items()
                                if v is not None}
        try:
            resp = self.session.request(url, method, **kwargs)
        except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
                ks_exc.UnknownConnectionError) as exc:
            where = " of %s" % self.site_label if self.site_label else ""
            raise exceptions.APIUnreachable(
                "Could not reach protector-api%s at %s: %s"
                % (where, self.endpoint, exc)) from exc
        if not log:
            LOG.debug("RESP: %s %s", resp.status_code,
                      getattr(resp, "text", "")[:2000])
        if resp.status_code >= 400:
            raise self._error(resp, method, url)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise exceptions.ProtectorClientError(
                "protector-api returned a non-JSON body for %s %s"
                % (method, url)) from exc

    @staticmethod
    def _error(resp, method, url):
        code = detail = title = request_id = None
        try:
            body = resp.json()
            err = (body.get("errors") or [{}])[0]
            code = err.get("code")
            detail = err.get("detail")
            title = err.get("title")
            request_id = err.get("request_id")
        except (ValueError, AttributeError, IndexError, TypeError):
            detail = (getattr(resp, "text", "") or "").strip()[:500] or None
        request_id = request_id or resp.headers.get("x-openstack-request-id")
        return exceptions.APIError(resp.status_code, code=code, detail=detail,
                                   title=title, request_id=request_id,
                                   url=url, method=method)

    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def post(self, path, body, peer=PEER_NONE):
        return self.request("POST", path, body=body, peer=peer)

    def put(self, path, body, peer=PEER_NONE):
        return self.request("PUT", path, body=body, peer=peer)

    def delete(self, path, peer=PEER_NONE):
        return self.request("DELETE", path, peer=peer)

    # -- sites ----------------------------------------------------------------

    def site_list(self, **filters):
        return self.get("/sites", params=filters)["sites"]

    def site_show(self, site):
        return self.get("/sites/%s" % _quote(site))["site"]

    # Sites are registered on each site by its own protector-api (see
    # protectorclient.registration): no peer token goes along.
    def site_create(self, site, peer=PEER_NONE):
        version = None
        if "id" in site and _older(self.api_version, SITE_ID_API_VERSION):
            version = SITE_ID_API_VERSION
        return self.request("POST", "/sites", body={"site": site},
                            peer=peer, api_version=version)["site"]

    def _at_least(self, version):
        """``version`` for a call that needs it when this client's version
        is lower (else None: the client's own)."""
        return version if _older(self.api_version, version) else None

    def site_delete(self, site, peer=PEER_NONE):
        return self.delete("/sites/%s" % _quote(site), peer=peer)

    def site_validate(self, site):
        # The peer token goes along when configured: validating the peer
        # site (doc/cli.md: "site validate site-b") needs a token for it.
        return self.post("/sites/%s/validate" % _quote(site), {},
                         peer=PEER_OPTIONAL)["validation"]

    def site_pair(self, site):
        """Pair this site with ``site`` (a new key; rotates an old one).
        Needs the peer site's (admin) token: --secondary-cloud."""
        return self.post("/sites/%s/pair" % _quote(site), {},
                         peer=PEER_REQUIRED)["site_key"]

    def site_volume_types(self, site):
        return self.request("GET", "/sites/%s/volume-types" % _quote(site),
                            peer=PEER_OPTIONAL)["volume_types"]

    # -- protection groups --------------------------------------------------

    def pg_list(self, rpo=False, limit=None, marker=None, **filters):
        """The project's groups; ``rpo``: with their RPO state
        (``rpo_status``, ``rpo_detail``, ``replication_lag_seconds``,
        ``rpo_checked_at``), asked at microversion 1.5 when the client's
        is lower. Every group, following the ``next`` links of a 1.6
        server page by page; with ``limit`` or ``marker`` (1.6) only that
        page."""
        one_page = limit is not None or marker is not None
        version = self._at_least(PAGING_API_VERSION) if one_page else \
            self._at_least(RPO_LIST_API_VERSION) if rpo else None
        params = dict(filters, limit=limit, marker=marker)
        groups, seen = [], set()
        while True:
            body = self.request("GET", "/protection-groups", params=params,
                                api_version=version)
            page = body["protection_groups"]
            groups += page
            following = _next_page(body.get("protection_groups_links"))
            if one_page or not page or following is None:
                return groups
            if following.get("marker") in seen:
                raise exceptions.ProtectorClientError(
                    "protector-api gave the same next page twice (marker "
                    "%s); the list so far has %d groups"
                    % (following.get("marker"), len(groups)))
            seen.add(following.get("marker"))
            # The link's limit and marker on this client's endpoint (the
            # link's host may be one only the API's proxy knows).
            params = dict(filters, **following)

    def pg_show(self, pg):
        return self.get("/protection-groups/%s"
                        % _quote(pg))["protection_group"]

    def pg_create(self, pg):
        version = self._at_least(TIERS_API_VERSION) \
            if "tier_delay" in pg else None
        return self.request("POST", "/protection-groups",
                            body={"protection_group": pg},
                            peer=PEER_REQUIRED,
                            api_version=version)["protection_group"]

    def pg_update(self, pg, changes):
        version = self._at_least(TIERS_API_VERSION) \
            if "tier_delay" in changes else None
        return self.request("PUT", "/protection-groups/%s" % _quote(pg),
                            body={"protection_group": changes},
                            peer=PEER_REQUIRED,
                            api_version=version)["protection_group"]

    def pg_delete(self, pg):
        return self.delete("/protection-groups/%s" % _quote(pg),
                           peer=PEER_REQUIRED)

    def pg_sync_status(self, pg):
        return self.get("/protection-groups/%s/sync-status"
                        % _quote(pg))["sync_status"]

    def pg_sync_force(self, pg):
        return self.post("/protection-groups/%s/sync-force" % _quote(pg),
                         {}, peer=PEER_REQUIRED)["sync_result"]

    def pg_consistency_group(self, pg):
        return self.get("/protection-groups/%s/consistency-group"
                        % _quote(pg))["consistency_group"]

    # -- members --------------------------------------------------------------

    def member_list(self, pg):
        return self.get("/protection-groups/%s/members"
                        % _quote(pg))["members"]

    def member_show(self, pg, member_id):
        return self.get("/protection-groups/%s/members/%s"
                        % (_quote(pg), _quote(member_id)))["member"]

    def member_add(self, pg, member):
        version = self._at_least(TIERS_API_VERSION) \
            if "priority" in member else None
        return self.request("POST", "/protection-groups/%s/members"
                            % _quote(pg), body={"member": member},
                            peer=PEER_REQUIRED,
                            api_version=version)["member"]

    def member_set(self, pg, member_id, changes):
        """Change a member (its ``priority``) on both sites."""
        return self.request("PUT", "/protection-groups/%s/members/%s"
                            % (_quote(pg), _quote(member_id)),
                            body={"member": changes}, peer=PEER_REQUIRED,
                            api_version=self._at_least(
                                TIERS_API_VERSION))["member"]

    def member_remove(self, pg, member_id):
        return self.delete("/protection-groups/%s/members/%s"
                           % (_quote(pg), _quote(member_id)),
                           peer=PEER_REQUIRED)

    # -- replication policy ---------------------------------------------------

    def policy_show(self, pg):
        return self.get("/protection-groups/%s/policy" % _quote(pg))["policy"]

    def policy_set(self, pg, policy):
        return self.put("/protection-groups/%s/policy" % _quote(pg),
                        {"policy": policy}, peer=PEER_REQUIRED)["policy"]

    # -- DR operations --------------------------------------------------------

    def pg_action(self, pg, action, params, peer=PEER_REQUIRED):
        return self.post("/protection-groups/%s/action" % _quote(pg),
                         {action: params}, peer=peer)["operation"]

    def pg_preflight(self, pg, action, params, peer=PEER_OPTIONAL):
        """The preflight table of ``action`` (nothing is changed)."""
        return self.post("/protection-groups/%s/preflight" % _quote(pg),
                         {action: params}, peer=peer)["preflight"]

    def operation_list(self, **filters):
        return self.get("/operations", params=filters)["operations"]

    def operation_show(self, operation_id):
        return self.get("/operations/%s"
                        % _quote(operation_id))["operation"]

    def operation_action(self, operation_id, action, params=None,
                         peer=PEER_OPTIONAL):
        """``retry`` or ``rollback`` a failed operation; returns the
        operation to follow (the same one re-queued, or the rollback)."""
        return self.post("/operations/%s/action" % _quote(operation_id),
                         {action: params or {}}, peer=peer)["operation"]

    # -- tenant mappings ------------------------------------------------------

    def tenant_mapping_list(self):
        return self.get("/tenant-mappings")["tenant_mappings"]

    def tenant_mapping_show(self, mapping_id):
        return self.get("/tenant-mappings/%s"
                        % _quote(mapping_id))["tenant_mapping"]

    def tenant_mapping_create(self, mapping):
        # Mirrored on the remote site in the same request: it needs the
        # remote site's token (the API's 400 otherwise), so say so first.
        return self.post("/tenant-mappings", {"tenant_mapping": mapping},
                         peer=PEER_REQUIRED)["tenant_mapping"]

    def tenant_mapping_delete(self, mapping_id):
        return self.delete("/tenant-mappings/%s" % _quote(mapping_id),
                           peer=PEER_REQUIRED)

    # -- health ---------------------------------------------------------------

    def health(self):
        # The peer token lets the server find the peer's protector-api in
        # the peer's Keystone catalog. A peer we cannot authenticate to is
        # what the report is for, so then the request goes without it.
        peer = PEER_OPTIONAL
        try:
            self.peer_token(peer)
        except exceptions.ProtectorClientError as exc:
            LOG.debug("health without the peer token: %s", exc)
            peer = PEER_NONE
        return self.request("GET", "/health", peer=peer)["health"]

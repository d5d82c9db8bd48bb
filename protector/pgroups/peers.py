"""How to reach the peer's protector-api, and the synchronous metadata
push (doc/architecture.md 3); which site is this one: ``cloud/sites.py``.

The push authenticates with the token the caller sent for the peer site
(``X-Protector-Peer-Token``; the caller's own token when the peer shares
this site's Keystone), so no site ever holds the other's credentials. The
peer's project is the tenant mapping's if there is one, else the peer
token's project. The peer's URL is the site's ``protector_url``, else the
``protector`` endpoint of the peer token's service catalog.

Calls to the peer's internal endpoints (``/v1/{t}/internal/...``) are also
signed with the two sites' pairing key (``common/peer_auth.py``): the
token says whose request it is, the signature that this site's Protector
sent it. A peer this site is not paired with is refused up front
(``protector.site.not_paired``), before anything changes.
"""
import json
import re
import time
from urllib import parse

from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg
from oslo_log import log as logging

from protector.cloud import auth
from protector.cloud import tokens
from protector.common import peer_auth
from protector.db import site_keys
from protector.db import tenant_mappings as mappings_db
from protector import exception
from protector import version

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
_ROOT = re.compile(r"^(.*?)(/v1(/.*)?)?/?$")


def root_url(url):
    """``http://h:8788/v1/<project>`` (catalog form) -> ``http://h:8788``."""
    return _ROOT.match(url.rstrip("/")).group(1)


def pairing_key(context, site):
    """The key this site shares with ``site``; SiteNotPaired if none."""
    key = site_keys.for_site(context, site["id"])
    if key is None:
        raise exception.SiteNotPaired(site=site["name"])
    return key


class Peer:
    """The peer site's protector-api as the caller may use it. ``key``
    (a ``db.site_keys`` row) signs calls to its internal endpoints."""

    def __init__(self, site, token, project_id, url, key=None):
        self.site = site
        self.token = token
        self.project_id = project_id
        self.url = url
        self.key = key

    def _request(self, method, path, body=None, signed=False,
                 headers=None):
        sess = auth.base_session()
        path = "/v1/%s%s" % (self.project_id, path)
        data = json.dumps(body).encode() if body is not None else None
        headers = dict(headers or {}, **{
            "X-Auth-Token": self.token,
            "OpenStack-API-Version": "%s %s" % (
                version.SERVICE_TYPE, version.PEER_VERSION)})
        if data is not None:
            headers["Content-Type"] = "application/json"
        if signed:
            if self.key is None:
                raise exception.SiteNotPaired(site=self.site["name"])
            headers.update(peer_auth.headers(self.key, method, path, data,
                                             self.token))
        url = self.url + path
        start = time.monotonic()
        try:
            resp = sess.request(url, method, data=data, headers=headers,
                                authenticated=False, raise_exc=False,
                                connect_retries=CONF.cloud.connect_retries)
        except ks_exc.ConnectionError as exc:
            LOG.warning("Peer %s unreachable at %s: %s", self.site["name"],
                        url, exc)
            raise exception.PeerUnreachable(site=self.site["name"],
                                            reason=_short(exc))
        duration_ms = int((time.monotonic() - start) * 1000)
        if resp.status_code >= 500:
            raise exception.PeerUnreachable(
                site=self.site["name"],
                reason="its protector-api answered HTTP %d" %
                resp.status_code)
        if resp.status_code == 401:
            raise exception.PeerTokenInvalid(site=self.site["name"],
                                             reason="HTTP 401")
        if resp.status_code >= 400 and not (
                method == "DELETE" and resp.status_code == 404):
            try:
                error = resp.json()["errors"][0]
            except (ValueError, KeyError, IndexError, TypeError):
                error = {"code": "", "detail": resp.text[:300]}
            raise exception.PeerRejected(
                site=self.site["name"], status=resp.status_code,
                peer_code=error.get("code", ""),
                detail=error.get("detail", ""))
        return resp, duration_ms

    def push_metadata(self, pg_id, version, checksum, document,
                      policy_tokens=None):
        """PUT the document; return the duration in milliseconds."""
        body = {"metadata": {"version": version, "checksum": checksum,
                             "document": document}}
        if policy_tokens:
            body["metadata"]["policy_tokens"] = policy_tokens
        _, duration_ms = self._request(
            "PUT", "/internal/protection-groups/%s/metadata" % pg_id, body,
            signed=True)
        return duration_ms

    def push_change(self, pg_id, version, checksum, document, changed,
                    removed, policy_tokens=None):
        """Push only what changed from ``version - 1``: the group's own
        fields, the members ``changed`` (IDs, taken from ``document``) and
        the IDs ``removed``. Any refusal (the peer at another version, a
        checksum that differs there, a peer of an earlier release that
        answers 400 to this form) is answered with the whole document, as
        before deltas; return the duration in milliseconds."""
        wanted = set(changed)
        body = {"metadata": {
            "version": version, "checksum": checksum,
            "base_version": version - 1,
            "group": {k: v for k, v in document.items() if k != "members"},
            "members": [m for m in document.get("members") or []
                        if m["id"] in wanted],
            "removed_members": list(removed)}}
        if policy_tokens:
            body["metadata"]["policy_tokens"] = policy_tokens
        try:
            _, duration_ms = self._request(
                "PUT", "/internal/protection-groups/%s/metadata" % pg_id,
                body, signed=True)
            return duration_ms
        except exception.PeerRejected as exc:
            LOG.info("Peer %s refused the metadata delta of protection "
                     "group %s version %d (%s); pushing the whole document",
                     self.site["name"], pg_id, version, exc.message)
        return self.push_metadata(pg_id, version, checksum, document,
                                  policy_tokens)

    def create_mapping(self, body):
        self._request("POST", "/internal/tenant-mappings",
                      {"tenant_mapping": body}, signed=True)

    def delete_mapping(self, mapping_id):
        self._request("DELETE", "/internal/tenant-mappings/%s" % mapping_id,
                      signed=True)

    def _answer(self, resp, key):
        """``resp``'s JSON ``key``; a peer that answers 2xx with something
        else (another service on that URL, an older Protector) is a
        refusal, never a KeyError."""
        try:
            value = resp.json()[key]
        except (ValueError, KeyError, TypeError):
            raise exception.PeerRejected(
                site=self.site["name"], status=resp.status_code,
                peer_code="", detail="the answer has no '%s'; is %s a "
                "protector-api of this version?" % (key, self.url))
        if not isinstance(value, dict):
            raise exception.PeerRejected(
                site=self.site["name"], status=resp.status_code,
                peer_code="", detail="'%s' in the answer is not an "
                "object" % key)
        return value

    def start_sub_operation(self, pg_id, kind, body):
        resp, _ = self._request(
            "POST", "/internal/protection-groups/%s/sub-operations" % pg_id,
            {kind: body}, signed=True)
        return self._answer(resp, "operation")

    def sync_status(self, pg_id):
        """The peer's own versions of the group (it does not ask back)."""
        resp, _ = self._request(
            "GET", "/protection-groups/%s/sync-status?remote=0" % pg_id)
        return self._answer(resp, "sync_status")

    def push_to_caller(self, pg_id, caller_token):
        """Have the peer push its (newer) document of the group to this
        site: sync-force asked of the stale site. ``caller_token`` is the
        user's token for this site, which the peer needs to reach it."""
        resp, _ = self._request(
            "POST", "/internal/protection-groups/%s/push" % pg_id, {},
            signed=True,
            headers={tokens.PEER_TOKEN_HEADER: caller_token})
        return self._answer(resp, "sync_result")

    def operation(self, op_id):
        resp, _ = self._request("GET", "/operations/%s" % op_id)
        return self._answer(resp, "operation")

    def install_key(self, site_name, key_id, secret):
        """Pairing: give the peer the key for this site (named as the peer
        knows it). Authorized by the caller's admin token there."""
        resp, _ = self._request(
            "PUT", "/internal/site-keys/%s" % parse.quote(site_name, safe=""),
            {"site_key": {"key_id": key_id, "secret": secret}})
        return self._answer(resp, "site_key")


def _short(exc):
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."


def resolve(caller, project_id, site, peer_project=None, signed=True):
    """A Peer for ``site`` acting for the group's ``project_id`` with the
    token of ``caller`` (a ``caller.Caller``), with the pairing key
    (``signed``; SiteNotPaired before anything else when the sites are not
    paired)."""
    key = pairing_key(caller.context, site) if signed else None
    token = tokens.token_for(caller, site)
    if tokens.is_local(site):
        # Same Keystone: the project IDs are the same on both sides.
        project = peer_project or project_id
        if not site.get("protector_url"):
            raise exception.Invalid(
                reason="site %s shares this site's Keystone, so its "
                "protector-api cannot be told apart in the catalog; set "
                "its protector_url" % site["name"])
        return Peer(site, token, project, root_url(site["protector_url"]),
                    key)
    project = peer_project or mappings_db.remote_tenant(
        caller.context, project_id, site["id"])
    url = site.get("protector_url")
    if project is None or not url:
        auth_ref = auth.token_plugin(site, token).auth_ref
        project = project or auth_ref.project_id
        if not url:
            try:
                url = auth_ref.service_catalog.url_for(
                    service_type="protector",
                    interface=CONF.cloud.interface,
                    region_name=site.get("region_name"))
            except ks_exc.EndpointNotFound:
                raise exception.PeerUnreachable(
                    site=site["name"], reason="its Keystone catalog has no "
                    "'protector' endpoint and the site has no protector_url")
    return Peer(site, token, project, root_url(url), key)

"""The engine's side of sub-operations (``dr/subops.py``): reaching the
source site, queueing a sub-operation there and waiting for it.

Authentication: the request that queued the parent operation carried the
caller's token for the source site (``X-Protector-Peer-Token``, the CLI's
``--secondary-cloud``). The API turns it into a Keystone application
credential in the source site's Keystone (``keep_peer_token``;
``cloud/peer_credentials.py``: a token expires within the hour, an
operation may run or be resumed later), keeps that, its secret encrypted
with ``[storage] token_encryption_key``, in the parent's parameters (never
shown by the API), and the target engine uses it to queue the
sub-operation, poll it and push the metadata; the engine deletes it when
the operation completes (``release_peer_credential``), and keeps it when
the operation fails (a retry or rollback needs it; one never used again
expires by itself). When Keystone refuses to make one, the token itself
is kept (encrypted), as a fallback that works for the token's lifetime.
An unplanned failover needs neither (the source is presumed down).

Both halves live here, below ``dr`` (which keeps them at the API) and the
engine's tasks (which use and release them), so neither imports the other.
"""
import time

from oslo_log import log as logging

from protector.cloud import auth
from protector.cloud import peer_credentials
from protector.cloud import timing
from protector.cloud import tokens
from protector.common import crypto
from protector.db import sites as sites_db
from protector.db import tenant_mappings as mappings_db
from protector import exception
from protector.pgroups import peers

LOG = logging.getLogger(__name__)

# Where keep_peer_token keeps the way to the source, in the parameters.
TOKEN_KEY = "peer_token_encrypted"
CREDENTIAL_KEY = "peer_credential"
# The wait for a sub-operation looks again after FIRST_POLL seconds, then
# half as long again each time, up to POLL_INTERVAL: a shutdown done in
# 4 s is seen within a second, a long one costs a request every 2 s.
FIRST_POLL = 0.25
POLL_INTERVAL = 2.0
TIMEOUT = 3600


class SubOperationFailed(exception.ProtectorException):
    code = "protector.operation.sub_operation_failed"
    msg_fmt = ("The %(kind)s sub-operation %(sub)s on site %(site)s "
               "%(status)s: %(reason)s")


class SubOperationTimeout(exception.ProtectorException):
    code = "protector.operation.sub_operation_timeout"
    msg_fmt = ("The %(kind)s sub-operation %(sub)s on site %(site)s did not "
               "finish within %(timeout)s s (status %(status)s); resume the "
               "operation by restarting the engine once it has.")


def keep_peer_token(caller, source_site, args, purpose):
    """Keep a way for the engine to reach the source site: an application
    credential made with the caller's source-site token, else the token.

    Best effort: a planned operation without either fails in its first
    source-site step with a clear error, an unplanned one never needs it.
    """
    if tokens.is_local(source_site) or not crypto.configured():
        return
    token = caller.peer_token
    if not token:
        return
    if args.get("type", "planned") == "planned":
        try:
            args[CREDENTIAL_KEY] = peer_credentials.create(
                source_site, token, purpose)
            return
        except peer_credentials.CredentialRefused as exc:
            LOG.warning("%s; keeping the caller's token instead: the %s "
                        "must reach site %s before that token expires",
                        exc.message, purpose, source_site["name"])
    args[TOKEN_KEY] = crypto.encrypt(token)


def release_peer_credential(ctx, operation):
    """Delete the operation's application credential (it has ended).
    Never raises: an undeleted one expires by itself."""
    kept = (operation.get("parameters") or {}).get(CREDENTIAL_KEY)
    if not kept:
        return False
    try:
        site = sites_db.get(ctx, operation["source_site_id"])
        return peer_credentials.delete(site, kept)
    except Exception:
        LOG.exception("Operation %s: application credential %s not "
                      "deleted; it expires at %s", operation["id"],
                      kept.get("id"), kept.get("expires_at"))
        return False



def _token_source(operation, site):
    """A callable giving a current token for ``site``: from the kept
    credential (one session, which logs in again only when its token
    nears expiry), else the kept token."""
    params = operation["parameters"] or {}
    if params.get(CREDENTIAL_KEY):
        kept = params[CREDENTIAL_KEY]
        sess = peer_credentials.session(site, kept)
        return lambda: peer_credentials.token(site, kept, sess)
    if params.get(TOKEN_KEY):
        token = crypto.decrypt(params[TOKEN_KEY])
        return lambda: token
    raise exception.PeerTokenRequired(site=site["name"])


def _token(operation, site):
    return _token_source(operation, site)()


def _peer(ctx, operation, site, token=None):
    token = token or _token(operation, site)
    project = mappings_db.remote_tenant(ctx, operation["project_id"],
                                        site["id"])
    url = site.get("protector_url")
    if project is None or not url:
        auth_ref = auth.token_plugin(site, token).auth_ref
        project = project or auth_ref.project_id
        url = url or auth_ref.service_catalog.url_for(
            service_type="protector", interface="public",
            region_name=site.get("region_name"))
    return peers.Peer(site, token, project, peers.root_url(url),
                      peers.pairing_key(ctx, site))


def peer_of(ctx, operation, site_id):
    """A ``peers.Peer`` for ``site_id`` with the stored caller token."""
    return _peer(ctx, operation, sites_db.get(ctx, site_id))


def _start(peer, operation, kind, source, extra=None):
    """POST the sub-operation ``kind`` to the source's API; its dict."""
    body = {"parent_operation_id": operation["id"],
            "parent_operation_type": operation["operation_type"]}
    body.update(extra or {})
    sub = peer.start_sub_operation(operation["protection_group_id"], kind,
                                   body)
    LOG.info("Operation %s: %s sub-operation %s on site %s", operation["id"],
             kind, sub["id"], source["name"])
    return sub


def start_on_source(ctx, operation, kind, extra=None):
    """Queue ``kind`` on the operation's source site without waiting;
    its ID. The source's API returns the sub-operation the parent already
    has (and queues a failed one again: the parent is being retried)."""
    source = sites_db.get(ctx, operation["source_site_id"])
    peer = _peer(ctx, operation, source,
                 _token_source(operation, source)())
    return _start(peer, operation, kind, source, extra)["id"]


def run_on_source(ctx, operation, kind, timeout=TIMEOUT, extra=None,
                  started=None):
    """Queue ``kind`` on the operation's source site, wait for it, return
    ``(sub_operation_id, its result_data)``. ``extra``: more fields of the
    request (``SCHEMA``), e.g. restore_source's ``rolled_back_operation_id``.
    ``started``: the ID ``start_on_source`` gave earlier in this run; it
    is waited for as it is, a failure included (queueing it again would
    run a failed sub-operation twice within one run of the parent)."""
    source = sites_db.get(ctx, operation["source_site_id"])
    fresh = _token_source(operation, source)
    peer = _peer(ctx, operation, source, fresh())
    sub = peer.operation(started) if started else \
        _start(peer, operation, kind, source, extra)
    deadline = time.monotonic() + timeout
    interval = FIRST_POLL
    while sub["status"] not in ("completed", "failed"):
        if time.monotonic() > deadline:
            raise SubOperationTimeout(kind=kind, sub=sub["id"],
                                      site=source["name"], timeout=timeout,
                                      status=sub["status"])
        with timing.waiting():
            time.sleep(interval)
            interval = min(POLL_INTERVAL, interval * 1.5)
            # Current each poll (the same one until it nears expiry).
            peer.token = fresh()
            sub = peer.operation(sub["id"])
    if sub["status"] == "failed":
        raise SubOperationFailed(kind=kind, sub=sub["id"],
                                 site=source["name"], status="failed",
                                 reason=sub.get("error_message"))
    return sub["id"], sub.get("result_data") or {}

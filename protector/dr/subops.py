"""Sub-operations: the source-site half of a planned failover/failback.

doc/architecture.md 6: a failover runs on the target site's engine;
the steps that must happen on the source site (graceful shutdown and the
final replicated snapshot; after a failback, giving the vacated side's
volumes back to the array) run as *sub-operations* on the source site,
queued through its protector-api and run by its engine with its own
Keystone trust. No site ever acts on the other's cloud directly.

Authentication: the request that queued the parent operation carried the
caller's token for the source site (``X-Protector-Peer-Token``, the CLI's
``--secondary-cloud``). The API turns it into a Keystone application
credential in the source site's Keystone (``cloud/peer_credentials.py``:
a token expires within the hour, an operation may run or be resumed
later), keeps that, its secret encrypted with ``[storage]
token_encryption_key``, in the parent's parameters (never shown by the
API), and the target engine uses it to queue the sub-operation, poll it
and push the metadata; the engine deletes it when the operation
completes, and keeps it when the operation fails (a retry or rollback
needs it; one never used again expires by itself).
When Keystone refuses to make one, the token itself is kept (encrypted),
as a fallback that works for the token's lifetime. An unplanned failover
needs neither (the source is presumed down).

Idempotency: the source API returns the existing sub-operation of a parent
(``parent_operation_id`` + type) instead of queueing a second one, so a
target engine that crashed while waiting re-attaches to the same one. A
*failed* one is re-queued instead (retry semantics, ``ops_db.requeue``):
the parent asks again only when it is itself retried, and returning the
failed one would fail the parent again.

Sub-operation types (flows in ``engine/flows/source_flows.py``):

* ``prepare_failover``: shutdown_instances, final_snapshot
* ``vacate_site``: delete_instances, unmanage_volumes
* ``restore_source``: start_instances (the rollback of a planned
  failover/failback starts what its ``prepare_failover`` stopped;
  ``rolled_back_operation_id`` names that operation)
"""
import time

from oslo_log import log as logging

from protector.cloud import auth
from protector.cloud import peer_credentials
from protector.cloud import timing
from protector.cloud import tokens
from protector.cloud import trusts
from protector.common import crypto
from protector.db import dr as dr_db
from protector.db import operations as ops_db
from protector.db import sites as sites_db
from protector.db import tenant_mappings as mappings_db
from protector.engine import flows
from protector.engine import rpcapi
from protector import exception
from protector.pgroups import peers

LOG = logging.getLogger(__name__)

TYPES = ("prepare_failover", "vacate_site", "restore_source")
TOKEN_KEY = "peer_token_encrypted"
CREDENTIAL_KEY = "peer_credential"
POLL_INTERVAL = 2.0
TIMEOUT = 3600

SCHEMA = {
    "type": "object",
    "properties": {
        "parent_operation_id": {"type": "string", "minLength": 1,
                                "maxLength": 64},
        "parent_operation_type": {"type": "string", "maxLength": 32},
        # restore_source: the failed operation whose shutdown is undone.
        "rolled_back_operation_id": {"type": "string", "minLength": 1,
                                     "maxLength": 64},
    },
    "required": ["parent_operation_id"],
    "additionalProperties": False,
}


class SubOperationFailed(exception.ProtectorException):
    code = "protector.operation.sub_operation_failed"
    msg_fmt = ("The %(kind)s sub-operation %(sub)s on site %(site)s "
               "%(status)s: %(reason)s")


class SubOperationTimeout(exception.ProtectorException):
    code = "protector.operation.sub_operation_timeout"
    msg_fmt = ("The %(kind)s sub-operation %(sub)s on site %(site)s did not "
               "finish within %(timeout)s s (status %(status)s); resume the "
               "operation by restarting the engine once it has.")


# -- API side: remember the source token; queue a sub-operation ------------

def keep_peer_token(req, source_site, args, purpose):
    """Keep a way for the engine to reach the source site: an application
    credential made with the caller's source-site token, else the token.

    Best effort: a planned operation without either fails in its first
    source-site step with a clear error, an unplanned one never needs it.
    """
    if tokens.is_local(source_site) or not crypto.configured():
        return
    token = req.headers.get(tokens.PEER_TOKEN_HEADER)
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


# Group statuses in which the source site takes no sub-operation: a group
# being created or deleted here has no workload to shut down or vacate.
REFUSED_STATUSES = ("creating", "deleting")


def _check_acceptable(ctx, pg, kind, sender):
    """Only the group's other site may ask (its signature proved who it
    is), only while this site is the group's current primary (where the
    instances to stop, vacate or restart run: a failover's source, a
    failback's source, a rolled-back one's source; never the site the
    workload has moved to), and never in a group being created or
    deleted."""
    primary = sites_db.get(ctx, pg["primary_site_id"])
    secondary = sites_db.get(ctx, pg["secondary_site_id"])
    local, other = peers.split_sites(primary, secondary)
    if sender["id"] != other["id"]:
        raise exception.PeerAuthFailed(
            reason="site %s is not a site of protection group %s" % (
                sender["name"], pg["id"]))
    current = pg.get("current_primary_site_id") or pg["primary_site_id"]
    if current != local["id"]:
        raise exception.ProtectionGroupBusy(
            pg=pg["id"], status="%s (the workload runs on site %s)" % (
                pg["status"], other["name"]),
            needed="'%s' to run on this site, its current primary" % kind)
    if pg["status"] in REFUSED_STATUSES:
        raise exception.ProtectionGroupBusy(
            pg=pg["id"], status=pg["status"],
            needed="other than %s" % " or ".join(REFUSED_STATUSES))
    return local, other


def start(req, pg_ident, kind, args, sender):
    """Queue (or return the existing) sub-operation ``kind`` of a parent
    operation running on the peer site ``sender`` (whose signature the API
    checked). Returns ``(operation, created)``."""
    ctx = req.context
    pg = dr_db.get_group(ctx, req.tenant_id, pg_ident)
    parent = args["parent_operation_id"]
    local, other = _check_acceptable(ctx, pg, kind, sender)
    for op in ops_db.list_all(ctx, req.tenant_id, {
            "protection_group_id": pg["id"], "operation_type": kind,
            "parent_operation_id": parent}, limit=1):
        if op["status"] != "failed":
            return op, False
        # The parent is being retried: run this one again from its
        # failed step (its completed steps are kept).
        op = ops_db.requeue(ctx, op["id"])
        LOG.info("Sub-operation %s (%s) of %s re-queued", op["id"], kind,
                 parent)
        _wake(ctx, op["id"])
        return op, True
    params = {"parent_operation_id": parent,
              "parent_operation_type": args.get("parent_operation_type")}
    if args.get("rolled_back_operation_id"):
        params["rolled_back_operation_id"] = args["rolled_back_operation_id"]
    # This site's engine acts through the caller's trust here.
    trusts.ensure(req, local)
    # The sub-operation acts on this site: it is its "target" (the site
    # whose cloud and array the engine's tasks use).
    op = ops_db.create(ctx, pg["id"], {
        "project_id": req.tenant_id, "user_id": ctx.user_id,
        "protection_group_id": pg["id"],
        "protection_group_name": pg["name"], "operation_type": kind,
        "source_site_id": other["id"], "target_site_id": local["id"],
        "parent_operation_id": parent,
        "parameters": params}, flows.step_names(kind, {}))
    _wake(ctx, op["id"])
    return op, True


def _wake(ctx, op_id):
    try:
        rpcapi.EngineAPI().wake(ctx, op_id)
    except Exception:
        LOG.exception("Could not wake engines for sub-operation %s; it "
                      "starts at the next poll", op_id)


# -- engine side: run a sub-operation on the source and wait for it --------

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


def run_on_source(ctx, operation, kind, timeout=TIMEOUT, extra=None):
    """Queue ``kind`` on the operation's source site, wait for it, return
    ``(sub_operation_id, its result_data)``. ``extra``: more fields of the
    request (``SCHEMA``), e.g. restore_source's ``rolled_back_operation_id``.
    """
    source = sites_db.get(ctx, operation["source_site_id"])
    fresh = _token_source(operation, source)
    peer = _peer(ctx, operation, source, fresh())
    body = {"parent_operation_id": operation["id"],
            "parent_operation_type": operation["operation_type"]}
    body.update(extra or {})
    sub = peer.start_sub_operation(operation["protection_group_id"], kind,
                                   body)
    LOG.info("Operation %s: %s sub-operation %s on site %s", operation["id"],
             kind, sub["id"], source["name"])
    deadline = time.monotonic() + timeout
    while sub["status"] not in ("completed", "failed"):
        if time.monotonic() > deadline:
            raise SubOperationTimeout(kind=kind, sub=sub["id"],
                                      site=source["name"], timeout=timeout,
                                      status=sub["status"])
        with timing.waiting():
            time.sleep(POLL_INTERVAL)
            # Current each poll (the same one until it nears expiry).
            peer.token = fresh()
            sub = peer.operation(sub["id"])
    if sub["status"] == "failed":
        raise SubOperationFailed(kind=kind, sub=sub["id"],
                                 site=source["name"], status="failed",
                                 reason=sub.get("error_message"))
    return sub["id"], sub.get("result_data") or {}

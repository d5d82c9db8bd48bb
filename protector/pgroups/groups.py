"""Create, update and delete protection groups on both sites, and sync.

Every change follows one pattern: open a writer transaction, make the local
change and bump the metadata version, push the new document to the peer,
and commit only if the peer accepted it. If the push fails the transaction
rolls back, so the request changes nothing on either site (architecture 3);
the failed attempt itself is recorded for ``sync-status``.

Create and delete pass through a committed status (``creating``,
``deleting``) with their progress in ``status_reason``, so that an API
process that stops half way leaves a row protector-engine can finish or
undo (``engine/reconcile.py``).
"""
import contextlib

from oslo_log import log as logging

from protector.cloud import sites
from protector.cloud import tokens
from protector.cloud import trusts
from protector.common import crypto
from protector.common import times
from protector.db import api as db_api
from protector.db import metadata
from protector.db import protection_groups as db
from protector.db import replication_policies as policy_db
from protector.db import sites as sites_db
from protector import exception
from protector.pgroups import peers
from protector.pgroups import remedies
from protector.pgroups import volume_types
from protector import volume_groups

LOG = logging.getLogger(__name__)

MUTABLE = ("name", "description", "tier_delay")
# Progress of a delete, in status_reason (read by engine/reconcile.py and
# pgroups/remedies.py): before the peer is told, and after it accepted.
DELETE_STARTED = "deleting: telling the peer site"
PEER_NOTIFIED = remedies.PEER_NOTIFIED


def group_sites(context, pg):
    primary = sites_db.get(context, pg["primary_site_id"])
    secondary = sites_db.get(context, pg["secondary_site_id"])
    return primary, secondary


def driver(caller, site):
    return volume_groups.for_site(site,
                                  lambda: tokens.cloud_for(caller, site))


@contextlib.contextmanager
def synced_change(caller, pg, peer):
    """Transaction that commits only after ``peer`` accepted the push.

    Yields a callable ``push(version, checksum, document)``; with
    ``changed``/``removed`` (member IDs, possibly empty) it pushes only
    those members and the group's own fields, falling back to the whole
    document (``Peer.push_change``). A failed push
    (or any error) rolls the local change back; the failure is then
    recorded in metadata_sync in a transaction of its own.
    """
    ctx = caller.context
    failure = None
    try:
        with db_api.transaction(ctx):
            def push(version, checksum, document, policy_tokens=None,
                     changed=None, removed=None):
                if changed is None and removed is None:
                    duration = peer.push_metadata(pg["id"], version,
                                                  checksum, document,
                                                  policy_tokens)
                else:
                    duration = peer.push_change(
                        pg["id"], version, checksum, document,
                        changed or (), removed or (), policy_tokens)
                db.record_sync(ctx, pg["id"], peer.site["id"], "SYNCED",
                               remote_version=version, duration_ms=duration)
            yield push
    except exception.PeerUnreachable as exc:
        failure = ("UNREACHABLE", exc)
        raise
    except (exception.PeerRejected, exception.PeerTokenInvalid) as exc:
        failure = ("FAILED", exc)
        raise
    finally:
        if failure:
            db.record_sync(ctx, pg["id"], peer.site["id"], failure[0],
                           error=failure[1].message)


def create(caller, body):
    ctx, project = caller.context, caller.tenant_id
    primary = sites_db.get(ctx, body["primary_site_id"])
    secondary = sites_db.get(ctx, body["secondary_site_id"])
    if primary["id"] == secondary["id"]:
        raise exception.SitesNotDistinct(site=primary["name"])
    local, peer_site = sites.split_sites(primary, secondary)
    # Everything that can be checked is checked before anything is made.
    peer = peers.resolve(caller, project, peer_site)
    rtype = body["replication_type"]
    # One cloud per site for the types and the groups (each is a Keystone
    # round trip); types come from the real Cinder also in mock mode.
    clouds = (tokens.cloud_for(caller, primary),
              tokens.cloud_for(caller, secondary))
    vt, remote_vt = volume_types.resolve((primary, secondary), clouds, body)
    drivers = {"primary": volume_groups.for_site(primary,
                                                 lambda: clouds[0]),
               "secondary": volume_groups.for_site(secondary,
                                                   lambda: clouds[1])}
    # This site's engine acts for the tenant through a trust.
    trusts.ensure(caller, local)

    pg = db.create(ctx, {
        "project_id": project, "name": body["name"],
        "description": body.get("description"), "replication_type": rtype,
        "primary_site_id": primary["id"],
        "secondary_site_id": secondary["id"],
        "volume_type_id": vt["id"], "volume_type_name": vt["name"],
        "remote_volume_type_id": remote_vt["id"],
        "tier_delay": body.get("tier_delay", 0)})
    made = []
    try:
        cg_name = "pg-%s-cg" % body["name"]
        for role, type_id in (("primary", vt["id"]),
                              ("secondary", remote_vt["id"])):
            group = drivers[role].create_group(
                cg_name, type_id, "Consistency group of protection group "
                "%s" % pg["id"])
            made.append((role, group["id"]))
            if role == "primary":
                first = group
            # Recorded (committed) at once: if this process stops before
            # the end, the 'creating' row names what a delete must remove.
            db.set_consistency_group(ctx, pg["id"], {
                "name": cg_name, "volume_type_id": vt["id"],
                "volume_type_name": vt["name"], "status": "creating",
                role + "_cg_id": group["id"]})
        with synced_change(caller, pg, peer) as push:
            db.set_consistency_group(ctx, pg["id"], {
                "name": cg_name, "volume_type_id": vt["id"],
                "volume_type_name": vt["name"],
                "backend_name": first.get("backend_name") or
                vt["extra_specs"].get("volume_backend_name"),
                "group_type_id": first.get("group_type_id"),
                "primary_cg_id": made[0][1], "secondary_cg_id": made[1][1],
                "status": "active"})
            pg, version, checksum, doc = db.bump_version(
                ctx, project, pg["id"], {"status": "active"},
                when="creating", action="finish creating it")
            push(version, checksum, doc)
    except Exception as exc:
        _undo_create(caller, pg, drivers, made, exc)
        raise
    return db.get(ctx, project, pg["id"])


def _undo_create(caller, pg, drivers, made, exc):
    """Remove what a failed create made; keep the row only if we can't."""
    leftovers = []
    for role, group_id in reversed(made):
        try:
            drivers[role].delete_group(group_id)
        except Exception as cleanup_exc:
            LOG.exception("Could not delete %s consistency group %s of "
                          "failed protection group %s", role, group_id,
                          pg["id"])
            leftovers.append("%s consistency group %s (%s)" % (
                role, group_id, cleanup_exc))
    reason = getattr(exc, "message", str(exc))
    if leftovers:
        # Keep an 'error' row naming what is left, so the user can see it
        # and DELETE retries the cleanup; it was never pushed to the peer.
        db.update(caller.context, pg["project_id"], pg["id"], {
            "status": "error",
            "status_reason": "create failed (%s); left behind: %s" % (
                reason, "; ".join(leftovers))})
        if made:
            db.set_consistency_group(caller.context, pg["id"], {
                "name": "pg-%s-cg" % pg["name"],
                "volume_type_id": pg["volume_type_id"], "status": "error",
                "primary_cg_id": dict(made).get("primary"),
                "secondary_cg_id": dict(made).get("secondary")})
    else:
        LOG.info("Create of protection group %s failed (%s); removed it",
                 pg["id"], reason)
        db.delete(caller.context, pg["id"])


def update(caller, ident, body):
    ctx, project = caller.context, caller.tenant_id
    pg = db.get(ctx, project, ident)
    primary, secondary = group_sites(ctx, pg)
    _, peer_site = sites.split_sites(primary, secondary)
    peer = peers.resolve(caller, project, peer_site)
    values = {k: body[k] for k in MUTABLE if k in body}
    with synced_change(caller, pg, peer) as push:
        pg, version, checksum, doc = db.bump_version(
            ctx, project, pg["id"], values, when="settled",
            action="change it")
        # No member changed: the delta is the group's own fields.
        push(version, checksum, doc, changed=(), removed=())
    return db.get(ctx, project, pg["id"])


def delete(caller, ident):
    ctx, project = caller.context, caller.tenant_id
    pg = db.get(ctx, project, ident)
    cg = db.get_consistency_group(ctx, pg["id"])
    primary, secondary = group_sites(ctx, pg)
    if pg["status"] == "error" and pg["metadata_version"] == 0:
        # A create that failed half-way and was never synced: local only.
        _delete_groups(caller, pg, cg, primary, secondary, strict=True)
        db.delete(ctx, pg["id"])
        return
    # An operation or a test first (409 protector.operation.*), then the
    # group's own state.
    db.check_idle(ctx, pg["id"], "delete it")
    if pg["member_count"]:
        raise exception.ProtectionGroupInUse(pg=pg["name"],
                                             count=pg["member_count"])
    if pg["status"] != "active":
        raise exception.ProtectionGroupBusy(pg=pg["name"],
                                            status=pg["status"],
                                            needed="'active'")
    _, peer_site = sites.split_sites(primary, secondary)
    peer = peers.resolve(caller, project, peer_site)
    # Committed before any remote call; the same conditional write
    # refuses an operation, a test or a member that came meanwhile.
    pg = db.begin_delete(ctx, project, pg["id"], DELETE_STARTED)
    doc = metadata.deletion(pg["id"])
    try:
        peer.push_metadata(pg["id"], pg["metadata_version"] + 1,
                           metadata.checksum(doc), doc)
    except Exception as exc:
        # The peer kept the group: nothing changed anywhere (architecture
        # rule 3), so the group is active again.
        db.set_values(ctx, pg["id"], {"status": "active",
                                      "status_reason": None},
                      expect={"status": "deleting"})
        if isinstance(exc, (exception.PeerUnreachable,
                            exception.PeerRejected,
                            exception.PeerTokenInvalid)):
            db.record_sync(ctx, pg["id"], peer_site["id"],
                           "UNREACHABLE" if isinstance(
                               exc, exception.PeerUnreachable)
                           else "FAILED", error=exc.message)
        raise
    # From here on the delete only goes forward (the engine finishes it
    # if this process stops).
    db.set_values(ctx, pg["id"], {"status_reason": PEER_NOTIFIED},
                  expect={"status": "deleting"})
    _delete_groups(caller, pg, cg, primary, secondary, strict=False)
    db.delete(ctx, pg["id"])


def _delete_groups(caller, pg, cg, primary, secondary, strict):
    if not cg:
        return
    for site, group_id in ((primary, cg["primary_cg_id"]),
                           (secondary, cg["secondary_cg_id"])):
        if not group_id:
            continue
        try:
            driver(caller, site).delete_group(group_id)
        except Exception:
            if strict:
                raise
            # The group is gone on both sites already; an empty Cinder
            # group left behind holds no data and is only logged.
            LOG.exception("Could not delete consistency group %s on site "
                          "%s of deleted protection group %s", group_id,
                          site["name"], pg["id"])


def _peer_version(caller, project, pg, peer_site, signed=False):
    """(peer, the peer's own sync-status) when the peer answers, else
    (peer or None, None). ``remote=0`` keeps the peer from asking back.
    ``signed``: the returned peer also carries the pairing key."""
    try:
        peer = peers.resolve(caller, project, peer_site, signed=signed)
    except exception.ProtectorException:
        return None, None
    try:
        return peer, peer.sync_status(pg["id"])
    except exception.ProtectorException:
        return peer, None


def force_sync(caller, ident, pull=True):
    """Converge both sites on the newest version: push ours, or, when the
    peer holds a newer one (asked of the stale site, e.g. the original
    primary after an unplanned failover), have the peer push its own to
    us. ``pull=False``: only push (the peer's half of a pull, which the
    group's other site, ``caller.peer_site``, asked for)."""
    ctx, project = caller.context, caller.tenant_id
    expect_peer = caller.peer_site
    pg, version, checksum, doc = db.current_document(ctx, project, ident)
    primary, secondary = group_sites(ctx, pg)
    local, peer_site = sites.split_sites(primary, secondary)
    if expect_peer is not None and expect_peer["id"] != peer_site["id"]:
        raise exception.PeerAuthFailed(
            reason="site %s is not a site of protection group %s" % (
                expect_peer["name"], pg["id"]))
    # The steps as they happen, for the report (the CLI prints them).
    steps = []
    result = {"status": "failed", "remote_site": peer_site["name"],
              "source_site": local["name"], "target_site": peer_site["name"],
              "version": version, "checksum": checksum,
              "duration_ms": None, "error": None, "steps": steps}
    if pull:
        peer, theirs = _peer_version(caller, project, pg, peer_site,
                                     signed=True)
        steps.append({"step": "compare versions with %s" % peer_site["name"],
                      "ok": theirs is not None})
        if theirs and (theirs.get("local_version") or 0) > version:
            result.update(source_site=peer_site["name"],
                          target_site=local["name"],
                          version=theirs["local_version"],
                          checksum=theirs.get("local_checksum"))
            try:
                answer = peer.push_to_caller(pg["id"],
                                             caller.context.auth_token)
            except (exception.PeerUnreachable, exception.PeerRejected,
                    exception.PeerTokenInvalid) as exc:
                steps.append({"step": "%s (ahead, version %s) pushes to %s"
                              % (peer_site["name"], result["version"],
                                 local["name"]), "ok": False})
                result["error"] = exc.message
                return result
            steps.extend(answer.get("steps") or [])
            result.update(status=answer.get("status"),
                          duration_ms=answer.get("duration_ms"),
                          error=answer.get("error"))
            return result
    steps.append({"step": "gather the metadata of version %d" % version,
                  "ok": True})
    computed = metadata.checksum(doc)
    steps.append({"step": "calculate its checksum", "ok": computed ==
                  checksum})
    if computed != checksum:
        result["error"] = ("the stored checksum %s does not match the "
                           "document (%s); change the group once to record "
                           "a new version" % (checksum, computed))
        return result
    try:
        peer = peers.resolve(caller, project, peer_site)
        result["duration_ms"] = peer.push_metadata(pg["id"], version,
                                                   checksum, doc)
    except (exception.PeerUnreachable, exception.PeerRejected,
            exception.PeerTokenInvalid) as exc:
        status = "UNREACHABLE" if isinstance(
            exc, exception.PeerUnreachable) else "FAILED"
        db.record_sync(ctx, pg["id"], peer_site["id"], status,
                       error=exc.message)
        steps.append({"step": "push to %s" % peer_site["name"], "ok": False})
        result["error"] = exc.message
        return result
    db.record_sync(ctx, pg["id"], peer_site["id"], "SYNCED",
                   remote_version=version, duration_ms=result["duration_ms"])
    steps.append({"step": "push to %s" % peer_site["name"], "ok": True})
    result["status"] = "success"
    return result


def sync_status(caller, ident, ask_peer=True):
    """This site's version and what it recorded of the peer; with
    ``ask_peer`` (and a token for it), the peer's own version too, so the
    answer is true from either site (``ahead`` names the newer one)."""
    ctx = caller.context
    pg = db.get(ctx, caller.tenant_id, ident)
    primary, secondary = group_sites(ctx, pg)
    try:
        local, peer_site = sites.split_sites(primary, secondary)
    except exception.LocalSiteUnknown:
        local, peer_site = None, None
    sync = pg["sync"] or {}
    remote_version = sync.get("remote_version")
    status = sync.get("status") or "PENDING"
    live = None
    if ask_peer and peer_site is not None and (
            caller.peer_token or
            tokens.is_local(peer_site)):
        _, live = _peer_version(caller, caller.tenant_id, pg, peer_site)
        if live is None:
            status = "UNREACHABLE"
    result = {
        "protection_group_id": pg["id"],
        "local_version": pg["metadata_version"],
        "local_checksum": pg["metadata_checksum"],
        "current_site": local["name"] if local else None,
        "last_modified": times.isotime(pg["updated_at"] or
                                       pg["created_at"]),
        "remote_site": (peer_site or {}).get("name") or
        sync.get("peer_site"),
        "remote_status": status,
        "remote_version": remote_version,
        "last_sync_at": times.isotime(sync.get("last_sync_at")),
        "last_error": sync.get("last_error"),
        "in_sync": status == "SYNCED" and
        remote_version == pg["metadata_version"],
        "remote_checked": live is not None,
        "remote_checksum": None,
        "ahead": None,
    }
    if live is not None:
        mine = pg["metadata_version"] or 0
        theirs = live.get("local_version") or 0
        same = theirs == mine and live.get("local_checksum") == \
            pg["metadata_checksum"]
        result.update(
            remote_version=theirs, remote_checksum=live.get(
                "local_checksum"),
            remote_status="SYNCED" if same else "OUT_OF_SYNC",
            in_sync=same,
            ahead=None if same else (
                result["current_site"] if mine > theirs else
                result["remote_site"] if theirs > mine else "diverged"))
    return result


def _store_policy(ctx, pg_id, policy, tokens):
    """The peer's replication policy as this site's copy: the fields of
    the document, the array tokens encrypted with this site's key (kept
    when the push carries none, e.g. a member change or sync-force)."""
    values = {k: policy.get(k) for k in (
        "primary_fa_url", "secondary_fa_url", "pure_pg_name",
        "replication_interval", "rpo_minutes")}
    current = policy_db.get(ctx, pg_id) or {}
    for side in ("primary", "secondary"):
        key = side + "_fa_api_token"
        if tokens:
            if not crypto.configured():
                # A 4xx, so the sender reports a refusal (not an outage).
                raise exception.Invalid(
                    reason=exception.EncryptionUnconfigured().message)
            values[key + "_encrypted"] = crypto.encrypt(tokens[key])
        else:
            values[key + "_encrypted"] = current.get(key + "_encrypted")
    policy_db.put(ctx, pg_id, values)


def _check_sender(ctx, project, pg_id, document, sender):
    """The signing peer must be a site of the group: the one the document
    names (a new or changed group), or the stored group's (a deletion)."""
    if document.get("deleted"):
        try:
            pg = db.get(ctx, project, pg_id)
        except exception.ProtectionGroupNotFound:
            return
        names = [s["name"] for s in group_sites(ctx, pg)]
    else:
        names = [document.get("primary_site"),
                 document.get("secondary_site")]
    if sender["name"] not in names:
        raise exception.PeerAuthFailed(
            reason="site %s is not a site of protection group %s" % (
                sender["name"], pg_id))


def receive(ctx, project, pg_id, body, sender):
    """Store a push from the peer ``sender`` (the receiving half of
    ``push``; the API checked the sender's signature)."""
    if "document" not in body:
        return _receive_delta(ctx, project, pg_id, body, sender)
    document, version = body["document"], body["version"]
    if document.get("id") != pg_id:
        raise exception.Invalid(reason="the document is of protection group "
                                "%s, not %s" % (document.get("id"), pg_id))
    computed = metadata.checksum(document)
    if computed != body["checksum"]:
        raise exception.SyncChecksumMismatch(checksum=body["checksum"],
                                             pg=pg_id, computed=computed)
    _check_sender(ctx, project, pg_id, document, sender)
    with db_api.transaction(ctx):
        pg = db.apply_replica(ctx, project, version, body["checksum"],
                              document)
        _stored(ctx, pg, document, body)
    return {"protection_group_id": pg_id, "version": version,
            "checksum": body["checksum"],
            "status": "deleted" if pg is None else "stored"}


def _stored(ctx, pg, document, body):
    """What follows storing a push: the policy, the sync record."""
    if pg is None:
        return
    if document.get("policy"):
        _store_policy(ctx, pg["id"], document["policy"],
                      body.get("policy_tokens"))
    primary, secondary = group_sites(ctx, pg)
    _, sender = sites.split_sites(primary, secondary)
    db.record_sync(ctx, pg["id"], sender["id"], "SYNCED",
                   remote_version=body["version"])


def _receive_delta(ctx, project, pg_id, body, sender):
    """A push of what changed on ``base_version`` (doc/api-ref.md,
    "Metadata push"): applied only on that version, and only if the whole
    document rebuilt here has the pushed checksum; any refusal rolls it
    back and the sender pushes the whole document instead."""
    group, version = body["group"], body["version"]
    if group["id"] != pg_id:
        raise exception.Invalid(reason="the delta is of protection group "
                                "%s, not %s" % (group["id"], pg_id))
    if version != body["base_version"] + 1:
        raise exception.Invalid(reason="a delta on version %d makes version "
                                "%d, not %d" % (body["base_version"],
                                                body["base_version"] + 1,
                                                version))
    ids = [m["id"] for m in body["members"]]
    if len(set(ids)) != len(ids) or set(ids) & set(body["removed_members"]):
        raise exception.Invalid(reason="a delta names each member once, in "
                                "'members' or in 'removed_members'")
    _check_sender(ctx, project, pg_id, group, sender)
    with db_api.transaction(ctx):
        pg = db.apply_delta(ctx, project, body)
        _stored(ctx, pg, group, body)
        # Last, once the policy is stored too: the document rebuilt here
        # must be the sender's.
        db.check_document(ctx, pg["id"], body["checksum"])
    return {"protection_group_id": pg_id, "version": version,
            "checksum": body["checksum"], "status": "stored"}

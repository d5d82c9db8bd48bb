"""Tenant mappings: a project here <-> its project on a remote site.

A mapping created or deleted on one site is mirrored on the remote site in
the same transaction (with the caller's peer token, signed: the peer's
``/internal/tenant-mappings``), or nothing changes; the mirrored copy
keeps the same ID. The mirror's half is ``mirror``/``unmirror``: only the
remote site a mapping names may write it (``caller.peer_site``, the
signer).
"""
from oslo_config import cfg

from protector.cloud import sites
from protector.cloud import tokens
from protector.db import api as db_api
from protector.db import sites as sites_db
from protector.db import tenant_mappings as db
from protector import exception
from protector.pgroups import peers


def _check_project(caller, local_tenant):
    if local_tenant != caller.tenant_id:
        raise exception.Invalid(
            reason="local_tenant %s is not the project of the URL (%s)" %
            (local_tenant, caller.tenant_id))


def create(caller, body):
    """Create the mapping here and its mirror on the remote site."""
    _check_project(caller, body["local_tenant"])
    ctx = caller.context
    remote = sites_db.get(ctx, body["remote_site_id"])
    values = dict(body, remote_site_id=remote["id"])
    # The peer knows this site by name: find which registered site
    # (other than the remote one) is this one.
    is_here = (remote["name"] == cfg.CONF.site_name) \
        if cfg.CONF.site_name else tokens.is_local(remote)
    if is_here:
        raise exception.TenantMappingSiteIsLocal(site=remote["name"])
    local = sites.local_site([s for s in sites_db.list_all(ctx)
                              if s["id"] != remote["id"]])
    with db_api.transaction(ctx):
        mapping = db.create(ctx, values)
        peer = peers.resolve(caller, body["local_tenant"], remote,
                             peer_project=body["remote_tenant"])
        peer.create_mapping({
            "id": mapping["id"], "local_tenant": body["remote_tenant"],
            "remote_site_id": local["name"],
            "remote_tenant": body["local_tenant"],
            "description": body.get("description")})
    return mapping


def delete(caller, mapping_id):
    """Delete the mapping here and its mirror on the remote site."""
    ctx = caller.context
    mapping = db.get(ctx, mapping_id, local_tenant=caller.tenant_id)
    remote = sites_db.get(ctx, mapping["remote_site_id"])
    with db_api.transaction(ctx):
        db.delete(ctx, mapping["id"])
        peer = peers.resolve(caller, mapping["local_tenant"], remote,
                             peer_project=mapping["remote_tenant"])
        peer.delete_mapping(mapping["id"])


def mirror(caller, body):
    """The mirror of a mapping the signing peer site created (same ID)."""
    _check_project(caller, body["local_tenant"])
    remote = sites_db.get(caller.context, body["remote_site_id"])
    if remote["id"] != caller.peer_site["id"]:
        raise exception.PeerAuthFailed(
            reason="site %s may only mirror its own mappings" %
            caller.peer_site["name"])
    return db.create(caller.context, dict(body, remote_site_id=remote["id"]))


def unmirror(caller, mapping_id):
    """Remove the mirror of a mapping the signing peer site deleted."""
    mapping = db.get(caller.context, mapping_id,
                     local_tenant=caller.tenant_id)
    if mapping["remote_site_id"] != caller.peer_site["id"]:
        raise exception.PeerAuthFailed(
            reason="site %s may only remove its own mappings" %
            caller.peer_site["name"])
    db.delete(caller.context, mapping["id"])

"""A protection group's replication policy: store it (a synced group
change, doc/architecture.md 3) and read it with its replication lag.

FlashArray API tokens are encrypted before they reach the database
(``common/crypto.py``); the peer gets them in clear beside the pushed
document and encrypts them with its own key. Once stored, the arrays
replicate from then on (``replication.replicate``).
"""
from protector.cloud import sites
from protector.common import crypto
from protector.db import protection_groups as pg_db
from protector.db import replication_policies as db
from protector import exception
from protector.pgroups import groups
from protector.pgroups import peers
from protector.pgroups import replication
from protector import storage
from protector.storage import rpo


def show(caller, pg_ident):
    """``(group, policy row, rpo status)``; PolicyNotFound if none."""
    pg = pg_db.get(caller.context, caller.tenant_id, pg_ident)
    policy = db.get(caller.context, pg["id"])
    if policy is None:
        raise exception.PolicyNotFound(pg=pg["name"])
    return pg, policy, rpo.status(pg, policy)


def put(caller, pg_ident, body, defaults):
    """Create or replace the group's policy on both sites; ``defaults``:
    the values a body may leave out, per replication type. Returns
    ``(group, policy row, created)``."""
    ctx, project = caller.context, caller.tenant_id
    pg = pg_db.get(ctx, project, pg_ident)
    if pg["current_operation_id"]:
        raise exception.OperationConflict(
            pg=pg["name"], operation=pg["current_operation_id"],
            operation_type="DR operation", status="in progress")
    values = dict(defaults.get(pg["replication_type"], {}), **body)
    if not crypto.configured():
        # Refuse before talking to any array: nothing could be stored.
        raise exception.EncryptionUnconfigured()
    if storage.driver_name() == "pure":
        # Login with each token, array connection present and of the
        # group's replication type; a 400 naming the array otherwise.
        # Imported here: py-pure-client loads only where it is used.
        from protector.storage.pure import validate
        validate.check_policy(values, pg)
    primary, secondary = groups.group_sites(ctx, pg)
    _, peer_site = sites.split_sites(primary, secondary)
    peer = peers.resolve(caller, project, peer_site)
    tokens = {}
    for side in ("primary", "secondary"):
        token = values.pop(side + "_fa_api_token")
        tokens[side + "_fa_api_token"] = token
        values[side + "_fa_api_token_encrypted"] = crypto.encrypt(token)
    with groups.synced_change(caller, pg, peer) as push:
        policy, created = db.put(ctx, pg["id"], values)
        _, version, checksum, doc = pg_db.bump_version(ctx, project,
                                                       pg["id"])
        # The policy is one of the group's own fields: no member changed.
        push(version, checksum, doc, policy_tokens=tokens, changed=(),
             removed=())
    # The arrays replicate from now on (schedule, target, the members'
    # volumes), not only from the first DR operation: an unplanned
    # failover needs snapshots replicated before the disaster.
    replication.replicate(ctx, pg, dict(values, **tokens))
    return pg, policy, created

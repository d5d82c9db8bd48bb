"""Replication policies: create-or-replace and show (seed 000).

FlashArray API tokens are encrypted before they reach the database
(``common/crypto.py``) and rendered ``*** (masked)`` in every response;
they are never logged. Without ``[storage] token_encryption_key`` a PUT is
refused with 503 ``protector.policy.encryption_unconfigured``. With the
``pure`` storage driver a PUT first checks both arrays
(``storage/pure/validate.py``): 400 ``protector.policy.array_invalid``
naming the array and the problem, nothing stored. Once stored, the array
replication is set up (``storage.ensure_group_replication``: the group's
protection group or pod on the current primary's array, its schedule, the
peer as target, the members' volumes; best effort: ``pgroups/replication.py``).
``show`` adds the
replication lag against ``rpo_minutes`` (``storage/rpo.py``).

Metadata sync: the policy is part of the group's synced document, so a
PUT is a protection-group modification (architecture 3): it stores the
policy, bumps the group's version and pushes the document to the peer,
with the clear-text tokens beside it for the peer to encrypt with its own
key, in one transaction that commits only if the peer accepted (503
``protector.peer.unreachable`` and nothing changed otherwise).
"""
from protector.api.schemas import replication_policies as schema
from protector.api import util
from protector.common import crypto
from protector.db import dr as dr_db
from protector.db import protection_groups as pg_db
from protector.db import replication_policies as db
from protector import exception
from protector.pgroups import groups
from protector.pgroups import peers
from protector.pgroups import replication
from protector import storage
from protector.storage import rpo


def serialize(pg_id, policy):
    return {
        "protection_group_id": pg_id,
        "primary_fa_url": policy["primary_fa_url"],
        "primary_fa_api_token": crypto.MASK
        if policy["primary_fa_api_token_encrypted"] else None,
        "secondary_fa_url": policy["secondary_fa_url"],
        "secondary_fa_api_token": crypto.MASK
        if policy["secondary_fa_api_token_encrypted"] else None,
        "pure_pg_name": policy["pure_pg_name"],
        "replication_interval": policy["replication_interval"],
        "rpo_minutes": policy["rpo_minutes"],
        "created_at": util.isotime(policy["created_at"]),
        "updated_at": util.isotime(policy["updated_at"]),
    }


def show_policy(req):
    util.authorize(req, "protector:replication_policies:show")
    pg = dr_db.get_group(req.context, req.tenant_id, req.urlvars["pg"])
    policy = db.get(req.context, pg["id"])
    if policy is None:
        raise exception.PolicyNotFound(pg=pg["name"])
    data = serialize(pg["id"], policy)
    data.update(rpo.status(pg, policy))
    return util.json_response(req, {"policy": data})


def put_policy(req):
    util.authorize(req, "protector:replication_policies:create")
    body = util.extract_json(req, schema.PUT)["policy"]
    pg = dr_db.get_group(req.context, req.tenant_id, req.urlvars["pg"])
    if pg["current_operation_id"]:
        raise exception.OperationConflict(
            pg=pg["name"], operation=pg["current_operation_id"],
            operation_type="DR operation", status="in progress")
    values = dict(schema.DEFAULTS.get(pg["replication_type"], {}), **body)
    if not crypto.configured():
        # Refuse before talking to any array: nothing could be stored.
        raise exception.EncryptionUnconfigured()
    if storage.driver_name() == "pure":
        # Login with each token, array connection present and of the
        # group's replication type; a 400 naming the array otherwise.
        from protector.storage.pure import validate
        validate.check_policy(values, pg)
    ctx, project = req.context, req.tenant_id
    primary, secondary = groups.group_sites(ctx, pg)
    _, peer_site = peers.split_sites(primary, secondary)
    peer = peers.resolve(req, project, peer_site)
    tokens = {}
    for side in ("primary", "secondary"):
        token = values.pop(side + "_fa_api_token")
        tokens[side + "_fa_api_token"] = token
        values[side + "_fa_api_token_encrypted"] = crypto.encrypt(token)
    with groups.synced_change(req, pg, peer) as push:
        policy, created = db.put(ctx, pg["id"], values)
        _, version, checksum, doc = pg_db.bump_version(ctx, project,
                                                       pg["id"])
        push(version, checksum, doc, policy_tokens=tokens)
    # The arrays replicate from now on (schedule, target, the members'
    # volumes), not only from the first DR operation: an unplanned
    # failover needs snapshots replicated before the disaster.
    replication.replicate(ctx, pg, dict(values, **tokens))
    return util.json_response(req, {"policy": serialize(pg["id"], policy)},
                              status=201 if created else 200)

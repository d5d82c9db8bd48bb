"""Replication policies: create-or-replace and show (doc/api-ref.md).

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
``show`` adds the replication lag against ``rpo_minutes``
(``storage/rpo.py``). The handlers check and serialize;
``pgroups/policies.py`` does the rest.

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
from protector.common import times
from protector.pgroups import policies


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
        "created_at": times.isotime(policy["created_at"]),
        "updated_at": times.isotime(policy["updated_at"]),
    }


def show_policy(req):
    util.authorize(req, "protector:replication_policies:show")
    pg, policy, lag = policies.show(util.caller(req), req.urlvars["pg"])
    return util.json_response(
        req, {"policy": dict(serialize(pg["id"], policy), **lag)})


def put_policy(req):
    util.authorize(req, "protector:replication_policies:create")
    body = util.extract_json(req, schema.PUT)["policy"]
    pg, policy, created = policies.put(util.caller(req), req.urlvars["pg"],
                                       body, schema.DEFAULTS)
    return util.json_response(req, {"policy": serialize(pg["id"], policy)},
                              status=201 if created else 200)

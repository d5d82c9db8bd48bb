"""Request schemas for protection groups and their metadata sync."""
from protector.api import schemas
from protector.db import members as members_db

# From this microversion a group has ``tier_delay`` (doc/api-ref.md).
TIER_DELAY_VERSION = "1.4"
# From this microversion the list shows each group's cached RPO state
# (``rpo_status``, ``rpo_detail``, ``replication_lag_seconds``,
# ``rpo_checked_at``), and show its ``rpo_checked_at``.
RPO_LIST_VERSION = "1.5"
MAX_TIER_DELAY = 3600
TIER_DELAY = {
    "type": "integer", "minimum": 0, "maximum": MAX_TIER_DELAY,
    "description": "Microversion 1.4 or later: seconds a recovery waits "
    "between two boot tiers, after every VM of the earlier tier is ACTIVE "
    "or failed (0-%d, default 0)." % MAX_TIER_DELAY}

CREATE = {
    "type": "object",
    "properties": {
        "protection_group": {
            "type": "object",
            "properties": {
                "name": schemas.NAME,
                "description": schemas.DESCRIPTION,
                "replication_type": {"type": "string",
                                     "enum": ["async", "sync"]},
                "primary_site_id": schemas.UUID,
                "secondary_site_id": schemas.UUID,
                "volume_type_id": schemas.UUID,
                # The two sites may name their types apart (doc/api-ref.md).
                "secondary_volume_type": dict(schemas.NAME, description=(
                    "The secondary site's volume type (name or ID). "
                    "Default: the type of the primary type's name there, "
                    "else the one replicated type there whose "
                    "replication_type matches on a comparable backend.")),
                "tier_delay": TIER_DELAY,
            },
            "required": ["name", "replication_type", "primary_site_id",
                         "secondary_site_id", "volume_type_id"],
            "additionalProperties": False,
        },
    },
    "required": ["protection_group"],
    "additionalProperties": False,
}

# Fields a client may read but never write; named in the 400 of an update.
IMMUTABLE = ("id", "project_id", "status", "status_reason",
             "replication_type", "primary_site_id", "primary_site",
             "secondary_site_id", "secondary_site", "current_primary_site_id",
             "current_primary_site", "volume_type_id",
             "secondary_volume_type", "secondary_volume_type_id",
             "consistency_group_id",
             "member_count", "failover_count", "last_failover_at",
             "created_at", "updated_at", "metadata_version",
             "remote_sync_status", "remote_sync_version")

UPDATE = {
    "type": "object",
    "properties": {
        "protection_group": {
            "type": "object",
            "properties": {
                "name": schemas.NAME,
                "description": schemas.DESCRIPTION,
                "tier_delay": TIER_DELAY,
            },
            "additionalProperties": False,
        },
    },
    "required": ["protection_group"],
    "additionalProperties": False,
}

SYNC_FORCE = {"type": ["object", "null"]}

# A delta carries the members of one change (a member add, remove or
# priority); the bound keeps its body and its validation O(1).
MAX_DELTA_MEMBERS = 100
DELTA_KEYS = ("base_version", "group", "members", "removed_members")

_TOKEN = {"type": "string", "minLength": 1, "maxLength": 1024,
          "pattern": r"^\S+$"}

METADATA = {
    "type": "object",
    "properties": {
        "metadata": {
            "type": "object",
            "properties": {
                "version": {"type": "integer", "minimum": 1,
                            "maximum": 2 ** 31 - 1},
                "checksum": {"type": "string",
                             "pattern": "^[0-9a-f]{64}$"},
                # Either the whole document...
                "document": {
                    "type": "object",
                    "properties": {"id": schemas.UUID},
                    "required": ["id"],
                },
                # ... or a delta on base_version: the group's own fields
                # (GROUP), the members added or changed (each checked
                # against the member schema in the handler) and the IDs
                # of those removed. One form or the other (DELTA_KEYS).
                "base_version": {"type": "integer", "minimum": 0,
                                 "maximum": 2 ** 31 - 2},
                "group": {
                    "type": "object",
                    "properties": {"id": schemas.UUID},
                    "required": ["id"],
                },
                "members": {"type": "array", "maxItems": MAX_DELTA_MEMBERS,
                            "items": {"type": "object"}},
                "removed_members": {"type": "array",
                                    "maxItems": MAX_DELTA_MEMBERS,
                                    "uniqueItems": True,
                                    "items": schemas.UUID},
                # A policy change carries the array tokens beside the
                # document (never in it: each site encrypts its own copy).
                "policy_tokens": {
                    "type": "object",
                    "properties": {
                        "primary_fa_api_token": _TOKEN,
                        "secondary_fa_api_token": _TOKEN,
                    },
                    "required": ["primary_fa_api_token",
                                 "secondary_fa_api_token"],
                    "additionalProperties": False,
                },
            },
            "required": ["version", "checksum"],
            "additionalProperties": False,
        },
    },
    "required": ["metadata"],
    "additionalProperties": False,
}

# Every value of a pushed document that the receiver stores is bounded
# here as its column is (a peer is trusted to be the peer, not to be
# right): a wrong type or size is a 400, never a 500 or a stored oddity.
INT32 = 2 ** 31 - 1
_SITE_NAME = {"type": "string", "minLength": 1, "maxLength": 255}


def _text(size, null=True):
    return {"type": ["string", "null"] if null else "string",
            "maxLength": size}


def _id(null=True):
    return {"type": ["string", "null"] if null else "string",
            "minLength": 0 if null else 1, "maxLength": 36}


def _count(null=True, minimum=0):
    return {"type": ["integer", "null"] if null else "integer",
            "minimum": minimum, "maximum": INT32}


_TIME = {"type": ["string", "null"], "maxLength": 40,
         "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?$"}
_VOLUME = {
    "type": "object",
    "properties": {
        "volume_id": _id(null=False),
        "volume_name": _text(255),
        "size_gb": _count(),
        "volume_type_id": _id(),
        "device": _text(64),
        "boot_index": _count(minimum=-1),
        "bootable": {"type": "boolean"},
        "backend_ref": _text(255),
        "current_volume_id": _id(),
    },
    "required": ["volume_id"],
}
_MEMBER = {
    "type": "object",
    "properties": {
        "id": schemas.UUID,
        "instance_id": _id(null=False),
        "instance_name": _text(255),
        "status": {"type": "string", "minLength": 1, "maxLength": 32},
        "instance_config": {"type": ["object", "null"]},
        "current_site": _text(255),
        "current_instance_id": _id(),
        # Left out when it is the default (db/members.py).
        "priority": {"type": "integer",
                     "minimum": members_db.MIN_PRIORITY,
                     "maximum": members_db.MAX_PRIORITY},
        "volumes": {"type": "array", "maxItems": 256, "items": _VOLUME},
    },
    "required": ["id", "instance_id", "status", "volumes"],
}
_CONSISTENCY_GROUP = {
    "type": ["object", "null"],
    "properties": {
        "id": schemas.UUID,
        "name": _text(255, null=False),
        "volume_type_id": _id(null=False),
        "volume_type_name": _text(255),
        "backend_name": _text(255),
        "group_type_id": _id(),
        "primary_cg_id": _id(),
        "secondary_cg_id": _id(),
        "status": {"type": "string", "minLength": 1, "maxLength": 32},
    },
    "required": ["id", "name", "volume_type_id", "status"],
    # Each key becomes a column of the row: nothing else may come in.
    "additionalProperties": False,
}
_POLICY = {
    "type": ["object", "null"],
    "properties": {
        "primary_fa_url": {"anyOf": [schemas.URL, {"type": "null"}]},
        "secondary_fa_url": {"anyOf": [schemas.URL, {"type": "null"}]},
        "pure_pg_name": _text(255),
        "replication_interval": _count(),
        "rpo_minutes": _count(),
    },
}

# A pushed document that is not a deletion must be a whole group.
DOCUMENT = {
    "type": "object",
    "properties": {
        "id": schemas.UUID,
        "name": schemas.NAME,
        "description": schemas.DESCRIPTION,
        "status": {"type": "string", "enum": [
            "creating", "active", "failed_over", "failing_over",
            "failing_back", "error", "deleting"]},
        "status_reason": _text(4096),
        "replication_type": {"type": "string", "enum": ["async", "sync"]},
        "primary_site": _SITE_NAME,
        "secondary_site": _SITE_NAME,
        "current_primary_site": _SITE_NAME,
        "volume_type_id": _id(null=False),
        "volume_type_name": _text(255),
        "remote_volume_type_id": _id(),
        "failover_count": _count(null=False),
        "last_failover_at": _TIME,
        # Left out when 0 (db/protection_groups.py).
        "tier_delay": {"type": "integer", "minimum": 0,
                       "maximum": MAX_TIER_DELAY},
        "consistency_group": _CONSISTENCY_GROUP,
        "members": {"type": "array", "maxItems": 10000, "items": _MEMBER},
        "policy": _POLICY,
    },
    "required": ["id", "name", "status", "replication_type", "primary_site",
                 "secondary_site", "current_primary_site", "volume_type_id",
                 "failover_count", "members"],
}

# The group's own fields in a delta push: the document without its
# members (the receiver has them) and never a deletion.
GROUP = dict(DOCUMENT, properties={
    k: v for k, v in DOCUMENT["properties"].items() if k != "members"},
    required=[k for k in DOCUMENT["required"] if k != "members"],
    propertyNames={"not": {"enum": ["members", "deleted"]}})
MEMBER = _MEMBER

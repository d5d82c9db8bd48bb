"""Request schemas for protection groups and their metadata sync."""
from protector.api import schemas

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
             "current_primary_site", "volume_type_id", "consistency_group_id",
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
            },
            "additionalProperties": False,
        },
    },
    "required": ["protection_group"],
    "additionalProperties": False,
}

SYNC_FORCE = {"type": ["object", "null"]}

_TOKEN = {"type": "string", "minLength": 1, "maxLength": 1024,
          "pattern": r"^\S+$"}

METADATA = {
    "type": "object",
    "properties": {
        "metadata": {
            "type": "object",
            "properties": {
                "version": {"type": "integer", "minimum": 1},
                "checksum": {"type": "string",
                             "pattern": "^[0-9a-f]{64}$"},
                "document": {
                    "type": "object",
                    "properties": {"id": schemas.UUID},
                    "required": ["id"],
                },
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
            "required": ["version", "checksum", "document"],
            "additionalProperties": False,
        },
    },
    "required": ["metadata"],
    "additionalProperties": False,
}

_SITE_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_MEMBER = {
    "type": "object",
    "properties": {
        "id": schemas.UUID,
        "instance_id": {"type": "string", "minLength": 1, "maxLength": 36},
        "instance_name": {"type": ["string", "null"], "maxLength": 255},
        "status": {"type": "string", "minLength": 1, "maxLength": 32},
        "instance_config": {"type": "object"},
        "current_site": {"type": ["string", "null"]},
        "volumes": {"type": "array", "items": {
            "type": "object",
            "properties": {"volume_id": {"type": "string", "minLength": 1,
                                         "maxLength": 36}},
            "required": ["volume_id"]}},
    },
    "required": ["id", "instance_id", "status", "volumes"],
}

# A pushed document that is not a deletion must be a whole group.
DOCUMENT = {
    "type": "object",
    "properties": {
        "id": schemas.UUID,
        "name": schemas.NAME,
        "description": schemas.DESCRIPTION,
        "status": {"type": "string", "minLength": 1, "maxLength": 32},
        "replication_type": {"type": "string", "enum": ["async", "sync"]},
        "primary_site": _SITE_NAME,
        "secondary_site": _SITE_NAME,
        "current_primary_site": _SITE_NAME,
        "volume_type_id": {"type": "string", "minLength": 1,
                           "maxLength": 36},
        "failover_count": {"type": "integer", "minimum": 0},
        "consistency_group": {"type": ["object", "null"]},
        "members": {"type": "array", "items": _MEMBER},
    },
    "required": ["id", "name", "status", "replication_type", "primary_site",
                 "secondary_site", "current_primary_site", "volume_type_id",
                 "failover_count", "members"],
}

"""Request schemas for protection group members."""
from protector.api import schemas
from protector.db import members as members_db

# From this microversion a member has a boot tier (``priority``): set at
# add, changed with PUT, shown by list/show (doc/api-ref.md "Members").
PRIORITY_VERSION = "1.4"

PRIORITY = {
    "type": "integer",
    "minimum": members_db.MIN_PRIORITY, "maximum": members_db.MAX_PRIORITY,
    "description": "Microversion 1.4 or later: the boot tier, %d (first) "
    "to %d (last), default %d. A recovery starts a tier once every VM of "
    "the tiers before it is ACTIVE or failed." % (
        members_db.MIN_PRIORITY, members_db.MAX_PRIORITY,
        members_db.DEFAULT_PRIORITY)}

CREATE = {
    "type": "object",
    "properties": {
        "member": {
            "type": "object",
            "properties": {
                "instance_id": schemas.UUID,
                "volume_ids": {"type": "array", "items": schemas.UUID,
                               "minItems": 1, "uniqueItems": True},
                "priority": PRIORITY,
            },
            "required": ["instance_id"],
            "additionalProperties": False,
        },
    },
    "required": ["member"],
    "additionalProperties": False,
}

# PUT .../members/{id} (1.4): what may change of a member.
UPDATE = {
    "type": "object",
    "properties": {
        "member": {
            "type": "object",
            "properties": {
                "priority": PRIORITY,
            },
            "required": ["priority"],
            "additionalProperties": False,
        },
    },
    "required": ["member"],
    "additionalProperties": False,
}

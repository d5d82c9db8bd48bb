"""Request schemas for protection group members."""
from protector.api import schemas

CREATE = {
    "type": "object",
    "properties": {
        "member": {
            "type": "object",
            "properties": {
                "instance_id": schemas.UUID,
                "volume_ids": {"type": "array", "items": schemas.UUID,
                               "minItems": 1, "uniqueItems": True},
            },
            "required": ["instance_id"],
            "additionalProperties": False,
        },
    },
    "required": ["member"],
    "additionalProperties": False,
}

"""Request schemas for tenant mappings."""
from protector.api import schemas

PROJECT = {"type": "string", "minLength": 1, "maxLength": 64,
           "pattern": r"^[A-Za-z0-9_-]+$"}

_MAPPING = {
    "local_tenant": PROJECT,
    "remote_site_id": schemas.UUID,
    "remote_tenant": PROJECT,
    "description": schemas.DESCRIPTION,
}

CREATE = {
    "type": "object",
    "properties": {
        "tenant_mapping": {
            "type": "object",
            "properties": _MAPPING,
            "required": ["local_tenant", "remote_site_id", "remote_tenant"],
            "additionalProperties": False,
        },
    },
    "required": ["tenant_mapping"],
    "additionalProperties": False,
}

# The mirrored mapping a peer pushes keeps the sender's ID, so a delete on
# either site can remove both copies.
MIRROR = {
    "type": "object",
    "properties": {
        "tenant_mapping": {
            "type": "object",
            # The sender knows this site's copy of itself by name only.
            "properties": dict(_MAPPING, id=schemas.UUID,
                               remote_site_id=schemas.NAME),
            "required": ["id", "local_tenant", "remote_site_id",
                         "remote_tenant"],
            "additionalProperties": False,
        },
    },
    "required": ["tenant_mapping"],
    "additionalProperties": False,
}

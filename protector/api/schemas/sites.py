"""Request schemas for sites."""
from protector.api import schemas

CREATE = {
    "type": "object",
    "properties": {
        "site": {
            "type": "object",
            "properties": {
                "name": schemas.NAME,
                "description": schemas.DESCRIPTION,
                "site_type": {"type": "string",
                              "enum": ["primary", "secondary"]},
                "auth_url": schemas.URL,
                "region_name": {"type": ["string", "null"], "minLength": 1,
                                "maxLength": 255},
                "protector_url": {"anyOf": [schemas.URL, {"type": "null"}]},
            },
            "required": ["name", "site_type", "auth_url"],
            "additionalProperties": False,
        },
    },
    "required": ["site"],
    "additionalProperties": False,
}

# The receiving half of pairing (internal): the key the peer made.
SITE_KEY = {
    "type": "object",
    "properties": {
        "site_key": {
            "type": "object",
            "properties": {
                "key_id": {"type": "string", "pattern":
                           "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                           "[0-9a-f]{4}-[0-9a-f]{12}$"},
                "secret": {"type": "string", "minLength": 32,
                           "maxLength": 128,
                           "pattern": "^[A-Za-z0-9_-]+$"},
            },
            "required": ["key_id", "secret"],
            "additionalProperties": False,
        },
    },
    "required": ["site_key"],
    "additionalProperties": False,
}

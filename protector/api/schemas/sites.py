"""Request schemas for sites."""
from protector.api import schemas

# From this microversion a new site may be given its ID.
ID_VERSION = "1.3"

CREATE = {
    "type": "object",
    "properties": {
        "site": {
            "type": "object",
            "properties": {
                "id": dict(schemas.UUID, description=(
                    "Microversion 1.3 or later: register the site under "
                    "this ID (the one the peer site holds it under); a new "
                    "UUID otherwise.")),
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

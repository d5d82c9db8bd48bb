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

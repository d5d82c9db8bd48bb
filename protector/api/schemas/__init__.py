"""JSON schemas of request bodies, one module per resource."""

NAME = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$"}
DESCRIPTION = {"type": ["string", "null"], "maxLength": 1024}
UUID = {"type": "string", "format": "uuid"}
URL = {"type": "string", "minLength": 1, "maxLength": 1024,
       "pattern": r"^https?://[^\s/$.?#][^\s]*$"}

"""Request schema of PUT .../protection-groups/{pg}/policy."""

from protector.api import schemas

HTTP_URL = schemas.URL
TOKEN = {"type": "string", "minLength": 1, "maxLength": 1024,
         "pattern": r"^\S+$"}

# What an async policy gets when the request leaves them out
# (doc/api-ref.md, "Replication policy"): replicate every 5 minutes,
# alert past 15 minutes.
DEFAULTS = {"async": {"replication_interval": 300, "rpo_minutes": 15},
            "sync": {}}

PUT = {
    "type": "object",
    "properties": {
        "policy": {
            "type": "object",
            "properties": {
                "primary_fa_url": HTTP_URL,
                "primary_fa_api_token": TOKEN,
                "secondary_fa_url": HTTP_URL,
                "secondary_fa_api_token": TOKEN,
                "pure_pg_name": {"type": "string", "minLength": 1,
                                 "maxLength": 63,
                                 "pattern": r"^[A-Za-z0-9][A-Za-z0-9-]*$"},
                "replication_interval": {"type": "integer", "minimum": 1,
                                         "maximum": 31536000},
                "rpo_minutes": {"type": "integer", "minimum": 1,
                                "maximum": 525600},
            },
            # replication_interval and rpo_minutes have defaults for
            # async groups (DEFAULTS); a sync group needs neither.
            "required": ["primary_fa_url", "primary_fa_api_token",
                         "secondary_fa_url", "secondary_fa_api_token",
                         "pure_pg_name"],
            "additionalProperties": False,
        },
    },
    "required": ["policy"],
    "additionalProperties": False,
}

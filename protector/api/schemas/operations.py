"""Request schemas of DR actions (POST .../protection-groups/{pg}/action)
and of the actions on a failed operation (POST .../operations/{id}/action).

The body names exactly one action; the handler checks that first so the
error says which actions exist.
"""
MAPPING = {
    "type": "object",
    "additionalProperties": {"type": "string", "minLength": 1,
                             "maxLength": 255},
    "propertyNames": {"minLength": 1, "maxLength": 255},
}

ACTIONS = {
    "failover": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["planned", "unplanned"]},
            "network_mapping": MAPPING,
            "flavor_mapping": MAPPING,
            "keep_fixed_ips": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "failback": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["planned"]},
            "reverse_replication": {"type": "boolean"},
            "network_mapping": MAPPING,
            "flavor_mapping": MAPPING,
            "keep_fixed_ips": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "test_failover": {
        "type": "object",
        "properties": {
            "network_mapping": MAPPING,
            "auto_network": {"type": "boolean"},
            "keep_fixed_ips": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "test_cleanup": {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    },
}

ACTION = {
    "type": "object",
    "properties": {name: {"anyOf": [schema, {"type": "null"}]}
                   for name, schema in ACTIONS.items()},
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}


# POST .../operations/{id}/action: retry or roll back a failed operation.
# Neither takes arguments yet; an object keeps room for some.
OPERATION_ACTIONS = {
    "retry": {"type": "object", "properties": {},
              "additionalProperties": False},
    "rollback": {"type": "object", "properties": {},
                 "additionalProperties": False},
}

OPERATION_ACTION = {
    "type": "object",
    "properties": {name: {"anyOf": [schema, {"type": "null"}]}
                   for name, schema in OPERATION_ACTIONS.items()},
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}

"""Protection group member policies."""
from protector.policies import base

rules = base.crud("members", "/v1/{tenant_id}/protection-groups/{pg}/members",
                  ("index", "show", "create", "update", "delete"))


def list_rules():
    return rules

"""DR operation policies."""
from protector.policies import base

rules = base.crud("operations", "/v1/{tenant_id}/operations",
                  ("index", "show"))


def list_rules():
    return rules

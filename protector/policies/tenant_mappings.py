"""Tenant mapping policies."""
from protector.policies import base

rules = base.crud("tenant_mappings", "/v1/{tenant_id}/tenant-mappings",
                  ("index", "show", "create", "delete"))


def list_rules():
    return rules

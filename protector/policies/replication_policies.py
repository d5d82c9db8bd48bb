"""Replication policy policies."""
from oslo_policy import policy

from protector.policies import base

PATH = "/v1/{tenant_id}/protection-groups/{id}/policy"

rules = [
    policy.DocumentedRuleDefault(
        "protector:replication_policies:show", base.RULE_DEFAULT,
        "Show the replication policy of a protection group (tokens "
        "masked).", [{"path": PATH, "method": "GET"}]),
    policy.DocumentedRuleDefault(
        "protector:replication_policies:create", base.RULE_DEFAULT,
        "Create or replace the replication policy of a protection group.",
        [{"path": PATH, "method": "PUT"}]),
]


def list_rules():
    return rules

"""DR operation policies.

Retrying or rolling back a failed operation changes the clouds like
starting one does, so both default to the rule of the DR actions
(``protector:protection_groups:failover``: ``rule:default``).
"""
from oslo_policy import policy

from protector.policies import base

PATH = "/v1/{tenant_id}/operations"

rules = base.crud("operations", PATH, ("index", "show")) + [
    policy.DocumentedRuleDefault(
        "protector:operations:retry", base.RULE_DEFAULT,
        "Retry a failed DR operation (body {\"retry\": {}}; it continues "
        "from its failed step).",
        [{"path": PATH + "/{id}/action", "method": "POST"}]),
    policy.DocumentedRuleDefault(
        "protector:operations:rollback", base.RULE_DEFAULT,
        "Roll back a failed failover, failback or test failover (body "
        "{\"rollback\": {}}; queues a new rollback operation).",
        [{"path": PATH + "/{id}/action", "method": "POST"}]),
]


def list_rules():
    return rules

"""Health policy."""
from oslo_policy import policy

from protector.policies import base

rules = [
    policy.DocumentedRuleDefault(
        "protector:health:show", base.RULE_READER,
        "Report the health of this site's Protector services and the "
        "reachability of registered sites.",
        [{"path": "/v1/{tenant_id}/health", "method": "GET"}]),
]


def list_rules():
    return rules

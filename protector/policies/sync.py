"""Metadata sync policies (status, force; the push is internal.py)."""
from oslo_policy import policy

from protector.policies import base

PATH = "/v1/{tenant_id}/protection-groups/{id}"

rules = [
    policy.DocumentedRuleDefault(
        "protector:sync:status", base.RULE_DEFAULT,
        "Show the metadata sync status of a protection group.",
        [{"path": PATH + "/sync-status", "method": "GET"}]),
    policy.DocumentedRuleDefault(
        "protector:sync:force", base.RULE_DEFAULT,
        "Push the metadata of a protection group to the peer site now.",
        [{"path": PATH + "/sync-force", "method": "POST"}]),
]


def list_rules():
    return rules

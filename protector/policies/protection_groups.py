"""Protection group policies (all rule:default: doc/api-ref.md)."""
from oslo_policy import policy

from protector.policies import base

PATH = "/v1/{tenant_id}/protection-groups"

rules = base.crud("protection_groups", PATH,
                  ("index", "show", "create", "update", "delete")) + [
    policy.DocumentedRuleDefault(
        "protector:protection_groups:consistency_group", base.RULE_DEFAULT,
        "Show the consistency group of a protection group.",
        [{"path": PATH + "/{id}/consistency-group", "method": "GET"}]),
    policy.DocumentedRuleDefault(
        "protector:protection_groups:failover", base.RULE_DEFAULT,
        "Start a failover, failback, test failover or test cleanup.",
        [{"path": PATH + "/{id}/action", "method": "POST"}]),
    policy.DocumentedRuleDefault(
        "protector:protection_groups:preflight",
        "rule:protector:protection_groups:failover",
        "Check what a failover, failback or test failover needs (the "
        "preflight table, nothing changed); whoever may start one may ask.",
        [{"path": PATH + "/{id}/preflight", "method": "POST"}]),
]


def list_rules():
    return rules

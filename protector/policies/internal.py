"""Policies of the internal, peer-only endpoints (``/v1/{t}/internal``).

These run *after* the request's signature proved it comes from the peer
site's Protector (``common/peer_auth.py``): the rule decides whether the
user on whose behalf the peer calls (the token's user) may have it done
in this project.
"""
from oslo_policy import policy

from protector.policies import base

PATH = "/v1/{tenant_id}/internal"

rules = [
    policy.DocumentedRuleDefault(
        "protector:internal:metadata", base.RULE_DEFAULT,
        "Store a protection group's metadata pushed by the peer site's "
        "Protector (signed) for the user who changed the group there, or "
        "push this site's newer copy to the peer (its sync-force).",
        [{"path": PATH + "/protection-groups/{pg}/metadata",
          "method": "PUT"},
         {"path": PATH + "/protection-groups/{pg}/push", "method": "POST"}],
        deprecated_rule=policy.DeprecatedRule(
            "protector:sync:receive", base.RULE_DEFAULT,
            deprecated_reason="The metadata push moved to the internal, "
            "signed endpoint.", deprecated_since="2026.2")),
    policy.DocumentedRuleDefault(
        "protector:internal:sub_operation", base.RULE_DEFAULT,
        "Queue the source-site half (shutdown, vacate, restore) of the "
        "peer site's planned failover, failback or rollback (signed).",
        [{"path": PATH + "/protection-groups/{pg}/sub-operations",
          "method": "POST"}]),
    policy.DocumentedRuleDefault(
        "protector:internal:tenant_mapping", base.RULE_DEFAULT,
        "Mirror a tenant mapping created or deleted on the peer site "
        "(signed).",
        [{"path": PATH + "/tenant-mappings", "method": "POST"},
         {"path": PATH + "/tenant-mappings/{id}", "method": "DELETE"}]),
]


def list_rules():
    return rules

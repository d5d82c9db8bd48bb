"""Site policies: registration is admin-only; any project user may read."""
from oslo_policy import policy

from protector.policies import base

PATH = "/v1/{tenant_id}/sites"


def _check(action):
    return base.RULE_READER if action in ("index", "show") \
        else base.RULE_ADMIN_API


rules = base.crud("sites", PATH, ("index", "show", "create", "update",
                                  "delete"), _check) + [
    policy.DocumentedRuleDefault(
        "protector:sites:validate", base.RULE_ADMIN_API,
        "Check a site's Keystone, Nova, Cinder and Neutron.",
        [{"path": PATH + "/{id}/validate", "method": "POST"}]),
    policy.DocumentedRuleDefault(
        "protector:sites:list_volume_types", base.RULE_READER,
        "List the replication-capable volume types of a site.",
        [{"path": PATH + "/{id}/volume-types", "method": "GET"}]),
]


def list_rules():
    return rules

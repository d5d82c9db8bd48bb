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
        "protector:sites:pair", base.RULE_ADMIN_API,
        "Pair this site with a peer site: make the key their Protectors "
        "sign internal calls with, and give it to the peer (also the "
        "receiving half, on the peer). Run again to rotate the key.",
        [{"path": PATH + "/{id}/pair", "method": "POST"},
         {"path": "/v1/{tenant_id}/internal/site-keys/{site_name}",
          "method": "PUT"}]),
    policy.DocumentedRuleDefault(
        "protector:sites:list_volume_types", base.RULE_READER,
        "List the replication-capable volume types of a site.",
        [{"path": PATH + "/{id}/volume-types", "method": "GET"}]),
]


def list_rules():
    return rules

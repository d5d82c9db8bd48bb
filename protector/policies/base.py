"""Base rules every resource policy builds on."""
from oslo_policy import policy

RULE_ADMIN_OR_OWNER = "rule:admin_or_owner"
RULE_ADMIN_API = "rule:admin_api"
RULE_DEFAULT = "rule:default"
RULE_READER = "rule:project_reader"
CROSS_PROJECT = "protector:cross_project"

# Administrators are named by "rule:context_is_admin", never by the
# context's "is_admin" value, which oslo.context deprecates in policy checks
# (the API sets it from context_is_admin anyway: api/middleware.py).
rules = [
    policy.RuleDefault(
        "context_is_admin", "role:admin",
        description="Who is an administrator of the Protector service."),
    policy.RuleDefault(
        "admin_or_owner",
        "rule:context_is_admin or project_id:%(project_id)s",
        description="An administrator, or a user of the owning project."),
    policy.RuleDefault(
        "default", RULE_ADMIN_OR_OWNER,
        description="Rule used by every protector:* action that does not "
        "name its own."),
    policy.RuleDefault(
        "admin_api", "rule:context_is_admin",
        description="Administrators only."),
    policy.RuleDefault(
        "project_reader",
        "role:reader or role:member or rule:context_is_admin",
        description="Any user with a role on the project of the token."),
    policy.DocumentedRuleDefault(
        CROSS_PROJECT, "rule:context_is_admin",
        description="Act on a project other than the one the token is "
        "scoped to (the tenant_id in the URL differs from the token's).",
        operations=[{"path": "/v1/{tenant_id}/*", "method": "ANY"}]),
]


def list_rules():
    return rules


def crud(resource, path, actions, check_str=RULE_DEFAULT, describe=None):
    """Build DocumentedRuleDefaults for the usual verbs of a resource."""
    verbs = {
        "index": ("GET", path, "List %s."),
        "show": ("GET", path + "/{id}", "Show one of the %s."),
        "create": ("POST", path, "Create %s."),
        "update": ("PUT", path + "/{id}", "Update %s."),
        "delete": ("DELETE", path + "/{id}", "Delete %s."),
    }
    out = []
    for action in actions:
        method, url, text = verbs[action]
        check = check_str(action) if callable(check_str) else check_str
        out.append(policy.DocumentedRuleDefault(
            "protector:%s:%s" % (resource, action), check,
            (describe or text) % resource.replace("_", " "),
            [{"path": url, "method": method}]))
    return out

"""Policy defaults: doc/api-ref.md's rules, admin-only site writes."""
from oslo_config import cfg
from oslo_policy import policy as oslo_policy
import pytest

from protector import context
from protector import exception
from protector import policies
from protector import policy


@pytest.fixture
def enforcer(tmp_path):
    conf = cfg.ConfigOpts()
    from oslo_policy import opts
    opts.set_defaults(conf, policy_file=str(tmp_path / "none.yaml"))
    conf([])
    enf = oslo_policy.Enforcer(conf)
    enf.register_defaults(policies.list_rules())
    enf.load_rules()
    policy._ENFORCER = enf
    yield enf
    policy.reset()


def ctx(project, roles, admin=False):
    return context.RequestContext(project_id=project, user_id="u",
                                  roles=roles, is_admin=admin)


def test_protection_group_rules_are_rule_default():
    rules = {r.name: r.check_str for r in policies.list_rules()}
    for action in ("index", "show", "create", "update", "delete"):
        assert rules["protector:protection_groups:%s" % action] == \
            "rule:default"
    assert rules["default"] == "rule:admin_or_owner"


def test_every_rule_name_is_unique():
    names = [r.name for r in policies.list_rules()]
    assert len(names) == len(set(names))


def test_owner_allowed_other_project_denied(enforcer):
    target = {"project_id": "A"}
    assert policy.authorize(ctx("A", ["member"]),
                            "protector:protection_groups:show", target)
    with pytest.raises(exception.NotAuthorized):
        policy.authorize(ctx("B", ["member"]),
                         "protector:protection_groups:show", target)
    assert policy.authorize(ctx("B", ["admin"], admin=True),
                            "protector:protection_groups:show", target)


def test_site_writes_are_admin_only(enforcer):
    with pytest.raises(exception.NotAuthorized) as exc:
        policy.authorize(ctx("A", ["member"]), "protector:sites:create",
                         {"project_id": "A"})
    assert "protector:sites:create" in exc.value.message
    assert policy.authorize(ctx("A", ["reader"]), "protector:sites:index",
                            {"project_id": "A"})

"""Policy enforcement (oslo.policy) with defaults from protector.policies."""
from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from protector import exception
from protector import policies

_ENFORCER = None


def init(conf=cfg.CONF):
    global _ENFORCER
    if _ENFORCER is None:
        _ENFORCER = oslo_policy.Enforcer(conf)
        _ENFORCER.register_defaults(policies.list_rules())
        _ENFORCER.load_rules()
    return _ENFORCER


def reset():
    global _ENFORCER
    _ENFORCER = None


def get_enforcer():
    """For oslopolicy-* tools: parse the command line, return an enforcer."""
    from protector.common import config
    config.register_all(cfg.CONF)
    cfg.CONF([], project="protector")
    return init(cfg.CONF)


def authorize(context, action, target, do_raise=True):
    """Check ``action`` for ``context`` against ``target``.

    Raises NotAuthorized (403) when denied and ``do_raise`` is set.
    """
    enforcer = init()
    credentials = context.to_policy_values()
    try:
        return enforcer.authorize(
            action, target, credentials, do_raise=do_raise,
            exc=exception.NotAuthorized, action=action)
    except oslo_policy.InvalidScope:
        raise exception.NotAuthorized(action=action)


def check_is_admin(context):
    enforcer = init()
    return enforcer.authorize("context_is_admin", {},
                              context.to_policy_values())

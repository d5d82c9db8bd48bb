"""Preflight of a DR action: ``POST .../protection-groups/{pg}/preflight``.

The body is the action's own (``{"failover": {...}}``); the answer is the
check table of ``preflight/__init__.py``, 200 whether or not a check
failed (the table says). Nothing is created or changed, anywhere. Only
the action's target site answers it, as only it takes the action (409
``protector.operation.wrong_site`` elsewhere, ``dr/actions.check_site``).
"""
from protector.api.schemas import operations as schema
from protector.api import util
from protector.dr import actions
from protector import preflight
from protector import exception


def group_preflight(req):
    util.authorize(req, "protector:protection_groups:preflight")
    body = util.extract_json(req, {"type": "object"})
    names = sorted(body)
    if len(names) != 1 or names[0] not in preflight.KINDS:
        raise exception.ActionInvalid(
            actions=", ".join(preflight.KINDS),
            got=", ".join(names) if names else "none")
    util.extract_json(req, schema.ACTION)
    kind = names[0]
    report = actions.run_preflight(util.caller(req), req.urlvars["pg"], kind,
                                   body[kind])
    return util.json_response(req, {"preflight": report})

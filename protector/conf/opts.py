"""Entry point for oslo-config-generator (namespace ``protector``)."""
from protector.conf import api
from protector.conf import default
from protector.conf import service_credentials


def list_opts():
    result = {}
    for module in (default, api, service_credentials):
        for group, opts in module.list_opts().items():
            result.setdefault(group, []).extend(opts)
    return list(result.items())


def set_lib_defaults():
    """Protector's defaults for library options (shown in the sample)."""
    from oslo_config import cfg
    from oslo_policy import opts as policy_opts

    from protector.conf import database

    database.register_opts(cfg.CONF)
    policy_opts.set_defaults(cfg.CONF, policy_file="policy.yaml")

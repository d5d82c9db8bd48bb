"""Entry point for oslo-config-generator (namespace ``protector``)."""
from protector.conf import api
from protector.conf import cloud
from protector.conf import default
from protector.conf import service_credentials


def list_opts():
    result = {}
    for module in (default, api, cloud, service_credentials):
        for group, opts in module.list_opts().items():
            result.setdefault(group, []).extend(opts)
    return list(result.items())


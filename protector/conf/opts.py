"""Entry point for oslo-config-generator (namespace ``protector``)."""
from protector.conf import api
from protector.conf import cloud
from protector.conf import coordination
from protector.conf import default
from protector.conf import engine
from protector.conf import service_credentials
from protector.conf import storage


def list_opts():
    result = {}
    for module in (default, api, cloud, coordination, engine,
                   service_credentials, storage):
        for group, opts in module.list_opts().items():
            result.setdefault(group, []).extend(opts)
    return list(result.items())


"""Configuration options of Protector, one module per option group.

Nothing here reads configuration at import time: ``register_opts`` is called by
the entry points (``protector.common.config.parse_args``) and by tests.
"""
from oslo_config import cfg

from protector.conf import api
from protector.conf import cloud
from protector.conf import coordination
from protector.conf import database
from protector.conf import default
from protector.conf import engine
from protector.conf import service_credentials
from protector.conf import storage

CONF = cfg.CONF

_MODULES = (default, api, cloud, coordination, database, engine,
            service_credentials, storage)


def register_opts(conf):
    for module in _MODULES:
        module.register_opts(conf)

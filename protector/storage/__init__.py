"""Storage drivers (DESIGN.md section 3) behind ``base.StorageDriver``.

``[DEFAULT] use_mock_storage = True`` selects the ``mock`` driver (seed
004); otherwise ``[storage] driver`` names one of ``DRIVERS``: ``pure``
is Pure Storage FlashArray (REST 2.x through py-pure-client,
``storage/pure/``, doc/storage.md). An unknown name fails with a clear
``protector.storage.driver_not_found`` error rather than doing nothing.
"""
import importlib

from oslo_config import cfg

from protector import exception

# name -> "module:Class"
DRIVERS = {
    "mock": "protector.storage.mock:MockStorageDriver",
    "pure": "protector.storage.pure:PureStorageDriver",
}


def driver_name(conf=cfg.CONF):
    return "mock" if conf.use_mock_storage else conf.storage.driver


def get_driver(policy, group, site, cloud_factory=None, conf=cfg.CONF):
    name = driver_name(conf)
    path = DRIVERS.get(name)
    cls = None
    if path:
        module, _, attr = path.partition(":")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            cls = None
    if cls is None:
        raise exception.StorageDriverNotFound(
            driver=name, known=", ".join(sorted(
                n for n in DRIVERS if n == "mock" or _importable(n))))
    return cls(policy, group, site, cloud_factory)


def _importable(name):
    module = DRIVERS[name].partition(":")[0]
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False

"""Storage drivers (doc/architecture.md) behind ``base.StorageDriver``.

``[DEFAULT] use_mock_storage = True`` selects the ``mock`` driver (seed
004); otherwise ``[storage] driver`` names one of ``DRIVERS``: ``pure``
is Pure Storage FlashArray (REST 2.x through py-pure-client,
``storage/pure/``, doc/storage.md). An unknown name fails with a clear
``protector.storage.driver_not_found`` error rather than doing nothing.
"""
import importlib
import inspect

from oslo_config import cfg

from protector import exception

# name -> "module:Class"
DRIVERS = {
    "mock": "protector.storage.mock:MockStorageDriver",
    "pure": "protector.storage.pure:PureStorageDriver",
}


def driver_name(conf=cfg.CONF):
    return "mock" if conf.use_mock_storage else conf.storage.driver


def driver_class(conf=cfg.CONF):
    """The configured driver's class, or None if it is not available."""
    path = DRIVERS.get(driver_name(conf))
    if not path:
        return None
    module, _, attr = path.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


def get_driver(policy, group, site, cloud_factory=None, conf=cfg.CONF):
    name = driver_name(conf)
    cls = driver_class(conf)
    if cls is None:
        raise exception.StorageDriverNotFound(
            driver=name, known=", ".join(sorted(
                n for n in DRIVERS if n == "mock" or _importable(n))))
    if "conf" in inspect.signature(cls).parameters:
        return cls(policy, group, site, cloud_factory, conf=conf)
    return cls(policy, group, site, cloud_factory)


def _importable(name):
    module = DRIVERS[name].partition(":")[0]
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


def ensure_group_replication(group, policy, volumes, conf=cfg.CONF):
    """Set up (or repair) the array replication of ``group``: its
    protection group or pod on the current primary's array, with
    ``volumes`` (member volume dicts, as ``engine.tasks.member_volumes``
    gives), the policy's schedule and the peer as target.

    For the API to call once a replication policy is created or replaced
    and when members are added or removed (``policy``: the policy with
    clear-text tokens). Idempotent; raises the driver's typed
    ``protector.storage.*`` errors. Returns the driver's summary.
    """
    primary = group.get("current_primary_site_id") or \
        group.get("primary_site_id")
    target = group["secondary_site_id"] if primary == \
        group["primary_site_id"] else group["primary_site_id"]
    driver = get_driver(policy, group, {"id": target}, conf=conf)
    return driver.ensure_replication(volumes)

"""Storage drivers (doc/architecture.md) behind ``base.StorageDriver``.

``[DEFAULT] use_mock_storage = True`` selects the ``mock`` driver
(doc/deployment.md); otherwise ``[storage] driver`` names one. Drivers
are found by name among the ``protector.storage.drivers`` entry points
(stevedore), so a driver from another package only registers its class
there (doc/storage.md):
``mock`` and ``pure`` (Pure Storage FlashArray, REST 2.x through
py-pure-client, ``storage/pure/``) are Protector's own. An unknown name, or
a driver that cannot be imported, fails with a clear
``protector.storage.driver_not_found`` error rather than doing nothing.
"""
import functools

from oslo_config import cfg
from oslo_log import log as logging
from stevedore import driver as sd_driver
from stevedore import exception as sd_exc
from stevedore import extension

from protector import exception

LOG = logging.getLogger(__name__)

NAMESPACE = "protector.storage.drivers"


def driver_name(conf=cfg.CONF):
    return "mock" if conf.use_mock_storage else conf.storage.driver


@functools.cache
def _load(name):
    """The class registered as ``name``, or None (unknown, or its import
    failed: logged once per process)."""
    try:
        return sd_driver.DriverManager(NAMESPACE, name).driver
    except sd_exc.NoMatches:
        return None


def driver_class(conf=cfg.CONF):
    """The configured driver's class, or None if it is not available."""
    return _load(driver_name(conf))


def available():
    """Names of the drivers that load here."""
    manager = extension.ExtensionManager(
        NAMESPACE, on_load_failure_callback=lambda *args: None)
    return sorted(manager.names())


def get_driver(policy, group, site, cloud_factory=None, conf=cfg.CONF):
    """The configured driver for ``group`` on ``site``. Every driver takes
    ``(policy, group, site, cloud_factory, conf=...)`` (base.py)."""
    name = driver_name(conf)
    cls = driver_class(conf)
    if cls is None:
        raise exception.StorageDriverNotFound(driver=name,
                                              known=", ".join(available()))
    return cls(policy, group, site, cloud_factory, conf=conf)


def ensure_group_replication(group, policy, volumes, conf=cfg.CONF):
    """Set up (or repair) the array replication of ``group``: its
    protection group or pod on the current primary's array, with
    ``volumes`` (member volume dicts, as ``pgroups.capture.member_volumes``
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

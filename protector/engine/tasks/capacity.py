"""How many instances the target site can build at once.

Nova's compute service builds ``max_concurrent_builds`` (10 by default)
instances at a time per host and queues the rest, so a fixed engine width
either leaves a large site idle (100 VMs over 10 hosts in waves of 10) or,
set high, only moves the queue into Nova. The engine asks the target how
many nova-compute services are up and enabled and builds that many times
``[engine] builds_per_compute_host`` at once, at most
``[engine] max_parallel_instances`` (doc/engine.md "Width").
"""
import os
import threading

from openstack import exceptions as sdk_exc
from oslo_config import cfg
from oslo_log import log as logging

from protector.cloud import auth
from protector.cloud import connection
from protector import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


# One service-user SiteCloud per site and process: its token is
# validated once by each service (keystonemiddleware caches it), where a
# new one per call cost a Keystone authentication plus a validation of
# about a second at every service it reached (the lab's preflight waited
# 1.5 s on it). keystoneauth renews the token near its expiry and after a
# 401.
_SERVICE_CLOUDS = {}
_SERVICE_LOCK = threading.Lock()


def service_cloud(cloud):
    """``cloud``'s site as Protector's own service user (project-scoped as
    in ``[keystone_authtoken]``): the engine runs on the site it manages
    into, whose Keystone is the service's own. For the listings Cinder and
    Nova keep to admins whatever the tenant's trust may do."""
    site = cloud.site
    key = (os.getpid(), site.get("id"), site.get("auth_url"),
           site.get("region_name"))
    with _SERVICE_LOCK:
        made = _SERVICE_CLOUDS.get(key)
        if made is None:
            made = _SERVICE_CLOUDS[key] = connection.SiteCloud(
                site, auth.service_plugin(site))
        return made


def _compute_hosts(conn):
    return sum(1 for s in conn.compute.services()
               if s.binary == "nova-compute" and s.state == "up"
               and s.status == "enabled")


def compute_hosts(cloud):
    """Up and enabled nova-compute services of ``cloud``'s site, or None
    when neither the tenant's trust nor Protector's service user may list
    them (Nova's default policy keeps the list to admins)."""
    for make in (lambda: cloud, lambda: service_cloud(cloud)):
        try:
            site_cloud = make()
            with site_cloud.guard("compute"):
                return _compute_hosts(site_cloud.conn)
        except sdk_exc.ForbiddenException:
            continue
        except (sdk_exc.HttpException, exception.ProtectorException) as exc:
            LOG.warning("Cannot count the compute hosts of site %s: %s",
                        cloud.site["name"], exc)
            return None
    LOG.info("Neither the tenant's trust nor Protector's service user may "
             "list the compute services of site %s", cloud.site["name"])
    return None


def build_width(store, cloud):
    """Instances to build at once on ``cloud``'s site for this run of the
    operation (counted once per run, kept in the store, never saved)."""
    widths = store.setdefault("build_width", {})
    key = cloud.site["name"]
    if key not in widths:
        hosts = compute_hosts(cloud)
        per_host = CONF.engine.builds_per_compute_host
        width = min(CONF.engine.max_parallel_instances,
                    per_host * max(1, hosts or 0))
        LOG.info("Site %s: %s up compute hosts, building %d instances at "
                 "once", cloud.site["name"],
                 "unknown" if hosts is None else hosts, width)
        widths[key] = width
    return widths[key]

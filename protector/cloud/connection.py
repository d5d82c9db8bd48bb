"""SiteCloud: sessions and SDK connections to one site, with typed errors."""
import contextlib
import threading

from keystoneauth1 import exceptions as ks_exc
import openstack
from openstack import exceptions as sdk_exc
from oslo_config import cfg
from oslo_log import log as logging

from protector.cloud import auth
from protector.cloud import timing
from protector import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_UNREACHABLE = (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
                ks_exc.RetriableConnectionFailure, ks_exc.DiscoveryFailure)

# Service type -> name used in messages.
SERVICES = {"identity": "Keystone", "compute": "Nova",
            "block-storage": "Cinder", "network": "Neutron",
            "image": "Glance", "protector": "Protector"}


# A cheap request of each service that any project member may make: the
# first page (one item) of a list, never the rest.
_FIRST_REQUEST = {
    "block-storage": lambda conn: conn.block_storage.volumes(
        details=False, limit=1),
    "compute": lambda conn: conn.compute.servers(details=False, limit=1),
    "network": lambda conn: conn.network.networks(limit=1),
    "image": lambda conn: conn.image.images(limit=1),
}


class SiteCloud:
    """Everything Protector does on one site's cloud goes through here."""

    # Services this SiteCloud has made a request of (``warm``).
    _warmed: frozenset = frozenset()

    def __init__(self, site, plugin):
        self.site = site
        self._warm_lock = threading.Lock()
        self.session = auth.base_session(plugin)
        self.conn = openstack.connection.Connection(
            session=self.session,
            region_name=site.get("region_name"),
            interface=CONF.cloud.interface,
            connect_retries=CONF.cloud.connect_retries,
            status_code_retries=CONF.cloud.status_code_retries,
            # Cinder needs >= 3.13 for generic groups; let the SDK negotiate.
            block_storage_api_version="3",
        )

    @classmethod
    def from_token(cls, site, token):
        return cls(site, auth.token_plugin(site, token))

    @classmethod
    def from_trust(cls, site, trust_id):
        return cls(site, auth.trust_plugin(site, trust_id))

    def warm(self, *service_types):
        """Make one request of each service, on this thread, before many
        threads use it. A service validates a new token with Keystone at
        its first request and caches it only once validated
        (keystonemiddleware), so N threads starting together on a new
        session make it validate the same token N times: 20 threads of
        one promote waited 16 to 27 s in the lab for Keystone, against 1 s
        after one request first. Once per service per SiteCloud; a refusal
        or a server error is no matter here (the real calls will say what
        is wrong), an unreachable service raises ``SiteUnreachable``."""
        for service_type in service_types:
            with self._warm_lock:
                if service_type in self._warmed:
                    continue
                try:
                    with self.guard(service_type):
                        next(iter(_FIRST_REQUEST[service_type](self.conn)),
                             None)
                except (sdk_exc.HttpException,
                        exception.CloudServiceError) as exc:
                    LOG.debug("First request to %s of site %s: %s",
                              service_type, self.site["name"], exc)
                self._warmed = self._warmed | {service_type}

    @property
    def project_id(self):
        return self.session.get_project_id()

    @property
    def user_id(self):
        return self.session.get_user_id()

    def endpoint(self, service_type):
        """The catalog URL of ``service_type`` on this site."""
        return self.session.get_endpoint(
            service_type=service_type, interface=CONF.cloud.interface,
            region_name=self.site.get("region_name"))

    @contextlib.contextmanager
    def guard(self, service_type):
        """Turn connection failures into SiteUnreachable naming the service.

        SDK HTTP errors other than 5xx pass through for the caller to
        interpret (a 404 is often an answer, not a failure).
        """
        name = SERVICES.get(service_type, service_type)
        try:
            with timing.waiting():
                yield
        except _UNREACHABLE as exc:
            LOG.warning("%s of site %s unreachable: %s", name,
                        self.site["name"], exc)
            raise exception.SiteUnreachable(
                site=self.site["name"], reason="%s: %s" % (name, exc))
        except (ks_exc.EndpointNotFound,
                sdk_exc.ServiceDisabledException) as exc:
            # The SDK disables a service it finds no endpoint for.
            raise exception.SiteServiceMissing(
                service=name, site=self.site["name"],
                service_type=service_type, reason=str(exc))
        except sdk_exc.HttpException as exc:
            if exc.status_code and exc.status_code >= 500:
                raise exception.CloudServiceError(
                    service=name, site=self.site["name"],
                    reason="HTTP %s: %s" % (exc.status_code,
                                            exc.details or exc.message))
            raise

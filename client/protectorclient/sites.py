"""The two clouds a DR command talks to, and how their tokens are obtained.

The *primary* cloud is OSC's own (``--os-cloud`` / ``OS_*``): OSC
authenticates it and hands the plugin a keystoneauth session. The
*secondary* cloud (``--secondary-cloud`` / ``OS_SECONDARY_CLOUD``) is a
clouds.yaml entry the plugin authenticates itself with openstacksdk's
config loader and keystoneauth. Its token travels to the primary site as
``X-Protector-Peer-Token``; for operations that run on the secondary site
(failover, test failover) the roles swap and the primary token is the peer.

Failing to *reach* the peer's Keystone is reported as
:class:`~protectorclient.exceptions.PeerUnreachable` (exit 3): doc/cli.md
promises exit 3, with no change made, when the peer site cannot be reached.
"""
import re

from keystoneauth1 import exceptions as ks_exc

from protectorclient import client as protector_client
from protectorclient import exceptions

_CONNECT_ERRORS = (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
                   ks_exc.UnknownConnectionError)
_PROJECT_IN_PATH = re.compile(r"/v1/[^/]+/?$")


def expand_endpoint(url, project_id):
    """Turn a configured protector endpoint into ``.../v1/<project>``.

    Accepts the catalog form (``http://h:8788/v1/%(tenant_id)s``), a full
    URL (``http://h:8788/v1/<project>``) or a bare base (``http://h:8788``
    or ``http://h:8788/v1``).
    """
    url = url.rstrip("/")
    if "%(" in url:
        if not project_id:
            raise exceptions.UsageError(
                "The protector endpoint %s needs a project ID, but the "
                "authentication in use has none; give the full URL "
                "(http://host:8788/v1/<project-id>)." % url)
        return url % {"tenant_id": project_id, "project_id": project_id}
    if _PROJECT_IN_PATH.search(url) and not url.endswith("/v1"):
        return url
    if not project_id:
        raise exceptions.UsageError(
            "The protector endpoint %s has no project part and the "
            "authentication in use has no project; give the full URL "
            "(http://host:8788/v1/<project-id>)." % url)
    if url.endswith("/v1"):
        url = url[:-3]
    return "%s/v1/%s" % (url, project_id)


class CloudSite:
    """A cloud reached through openstacksdk config (clouds.yaml, OS_*)."""

    def __init__(self, name, region_factory, role="secondary"):
        # ``region_factory()`` returns an openstack.config CloudRegion.
        self.name = name
        self.role = role
        self._region_factory = region_factory
        self._region = None
        self._session = None
        self._token = None

    def _fail(self, exc, what):
        if isinstance(exc, _CONNECT_ERRORS):
            return exceptions.PeerUnreachable(
                "The %s site (cloud %r) is unreachable while %s: %s. "
                "Nothing was changed." % (self.role, self.name, what, exc))
        return exceptions.ProtectorClientError(
            "Could not authenticate to the %s site (cloud %r): %s"
            % (self.role, self.name, exc))

    @property
    def region(self):
        if self._region is None:
            try:
                self._region = self._region_factory()
            except Exception as exc:  # openstack.config raises many kinds
                raise exceptions.ProtectorClientError(
                    "Cannot load cloud %r for the %s site from clouds.yaml: "
                    "%s" % (self.name, self.role, exc)) from exc
        return self._region

    @property
    def session(self):
        if self._session is None:
            self._session = self.region.get_session()
        return self._session

    def token(self):
        if self._token is None:
            try:
                self._token = self.session.get_token()
            except ks_exc.ClientException as exc:
                raise self._fail(exc, "authenticating") from exc
        return self._token

    def project_id(self):
        try:
            return self.session.get_project_id()
        except ks_exc.ClientException as exc:
            raise self._fail(exc, "authenticating") from exc

    def protector_endpoint(self):
        region = self.region
        override = region.config.get("protector_endpoint_override")
        if override:
            return expand_endpoint(override, self._maybe_project_id())
        try:
            url = self.session.get_endpoint(
                service_type=protector_client.SERVICE_TYPE,
                interface=region.get_interface(),
                region_name=region.get_region_name(
                    protector_client.SERVICE_TYPE))
        except ks_exc.EndpointNotFound:
            url = None
        except ks_exc.ClientException as exc:
            raise self._fail(exc, "looking up the protector endpoint") \
                from exc
        if not url:
            raise exceptions.ProtectorClientError(
                "The %s site (cloud %r) has no 'protector' endpoint in its "
                "service catalog; set protector_endpoint_override in its "
                "clouds.yaml entry." % (self.role, self.name))
        return expand_endpoint(url, self._maybe_project_id())

    def _maybe_project_id(self):
        try:
            return self.project_id()
        except exceptions.PeerUnreachable:
            raise
        except exceptions.ProtectorClientError:
            return None

    def client(self, api_version, peer=None):
        """A :class:`Client` for this site's protector-api."""
        # Authenticate first so an unreachable Keystone is reported as such.
        self.token()
        return protector_client.Client(
            self.session, self.protector_endpoint(), api_version=api_version,
            peer=peer, site_label="the %s site (cloud %r)"
            % (self.role, self.name))


class SessionSite:
    """The primary site as OSC already authenticated it (token source)."""

    role = "primary"

    def __init__(self, session, name=None):
        self.session = session
        self.name = name or "primary"

    def token(self):
        try:
            return self.session.get_token()
        except _CONNECT_ERRORS as exc:
            raise exceptions.PeerUnreachable(
                "The primary site is unreachable: %s" % exc) from exc

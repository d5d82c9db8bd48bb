"""Keystone through openstacksdk's identity proxy (trusts, application
credentials), at the site's own Keystone URL.

The proxy talks to ``site["auth_url"]``, the Keystone the token or
credential came from, not to the catalog's identity endpoint (which may be
an interface this service cannot reach). Keystone's refusals stay
openstacksdk errors (``openstack.exceptions.HttpException`` and
subclasses) for the caller to map; an unreachable Keystone is
``SiteUnreachable``.
"""
import contextlib

from keystoneauth1 import exceptions as ks_exc
import openstack
from oslo_config import cfg

from protector.cloud import auth
from protector import exception

CONF = cfg.CONF

UNREACHABLE = auth.CONNECT_ERRORS + (ks_exc.DiscoveryFailure,)


@contextlib.contextmanager
def keystone(site, plugin):
    """The identity proxy of ``site`` acting as ``plugin``."""
    conn = openstack.connection.Connection(
        session=auth.base_session(plugin),
        identity_endpoint_override=auth.keystone_base(site) + "/v3",
        connect_retries=CONF.cloud.connect_retries)
    try:
        yield conn.identity
    except UNREACHABLE as exc:
        raise exception.SiteUnreachable(site=site["name"],
                                        reason="Keystone: %s" % exc)

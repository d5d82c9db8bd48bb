"""Cinder consistency groups of protection groups (doc/architecture.md).

A protection group maps 1:1 to a Cinder generic volume group on each site,
whose group type has ``consistent_group_snapshot_enabled='<is> True'``.
``for_site`` returns the driver for one site: the real Cinder API through
the site's ``SiteCloud``, or, with ``[DEFAULT] use_mock_cinder``, the SQLite
simulation in ``mock.py``. Both offer the same methods (``base.py``). The
mock replaces only these group operations: volume types are always the
site's real ones (``pgroups/volume_types.py``).
"""
from oslo_config import cfg

from protector.volume_groups import cinder
from protector.volume_groups import mock


def for_site(site, cloud_factory):
    """The group driver of ``site``.

    ``cloud_factory`` returns the site's ``SiteCloud``; it is called only
    by the real driver, so mock mode never needs the site's Cinder.
    """
    if cfg.CONF.use_mock_cinder:
        return mock.MockCinderGroups(site)
    return cinder.CinderGroups(site, cloud_factory())

"""Which of the registered sites is this one.

Below everything that asks (trusts are made only in this site's
Keystone, a push goes to the other site, a sub-operation is accepted only
from it): ``[DEFAULT] site_name`` decides, else the site whose Keystone is
this service's (``tokens.is_local``).
"""
from oslo_config import cfg

from protector.cloud import tokens
from protector import exception

CONF = cfg.CONF


def local_site(sites):
    """The one of ``sites`` that is this site.

    ``[DEFAULT] site_name`` decides when set; otherwise the site whose
    Keystone is this service's. Ambiguity is an error rather than a guess:
    pushing to ourselves would report a sync that never happened.
    """
    names = ", ".join(sorted(s["name"] for s in sites))
    if CONF.site_name:
        found = [s for s in sites if s["name"] == CONF.site_name]
    else:
        found = [s for s in sites if tokens.is_local(s)]
    if len(found) != 1:
        raise exception.LocalSiteUnknown(sites=names)
    return found[0]


def split_sites(primary, secondary):
    """(local, peer) for a group's two sites."""
    local = local_site([primary, secondary])
    return local, (secondary if local["id"] == primary["id"] else primary)

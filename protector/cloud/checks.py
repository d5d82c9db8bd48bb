"""Site validation and volume-type discovery (doc/api-ref.md, "Sites").

``validate`` calls Keystone, Nova, Cinder and Neutron of a site with a
token of that site and reports each one, the capabilities found and the
replication-capable volume types. ``replicated_volume_types`` lists the
types whose extra specs say ``replication_enabled='<is> True'``.
"""
import re

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
from oslo_utils import timeutils

from protector.common import times
from protector import exception

_TRUE = re.compile(r"^\s*(<is>\s*)?true\s*$", re.IGNORECASE)
_IN = re.compile(r"^\s*(<in>\s*)?(\w+)\s*$", re.IGNORECASE)


def replication_type_of(extra_specs):
    """'async'/'sync' for a replication-enabled type, 'unknown' if the spec
    is hidden from this user, None if the type does not replicate."""
    if not _TRUE.match(str(extra_specs.get("replication_enabled", ""))):
        return None
    value = extra_specs.get("replication_type")
    if value is None:
        # Cinder hides non-user-visible extra specs from non-admins unless
        # volume_extension:types_extra_specs:read_sensitive allows them.
        return "unknown"
    match = _IN.match(str(value))
    return match.group(2).lower() if match else "unknown"


def replicated_volume_types(cloud):
    with cloud.guard("block-storage"):
        types = list(cloud.conn.block_storage.types())
    out = []
    for vt in types:
        specs = dict(vt.extra_specs or {})
        kind = replication_type_of(specs)
        if kind is not None:
            out.append({"id": vt.id, "name": vt.name,
                        "replication_type": kind, "extra_specs": specs,
                        "is_public": vt.is_public})
    return sorted(out, key=lambda t: t["name"])


def _max_microversion(cloud, service):
    proxy = getattr(cloud.conn, service)
    data = proxy.get_endpoint_data()
    if data is None:
        raise ks_exc.EndpointNotFound(service)
    version = data.max_microversion
    return "%s.%s" % tuple(version) if version else None


def _check(cloud, service_type, fn):
    try:
        with cloud.guard(service_type):
            return "OK", fn()
    except exception.SiteUnreachable as exc:
        return "UNREACHABLE: %s" % exc.message, None
    except exception.ProtectorException as exc:
        return "ERROR: %s" % exc.message, None
    except (sdk_exc.SDKException, ks_exc.ClientException) as exc:
        return "ERROR: %s" % exc, None


def validate(cloud):
    """Check the site's services; return (report, status, reason)."""
    site = cloud.site
    services, capabilities = {}, {}

    services["keystone"], _ = _check(
        cloud, "identity",
        lambda: cloud.session.get(cloud.endpoint("identity")))
    services["nova"], capabilities["compute_max_microversion"] = _check(
        cloud, "compute", lambda: _max_microversion(cloud, "compute"))
    services["cinder"], types = _check(
        cloud, "block-storage", lambda: replicated_volume_types(cloud))
    if types is not None:
        capabilities["volume_max_microversion"] = _check(
            cloud, "block-storage",
            lambda: _max_microversion(cloud, "block_storage"))[1]
        capabilities["generic_groups"] = _supports(
            capabilities["volume_max_microversion"], (3, 13))
    services["neutron"], _ = _check(
        cloud, "network", lambda: list(cloud.conn.network.networks(limit=1)))

    status, reason = site_status(services)
    report = {
        "site": site["name"],
        "reachable": services["keystone"] == "OK",
        "services": services,
        "replicated_volume_types": [t["name"] for t in types or []],
        "capabilities": capabilities,
        "checked_at": times.isotime(timeutils.utcnow()),
    }
    return report, status, reason


def site_status(services):
    """(status, reason) of a site from its per-service results.

    The site is ``unreachable`` only when its Keystone cannot be reached;
    a reachable site with a failing or stopped service is in ``error``.
    """
    failed = {k: v for k, v in services.items() if v != "OK"}
    if not failed:
        return "active", None
    reason = "; ".join("%s: %s" % kv for kv in sorted(failed.items()))
    if services.get("keystone", "").startswith("UNREACHABLE"):
        return "unreachable", reason
    return "error", reason


def _supports(version, needed):
    if not version:
        return False
    major, minor = (int(x) for x in version.split("."))
    return (major, minor) >= needed

"""Quick unauthenticated reachability checks of a site (health, validate).

``probe`` GETs the site's Keystone root and, when the site has one, its
protector-api root (the versions document). Neither needs a token, so the
check works for any site without credentials of that site.
"""
from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg

from protector.api import microversion
from protector.cloud import auth

CONF = cfg.CONF


def _get(url, timeout):
    sess = auth.base_session()
    try:
        return sess.get(url, authenticated=False, raise_exc=False,
                        timeout=timeout, connect_retries=0,
                        headers={"Accept": "application/json"})
    except ValueError as exc:
        # A URL stored before URLs were checked (requests' InvalidURL).
        raise ks_exc.ClientException("invalid URL %s: %s" % (url, exc))


def _overlaps(doc):
    """Whether a versions document shares a microversion with ours."""
    for version in (doc or {}).get("versions", []):
        try:
            low = microversion.Version.parse(version.get("min_version")
                                             or "1.1")
            high = microversion.Version.parse(version.get("max_version")
                                              or "1.1")
        except (ValueError, TypeError, AttributeError):
            continue
        if low <= microversion.MAX_VERSION and \
                high >= microversion.MIN_VERSION:
            return True
    return False


def probe(site, timeout=None):
    """{"keystone": error-or-None, "protector": error-or-None-or-"unset",
    "compatible": bool-or-None}."""
    timeout = timeout or min(CONF.cloud.request_timeout, 10.0)
    report = {"keystone": None, "protector": "unset", "compatible": None}
    try:
        resp = _get(auth.keystone_base(site) + "/", timeout)
        if resp.status_code >= 500:
            report["keystone"] = "Keystone answered HTTP %d" % \
                resp.status_code
    except ks_exc.ClientException as exc:
        report["keystone"] = "Keystone unreachable: %s" % exc
    if site.get("protector_url"):
        url = site["protector_url"].rstrip("/")
        # A catalog-style URL (.../v1/<project>) -> the root.
        if "/v1" in url:
            url = url[:url.index("/v1")]
        try:
            resp = _get(url + "/", timeout)
            if resp.status_code >= 400:
                report["protector"] = "protector-api answered HTTP %d" % \
                    resp.status_code
            else:
                report["protector"] = None
                try:
                    report["compatible"] = _overlaps(resp.json())
                except ValueError:
                    report["compatible"] = False
        except ks_exc.ClientException as exc:
            report["protector"] = "protector-api unreachable: %s" % exc
    return report

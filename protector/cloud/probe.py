"""Quick reachability checks of a site (health, validate, the engine's
periodic site check).

``probe`` GETs the site's Keystone root and, when the site has one, its
protector-api root (the versions document). Neither needs a token, so the
check works for any site without credentials of that site.

``check`` goes one step further for ``GET /health`` and the engine: it
also finds the protector-api of a site without a ``protector_url`` in the
site's Keystone catalog (which Keystone shows only to a token of that
site), and tells whether that protector-api serves the microversion this
site calls it with. Every GET is bounded by a short timeout and tried
once: a check that hangs would be worse than one that says "unreachable".
"""
from keystoneauth1 import access
from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg

from protector.cloud import auth
from protector import version

CONF = cfg.CONF
# What pgroups/peers.py calls the peer with: a peer whose range leaves it
# out refuses every push (406).
NEEDED = version.PEER_VERSION


def _timeout():
    return min(CONF.cloud.request_timeout, 10.0)


def _get(url, timeout, headers=None):
    sess = auth.base_session()
    try:
        return sess.get(url, authenticated=False, raise_exc=False,
                        timeout=timeout, connect_retries=0,
                        headers=dict(headers or {},
                                     Accept="application/json"))
    except ValueError as exc:
        # A URL stored before URLs were checked (requests' InvalidURL).
        raise ks_exc.ClientException("invalid URL %s: %s" % (url, exc))


def _root(url):
    """A catalog-style URL (``.../v1/<project>``) -> the root."""
    url = url.rstrip("/")
    return url[:url.index("/v1")] if "/v1" in url else url


def _keystone_error(site, timeout):
    try:
        resp = _get(auth.keystone_base(site) + "/", timeout)
    except ks_exc.ClientException as exc:
        return "Keystone unreachable: %s" % exc
    if resp.status_code >= 500:
        return "Keystone answered HTTP %d" % resp.status_code
    return None


def _versions(url, timeout):
    """(error, document): the JSON at ``url``'s root; the document is
    None when the answer is not a JSON object."""
    try:
        resp = _get(_root(url) + "/", timeout)
    except ks_exc.ClientException as exc:
        return "protector-api unreachable: %s" % exc, None
    if resp.status_code >= 400:
        return "protector-api answered HTTP %d" % resp.status_code, None
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    return None, (doc if isinstance(doc, dict) else None)


def _ranges(doc):
    """[(min, max)] of a Protector versions document. Entries without
    both bounds are not Protector's (Nova's and Cinder's documents name
    their maximum ``version``), so they are left out."""
    found = []
    versions = doc.get("versions") if isinstance(doc, dict) else None
    for entry in versions if isinstance(versions, list) else []:
        if not isinstance(entry, dict):
            continue
        try:
            found.append((
                version.Version.parse(entry["min_version"]),
                version.Version.parse(entry["max_version"])))
        except (KeyError, ValueError, TypeError, AttributeError):
            continue
    return found


def _compatible(doc):
    return any(low <= NEEDED <= high for low, high in _ranges(doc))


def probe(site, timeout=None):
    """{"keystone": error-or-None, "protector": error-or-None-or-"unset",
    "compatible": bool-or-None}."""
    timeout = timeout or _timeout()
    report = {"keystone": _keystone_error(site, timeout),
              "protector": "unset", "compatible": None}
    if site.get("protector_url"):
        report["protector"], doc = _versions(site["protector_url"],
                                             timeout)
        if report["protector"] is None:
            report["compatible"] = _compatible(doc)
    return report


def _catalog_url(site, token, timeout):
    """(url, None), or (None, (state, detail)) when the catalog does not
    give one. The token validates itself (as ``auth.token_plugin`` does),
    which returns its catalog, here within ``timeout``."""
    region = site.get("region_name")
    where = "interface %s%s" % (CONF.cloud.interface,
                                ", region %s" % region if region else "")
    try:
        resp = _get(auth.keystone_base(site) + "/v3/auth/tokens", timeout,
                    headers={"X-Auth-Token": token,
                             "X-Subject-Token": token})
    except ks_exc.ClientException as exc:
        return None, ("unreachable", "Keystone unreachable: %s" % exc)
    if resp.status_code >= 500:
        return None, ("unreachable", "Keystone answered HTTP %d to the "
                      "catalog lookup" % resp.status_code)
    if resp.status_code >= 400:
        return None, ("unchecked", "Reachable (Keystone); protector-api "
                      "not checked: no protector_url registered, and "
                      "Keystone refused the token for its catalog (HTTP "
                      "%d)" % resp.status_code)
    try:
        catalog = access.create(body=resp.json(),
                                auth_token=token).service_catalog
        return catalog.url_for(service_type=version.SERVICE_TYPE,
                               interface=CONF.cloud.interface,
                               region_name=region), None
    except ks_exc.EndpointNotFound:
        return None, ("error", "Reachable (Keystone), but its catalog has "
                      "no '%s' endpoint (%s) and no protector_url is "
                      "registered" % (version.SERVICE_TYPE, where))
    except (ValueError, TypeError, AttributeError, ks_exc.ClientException):
        return None, ("error", "Reachable (Keystone), but it answered the "
                      "catalog lookup with no token document")


def check(site, token=None, timeout=None):
    """(state, detail) of ``site``: "ok" ("Reachable, version
    compatible"), "unreachable" (Keystone or protector-api), "error"
    (answers, but is no protector-api this site can use) or "unchecked"
    (Keystone answers; where its protector-api is is not known: no
    ``protector_url`` and no ``token`` of that site for the catalog)."""
    timeout = timeout or _timeout()
    error = _keystone_error(site, timeout)
    if error:
        return "unreachable", error
    url = site.get("protector_url")
    if not url and not token:
        return "unchecked", ("Reachable (Keystone); protector-api not "
                             "checked: no protector_url registered, and no "
                             "token of this site to read its Keystone "
                             "catalog")
    if not url:
        url, problem = _catalog_url(site, token, timeout)
        if problem:
            return problem
    error, doc = _versions(url, timeout)
    if error:
        return "unreachable", "%s (%s)" % (error, _root(url))
    found = _ranges(doc)
    if not found:
        return "error", ("Reachable, but %s/ answered no Protector versions "
                         "document (is it a protector-api?)" % _root(url))
    if not _compatible(doc):
        return "error", (
            "Reachable, version incompatible: its protector-api supports "
            "protector %s; this site calls it with protector %s" % (
                ", ".join("%s to %s" % r for r in found), NEEDED))
    return "ok", "Reachable, version compatible"

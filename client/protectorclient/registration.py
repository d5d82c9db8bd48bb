"""``site create`` / ``site delete`` on both sites (doc/cli.md, "Sites":
both sites are registered once, from site-a).

With a secondary cloud (``--secondary-cloud``) the CLI registers the site
on this site's protector-api, then on the secondary site's, itself, with
its token for that site, under the ID this site gave it: both sites then
know the site by one ID, so an ID read on either site works on the other
(doc/cli.md, "Sites"). The two servers never call each other for this, so
neither needs the other's credentials nor a new trust. If the secondary
site refuses, the registration made here is deleted again.

Without a secondary cloud each command reaches one site only: the older
way of registering the sites on each site separately (their IDs then
differ; the sites still agree on names, which is what they sync by).
"""
from protectorclient import exceptions


class TwoSiteError(exceptions.ProtectorClientError):
    """A failure on the secondary site, with the exit code of its cause."""

    def __init__(self, message, cause):
        super().__init__(message)
        self.exit_code = cause.exit_code


def peer_client(client):
    """A client for the secondary site's protector-api, or None.

    Authenticates there first, so an unreachable secondary site stops the
    command (exit 3) before anything is changed. None too when the
    secondary cloud is this very site (``OS_SECONDARY_CLOUD`` still set
    while working on that site): there is no other site to reach.
    """
    if client.peer is None:
        return None
    peer = client.peer.client(client.api_version)
    if peer.endpoint == client.endpoint:
        return None
    return peer


def create(client, body, peer=None):
    """Register ``body`` here and, with ``peer``, there under the same ID;
    return this site's record."""
    site = client.site_create(body)
    if peer is None:
        return site
    try:
        peer.site_create(dict(body, id=site["id"]))
    except exceptions.ProtectorClientError as exc:
        raise _undo_create(client, peer, site, exc) from exc
    return site


def _label(client, default):
    return client.site_label or default


def _undo_create(client, peer, site, cause):
    failed = "Site '%s' was not registered: %s refused it: %s" % (
        site["name"], _label(peer, "the secondary site"), cause)
    try:
        client.site_delete(site["id"])
    except exceptions.ProtectorClientError as exc:
        return TwoSiteError(
            "%s\nIts registration on %s (ID %s) could not be removed "
            "either: %s\nDelete it there ('openstack dr site delete %s' "
            "without --secondary-cloud), then register it again."
            % (failed, _label(client, "this site"), site["id"], exc,
               site["name"]),
            cause)
    return TwoSiteError("%s\nIts registration on %s was removed again."
                        % (failed, _label(client, "this site")), cause)


def delete(client, ident, peer=None):
    """Delete the site here and, with ``peer``, there.

    There the site is found by this site's ID, else by name (sites
    registered separately have different IDs). A site already gone on
    one of the two is deleted on the other, so running the command again
    finishes a deletion that stopped half-way.
    """
    if peer is None:
        return client.site_delete(ident)
    here = _find(client, [ident])
    there = _find(peer, [here["id"], here["name"]] if here else [ident])
    if here is None and there is None:
        return client.site_delete(ident)  # this site's 404
    if here is not None:
        # Refused here (in use): nothing has changed on either site.
        client.site_delete(here["id"])
    if there is None:
        return None
    try:
        peer.site_delete(there["id"])
    except exceptions.ProtectorClientError as exc:
        if here is None:
            raise
        raise TwoSiteError(
            "Site '%s' was deleted on %s but not on %s: %s\nOnce that is "
            "fixed, run 'openstack dr site delete %s' with "
            "--secondary-cloud again." % (
                here["name"], _label(client, "this site"),
                _label(peer, "the secondary site"), exc, here["name"]),
            exc) from exc
    return None


def _find(client, idents):
    """The site of the first of ``idents`` (name or ID) found, or None."""
    for ident in idents:
        try:
            return client.site_show(ident)
        except exceptions.APIError as exc:
            if not exc.not_found:
                raise
    return None

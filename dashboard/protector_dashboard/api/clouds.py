"""Networks and flavors of both sites, for the DR action forms' mappings.

A DR action recreates the group's instances on its target site; their
networks and flavors are looked up there by name unless the action's
``network_mapping`` / ``flavor_mapping`` says otherwise (doc/api-ref.md
"DR operations"). The form offers, for each network and flavor the
members use on the source site (the group's current primary), a choice
of the target site's networks and flavors.

Each list comes from the site's own clouds: this site's through Horizon's
nova and neutron wrappers (the user's token), the signed-in peer site's
through openstacksdk on a keystoneauth session made from the peer-site
token kept in the session (:func:`.peer.cloud`: Keystone URL, project and
token, never a password). A site that is neither, or a peer cloud that
does not answer, raises :class:`Unavailable` with the reason the form
shows beside its free-text fallback.
"""
from django.conf import settings
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
from openstack import connection
from openstack_dashboard import api as os_api

from protector_dashboard.api import peer
from protector_dashboard.api import protector


class Unavailable(Exception):
    """A site's lists cannot be read (message for users)."""


class _Local:
    """This site's clouds, through Horizon's API wrappers."""

    def __init__(self, request):
        self.request = request

    def networks(self):
        return [n.name or n.id for n in
                os_api.neutron.network_list_for_tenant(
                    self.request, self.request.user.project_id,
                    include_external=True)]

    def flavors(self):
        return [f.name for f in os_api.nova.flavor_list(self.request)]

    def server_usage(self, instance_id, flavor_names):
        server = os_api.nova.server_get(self.request, instance_id)
        flavor = getattr(server, "flavor", None) or {}
        # original_name with compute microversion 2.47+, else the id.
        name = flavor.get("original_name") or \
            flavor_names.get(flavor.get("id"))
        return list(getattr(server, "addresses", None) or {}), name

    def flavor_names(self):
        return {f.id: f.name for f in os_api.nova.flavor_list(self.request)}


class _Peer:
    """The signed-in peer site's clouds, through openstacksdk with the
    peer-site token (re-scoped by keystoneauth to read its catalog)."""

    def __init__(self, record):
        auth = v3.Token(record["auth_url"], record["token"],
                        project_id=record["project_id"])
        session = ks_session.Session(
            auth=auth, verify=peer.verify(),
            timeout=getattr(settings, "PROTECTOR_API_TIMEOUT",
                            protector.DEFAULT_TIMEOUT))
        self.conn = connection.Connection(
            session=session, region_name=record.get("region_name"))

    def networks(self):
        return [n.name or n.id for n in self.conn.network.networks()]

    def flavors(self):
        return [f.name for f in self.conn.compute.flavors()]

    def server_usage(self, instance_id, flavor_names):
        server = self.conn.compute.get_server(instance_id)
        flavor = server.flavor
        name = getattr(flavor, "name", None) or \
            flavor_names.get(getattr(flavor, "id", None))
        return list(server.addresses or {}), name

    def flavor_names(self):
        return {f.id: f.name for f in self.conn.compute.flavors()}


def _cloud(request, site):
    if peer.is_local(request, site):
        return _Local(request)
    record = peer.cloud(request)
    if record is None or record["site"] != site.name:
        raise Unavailable(
            "Not signed in to site %s, so its networks and flavors cannot "
            "be listed." % site.name)
    return _Peer(record)


def _read(site, what, call):
    try:
        return call()
    except Unavailable:
        raise
    except Exception as exc:
        raise Unavailable("The %s of site %s cannot be read: %s"
                          % (what, site.name, exc)) from None


def mapping_choices(request, pg, action):
    """What the mapping selects of ``action`` on group ``pg`` offer: a dict
    with ``source`` and ``target`` (site names), ``networks`` and
    ``flavors`` (sorted source names used by the members) and
    ``target_networks`` / ``target_flavors`` (sorted names). Raises
    :class:`Unavailable` when a site's lists cannot be read."""
    group, target = protector.group_and_target(request, pg, action)
    source = protector.site_get(request, group["current_primary_site_id"])
    members = protector.member_list(request, pg)
    src_cloud = _cloud(request, source)
    networks, flavors = set(), set()

    def usage():
        names = src_cloud.flavor_names()
        for member in members:
            nets, flavor = src_cloud.server_usage(member["instance_id"],
                                                  names)
            networks.update(nets)
            if flavor:
                flavors.add(flavor)

    _read(source, "instances", usage)
    dst_cloud = _cloud(request, target)
    return {
        "source": source.name, "target": target.name,
        "networks": sorted(networks), "flavors": sorted(flavors),
        "target_networks": sorted(set(_read(target, "networks",
                                            dst_cloud.networks))),
        "target_flavors": sorted(set(_read(target, "flavors",
                                           dst_cloud.flavors))),
    }

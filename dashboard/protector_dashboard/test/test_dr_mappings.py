"""The DR action forms' network and flavor selects (api/clouds.py).

Site site-a shares the dashboard's Keystone (this site: Horizon's nova and
neutron wrappers, mocked); site-b is the signed-in peer (openstacksdk's
Connection, mocked, on a session made from the peer-site token).
"""
from unittest import mock

from django.urls import reverse
from openstack_dashboard import api as os_api
from openstack_dashboard.test import helpers as os_helpers

from protector_dashboard.api import clouds
from protector_dashboard.api import peer
from protector_dashboard.api import protector
from protector_dashboard.test import helpers
from protector_dashboard.test.test_data import protector_data as ids

PEER = {"site": "site-b", "auth_url": "http://site-b.example.com:5000/v3",
        "project_id": "peer-project", "region_name": "RegionTwo",
        "token": "peer-token"}


def action_url(action):
    return reverse("horizon:project:protection_groups:dr_action",
                   args=(ids.GROUP, action))


def named(*names, **extra):
    # Mock's own ``name`` argument is not an attribute: set it after.
    items = []
    for name in names:
        item = mock.Mock(id="id-" + name, **extra)
        item.name = name
        items.append(item)
    return items


MOCKS = {protector: ("pg_get", "site_get", "member_list", "pg_preflight",
                     "pg_action"),
         os_api.nova: ("server_get", "flavor_list"),
         os_api.neutron: ("network_list_for_tenant",)}


class DRMappingTests(helpers.TestCase):

    def setUp(self):
        super().setUp()
        sites = {s.id: s for s in self.protector_sites.list()}
        for patcher in (
                mock.patch.object(peer, "is_local",
                                  lambda request, site: site.name ==
                                  "site-a"),
                mock.patch.object(peer, "cloud", return_value=PEER)):
            self.mock_cloud = patcher.start()
            self.addCleanup(patcher.stop)
        patcher = mock.patch.object(clouds.connection, "Connection")
        self.mock_connection = patcher.start()
        self.addCleanup(patcher.stop)
        self.conn = self.mock_connection.return_value
        self.sites = sites

    def _common(self, group):
        self.mock_pg_get.return_value = group
        self.mock_site_get.side_effect = lambda request, site_id: \
            self.sites[site_id]
        self.mock_member_list.return_value = self.protector_members.list()
        self.mock_pg_preflight.return_value = self.protector_preflight_ok

    def _failover_from_this_site(self):
        """Members on site-a (this site) use net-a, net-x and m1.small;
        site-b (the peer) has net-a, net-b, m1.small and m1.large."""
        self._common(self.protection_group_detail)
        self.mock_flavor_list.return_value = named("m1.small")
        self.mock_server_get.return_value = mock.Mock(
            addresses={"net-a": [], "net-x": []},
            flavor={"id": "id-m1.small"})
        self.conn.network.networks.return_value = named("net-b", "net-a")
        self.conn.compute.flavors.return_value = named("m1.small",
                                                       "m1.large")

    @os_helpers.create_mocks(MOCKS)
    def test_choices_come_from_both_sites_with_same_name_chosen(self):
        self._failover_from_this_site()
        res = self.client.get(action_url("failover"))
        self.assertEqual(200, res.status_code)
        form = res.context["form"]
        self.assertIsNone(form.lists_missing)
        self.mock_server_get.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.INSTANCE)
        nets = [form.fields["network_map__%d" % i] for i in (0, 1)]
        self.assertEqual(["Network net-a", "Network net-x"],
                         [f.label for f in nets])
        self.assertEqual([("", "-- keep / choose --"), ("net-a", "net-a"),
                          ("net-b", "net-b")],
                         [(v, str(t)) for v, t in nets[0].choices])
        # The same name on the target is chosen; no match, nothing is.
        self.assertEqual(["net-a", ""], [f.initial for f in nets])
        flavor = form.fields["flavor_map__0"]
        self.assertEqual("Flavor m1.small", flavor.label)
        self.assertEqual("m1.small", flavor.initial)
        self.assertEqual(["", "m1.large", "m1.small"],
                         [v for v, _t in flavor.choices])
        # The peer cloud was read with the peer token on its Keystone.
        session = self.mock_connection.call_args.kwargs["session"]
        self.assertEqual("peer-token", session.auth.auth_methods[0].token)
        self.assertEqual(PEER["auth_url"], session.auth.auth_url)
        self.assertEqual("RegionTwo",
                         self.mock_connection.call_args.kwargs["region_name"])
        # The free text is still there, after the selects it adds to.
        self.assertEqual(["type", "network_map__0", "network_map__1",
                          "network_mapping", "flavor_map__0",
                          "flavor_mapping", "keep_fixed_ips", "confirmed"],
                         list(form.fields))
        self.assertIn('id="id_network_mapping"', res.content.decode())

    @os_helpers.create_mocks(MOCKS)
    def test_only_differing_choices_are_sent_and_free_text_wins(self):
        self._failover_from_this_site()
        form = {"type": "planned", "keep_fixed_ips": "on",
                "network_map__0": "net-a", "network_map__1": "net-b",
                "flavor_map__0": "m1.large",
                "network_mapping": "", "flavor_mapping": ""}
        self.client.post(action_url("failover"), form)
        self.mock_pg_preflight.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.GROUP, "failover",
            {"type": "planned", "keep_fixed_ips": True,
             "network_mapping": {"net-x": "net-b"},
             "flavor_mapping": {"m1.small": "m1.large"}})
        self.mock_pg_preflight.reset_mock()
        # Same names and "keep" send no mapping at all.
        self.client.post(action_url("failover"), dict(
            form, network_map__1="", flavor_map__0="m1.small",
            network_mapping="net-a=net-b"))
        self.mock_pg_preflight.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.GROUP, "failover",
            {"type": "planned", "keep_fixed_ips": True,
             "network_mapping": {"net-a": "net-b"}})

    @os_helpers.create_mocks(MOCKS)
    def test_failback_reads_the_members_on_the_peer_site(self):
        group = protector.Resource(dict(
            self.protection_group_detail._apidict,
            current_primary_site_id=ids.SITE_B, status="failed_over"))
        self._common(group)
        self.conn.compute.get_server.return_value = mock.Mock(
            addresses={"net-b": []}, flavor=named("m1.large")[0])
        self.conn.compute.flavors.return_value = []
        self.mock_network_list_for_tenant.return_value = named("net-b")
        self.mock_flavor_list.return_value = named("m1.small")
        res = self.client.get(action_url("failback"))
        form = res.context["form"]
        self.conn.compute.get_server.assert_called_once_with(ids.INSTANCE)
        self.assertEqual("net-b", form.fields["network_map__0"].initial)
        self.assertEqual(["", "m1.small"],
                         [v for v, _t in form.fields["flavor_map__0"].choices])
        self.assertEqual("", form.fields["flavor_map__0"].initial)
        self.mock_server_get.assert_not_called()

    @os_helpers.create_mocks(MOCKS)
    def test_free_text_with_the_reason_when_the_peer_cannot_be_listed(self):
        self._failover_from_this_site()
        self.conn.network.networks.side_effect = Exception("peer down")
        res = self.client.get(action_url("failover"))
        form = res.context["form"]
        self.assertEqual({"type", "network_mapping", "flavor_mapping",
                          "keep_fixed_ips", "confirmed"}, set(form.fields))
        self.assertIn("The networks of site site-b cannot be read: peer "
                      "down", form.lists_missing)
        self.assertIn("could not be listed", res.content.decode())
        # Not signed in to the peer: the same fallback, saying so.
        self.mock_cloud.return_value = None
        res = self.client.get(action_url("failover"))
        self.assertIn("Not signed in to site site-b",
                      res.context["form"].lists_missing)
        # The free text still goes out as it did.
        self.client.post(action_url("failover"), {
            "type": "planned", "network_mapping": "net-a=net-b"})
        self.mock_pg_preflight.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.GROUP, "failover",
            {"type": "planned", "keep_fixed_ips": False,
             "network_mapping": {"net-a": "net-b"}})

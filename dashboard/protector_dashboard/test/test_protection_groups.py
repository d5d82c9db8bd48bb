"""Views of the protection groups panel."""
from unittest import mock

from django.urls import reverse
from openstack_dashboard import api as os_api
from openstack_dashboard.test import helpers as os_helpers

from protector_dashboard.api import clouds
from protector_dashboard.api import protector
from protector_dashboard.test import helpers
from protector_dashboard.test.test_data import protector_data as ids

INDEX_URL = reverse("horizon:project:protection_groups:index")
DETAIL_URL = reverse("horizon:project:protection_groups:detail",
                     args=(ids.GROUP,))


def action_url(action, group=ids.GROUP):
    return reverse("horizon:project:protection_groups:dr_action",
                   args=(group, action))


class ProtectionGroupsIndexTests(helpers.TestCase):

    @os_helpers.create_mocks({protector: ("pg_list",)})
    def test_index_lists_groups_with_one_call(self):
        self.mock_pg_list.return_value = self.protection_groups.list()
        res = self.client.get(INDEX_URL)
        self.assertTemplateUsed(res, "horizon/common/_data_table_view.html")
        table = res.context["table"]
        self.assertEqual(["web-tier", "db-tier"],
                         [row.name for row in table.data])
        content = res.content.decode()
        for text in ("site-b", "OUT_OF_SYNC", "SYNCED",
                     "openstack dr failback db-tier"):
            self.assertIn(text, content)
        # Every column comes from the list: no call per row.
        self.mock_pg_list.assert_called_once_with(os_helpers.IsHttpRequest())

    @os_helpers.create_mocks({protector: ("pg_list",)})
    def test_rpo_column_shows_the_cached_state(self):
        groups = self.protection_groups.list() + [
            protector.Resource(ids._group(
                id="g-unchecked", name="new-tier", rpo_status="unknown",
                replication_lag_seconds=None, rpo_detail="not checked yet",
                rpo_checked_at=None)),
            # A protector-api older than 1.5 sends no RPO state.
            protector.Resource(ids._group(id="g-old", name="old-api"))]
        self.mock_pg_list.return_value = groups
        res = self.client.get(INDEX_URL)
        table = res.context["table"]
        cells = [str(row.cells["rpo"].data) for row in table.get_rows()]
        self.assertEqual(
            ['<span title="replication lag 120s within the RPO of 15 min '
             '(checked 2026-12-03T09:00:00Z)">OK</span>',
             '<span title="replication lag 1234s exceeds the RPO of 15 '
             'min (checked 2026-12-03T09:00:00Z)">Breached (lag 1234 s)'
             '</span>',
             '<span title="not checked yet">Unknown</span>',
             "See details"], cells)
        content = res.content.decode()
        self.assertIn("Breached (lag 1234 s)</span>", content)
        self.assertIn('title="not checked yet"', content)
        self.mock_pg_list.assert_called_once_with(os_helpers.IsHttpRequest())

    @os_helpers.create_mocks({protector: ("pg_list",)})
    def test_actions_follow_group_status(self):
        self.mock_pg_list.return_value = self.protection_groups.list()
        res = self.client.get(INDEX_URL)
        table = res.context["table"]
        active, failed_over = table.data

        def names(group):
            return {a.name for a in table.get_row_actions(group)}
        self.assertIn("failover", names(active))
        self.assertNotIn("failback", names(active))
        self.assertIn("failback", names(failed_over))
        self.assertNotIn("failover", names(failed_over))
        # A group with members cannot be deleted (the API's 409).
        self.assertNotIn("delete", names(active))
        self.assertNotIn("add_member", names(failed_over))

    @os_helpers.create_mocks({protector: ("pg_list",)})
    def test_index_shows_api_error(self):
        from protectorclient import exceptions
        self.mock_pg_list.side_effect = exceptions.APIError(
            503, code="protector.site.unreachable", detail="gone")
        res = self.client.get(INDEX_URL)
        self.assertEqual(200, res.status_code)
        self.assertEqual([], list(res.context["table"].data))
        self.assertMessageCount(res, error=1)

    def test_panel_hidden_without_protector_service(self):
        self.service_catalog[:] = [
            s for s in self.service_catalog if s["type"] != "protector"]
        self.setActiveUser(
            id=self.user.id, token=self.token, username=self.user.name,
            tenant_id=self.tenant.id, service_catalog=self.service_catalog,
            authorized_tenants=self.tenants.list(),
            domain_id=self.domain.id)
        with mock.patch.object(protector, "pg_list") as pg_list:
            res = self.client.get(INDEX_URL)
        pg_list.assert_not_called()
        self.assertNotEqual(200, res.status_code)

    @os_helpers.create_mocks({protector: ("pg_list", "pg_delete")})
    def test_delete_empty_group(self):
        group = protector.Resource(dict(
            self.protection_groups.first().to_dict(), member_count=0))
        self.mock_pg_list.return_value = [group]
        res = self.client.post(INDEX_URL, {
            "action": "protection_groups__delete__%s" % group.id})
        self.assertRedirectsNoFollow(res, INDEX_URL)
        self.mock_pg_delete.assert_called_once_with(
            os_helpers.IsHttpRequest(), group.id)


class ProtectionGroupDetailTests(helpers.TestCase):

    @os_helpers.create_mocks({protector: ("pg_get",)})
    def test_overview_shows_rpo_and_next_step(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        res = self.client.get(DETAIL_URL)
        self.assertTemplateUsed(res, "horizon/common/_detail.html")
        content = res.content.decode()
        self.assertIn("web-tier", content)
        self.assertIn("replication lag 120s within the RPO", content)
        self.mock_pg_get.assert_called_once_with(os_helpers.IsHttpRequest(),
                                                 ids.GROUP)

    @os_helpers.create_mocks({protector: ("pg_get", "member_list")})
    def test_members_tab(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_member_list.return_value = self.protector_members.list()
        res = self.client.get(DETAIL_URL + "?tab=group_details__members")
        self.assertIn("web-1", res.content.decode())
        self.mock_member_list.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.GROUP)

    @os_helpers.create_mocks({protector: ("pg_get", "member_list",
                                          "member_remove")})
    def test_remove_member_from_the_members_tab(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_member_list.return_value = self.protector_members.list()
        res = self.client.post(DETAIL_URL, {
            "action": "members__remove_member__m-1"})
        self.assertEqual(302, res.status_code)
        self.mock_member_remove.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.GROUP, "m-1")

    @os_helpers.create_mocks({protector: ("pg_get", "policy_get")})
    def test_policy_tab_masks_tokens(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_policy_get.return_value = self.protector_policy
        res = self.client.get(DETAIL_URL + "?tab=group_details__policy")
        content = res.content.decode()
        self.assertIn("web-tier-pg", content)
        self.assertIn("*** (masked)", content)

    @os_helpers.create_mocks({protector: ("pg_get", "sync_status_get",
                                          "consistency_group_get",
                                          "operation_list")})
    def test_other_tabs(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_sync_status_get.return_value = self.protector_sync_status
        self.mock_consistency_group_get.return_value = \
            self.protector_consistency_group
        self.mock_operation_list.return_value = \
            self.protector_operations.list()[:1]
        for tab, text in (("sync_status", "site-b"),
                          ("consistency_group", "cinder-g-2"),
                          ("operations", ids.OPERATION_FAILED)):
            res = self.client.get(DETAIL_URL + "?tab=group_details__" + tab)
            self.assertIn(text, res.content.decode(), tab)
        self.mock_operation_list.assert_called_once_with(
            os_helpers.IsHttpRequest(), protection_group_id=ids.GROUP)

    @os_helpers.create_mocks({protector: ("pg_get",)})
    def test_missing_group_redirects_to_list(self):
        from protectorclient import exceptions
        self.mock_pg_get.side_effect = exceptions.APIError(
            404, code="protector.protection_group.not_found")
        res = self.client.get(DETAIL_URL)
        self.assertRedirectsNoFollow(res, INDEX_URL)


class ProtectionGroupFormTests(helpers.TestCase):

    @os_helpers.create_mocks({protector: ("site_list", "pg_create"),
                              os_api.cinder: ("volume_type_list",)})
    def test_create(self):
        self.mock_site_list.return_value = self.protector_sites.list()
        self.mock_volume_type_list.return_value = self.cinder_volume_types \
            .list()
        volume_type = self.cinder_volume_types.first()
        self.mock_pg_create.return_value = self.protection_groups.first()
        res = self.client.post(
            reverse("horizon:project:protection_groups:create"),
            {"name": "web-tier", "replication_type": "async",
             "primary_site_id": ids.SITE_A, "secondary_site_id": ids.SITE_B,
             "volume_type_id": volume_type.id})
        self.assertNoFormErrors(res)
        self.assertRedirectsNoFollow(res, INDEX_URL)
        self.mock_pg_create.assert_called_once_with(
            os_helpers.IsHttpRequest(), name="web-tier", description="",
            replication_type="async", primary_site_id=ids.SITE_A,
            secondary_site_id=ids.SITE_B, volume_type_id=volume_type.id,
            secondary_volume_type="")

    @os_helpers.create_mocks({protector: ("site_list", "pg_create"),
                              os_api.cinder: ("volume_type_list",)})
    def test_create_refuses_same_sites(self):
        self.mock_site_list.return_value = self.protector_sites.list()
        self.mock_volume_type_list.return_value = self.cinder_volume_types \
            .list()
        res = self.client.post(
            reverse("horizon:project:protection_groups:create"),
            {"name": "x", "replication_type": "async",
             "primary_site_id": ids.SITE_A, "secondary_site_id": ids.SITE_A,
             "volume_type_id": self.cinder_volume_types.first().id})
        self.assertFormErrors(res, 1)
        self.mock_pg_create.assert_not_called()

    @os_helpers.create_mocks({protector: ("pg_get", "member_list",
                                          "member_add"),
                              os_api.nova: ("server_list",)})
    def test_add_member_offers_instances_not_yet_members(self):
        servers = self.servers.list()
        self.mock_pg_get.return_value = self.protection_group_detail
        member = self.protector_members.first()
        self.mock_member_list.return_value = [protector.Resource(
            dict(member.to_dict(), instance_id=servers[0].id))]
        self.mock_server_list.return_value = (servers, False)
        url = reverse("horizon:project:protection_groups:add_member",
                      args=(ids.GROUP,))
        res = self.client.get(url)
        choices = [c[0] for c in
                   res.context["form"].fields["instance_id"].choices]
        self.assertNotIn(servers[0].id, choices)
        self.assertIn(servers[1].id, choices)

        self.mock_member_add.return_value = member
        res = self.client.post(url, {"instance_id": servers[1].id})
        self.assertNoFormErrors(res)
        self.mock_member_add.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.GROUP, servers[1].id)

    @os_helpers.create_mocks({protector: ("pg_get", "policy_get",
                                          "policy_set")})
    def test_set_policy_prefills_all_but_tokens(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_policy_get.return_value = self.protector_policy
        url = reverse("horizon:project:protection_groups:set_policy",
                      args=(ids.GROUP,))
        res = self.client.get(url)
        initial = res.context["form"].initial
        self.assertEqual("web-tier-pg", initial["pure_pg_name"])
        self.assertNotIn("primary_fa_api_token", initial)
        self.assertNotIn("*** (masked)", res.content.decode())

        self.mock_policy_set.return_value = self.protector_policy
        res = self.client.post(url, {
            "primary_fa_url": "https://array1.example.com",
            "primary_fa_api_token": "t1",
            "secondary_fa_url": "https://array2.example.com",
            "secondary_fa_api_token": "t2", "pure_pg_name": "web-tier-pg",
            "rpo_minutes": "10"})
        self.assertNoFormErrors(res)
        self.mock_policy_set.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.GROUP,
            primary_fa_url="https://array1.example.com",
            primary_fa_api_token="t1",
            secondary_fa_url="https://array2.example.com",
            secondary_fa_api_token="t2", pure_pg_name="web-tier-pg",
            replication_interval=None, rpo_minutes=10)


class DRActionTests(helpers.TestCase):
    FORM = {"type": "planned", "network_mapping": "net-a=net-b\n",
            "flavor_mapping": "", "keep_fixed_ips": "on"}
    PARAMS = {"type": "planned", "network_mapping": {"net-a": "net-b"},
              "keep_fixed_ips": True}

    def setUp(self):
        super().setUp()
        # The free-text mappings alone (the selects: test_dr_mappings.py).
        patcher = mock.patch.object(
            clouds, "mapping_choices",
            side_effect=clouds.Unavailable("not listed in these tests"))
        patcher.start()
        self.addCleanup(patcher.stop)

    @os_helpers.create_mocks({protector: ("pg_get", "pg_preflight",
                                          "pg_action")})
    def test_first_submit_shows_preflight_and_starts_nothing(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_pg_preflight.return_value = self.protector_preflight_ok
        res = self.client.post(action_url("failover"), self.FORM)
        self.assertFormErrors(res, 1)
        content = res.content.decode()
        self.assertIn("replication lag 1200s exceeds the RPO", content)
        self.mock_pg_preflight.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.GROUP, "failover", self.PARAMS)
        self.mock_pg_action.assert_not_called()

    @os_helpers.create_mocks({protector: ("pg_get", "pg_preflight",
                                          "pg_action")})
    def test_confirmed_submit_starts_the_operation(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_pg_preflight.return_value = self.protector_preflight_ok
        operation = self.protector_operations.first()
        self.mock_pg_action.return_value = operation
        res = self.client.post(action_url("failover"),
                               dict(self.FORM, confirmed="on"))
        self.assertNoFormErrors(res)
        self.assertRedirectsNoFollow(res, reverse(
            "horizon:project:dr_operations:detail", args=(operation.id,)))
        self.mock_pg_action.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.GROUP, "failover", self.PARAMS)

    @os_helpers.create_mocks({protector: ("pg_get", "pg_preflight",
                                          "pg_action")})
    def test_failing_preflight_blocks_even_when_confirmed(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_pg_preflight.return_value = self.protector_preflight_fail
        res = self.client.post(action_url("failover"),
                               dict(self.FORM, confirmed="on"))
        self.assertFormErrors(res, 1)
        self.assertIn("needs 6, 4 free of 10", res.content.decode())
        self.mock_pg_action.assert_not_called()

    @os_helpers.create_mocks({protector: ("pg_get", "pg_preflight",
                                          "pg_action")})
    def test_bad_mapping_line_is_a_form_error(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        res = self.client.post(action_url("failover"),
                               dict(self.FORM, network_mapping="net-a"))
        self.assertFormErrors(res, 1)
        self.mock_pg_preflight.assert_not_called()

    @os_helpers.create_mocks({protector: ("pg_get", "pg_preflight",
                                          "pg_action")})
    def test_test_cleanup_needs_only_confirmation(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_pg_action.return_value = self.protector_operations.list()[1]
        res = self.client.post(action_url("test_cleanup"), {"confirmed": "on"})
        self.assertNoFormErrors(res)
        self.mock_pg_preflight.assert_not_called()
        self.mock_pg_action.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.GROUP, "test_cleanup", {})

    @os_helpers.create_mocks({protector: ("pg_get", "pg_preflight")})
    def test_forms_offer_the_fields_of_their_action(self):
        self.mock_pg_get.return_value = self.protection_group_detail
        expected = {
            "failover": {"type", "network_mapping", "flavor_mapping",
                         "keep_fixed_ips", "confirmed"},
            "failback": {"network_mapping", "flavor_mapping",
                         "keep_fixed_ips", "reverse_replication",
                         "confirmed"},
            "test_failover": {"network_mapping", "auto_network",
                              "keep_fixed_ips", "confirmed"},
            "test_cleanup": {"confirmed"},
        }
        for action, fields in expected.items():
            res = self.client.get(action_url(action))
            self.assertEqual(200, res.status_code, action)
            self.assertTemplateUsed(
                res, "protector_dashboard/protection_groups/dr_action.html")
            self.assertEqual(fields, set(res.context["form"].fields))
        # Opening a form runs nothing, not even the preflight.
        self.mock_pg_preflight.assert_not_called()

    def test_unknown_action_is_404(self):
        res = self.client.get(action_url("explode"))
        self.assertEqual(404, res.status_code)

"""Views of the admin sites panel."""
from django.urls import reverse
from openstack_dashboard.test import helpers as os_helpers

from protector_dashboard.api import protector
from protector_dashboard.test import helpers
from protector_dashboard.test.test_data import protector_data as ids

INDEX_URL = reverse("horizon:admin:dr_sites:index")


class SitesTests(helpers.BaseAdminViewTests):

    @os_helpers.create_mocks({protector: ("site_list",)})
    def test_index(self):
        self.mock_site_list.return_value = self.protector_sites.list()
        res = self.client.get(INDEX_URL)
        content = res.content.decode()
        self.assertIn("site-b", content)
        self.assertIn("Keystone unreachable: timed out", content)

    @os_helpers.create_mocks({protector: ("site_create",)})
    def test_register(self):
        self.mock_site_create.return_value = self.protector_sites.first()
        res = self.client.post(reverse("horizon:admin:dr_sites:register"), {
            "name": "site-a", "site_type": "primary",
            "auth_url": "http://site-a.example.com:5000/v3",
            "region_name": "RegionOne"})
        self.assertNoFormErrors(res)
        self.assertRedirectsNoFollow(res, INDEX_URL)
        self.mock_site_create.assert_called_once_with(
            os_helpers.IsHttpRequest(), name="site-a", site_type="primary",
            auth_url="http://site-a.example.com:5000/v3",
            region_name="RegionOne", protector_url="", description="")

    @os_helpers.create_mocks({protector: ("site_list", "site_validate")})
    def test_validate_reports_the_result(self):
        self.mock_site_list.return_value = self.protector_sites.list()
        self.mock_site_validate.return_value = \
            self.protector_site_validation
        res = self.client.post(INDEX_URL, {
            "action": "sites__validate__%s" % ids.SITE_B})
        self.assertRedirectsNoFollow(res, INDEX_URL)
        self.mock_site_validate.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.SITE_B)
        # The validation summary and the batch action's own message.
        self.assertMessageCount(info=1, success=1)

    @os_helpers.create_mocks({protector: ("site_list", "site_delete")})
    def test_delete(self):
        self.mock_site_list.return_value = self.protector_sites.list()
        res = self.client.post(INDEX_URL, {
            "action": "sites__delete__%s" % ids.SITE_B})
        self.assertRedirectsNoFollow(res, INDEX_URL)
        self.mock_site_delete.assert_called_once_with(
            os_helpers.IsHttpRequest(), ids.SITE_B)


class SitesNonAdminTests(helpers.TestCase):

    def test_admin_panel_refused_to_a_member(self):
        res = self.client.get(INDEX_URL)
        self.assertNotEqual(200, res.status_code)

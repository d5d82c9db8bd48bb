"""Every modal form opens as the tables open it, by AJAX, and as a page.

Horizon's ModalFormView renders ``ajax_template_name`` for an AJAX
request and, without one, looks for ``_`` + the template's name, which for
Horizon's own ``_modal_form.html`` does not exist.
"""
from django.urls import reverse
from openstack_dashboard import api as os_api
from openstack_dashboard.test import helpers as os_helpers

from protector_dashboard.api import clouds
from protector_dashboard.api import protector
from protector_dashboard.test import helpers
from protector_dashboard.test.test_data import protector_data as ids

AJAX = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


class ProjectModalTests(helpers.TestCase):

    @os_helpers.create_mocks({protector: ("pg_get", "site_list",
                                          "member_list", "policy_get"),
                              os_api.cinder: ("volume_type_list",),
                              os_api.nova: ("server_list",),
                              clouds: ("mapping_choices",)})
    def test_modals_open_by_ajax(self):
        self.mock_mapping_choices.side_effect = clouds.Unavailable("-")
        self.mock_pg_get.return_value = self.protection_group_detail
        self.mock_site_list.return_value = self.protector_sites.list()
        self.mock_member_list.return_value = []
        self.mock_policy_get.return_value = None
        self.mock_volume_type_list.return_value = []
        self.mock_server_list.return_value = ([], False)
        prefix = "horizon:project:protection_groups:"
        urls = [reverse(prefix + "create"), reverse(prefix + "peer_sign_in")]
        urls += [reverse(prefix + name, args=(ids.GROUP,))
                 for name in ("update", "add_member", "set_policy")]
        urls += [reverse(prefix + "dr_action", args=(ids.GROUP, action))
                 for action in ("failover", "test_cleanup")]
        for url in urls:
            res = self.client.get(url, **AJAX)
            self.assertEqual(200, res.status_code, url)
            self.assertContains(res, 'class="modal-footer"', msg_prefix=url)
            self.assertTemplateNotUsed(res, "base.html")
            # Opened as a page (a link, a bookmark, a form posted back
            # with errors): the same form inside Horizon's page.
            res = self.client.get(url)
            self.assertEqual(200, res.status_code, url)
            self.assertTemplateUsed(res, "base.html")
            self.assertContains(res, 'class="modal-footer"', msg_prefix=url)


class AdminModalTests(helpers.BaseAdminViewTests):

    def test_register_site_opens_by_ajax(self):
        url = reverse("horizon:admin:dr_sites:register")
        res = self.client.get(url, **AJAX)
        self.assertEqual(200, res.status_code)
        self.assertContains(res, 'class="modal-footer"')
        res = self.client.get(url)
        self.assertTemplateUsed(res, "base.html")
        self.assertContains(res, 'class="modal-footer"')

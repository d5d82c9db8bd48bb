"""Views of the DR operations panel."""
from django.urls import reverse
from openstack_dashboard.test import helpers as os_helpers

from protector_dashboard.api import protector
from protector_dashboard.test import helpers
from protector_dashboard.test.test_data import protector_data as ids

INDEX_URL = reverse("horizon:project:dr_operations:index")
DETAIL_URL = reverse("horizon:project:dr_operations:detail",
                     args=(ids.OPERATION_FAILED,))


class OperationsTests(helpers.TestCase):

    @os_helpers.create_mocks({protector: ("operation_list",)})
    def test_index(self):
        self.mock_operation_list.return_value = \
            self.protector_operations.list()
        res = self.client.get(INDEX_URL)
        table = res.context["table"]
        self.assertEqual(2, len(table.data))
        failed, done = table.data
        names = {a.name for a in table.get_row_actions(failed)}
        self.assertEqual({"retry", "rollback"}, names)
        # test_cleanup completed: nothing to retry or roll back
        self.assertEqual([], list(table.get_row_actions(done)))
        self.mock_operation_list.assert_called_once_with(
            os_helpers.IsHttpRequest())

    @os_helpers.create_mocks({protector: ("operation_get",)})
    def test_detail_shows_steps_error_and_buttons(self):
        self.mock_operation_get.return_value = \
            self.protector_operations.first()
        res = self.client.get(DETAIL_URL)
        content = res.content.decode()
        self.assertIn("raise the instances quota, then retry", content)
        self.assertIn("recreate_instances", content)
        self.assertIn("validate_sites", content)
        # Retry and roll back in the page header.
        self.assertIn("operations__retry__%s" % ids.OPERATION_FAILED,
                      content)
        self.assertIn("operations__rollback__%s" % ids.OPERATION_FAILED,
                      content)

    @os_helpers.create_mocks({protector: ("operation_list",
                                          "operation_action")})
    def test_retry(self):
        operation = self.protector_operations.first()
        self.mock_operation_list.return_value = \
            self.protector_operations.list()
        self.mock_operation_action.return_value = operation
        res = self.client.post(INDEX_URL, {
            "action": "operations__retry__%s" % operation.id})
        self.assertRedirectsNoFollow(res, INDEX_URL)
        self.mock_operation_action.assert_called_once_with(
            os_helpers.IsHttpRequest(), operation.id, "retry")

    @os_helpers.create_mocks({protector: ("operation_list",
                                          "operation_action")})
    def test_refused_rollback_shows_the_api_reason(self):
        from protectorclient import exceptions
        operation = self.protector_operations.first()
        self.mock_operation_list.return_value = \
            self.protector_operations.list()
        self.mock_operation_action.side_effect = exceptions.APIError(
            412, code="protector.precondition.rollback_impossible",
            detail="Retry it instead: openstack dr operation retry x")
        res = self.client.post(INDEX_URL, {
            "action": "operations__rollback__%s" % operation.id})
        self.assertRedirectsNoFollow(res, INDEX_URL)
        self.assertMessageCount(error=1)

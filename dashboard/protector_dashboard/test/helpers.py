"""The base test case: Horizon's, with Protector's test data loaded and
a ``protector`` service in the test user's catalog."""
from openstack_dashboard.test import helpers

from protector_dashboard.test.test_data import utils

PROTECTOR_URL = "http://protector.example.com:8788/v1/%(tenant_id)s"


class ProtectorTestsMixin:
    def _setup_test_data(self):
        super()._setup_test_data()
        utils.load_test_data(self)
        # Horizon's test catalog has no protector-api; the panels are
        # shown only with one (tests that need it absent remove it).
        self.service_catalog.append({
            "type": "protector", "name": "protector",
            "endpoints": [{"region": "RegionOne", "interface": interface,
                           "url": PROTECTOR_URL % {
                               "tenant_id": self.tenant.id}}
                          for interface in ("public", "internal",
                                            "admin")]})


class TestCase(ProtectorTestsMixin, helpers.TestCase):
    pass


class BaseAdminViewTests(ProtectorTestsMixin, helpers.BaseAdminViewTests):
    pass

"""The base test case: Horizon's, with Protector's test data loaded and
a ``protector`` service in the test user's catalog."""
from unittest import mock

from openstack_dashboard.test import helpers
from openstack_dashboard.test.test_data import cinder_data
from openstack_dashboard.test.test_data import exceptions
from openstack_dashboard.test.test_data import glance_data
from openstack_dashboard.test.test_data import keystone_data
from openstack_dashboard.test.test_data import nova_data

from protector_dashboard.test.test_data import utils

PROTECTOR_URL = "http://protector.example.com:8788/v1/%(tenant_id)s"


def _horizon_data(load_onto):
    """The part of Horizon's test data these panels use (Keystone's user,
    projects and catalog; servers; volume types), in Horizon's order.
    Its loader also builds every Neutron and Swift fixture for each test,
    which no panel here reads: a third of these tests' time."""
    for load in (exceptions.data, keystone_data.data, glance_data.data,
                 nova_data.data, cinder_data.data):
        load(load_onto)
    return load_onto


class ProtectorTestsMixin:
    def _setup_test_data(self):
        with mock.patch.object(helpers.test_utils, "load_test_data",
                               _horizon_data):
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

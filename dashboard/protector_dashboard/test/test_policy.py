"""The shipped policy file, as Horizon's policy engine reads it."""
from django.test.utils import override_settings
from openstack_auth import policy

from protector_dashboard.test import helpers


@override_settings(POLICY_CHECK_FUNCTION="openstack_auth.policy.check")
class PolicyTests(helpers.TestCase):

    def setUp(self):
        super().setUp()
        policy.reset()
        self.addCleanup(policy.reset)

    def check(self, rule):
        return policy.check((("protector", rule),), self.request)

    def test_member_may_use_groups_but_not_manage_sites(self):
        self.assertTrue(self.check("protector:protection_groups:index"))
        self.assertTrue(self.check("protector:protection_groups:failover"))
        self.assertTrue(self.check("protector:sites:index"))
        self.assertFalse(self.check("protector:sites:create"))
        self.assertFalse(self.check("protector:sites:validate"))


@override_settings(POLICY_CHECK_FUNCTION="openstack_auth.policy.check")
class AdminPolicyTests(helpers.BaseAdminViewTests):

    def setUp(self):
        super().setUp()
        policy.reset()
        self.addCleanup(policy.reset)

    def test_admin_manages_sites(self):
        self.assertTrue(policy.check(
            (("protector", "protector:sites:create"),), self.request))

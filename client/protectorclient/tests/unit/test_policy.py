"""openstack dr policy create|show."""
from protectorclient.osc.v1 import policy
from protectorclient.tests.unit import fakes

ARGS = ["prod-web-app",
        "--primary-fa-url", "https://flasharray-a.example.com",
        "--primary-fa-token", "T-12345678-abcd",
        "--secondary-fa-url", "https://flasharray-b.example.com",
        "--secondary-fa-token", "T-87654321-dcba",
        "--pure-pg-name", "pg-prod-web-app",
        "--replication-interval", "300", "--rpo-minutes", "15"]


class TestPolicy(fakes.TestProtectorCommand):

    def test_create(self):
        self.client.policy_set.return_value = fakes.copy_of(fakes.POLICY)
        _, _, (columns, data) = self.take(policy.CreatePolicy, ARGS)
        self.client.policy_set.assert_called_once_with("prod-web-app", {
            "primary_fa_url": "https://flasharray-a.example.com",
            "primary_fa_api_token": "T-12345678-abcd",
            "secondary_fa_url": "https://flasharray-b.example.com",
            "secondary_fa_api_token": "T-87654321-dcba",
            "pure_pg_name": "pg-prod-web-app",
            "replication_interval": 300, "rpo_minutes": 15})
        self.assertEqual(policy.COLUMNS, columns)
        self.assertEqual("*** (masked)", data[2])
        self.assertEqual("*** (masked)", data[4])

    def test_tokens_masked_even_if_server_leaks_them(self):
        leaked = dict(fakes.POLICY, primary_fa_api_token="T-secret",
                      secondary_fa_api_token="T-secret2")
        self.client.policy_show.return_value = leaked
        self.assertEqual(0, self.run_command(policy.ShowPolicy,
                                             ["pg", "-f", "json"]))
        out = self.fake_stdout.make_string()
        self.assertNotIn("T-secret", out)
        self.assertIn("*** (masked)", out)

    def test_bad_interval(self):
        args = list(ARGS)
        args[args.index("300")] = "five"
        self.assertEqual(1, self.run_command(policy.CreatePolicy, args))
        self.client.policy_set.assert_not_called()

    def test_missing_token(self):
        args = ARGS[:3] + ARGS[5:]
        self.assertEqual(1, self.run_command(policy.CreatePolicy, args))
        self.assertIn("--primary-fa-token", self.fake_stderr.getvalue())

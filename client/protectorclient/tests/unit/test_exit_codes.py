"""Exit codes of doc/cli.md, derived from API error codes only."""
import testtools

from protectorclient import exceptions
from protectorclient.osc.v1 import action
from protectorclient.osc.v1 import member
from protectorclient.osc.v1 import site
from protectorclient.tests.unit import fakes


class TestExitCodeFor(testtools.TestCase):

    def test_mapping(self):
        cases = {
            "protector.peer.unreachable": 3,
            "protector.operation.conflict": 4,
            "protector.operation.test_active": 4,
            "protector.precondition.no_members": 5,
            "protector.precondition.no_policy": 5,
            "protector.precondition.test_active": 5,
            "protector.operation.wrong_site": 1,
            "protector.site.not_found": 1,
            "protector.site.in_use": 1,
            "protector.request.invalid": 1,
            "protector.auth.unauthenticated": 1,
            "protector.sync.version_conflict": 1,
            None: 1,
            "": 1,
        }
        for code, expected in cases.items():
            self.assertEqual(expected, exceptions.exit_code_for(code), code)

    def test_message_text_is_ignored(self):
        err = exceptions.APIError(503, code="protector.site.not_found",
                                  detail="peer site unreachable, conflict")
        self.assertEqual(1, err.exit_code)
        err = exceptions.APIError(500, code=None,
                                  detail="protector.peer.unreachable")
        self.assertEqual(1, err.exit_code)

    def test_precondition_prefix_needs_the_dot(self):
        self.assertEqual(
            1, exceptions.exit_code_for("protector.preconditionx"))

    def test_api_error_message(self):
        err = exceptions.APIError(409, code="protector.site.in_use",
                                  detail="Site site-a is in use",
                                  request_id="req-1")
        self.assertEqual("Site site-a is in use (HTTP 409, code "
                         "protector.site.in_use, request req-1)", str(err))

    def test_documented_cases_issue_14(self):
        # A site (not only the peer) unreachable is 3; doc/cli.md's
        # example of exit 5 is a volume type without replication, which
        # the API answers with 400; any 412 is a precondition.
        self.assertEqual(3, exceptions.exit_code_for(
            "protector.site.unreachable"))
        self.assertEqual(5, exceptions.exit_code_for(
            "protector.volume_type.not_replicated", 400))
        self.assertEqual(5, exceptions.APIError(
            412, code="protector.site.not_paired").exit_code)
        self.assertEqual(3, exceptions.APIUnreachable("down").exit_code)

    def test_client_side_codes(self):
        self.assertEqual(3, exceptions.PeerUnreachable("x").exit_code)
        self.assertEqual(1, exceptions.UsageError("x").exit_code)
        self.assertEqual(1, exceptions.OperationFailed("x").exit_code)


class TestCommandRunExitCodes(fakes.TestProtectorCommand):
    """Command.run() returns the code; OSC's main exits with it."""

    def _api_error(self, status, code):
        return exceptions.APIError(status, code=code, detail="it failed")

    def test_api_error_codes_become_exit_codes(self):
        for status, code, expected in (
                (503, "protector.peer.unreachable", 3),
                (409, "protector.operation.conflict", 4),
                (409, "protector.operation.test_active", 4),
                (412, "protector.precondition.no_policy", 5),
                (404, "protector.protection_group.not_found", 1)):
            self.client.member_add.side_effect = self._api_error(status, code)
            rc = self.run_command(member.AddMember,
                                  ["pg", "--instance-id", "i"])
            self.assertEqual(expected, rc, code)
        self.assertIn("it failed", self.fake_stderr.getvalue())

    def test_success_is_zero(self):
        self.client.site_list.return_value = [fakes.copy_of(fakes.SITE_A)]
        self.assertEqual(0, self.run_command(site.ListSite, []))

    def test_missing_required_flag_is_one(self):
        rc = self.run_command(site.CreateSite, ["--name", "x"])
        self.assertEqual(1, rc)
        self.assertIn("--site-type, --auth-url", self.fake_stderr.getvalue())
        self.client.site_create.assert_not_called()

    def test_malformed_value_is_one(self):
        rc = self.run_command(action.Failback,
                              ["pg", "--network-mapping", "no-equals"])
        self.assertEqual(1, rc)
        self.assertIn("SOURCE=TARGET", self.fake_stderr.getvalue())

    def test_peer_unreachable_raised_client_side_is_three(self):
        self.client.member_remove.side_effect = \
            exceptions.PeerUnreachable("site-b down")
        rc = self.run_command(member.RemoveMember, ["pg", "--member-id", "m"])
        self.assertEqual(3, rc)

    def test_usage_errors_stay_with_argparse(self):
        cmd = site.ShowSite(self.app, None)
        parser = cmd.get_parser("show")
        exc = self.assertRaises(SystemExit, parser.parse_args, [])
        self.assertEqual(2, exc.code)

    def test_argparse_exit_status_is_two(self):
        cmd = action.TestFailover(self.app, None)
        parser = cmd.get_parser("tf")
        try:
            parser.parse_args(["pg", "--auto-network",
                               "--network-mapping", "a=b"])
        except SystemExit as exc:
            self.assertEqual(2, exc.code)
        else:
            self.fail("mutually exclusive flags accepted")

"""openstack dr failover|failback|test-failover|test-cleanup."""
import json
from unittest import mock

from protectorclient import client as protector_client
from protectorclient import exceptions
from protectorclient.osc.v1 import action
from protectorclient.osc.v1 import operation
from protectorclient.tests.unit import fakes


class ActionTest(fakes.TestProtectorCommand):

    def setUp(self):
        super().setUp()
        self.secondary_client = mock.Mock(spec=protector_client.Client)
        self.secondary_client.pg_action.return_value = \
            fakes.copy_of(fakes.OPERATION)
        self.secondary_site = mock.Mock()
        self.secondary_site.client.return_value = self.secondary_client
        patcher = mock.patch("protectorclient.osc.plugin.secondary_site",
                             return_value=self.secondary_site)
        self.secondary_factory = patcher.start()
        self.addCleanup(patcher.stop)
        self.app.options.secondary_cloud = "site-b"
        # The primary cloud as OSC's config loader returns it.
        self.app.cloud_config = mock.Mock()
        self.primary_session = (self.app.cloud_config.get_one.return_value
                                .get_session.return_value)
        self.primary_session.get_token.return_value = "primary-token"
        self.app.stdin = fakes.StringIO()
        self.sleep = mock.patch.object(operation.time, "sleep").start()
        self.addCleanup(mock.patch.stopall)


class TestFailover(ActionTest):

    ARGS = ["prod-web-app", "--type", "planned",
            "--network-mapping", "net-primary-web=net-secondary-web",
            "--network-mapping", "net-primary-db=net-secondary-db",
            "--flavor-mapping", "m1.large=m2.large"]

    def test_planned_goes_to_secondary_with_primary_peer(self):
        cmd, _, (columns, data) = self.take(action.Failover, self.ARGS, [
            ("failover_type", "planned"),
            ("network_mapping", ["net-primary-web=net-secondary-web",
                                 "net-primary-db=net-secondary-db"])])
        self.secondary_factory.assert_called_once_with("site-b")
        peer = self.secondary_site.client.call_args[1]["peer"]
        self.assertEqual("1.2", self.secondary_site.client.call_args[0][0])
        self.assertEqual("primary-token", peer.token())
        self.secondary_client.pg_action.assert_called_once_with(
            "prod-web-app", "failover",
            {"type": "planned",
             "network_mapping": {"net-primary-web": "net-secondary-web",
                                 "net-primary-db": "net-secondary-db"},
             "flavor_mapping": {"m1.large": "m2.large"}},
            peer=protector_client.PEER_REQUIRED)
        self.client.pg_action.assert_not_called()
        # doc/cli.md, "DR operations".
        self.assertEqual(("operation_id", "operation_type", "status",
                          "progress"), columns)
        self.assertEqual((fakes.OPERATION["id"], "failover", "running", 10),
                         data)
        self.assertFalse(cmd.auth_required)

    def test_unplanned_proceeds_without_primary(self):
        self.primary_session.get_token.side_effect = \
            exceptions.PeerUnreachable("primary down")
        with mock.patch("protectorclient.sites.CloudSite.token",
                        side_effect=exceptions.PeerUnreachable("down")):
            self.take(action.Failover, ["pg", "--type", "unplanned",
                                        "--network-mapping", "a=b"])
        self.assertIsNone(self.secondary_site.client.call_args[1]["peer"])
        self.assertEqual(protector_client.PEER_OPTIONAL,
                         self.secondary_client.pg_action.call_args[1]["peer"])
        self.assertIn("continuing with the secondary site only",
                      self.fake_stderr.getvalue())

    def test_needs_secondary_cloud(self):
        self.secondary_factory.return_value = None
        self.assertEqual(1, self.run_command(action.Failover, self.ARGS))
        self.assertIn("--secondary-cloud", self.fake_stderr.getvalue())

    def test_secondary_unreachable_is_three(self):
        self.secondary_site.client.side_effect = \
            exceptions.PeerUnreachable("site-b keystone down")
        self.assertEqual(3, self.run_command(action.Failover, self.ARGS))

    def test_conflict_is_four(self):
        self.secondary_client.pg_action.side_effect = exceptions.APIError(
            409, code="protector.operation.conflict")
        self.assertEqual(4, self.run_command(action.Failover, self.ARGS))

    def test_precondition_is_five(self):
        self.secondary_client.pg_action.side_effect = exceptions.APIError(
            412, code="protector.precondition.unmapped_network")
        self.assertEqual(5, self.run_command(action.Failover, self.ARGS))

    def test_bad_type(self):
        self.assertEqual(1, self.run_command(action.Failover,
                                             ["pg", "--type", "sudden"]))

    def test_no_prompt_without_tty(self):
        self.take(action.Failover, ["pg"])
        self.assertEqual({"type": "planned"},
                         self.secondary_client.pg_action.call_args[0][2])
        self.assertEqual("", self.fake_stderr.getvalue())

    def test_prompts_on_tty(self):
        self.app.stdin = fakes.StringIO("net-a=net-b\n\nm1=m2\n\n", tty=True)
        self.take(action.Failover, ["pg"])
        self.assertEqual({"type": "planned",
                          "network_mapping": {"net-a": "net-b"},
                          "flavor_mapping": {"m1": "m2"}},
                         self.secondary_client.pg_action.call_args[0][2])
        self.assertIn("network mapping>", self.fake_stderr.getvalue())

    def test_flags_skip_prompts(self):
        stdin = fakes.StringIO("x=y\n", tty=True)
        self.app.stdin = stdin
        self.take(action.Failover, self.ARGS)
        self.assertEqual("", self.fake_stderr.getvalue())

    def test_wait_success(self):
        done = dict(fakes.OPERATION, status="completed", progress=100,
                    current_step="update_protection_group")
        running = dict(fakes.OPERATION, progress=60,
                       current_step="recreate_instances")
        self.secondary_client.operation_show.side_effect = [running, done]
        rc = self.run_command(action.Failover, self.ARGS + ["--wait"])
        self.assertEqual(0, rc)
        err = self.fake_stderr.getvalue()
        self.assertIn("recreate_instances", err)
        self.assertIn("100%", err)
        self.assertIn("completed", self.fake_stdout.make_string())
        self.secondary_client.operation_show.assert_called_with(
            fakes.OPERATION["id"])
        self.assertEqual(2, self.sleep.call_count)

    def test_wait_failure_exits_one(self):
        failed = dict(fakes.OPERATION, status="failed", progress=40,
                      error_message="No valid host",
                      steps_failed=["recreate_instances"])
        self.secondary_client.operation_show.return_value = failed
        rc = self.run_command(action.Failover, self.ARGS + ["--wait"])
        self.assertEqual(1, rc)
        self.assertIn("No valid host", self.fake_stderr.getvalue())
        self.assertIn("failed", self.fake_stdout.make_string())


class TestFailback(ActionTest):

    def test_goes_to_primary(self):
        self.client.pg_action.return_value = dict(
            fakes.OPERATION, operation_type="failback")
        self.take(action.Failback, [
            "prod-web-app", "--type", "planned", "--reverse-replication",
            "--network-mapping", "net-secondary-web=net-primary-web"],
            [("reverse_replication", True)])
        self.client.pg_action.assert_called_once_with(
            "prod-web-app", "failback",
            {"type": "planned", "reverse_replication": True,
             "network_mapping": {"net-secondary-web": "net-primary-web"}},
            peer=protector_client.PEER_REQUIRED)
        self.secondary_factory.assert_not_called()

    def test_no_keep_fixed_ips(self):
        self.client.pg_action.return_value = dict(
            fakes.OPERATION, operation_type="failback")
        self.take(action.Failback, ["pg", "--no-keep-fixed-ips"])
        self.assertEqual(
            {"type": "planned", "reverse_replication": False,
             "keep_fixed_ips": False},
            self.client.pg_action.call_args[0][2])

    def test_unplanned_is_not_offered(self):
        # Issue 14 item 10: the API takes planned failbacks only; the
        # client used to offer unplanned and send it to a certain 400.
        self.assertEqual(1, self.run_command(action.Failback, [
            "prod-web-app", "--type", "unplanned"]))
        self.client.pg_action.assert_not_called()


class TestTestFailover(ActionTest):

    def test_network_mapping(self):
        self.take(action.TestFailover, [
            "prod-web-app", "--network-mapping",
            "net-primary-web=net-dr-test-web"])
        self.secondary_client.pg_action.assert_called_once_with(
            "prod-web-app", "test_failover",
            {"auto_network": False,
             "network_mapping": {"net-primary-web": "net-dr-test-web"}},
            peer=protector_client.PEER_REQUIRED)
        peer = self.secondary_site.client.call_args[1]["peer"]
        self.assertEqual("ptok", peer.token())

    def test_auto_network(self):
        self.take(action.TestFailover, ["pg", "--auto-network"])
        self.assertEqual({"auto_network": True},
                         self.secondary_client.pg_action.call_args[0][2])

    def test_no_keep_fixed_ips(self):
        self.take(action.TestFailover, ["pg", "--auto-network",
                                        "--no-keep-fixed-ips"])
        self.assertEqual({"auto_network": True, "keep_fixed_ips": False},
                         self.secondary_client.pg_action.call_args[0][2])

    def test_test_active_is_four(self):
        self.secondary_client.pg_action.side_effect = exceptions.APIError(
            409, code="protector.operation.test_active")
        self.assertEqual(4, self.run_command(action.TestFailover, ["pg"]))


class TestTestCleanup(ActionTest):

    def test_cleanup(self):
        self.secondary_client.pg_action.return_value = dict(
            fakes.OPERATION, operation_type="test_cleanup", progress=0)
        _, _, (columns, data) = self.take(action.TestCleanup, ["pg"])
        self.secondary_client.pg_action.assert_called_once_with(
            "pg", "test_cleanup", {}, peer=protector_client.PEER_OPTIONAL)
        self.assertEqual("test_cleanup", data[1])


class TestDryRun(ActionTest):
    """--dry-run: the preflight table, nothing queued, exit 5 on a fail."""

    REPORT = {"action": "failback", "ok": False, "checks": [
        {"check": "group_status", "result": "ok", "detail": "'failed_over'"},
        {"check": "quota_volumes", "result": "fail",
         "detail": "volumes: needs 6, 4 free of 10 (6 in use) on site "
                   "site-a; raise it to at least 12"},
        {"check": "rpo", "result": "warn", "detail": "lag 900s"}]}

    def _run(self, cmd_class, args, client, report):
        client.pg_preflight.return_value = report
        self.app.stdout = fakes.StringIO()
        cmd = cmd_class(self.app, None)
        parsed = self.check_parser(cmd, args + ["-f", "json"], [
            ("dry_run", True)])
        code = cmd.run(parsed)
        return code, json.loads("".join(self.app.stdout.content))

    def test_failback_dry_run_prints_table_and_exits_5(self):
        code, rows = self._run(action.Failback, [
            "prod-web-app", "--network-mapping", "net-b=net-a",
            "--dry-run"], self.client, fakes.copy_of(self.REPORT))
        self.assertEqual(exceptions.EXIT_PRECONDITION, code)
        self.assertEqual(["Check", "Detail", "Result"], sorted(rows[0]))
        self.assertEqual([("quota_volumes", "fail")], [
            (r["Check"], r["Result"]) for r in rows
            if r["Result"] == "fail"])
        self.client.pg_preflight.assert_called_once_with(
            "prod-web-app", "failback",
            {"type": "planned", "reverse_replication": False,
             "network_mapping": {"net-b": "net-a"}},
            peer=protector_client.PEER_OPTIONAL)
        self.client.pg_action.assert_not_called()

    def test_test_failover_dry_run_all_ok_exits_0(self):
        report = dict(fakes.copy_of(self.REPORT), ok=True)
        report["checks"] = [c for c in report["checks"]
                            if c["result"] != "fail"]
        code, rows = self._run(action.TestFailover, [
            "prod-web-app", "--auto-network", "--dry-run"],
            self.secondary_client, report)
        self.assertEqual(0, code)
        self.assertEqual(2, len(rows))
        self.secondary_client.pg_action.assert_not_called()

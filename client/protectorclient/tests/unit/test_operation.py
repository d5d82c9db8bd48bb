"""openstack dr operation list|show and the --wait progress bar."""
import json
from unittest import mock

from protectorclient import client as protector_client
from protectorclient import exceptions
from protectorclient.osc.v1 import operation
from protectorclient.tests.unit import fakes

DONE = dict(fakes.OPERATION, status="completed", progress=100,
            completed_at="2025-06-01T10:07:43Z",
            steps_completed=["validate_sites", "snapshot_consistency_group",
                             "promote_volumes", "recreate_instances",
                             "update_protection_group"])


class TestOperation(fakes.TestProtectorCommand):

    def test_list_matches_doc_cli(self):
        self.client.operation_list.return_value = [fakes.copy_of(DONE)]
        _, _, (columns, rows) = self.take(operation.ListOperation, [])
        self.assertEqual(("ID", "Type", "PG Name", "Status", "Progress"),
                         columns)
        self.assertEqual((DONE["id"], "failover", "prod-web-app",
                          "completed", 100), list(rows)[0])

    def test_list_filters(self):
        self.client.pg_show.return_value = fakes.PG
        self.client.operation_list.return_value = []
        self.take(operation.ListOperation, [
            "--protection-group", "prod-web-app", "--status", "failed",
            "--type", "test_failover", "--long"])
        self.client.operation_list.assert_called_once_with(
            status="failed", operation_type="test_failover",
            protection_group_id=fakes.PG["id"])

    def test_list_bad_status(self):
        self.assertEqual(1, self.run_command(operation.ListOperation,
                                             ["--status", "sleeping"]))

    def test_list_merges_secondary(self):
        secondary = mock.Mock(spec=protector_client.Client)
        other = dict(DONE, id="other", started_at="2025-06-02T00:00:00Z")
        secondary.operation_list.return_value = [other, fakes.copy_of(DONE)]
        self.client.peer = mock.Mock()
        self.client.peer.client.return_value = secondary
        self.client.operation_list.return_value = [fakes.copy_of(DONE)]
        _, _, (_, rows) = self.take(operation.ListOperation, [])
        self.assertEqual(["other", DONE["id"]], [r[0] for r in rows])

    def test_list_secondary_failure_warns(self):
        self.client.peer = mock.Mock()
        self.client.peer.client.side_effect = \
            exceptions.PeerUnreachable("down")
        self.client.operation_list.return_value = [fakes.copy_of(DONE)]
        _, _, (_, rows) = self.take(operation.ListOperation, [])
        self.assertEqual(1, len(list(rows)))
        self.assertIn("Warning", self.fake_stderr.getvalue())

    def test_show_table_matches_doc_cli(self):
        self.client.operation_show.return_value = fakes.copy_of(DONE)
        _, _, (columns, data) = self.take(operation.ShowOperation,
                                          [DONE["id"]])
        self.assertEqual(("id", "operation_type", "status", "progress",
                          "started_at", "completed_at", "error_message"),
                         columns)
        self.assertEqual((DONE["id"], "failover", "completed", 100,
                          "2025-06-01T10:00:00Z", "2025-06-01T10:07:43Z",
                          None), data)

    def test_show_json_matches_doc_cli(self):
        self.client.operation_show.return_value = fakes.copy_of(DONE)
        self.assertEqual(0, self.run_command(operation.ShowOperation,
                                             [DONE["id"], "-f", "json"]))
        body = json.loads(self.fake_stdout.make_string())
        self.assertEqual(list(operation.JSON_ORDER),
                         list(body)[:len(operation.JSON_ORDER)])
        self.assertEqual(DONE["steps_completed"], body["steps_completed"])
        self.assertEqual([], body["steps_failed"])
        self.assertIsNone(body["error_message"])

    def test_show_tiers(self):
        # Microversion 1.4: a line per boot tier in the table, the API's
        # list in JSON.
        tiers = [
            {"tier": 1, "priority": 1, "status": "completed",
             "delay_seconds": 0, "started_at": "2025-06-01T10:03:00Z",
             "finished_at": "2025-06-01T10:03:41Z",
             "duration_seconds": 41.234,
             "instances": [{"member_id": "m1", "instance_name": "db-1",
                            "server_id": "s1", "status": "active",
                            "started_at": "2025-06-01T10:03:00Z",
                            "active_at": "2025-06-01T10:03:40Z",
                            "failed_at": None, "seconds": 40.8,
                            "error": None}]},
            {"tier": 2, "priority": 3, "status": "failed",
             "delay_seconds": 30, "started_at": "2025-06-01T10:04:11Z",
             "finished_at": "2025-06-01T10:04:23Z",
             "duration_seconds": 12.0,
             "instances": [{"member_id": "m2", "instance_name": "web-1",
                            "server_id": None, "status": "failed",
                            "started_at": "2025-06-01T10:04:11Z",
                            "active_at": None,
                            "failed_at": "2025-06-01T10:04:23Z",
                            "seconds": 12.0, "error": "quota"}]}]
        self.client.operation_show.return_value = dict(
            fakes.copy_of(DONE), tiers=tiers)
        self.assertEqual(0, self.run_command(operation.ShowOperation,
                                             [DONE["id"]]))
        table = self.fake_stdout.make_string()
        self.assertIn("tier 1 (priority 1): completed in 41.2 s; db-1 "
                      "active 40.8 s", table)
        self.assertIn("tier 2 (priority 3, after a 30 s delay): failed in "
                      "12.0 s; web-1 failed 12.0 s (quota)", table)
        self.assertEqual(0, self.run_command(operation.ShowOperation,
                                             [DONE["id"], "-f", "json"]))
        out = self.fake_stdout.make_string()
        body = json.loads(out[len(table):])
        self.assertEqual(tiers, body["tiers"])

    def test_show_without_tiers_keeps_the_table(self):
        self.client.operation_show.return_value = dict(
            fakes.copy_of(DONE), tiers=[])
        _, _, (columns, _) = self.take(operation.ShowOperation, [DONE["id"]])
        self.assertNotIn("tiers", columns)

    def test_show_value_column(self):
        self.client.operation_show.return_value = fakes.copy_of(DONE)
        self.assertEqual(0, self.run_command(
            operation.ShowOperation, [DONE["id"], "-f", "value", "-c",
                                      "status"]))
        self.assertEqual("completed\n", self.fake_stdout.make_string())

    def test_show_falls_back_to_secondary(self):
        self.client.operation_show.side_effect = exceptions.APIError(
            404, code="protector.operation.not_found")
        secondary = mock.Mock(spec=protector_client.Client)
        secondary.operation_show.return_value = fakes.copy_of(DONE)
        self.client.peer = mock.Mock()
        self.client.peer.client.return_value = secondary
        _, _, (_, data) = self.take(operation.ShowOperation, ["x"])
        self.assertEqual("completed", data[2])

    def test_show_not_found_without_secondary(self):
        self.client.operation_show.side_effect = exceptions.APIError(
            404, code="protector.operation.not_found")
        self.assertEqual(1, self.run_command(operation.ShowOperation, ["x"]))

    @mock.patch.object(operation.time, "sleep")
    def test_show_wait(self, sleep):
        self.client.operation_show.side_effect = [
            fakes.copy_of(fakes.OPERATION), fakes.copy_of(DONE)]
        self.assertEqual(0, self.run_command(operation.ShowOperation,
                                             ["x", "--wait"]))
        sleep.assert_called_once_with(operation.POLL_INTERVAL)


class TestProgress(fakes.TestProtectorCommand):

    def test_progress_line(self):
        line = operation.progress_line(dict(fakes.OPERATION, progress=50,
                                            current_step="promote_volumes"))
        self.assertEqual("[" + "#" * 15 + "-" * 15 + "]  50%  "
                         "promote_volumes (running)", line)

    def test_progress_line_clamps(self):
        self.assertIn("100%", operation.progress_line({"progress": 250}))
        self.assertIn("  0%", operation.progress_line({"progress": None}))

    def test_wait_on_tty_redraws(self):
        client = mock.Mock()
        client.operation_show.return_value = fakes.copy_of(DONE)
        stream = fakes.StringIO(tty=True)
        final = operation.wait_for_operation(
            client, fakes.copy_of(fakes.OPERATION), stream,
            sleep=lambda s: None)
        self.assertEqual("completed", final["status"])
        text = stream.getvalue()
        self.assertTrue(text.startswith("\r"))
        self.assertTrue(text.endswith("\n"))
        self.assertEqual(1, text.count("\n"))

    def test_wait_not_tty_one_line_per_change(self):
        client = mock.Mock()
        same = fakes.copy_of(fakes.OPERATION)
        client.operation_show.side_effect = [same, same, fakes.copy_of(DONE)]
        stream = fakes.StringIO()
        operation.wait_for_operation(client, fakes.copy_of(fakes.OPERATION),
                                     stream, sleep=lambda s: None)
        self.assertEqual(2, stream.getvalue().count("\n"))

    def test_wait_retries_a_dropped_connection(self):
        client = mock.Mock()
        client.operation_show.side_effect = [
            exceptions.APIUnreachable("connection reset by peer"),
            fakes.copy_of(fakes.OPERATION), fakes.copy_of(DONE)]
        stream = fakes.StringIO()
        final = operation.wait_for_operation(
            client, fakes.copy_of(fakes.OPERATION), stream,
            sleep=lambda s: None)
        self.assertEqual("completed", final["status"])
        self.assertIn("retrying: connection reset by peer", stream.getvalue())

    def test_wait_gives_up_after_repeated_failures(self):
        client = mock.Mock()
        client.operation_show.side_effect = exceptions.APIUnreachable("down")
        self.assertRaises(
            exceptions.APIUnreachable, operation.wait_for_operation, client,
            fakes.copy_of(fakes.OPERATION), fakes.StringIO(),
            sleep=lambda s: None)
        self.assertEqual(operation.POLL_RETRIES + 1,
                         client.operation_show.call_count)

    def test_wait_does_not_retry_api_errors(self):
        client = mock.Mock()
        client.operation_show.side_effect = exceptions.APIError(
            404, code="protector.operation.not_found", detail="gone")
        self.assertRaises(
            exceptions.APIError, operation.wait_for_operation, client,
            fakes.copy_of(fakes.OPERATION), fakes.StringIO(),
            sleep=lambda s: None)
        self.assertEqual(1, client.operation_show.call_count)

    def test_failure_message(self):
        msg = operation.failure_message(dict(
            fakes.OPERATION, status="failed", error_message="boom",
            steps_failed=["promote_volumes"]))
        self.assertIn("failed at promote_volumes: boom", msg)


FAILED = dict(fakes.OPERATION, status="failed", progress=40,
              error_message="Step promote_volumes failed: array down",
              steps_failed=["promote_volumes"])
QUEUED = dict(FAILED, status="queued", error_message=None, steps_failed=[])
ROLLBACK = dict(fakes.OPERATION, id="rollback-op", operation_type="rollback",
                status="queued", progress=0)


class TestOperationActions(fakes.TestProtectorCommand):
    """openstack dr operation retry|rollback <operation-id>."""

    def _secondary(self, result=None, error=None):
        secondary = mock.Mock(spec=protector_client.Client)
        if error is not None:
            secondary.operation_action.side_effect = error
        else:
            secondary.operation_action.return_value = result
        self.client.peer = mock.Mock()
        self.client.peer.client.return_value = secondary
        return secondary

    def test_retry_goes_to_the_primary_with_the_peer_token(self):
        self.client.peer = mock.Mock()
        self.client.operation_action.return_value = fakes.copy_of(QUEUED)
        _, _, (columns, data) = self.take(operation.RetryOperation,
                                          [FAILED["id"]])
        self.client.operation_action.assert_called_once_with(
            FAILED["id"], "retry", peer=protector_client.PEER_OPTIONAL)
        self.assertEqual(("operation_id", "operation_type", "status",
                          "progress"), columns)
        self.assertEqual((FAILED["id"], "failover", "queued", 40), data)

    def test_rollback_prints_the_new_operation(self):
        self.client.operation_action.return_value = fakes.copy_of(ROLLBACK)
        _, _, (_, data) = self.take(operation.RollbackOperation, ["x"])
        self.client.operation_action.assert_called_once_with(
            "x", "rollback", peer=protector_client.PEER_NONE)
        self.assertEqual(("rollback-op", "rollback", "queued", 0), data)

    def test_falls_back_to_the_secondary_with_the_primary_token(self):
        self.client.operation_action.side_effect = exceptions.APIError(
            404, code="protector.operation.not_found")
        secondary = self._secondary(fakes.copy_of(ROLLBACK))
        _, _, (_, data) = self.take(operation.RollbackOperation, ["x"])
        secondary.operation_action.assert_called_once_with(
            "x", "rollback", peer=protector_client.PEER_OPTIONAL)
        # The secondary's client sends the primary (session) token.
        peer = self.client.peer.client.call_args.kwargs["peer"]
        self.assertEqual("ptok", peer.token())
        self.assertEqual("rollback-op", data[0])

    def test_not_found_on_both_sites(self):
        self.client.operation_action.side_effect = exceptions.APIError(
            404, code="protector.operation.not_found")
        self._secondary(error=exceptions.APIError(
            404, code="protector.operation.not_found", detail="not here"))
        self.assertEqual(1, self.run_command(operation.RetryOperation,
                                             ["x"]))
        self.assertIn("not here", self.fake_stderr.getvalue())

    def test_other_errors_do_not_fall_back(self):
        self.client.operation_action.side_effect = exceptions.APIError(
            412, code="protector.precondition.not_retryable",
            detail="it is completed")
        secondary = self._secondary(fakes.copy_of(QUEUED))
        self.assertEqual(5, self.run_command(operation.RetryOperation,
                                             ["x"]))
        secondary.operation_action.assert_not_called()

    def test_rollback_impossible_is_five(self):
        self.client.operation_action.side_effect = exceptions.APIError(
            412, code="protector.precondition.rollback_impossible",
            detail="retry it instead: openstack dr operation retry x")
        self.assertEqual(5, self.run_command(operation.RollbackOperation,
                                             ["x"]))
        self.assertIn("operation retry x", self.fake_stderr.getvalue())

    def test_conflict_is_four(self):
        self.client.operation_action.side_effect = exceptions.APIError(
            409, code="protector.operation.conflict")
        self.assertEqual(4, self.run_command(operation.RetryOperation,
                                             ["x"]))

    def test_unreachable_peer_token_only_warns(self):
        self.client.peer = mock.Mock()
        self.client.peer.token.side_effect = exceptions.PeerUnreachable(
            "secondary down")
        self.client.operation_action.return_value = fakes.copy_of(QUEUED)
        self.assertEqual(0, self.run_command(operation.RetryOperation,
                                             ["x"]))
        self.client.operation_action.assert_called_once_with(
            "x", "retry", peer=protector_client.PEER_NONE)
        self.assertIn("secondary down", self.fake_stderr.getvalue())

    @mock.patch.object(operation.time, "sleep")
    def test_wait_follows_to_the_end(self, sleep):
        self.client.operation_action.return_value = fakes.copy_of(QUEUED)
        self.client.operation_show.return_value = fakes.copy_of(DONE)
        self.assertEqual(0, self.run_command(operation.RetryOperation,
                                             ["x", "--wait"]))
        self.client.operation_show.assert_called_once_with(FAILED["id"])

    @mock.patch.object(operation.time, "sleep")
    def test_wait_on_a_failing_rollback_exits_one(self, sleep):
        self.client.operation_action.return_value = fakes.copy_of(ROLLBACK)
        self.client.operation_show.return_value = dict(
            ROLLBACK, status="failed", error_message="boom",
            steps_failed=["delete_recovered_volumes"])
        self.assertEqual(1, self.run_command(operation.RollbackOperation,
                                             ["x", "--wait"]))
        self.assertIn("failed at delete_recovered_volumes: boom",
                      self.fake_stderr.getvalue())

    def test_client_posts_the_action(self):
        client = protector_client.Client(mock.Mock(), "http://h/v1/p")
        with mock.patch.object(client, "request") as request:
            request.return_value = {"operation": {"id": "o"}}
            self.assertEqual({"id": "o"},
                             client.operation_action("o/1", "retry"))
        request.assert_called_once_with(
            "POST", "/operations/o%2F1/action", body={"retry": {}},
            peer=protector_client.PEER_OPTIONAL)

    def test_entry_points_in_pyproject(self):
        import os
        import tomllib
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "..", "pyproject.toml")
        with open(path, "rb") as f:
            eps = tomllib.load(f)["project"]["entry-points"][
                "openstack.protector.v1"]
        for spelling in ("dr", "protector"):
            self.assertEqual(
                "protectorclient.osc.v1.operation:RetryOperation",
                eps["%s_operation_retry" % spelling])
            self.assertEqual(
                "protectorclient.osc.v1.operation:RollbackOperation",
                eps["%s_operation_rollback" % spelling])

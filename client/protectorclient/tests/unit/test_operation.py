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

    def test_list_matches_seed(self):
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

    def test_show_table_matches_seed(self):
        self.client.operation_show.return_value = fakes.copy_of(DONE)
        _, _, (columns, data) = self.take(operation.ShowOperation,
                                          [DONE["id"]])
        self.assertEqual(("id", "operation_type", "status", "progress",
                          "started_at", "completed_at", "error_message"),
                         columns)
        self.assertEqual((DONE["id"], "failover", "completed", 100,
                          "2025-06-01T10:00:00Z", "2025-06-01T10:07:43Z",
                          None), data)

    def test_show_json_matches_seed(self):
        self.client.operation_show.return_value = fakes.copy_of(DONE)
        self.assertEqual(0, self.run_command(operation.ShowOperation,
                                             [DONE["id"], "-f", "json"]))
        body = json.loads(self.fake_stdout.make_string())
        self.assertEqual(list(operation.JSON_ORDER),
                         list(body)[:len(operation.JSON_ORDER)])
        self.assertEqual(DONE["steps_completed"], body["steps_completed"])
        self.assertEqual([], body["steps_failed"])
        self.assertIsNone(body["error_message"])

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

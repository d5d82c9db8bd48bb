"""protection-group sync-status / sync-force (the reports of doc/cli.md)."""
import datetime
import json

from protectorclient import exceptions
from protectorclient.osc.v1 import sync
from protectorclient.tests.unit import fakes

NOW = datetime.datetime(2025, 6, 1, 10, 15, 10,
                        tzinfo=datetime.timezone.utc)
IN_SYNC = {"protection_group_id": "pg", "local_version": 4,
           "local_checksum": "abc", "current_site": "Site A",
           "last_modified": "2025-06-01T10:15:00Z", "remote_site": None,
           "remote_status": "SYNCED", "remote_version": 4,
           "last_sync_at": "2025-06-01T10:15:05Z", "last_error": None,
           "in_sync": True}
OUT_OF_SYNC = dict(IN_SYNC, local_version=5,
                   last_modified="2025-06-01T10:20:00Z",
                   remote_status="FAILED", in_sync=False,
                   last_error="Connection timeout")


class TestRender(fakes.TestProtectorCommand):

    def test_in_sync_matches_example_3(self):
        self.assertEqual(
            "Sync Status: \u2705 IN SYNC\n"
            "\n"
            "Local Metadata:\n"
            "  Version: 4\n"
            "  Current Site: Site A\n"
            "  Last Modified: 2025-06-01T10:15:00Z\n"
            "\n"
            "Remote Sync:\n"
            "  Status: SYNCED\n"
            "  Remote Version: 4\n"
            "  Last Sync: 2025-06-01T10:15:05Z (5 seconds ago)\n"
            "\n"
            "Validation:\n"
            "  \u2705 Versions match (4 = 4)\n"
            "  \u2705 Sync status is 'synced'\n"
            "  \u2705 Last sync is recent\n"
            "\n"
            "Both sites have identical metadata.\n",
            sync.render_sync_status(IN_SYNC, now=NOW))

    def test_out_of_sync_matches_example_4(self):
        now = NOW + datetime.timedelta(minutes=5)
        text = sync.render_sync_status(OUT_OF_SYNC, now=now)
        self.assertTrue(text.startswith("Sync Status: \u274c OUT OF SYNC\n"))
        for line in ("  Version: 5", "  Status: FAILED",
                     "  Remote Version: 4",
                     "  Last Sync: 2025-06-01T10:15:05Z (5 minutes ago)",
                     "  Error: Connection timeout", "Action Required:",
                     "  1. Check remote site connectivity",
                     "  2. Force sync once remote site is available"):
            self.assertIn(line + "\n", text)
        self.assertNotIn("Validation:", text)

    def test_out_of_sync_names_the_newer_site(self):
        text = sync.render_sync_status({
            "in_sync": False, "local_version": 1, "remote_version": 4,
            "remote_status": "OUT_OF_SYNC", "remote_checked": True,
            "ahead": "site-b", "current_site": "site-a",
            "remote_site": "site-b"})
        self.assertIn("Newer metadata: site-b", text)
        self.assertIn("sync-force", text)

    def test_pending(self):
        text = sync.render_sync_status(dict(OUT_OF_SYNC,
                                            remote_status="PENDING"),
                                       now=NOW)
        self.assertIn("Wait for the pending sync", text)

    def test_sync_older_than_change(self):
        text = sync.render_sync_status(dict(
            IN_SYNC, last_sync_at="2025-06-01T10:00:00Z"), now=NOW)
        self.assertIn("\u274c Last sync predates the last local change",
                      text)

    def test_force_result_matches_example_4(self):
        self.assertEqual(
            "Force Sync Initiated...\n"
            "Checking remote site connectivity...\n"
            "\u2705 Site B is reachable\n"
            "\n"
            "Syncing metadata (version 5, from Site A to Site B)...\n"
            "  Compare versions with Site B... \u2705\n"
            "  Gather the metadata of version 5... \u2705\n"
            "  Calculate its checksum... \u2705\n"
            "  Push to Site B... \u2705\n"
            "\n"
            "Remote Site Response:\n"
            "  Status: success\n"
            "  Version: 5\n"
            "  Duration: 312ms\n"
            "\n"
            "\u2705 Sync completed successfully\n"
            "Both sites now at version 5\n",
            sync.render_sync_result({
                "status": "success", "remote_site": "Site B", "version": 5,
                "checksum": "x", "duration_ms": 312, "error": None,
                "source_site": "Site A", "target_site": "Site B",
                # Issue 14 item 3: the lines are the server's real steps.
                "steps": [
                    {"step": "compare versions with Site B", "ok": True},
                    {"step": "gather the metadata of version 5",
                     "ok": True},
                    {"step": "calculate its checksum", "ok": True},
                    {"step": "push to Site B", "ok": True}]}))

    def test_force_result_from_the_newer_peer(self):
        text = sync.render_sync_result({
            "status": "success", "remote_site": "site-b", "version": 4,
            "source_site": "site-b", "target_site": "site-a",
            "steps": [{"step": "compare versions with site-b", "ok": True},
                      {"step": "push to site-a", "ok": True}]})
        self.assertIn("version 4, from site-b to site-a", text)
        self.assertNotIn("Gathering", text)

    def test_ago_units(self):
        self.assertEqual(" (1 hour ago)",
                         sync._ago("2025-06-01T09:15:10Z", NOW))
        self.assertEqual(" (2 days ago)",
                         sync._ago("2025-05-30T10:15:10Z", NOW))
        self.assertEqual("", sync._ago(None, NOW))
        self.assertEqual("", sync._ago("garbage", NOW))


class TestCommands(fakes.TestProtectorCommand):

    def test_status_text(self):
        self.client.pg_sync_status.return_value = dict(IN_SYNC)
        self.assertEqual(0, self.run_command(sync.ShowSyncStatus,
                                             ["prod-web-app"]))
        self.client.pg_sync_status.assert_called_once_with("prod-web-app")
        self.assertIn("IN SYNC", self.fake_stdout.make_string())

    def test_status_json_is_raw(self):
        self.client.pg_sync_status.return_value = dict(OUT_OF_SYNC)
        self.assertEqual(0, self.run_command(sync.ShowSyncStatus,
                                             ["pg", "-f", "json"]))
        self.assertEqual(OUT_OF_SYNC,
                         json.loads(self.fake_stdout.make_string()))

    def test_status_column(self):
        self.client.pg_sync_status.return_value = dict(OUT_OF_SYNC)
        self.assertEqual(0, self.run_command(
            sync.ShowSyncStatus, ["pg", "-f", "value", "-c", "in_sync"]))
        self.assertEqual("False\n", self.fake_stdout.make_string())

    def test_force(self):
        self.client.pg_sync_force.return_value = {
            "status": "success", "remote_site": "site-b", "version": 5,
            "checksum": "c", "duration_ms": 10, "error": None}
        self.assertEqual(0, self.run_command(sync.ForceSync, ["pg"]))
        self.assertIn("Both sites now at version 5",
                      self.fake_stdout.make_string())

    def test_force_failed_status(self):
        self.client.pg_sync_force.return_value = {
            "status": "failed", "remote_site": "site-b", "version": 5,
            "error": "timeout"}
        self.assertEqual(1, self.run_command(sync.ForceSync, ["pg"]))
        self.assertIn("Error: timeout", self.fake_stdout.make_string())

    def test_force_peer_unreachable(self):
        self.client.pg_sync_force.side_effect = exceptions.APIError(
            503, code="protector.peer.unreachable")
        self.assertEqual(3, self.run_command(sync.ForceSync, ["pg"]))

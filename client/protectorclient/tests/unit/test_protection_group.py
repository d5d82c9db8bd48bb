"""openstack dr protection-group ..."""
from unittest import mock

from osc_lib.tests import utils as tests_utils

from protectorclient import exceptions
from protectorclient.osc.v1 import protection_group as pg_cmd
from protectorclient.tests.unit import fakes

VT_ID = "9a9a9a9a-0000-0000-0000-000000000001"


class TestProtectionGroup(fakes.TestProtectorCommand):

    def setUp(self):
        super().setUp()
        self.client.site_show.side_effect = lambda s: {
            "site-a": fakes.SITE_A, "site-b": fakes.SITE_B}[s]
        vtype = mock.Mock(id=VT_ID)
        self.sdk = self.app.client_manager.sdk_connection
        self.sdk.block_storage.find_type.return_value = vtype
        self.client.pg_create.return_value = fakes.copy_of(fakes.PG)

    CREATE_ARGS = ["--name", "prod-web-app", "--description",
                   "Production web application", "--replication-type",
                   "async", "--primary-site", "site-a", "--secondary-site",
                   "site-b", "--volume-type", "replicated-ssd"]

    def test_create_resolves_names(self):
        _, _, (columns, data) = self.take(pg_cmd.CreateProtectionGroup,
                                          self.CREATE_ARGS,
                                          [("primary_site", "site-a"),
                                           ("volume_type", "replicated-ssd")])
        self.sdk.block_storage.find_type.assert_called_once_with(
            "replicated-ssd", ignore_missing=False)
        self.client.peer_token.assert_called_once_with("required")
        self.client.pg_create.assert_called_once_with({
            "name": "prod-web-app",
            "description": "Production web application",
            "replication_type": "async",
            "primary_site_id": fakes.SITE_A["id"],
            "secondary_site_id": fakes.SITE_B["id"],
            "volume_type_id": VT_ID})
        self.assertEqual(pg_cmd.SHOW_COLUMNS, columns)
        self.assertEqual("site-a", data[columns.index("primary_site")])

    def test_create_volume_type_uuid_not_looked_up(self):
        args = list(self.CREATE_ARGS)
        args[-1] = VT_ID
        self.take(pg_cmd.CreateProtectionGroup, args)
        self.sdk.block_storage.find_type.assert_not_called()
        self.assertEqual(VT_ID, self.client.pg_create.call_args[0][0]
                         ["volume_type_id"])

    def test_create_names_the_secondary_volume_type(self):
        # doc/api-ref.md: the sites may name their types apart; the server
        # looks the secondary's up (name or ID), so it is sent as given.
        self.take(pg_cmd.CreateProtectionGroup, self.CREATE_ARGS + [
            "--secondary-volume-type", "replicated-ssd-b"])
        self.sdk.block_storage.find_type.assert_called_once_with(
            "replicated-ssd", ignore_missing=False)
        body = self.client.pg_create.call_args[0][0]
        self.assertEqual("replicated-ssd-b", body["secondary_volume_type"])
        self.assertEqual(VT_ID, body["volume_type_id"])

    def test_create_unknown_volume_type(self):
        self.sdk.block_storage.find_type.side_effect = Exception("No type")
        rc = self.run_command(pg_cmd.CreateProtectionGroup, self.CREATE_ARGS)
        self.assertEqual(1, rc)
        self.assertIn("replicated-ssd", self.fake_stderr.getvalue())
        self.client.pg_create.assert_not_called()

    def test_create_unknown_site(self):
        self.client.site_show.side_effect = exceptions.APIError(
            404, code="protector.site.not_found")
        self.assertEqual(1, self.run_command(pg_cmd.CreateProtectionGroup,
                                             self.CREATE_ARGS))
        self.assertIn("No site named", self.fake_stderr.getvalue())

    def test_create_without_secondary_cloud(self):
        self.client.peer_token.side_effect = exceptions.UsageError(
            "--secondary-cloud needed")
        self.assertEqual(1, self.run_command(pg_cmd.CreateProtectionGroup,
                                             self.CREATE_ARGS))
        self.client.site_show.assert_not_called()

    def test_create_peer_unreachable(self):
        self.client.pg_create.side_effect = exceptions.APIError(
            503, code="protector.peer.unreachable", detail="site-b down")
        self.assertEqual(3, self.run_command(pg_cmd.CreateProtectionGroup,
                                             self.CREATE_ARGS))

    def test_create_missing_flags(self):
        self.assertEqual(1, self.run_command(pg_cmd.CreateProtectionGroup,
                                             ["--name", "x"]))
        self.assertIn("--replication-type", self.fake_stderr.getvalue())

    def test_create_bad_replication_type(self):
        args = list(self.CREATE_ARGS)
        args[args.index("async")] = "semi"
        self.assertEqual(1, self.run_command(pg_cmd.CreateProtectionGroup,
                                             args))

    def test_list(self):
        self.client.pg_list.return_value = [fakes.copy_of(fakes.PG)]
        _, _, (columns, rows) = self.take(pg_cmd.ListProtectionGroup, [])
        self.assertEqual(("ID", "Name", "Status", "Replication Type",
                          "Current Primary Site"), columns)
        self.assertEqual((fakes.PG["id"], "prod-web-app", "active", "async",
                          "site-a"), list(rows)[0])
        self.client.pg_list.assert_called_once_with(rpo=False, limit=None,
                                                    marker=None)

    def test_list_one_page(self):
        self.client.pg_list.return_value = [fakes.copy_of(fakes.PG)]
        self.take(pg_cmd.ListProtectionGroup,
                  ["--limit", "50", "--marker", "pg-9"])
        self.client.pg_list.assert_called_once_with(rpo=False, limit=50,
                                                    marker="pg-9")

    def test_list_limit_must_be_a_number(self):
        self.assertRaises(tests_utils.ParserException, self.take,
                          pg_cmd.ListProtectionGroup, ["--limit", "many"])

    def test_list_long_shows_the_rpo_state(self):
        self.client.pg_list.return_value = [dict(
            fakes.copy_of(fakes.PG), rpo_status="breached",
            replication_lag_seconds=1234)]
        _, _, (columns, rows) = self.take(pg_cmd.ListProtectionGroup,
                                          ["--long"])
        self.assertEqual(("RPO Status", "Replication Lag (s)"),
                         columns[-2:])
        self.assertEqual(("breached", 1234), list(rows)[0][-2:])
        self.client.pg_list.assert_called_once_with(rpo=True, limit=None,
                                                    marker=None)

    def _related(self, policy=None, cg=None):
        def missing(*args):
            raise exceptions.APIError(404, code="protector.x.not_found")
        if policy is None:
            self.client.policy_show.side_effect = missing
        else:
            self.client.policy_show.return_value = policy
        if cg is None:
            self.client.pg_consistency_group.side_effect = missing
        else:
            self.client.pg_consistency_group.return_value = cg

    def test_show_matches_doc_cli(self):
        self.client.pg_show.return_value = fakes.copy_of(fakes.PG)
        self._related()
        _, _, (columns, data) = self.take(pg_cmd.ShowProtectionGroup,
                                          ["prod-web-app"])
        self.client.pg_show.assert_called_once_with("prod-web-app")
        shown = dict(zip(columns, data))
        self.assertEqual(None, shown.pop("consistency_group"))
        self.assertIn("none", shown.pop("replication_policy"))
        self.assertEqual(shown, {
            "id": fakes.PG["id"], "name": "prod-web-app", "status": "active",
            "status_reason": None, "next_action": None,
            "replication_type": "async", "primary_site": "site-a",
            "secondary_site": "site-b", "current_primary_site": "site-a",
            "consistency_group_id": fakes.PG["consistency_group_id"],
            "member_count": 3, "failover_count": 0,
            "last_failover_at": None, "tier_delay": 0,
            "metadata_version": 7, "remote_sync_status": "SYNCED",
            "remote_sync_version": 7})

    def test_show_has_policy_and_consistency_group(self):
        # Issue 14 item 7: the "replication policy summary" and the
        # "linked Consistency Group details" (doc/cli.md).
        self.client.pg_show.return_value = fakes.copy_of(fakes.PG)
        self._related(policy=dict(fakes.POLICY, rpo_status="ok"), cg={
            "name": "pg-prod-web-app-cg", "status": "available",
            "volume_count": 6, "primary_cg_id": "c1",
            "secondary_cg_id": "c2"})
        _, _, (columns, data) = self.take(pg_cmd.ShowProtectionGroup,
                                          ["prod-web-app"])
        shown = dict(zip(columns, data))
        self.assertIn("RPO 15 min", shown["replication_policy"])
        self.assertIn("RPO status ok", shown["replication_policy"])
        self.assertIn("6 volume(s)", shown["consistency_group"])
        self.client.policy_show.assert_called_once_with(fakes.PG["id"])

    def test_consistency_group_show(self):
        cg = {"id": "cg1", "name": "pg-prod-web-app-cg", "volume_count": 5}
        self.client.pg_consistency_group.return_value = cg
        _, _, (columns, data) = self.take(pg_cmd.ShowConsistencyGroup,
                                          ["prod-web-app"])
        self.client.pg_consistency_group.assert_called_once_with(
            "prod-web-app")
        self.assertEqual(5, dict(zip(columns, data))["volume_count"])

    def test_show_prints_status_reason_and_next_action(self):
        pg = fakes.copy_of(fakes.PG)
        op_id = "0f0f0f0f-0000-4000-8000-000000000001"
        pg.update(status="error", status_reason="failover operation %s "
                  "failed in step promote_volumes: boom" % op_id,
                  next_action="Fix the cause (openstack dr operation show "
                  "%s), then 'openstack dr operation retry %s' to "
                  "continue." % (op_id, op_id))
        self.client.pg_show.return_value = pg
        self._related()
        self.assertEqual(0, self.run_command(pg_cmd.ShowProtectionGroup,
                                             ["prod-web-app"]))
        out = self.fake_stdout.make_string()
        self.assertIn("next_action", out)
        self.assertIn("openstack dr operation retry %s" % op_id, out)
        self.assertIn("status_reason", out)
        self.assertIn("promote_volumes", out)

    def test_show_yaml_has_every_field(self):
        self.client.pg_show.return_value = fakes.copy_of(fakes.PG)
        self._related()
        _, _, (columns, _) = self.take(pg_cmd.ShowProtectionGroup,
                                       ["pg", "-f", "yaml"])
        self.assertEqual(set(fakes.PG) | {"consistency_group",
                                          "replication_policy"},
                         set(columns))

    def test_column_selection_reaches_any_field(self):
        self.client.pg_show.return_value = fakes.copy_of(fakes.PG)
        self._related()
        self.assertEqual(0, self.run_command(
            pg_cmd.ShowProtectionGroup,
            ["pg", "-f", "value", "-c", "volume_type_id"]))
        self.assertEqual(VT_ID + "\n", self.fake_stdout.make_string())

    def test_set(self):
        self.client.pg_update.return_value = fakes.copy_of(fakes.PG)
        self.take(pg_cmd.SetProtectionGroup,
                  ["pg", "--description", "new"])
        self.client.pg_update.assert_called_once_with(
            "pg", {"description": "new"})

    def test_set_tier_delay(self):
        self.client.pg_update.return_value = dict(fakes.copy_of(fakes.PG),
                                                  tier_delay=30)
        _, _, (columns, data) = self.take(pg_cmd.SetProtectionGroup,
                                          ["pg", "--tier-delay", "30"])
        self.client.pg_update.assert_called_once_with(
            "pg", {"tier_delay": 30})
        self.assertEqual(30, data[columns.index("tier_delay")])

    def test_tier_delay_is_checked_before_anything_is_sent(self):
        for bad in ("-1", "3601", "soon"):
            self.assertEqual(1, self.run_command(
                pg_cmd.SetProtectionGroup, ["pg", "--tier-delay", bad]))
            self.assertEqual(1, self.run_command(
                pg_cmd.CreateProtectionGroup,
                self.CREATE_ARGS + ["--tier-delay", bad]))
        self.assertIn("--tier-delay must be a whole number from 0 to 3600",
                      self.fake_stderr.getvalue())
        self.client.pg_update.assert_not_called()
        self.client.pg_create.assert_not_called()
        self.client.peer_token.assert_not_called()

    def test_create_with_tier_delay(self):
        self.take(pg_cmd.CreateProtectionGroup,
                  self.CREATE_ARGS + ["--tier-delay", "0"])
        self.assertEqual(0, self.client.pg_create.call_args[0][0][
            "tier_delay"])

    def test_set_nothing(self):
        self.assertEqual(1, self.run_command(pg_cmd.SetProtectionGroup,
                                             ["pg"]))
        self.client.pg_update.assert_not_called()

    def test_delete(self):
        self.assertEqual(0, self.run_command(pg_cmd.DeleteProtectionGroup,
                                             ["pg"]))
        self.client.pg_delete.assert_called_once_with("pg")

    def test_delete_conflict(self):
        self.client.pg_delete.side_effect = exceptions.APIError(
            409, code="protector.protection_group.has_members")
        self.assertEqual(1, self.run_command(pg_cmd.DeleteProtectionGroup,
                                             ["pg"]))

    def test_delete_peer_unreachable(self):
        self.client.pg_delete.side_effect = exceptions.APIError(
            503, code="protector.peer.unreachable")
        self.assertEqual(3, self.run_command(pg_cmd.DeleteProtectionGroup,
                                             ["pg"]))

    def test_delete_many_same_code(self):
        self.client.pg_delete.side_effect = exceptions.APIError(
            503, code="protector.peer.unreachable")
        self.assertEqual(3, self.run_command(pg_cmd.DeleteProtectionGroup,
                                             ["a", "b"]))

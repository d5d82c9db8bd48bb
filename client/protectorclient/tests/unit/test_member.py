"""openstack dr member ... / protector protection-group member-..."""
from protectorclient.osc.v1 import member
from protectorclient.tests.unit import fakes


class TestMember(fakes.TestProtectorCommand):

    def test_add(self):
        self.client.member_add.return_value = fakes.copy_of(fakes.MEMBER)
        _, _, (columns, data) = self.take(
            member.AddMember,
            ["prod-web-app", "--instance-id", fakes.MEMBER["instance_id"]],
            [("protection_group", "prod-web-app"),
             ("instance_id", fakes.MEMBER["instance_id"])])
        self.client.member_add.assert_called_once_with(
            "prod-web-app", {"instance_id": fakes.MEMBER["instance_id"]})
        self.assertEqual(("id", "protection_group_id", "instance_id",
                          "instance_name", "status", "priority",
                          "volumes_added"), columns)
        self.assertEqual("web-server-1", data[3])
        self.assertEqual(3, data[5])

    def test_add_with_priority(self):
        self.client.member_add.return_value = dict(
            fakes.copy_of(fakes.MEMBER), priority=1)
        self.take(member.AddMember, ["pg", "--instance-id", "i",
                                     "--priority", "1"])
        self.client.member_add.assert_called_once_with(
            "pg", {"instance_id": "i", "priority": 1})

    def test_add_refuses_a_priority_out_of_range(self):
        for bad in ("0", "6", "x", "1.5"):
            self.client.member_add.reset_mock()
            self.assertEqual(1, self.run_command(
                member.AddMember, ["pg", "--instance-id", "i",
                                   "--priority", bad]))
            self.assertIn("--priority must be a whole number from 1 to 5",
                          self.fake_stderr.getvalue())
            self.client.member_add.assert_not_called()

    def test_set_priority(self):
        self.client.member_set.return_value = dict(
            fakes.copy_of(fakes.MEMBER), priority=5)
        _, _, (columns, data) = self.take(
            member.SetMember, ["pg", "m1", "--priority", "5"],
            [("protection_group", "pg"), ("member_id", "m1"),
             ("priority", "5")])
        self.client.member_set.assert_called_once_with(
            "pg", "m1", {"priority": 5})
        self.assertEqual(5, data[columns.index("priority")])

    def test_set_needs_a_valid_priority(self):
        self.assertEqual(1, self.run_command(member.SetMember, ["pg", "m1"]))
        self.assertIn("--priority", self.fake_stderr.getvalue())
        self.assertEqual(1, self.run_command(
            member.SetMember, ["pg", "m1", "--priority", "9"]))
        self.client.member_set.assert_not_called()

    def test_add_volume_subset(self):
        self.client.member_add.return_value = fakes.copy_of(fakes.MEMBER)
        self.take(member.AddMember, ["pg", "--instance-id", "i",
                                     "--volume-id", "v1", "--volume-id",
                                     "v2"])
        self.client.member_add.assert_called_once_with(
            "pg", {"instance_id": "i", "volume_ids": ["v1", "v2"]})

    def test_add_missing_instance(self):
        self.assertEqual(1, self.run_command(member.AddMember, ["pg"]))
        self.assertIn("--instance-id", self.fake_stderr.getvalue())

    def test_remove(self):
        self.assertEqual(0, self.run_command(member.RemoveMember,
                                             ["pg", "--member-id", "m1"]))
        self.client.member_remove.assert_called_once_with("pg", "m1")

    def test_list_matches_doc_cli(self):
        self.client.member_list.return_value = [fakes.copy_of(fakes.MEMBER)]
        _, _, (columns, rows) = self.take(member.ListMember, ["pg"])
        self.assertEqual(("id", "instance_name", "status", "priority",
                          "volumes"), columns)
        self.assertEqual((fakes.MEMBER["id"], "web-server-1", "protected",
                          3, 2), list(rows)[0])

    def test_list_counts_volumes_when_no_count(self):
        item = fakes.copy_of(fakes.MEMBER)
        del item["volume_count"]
        self.client.member_list.return_value = [item]
        _, _, (_, rows) = self.take(member.ListMember, ["pg", "--long"])
        self.assertEqual(2, list(rows)[0][4])

    def test_show(self):
        self.client.member_show.return_value = fakes.copy_of(fakes.MEMBER)
        _, _, (columns, data) = self.take(member.ShowMember, ["pg", "m"])
        self.client.member_show.assert_called_once_with("pg", "m")
        self.assertIn("volumes", columns)
        volumes = data[columns.index("volumes")]
        self.assertEqual(fakes.MEMBER["volumes"], volumes.machine_readable())

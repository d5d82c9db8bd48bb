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
                          "instance_name", "status", "volumes_added"),
                         columns)
        self.assertEqual("web-server-1", data[3])

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
        self.assertEqual(("id", "instance_name", "status", "volumes"),
                         columns)
        self.assertEqual((fakes.MEMBER["id"], "web-server-1", "protected",
                          2), list(rows)[0])

    def test_list_counts_volumes_when_no_count(self):
        item = fakes.copy_of(fakes.MEMBER)
        del item["volume_count"]
        self.client.member_list.return_value = [item]
        _, _, (_, rows) = self.take(member.ListMember, ["pg", "--long"])
        self.assertEqual(2, list(rows)[0][3])

    def test_show(self):
        self.client.member_show.return_value = fakes.copy_of(fakes.MEMBER)
        _, _, (columns, data) = self.take(member.ShowMember, ["pg", "m"])
        self.client.member_show.assert_called_once_with("pg", "m")
        self.assertIn("volumes", columns)
        volumes = data[columns.index("volumes")]
        self.assertEqual(fakes.MEMBER["volumes"], volumes.machine_readable())

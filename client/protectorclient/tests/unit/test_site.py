"""openstack dr site ... / openstack protector site ..."""
from protectorclient import exceptions
from protectorclient.osc.v1 import site
from protectorclient.tests.unit import fakes


class TestSite(fakes.TestProtectorCommand):

    def test_create(self):
        self.client.site_create.return_value = fakes.copy_of(fakes.SITE_A)
        args = ["--name", "site-a", "--description", "Boston",
                "--site-type", "primary",
                "--auth-url", "http://site-a-controller:5000/v3",
                "--region-name", "RegionOne"]
        verify = [("name", "site-a"), ("site_type", "primary"),
                  ("auth_url", "http://site-a-controller:5000/v3"),
                  ("region_name", "RegionOne"), ("description", "Boston")]
        _, _, (columns, data) = self.take(site.CreateSite, args, verify)
        self.client.site_create.assert_called_once_with({
            "name": "site-a", "site_type": "primary",
            "auth_url": "http://site-a-controller:5000/v3",
            "description": "Boston", "region_name": "RegionOne"})
        # doc/cli.md, "Sites".
        self.assertEqual(("id", "name", "site_type", "auth_url",
                          "region_name", "status"), columns)
        self.assertEqual((fakes.SITE_A["id"], "site-a", "primary",
                          "http://site-a-controller:5000/v3", "RegionOne",
                          "active"), data)

    def test_create_json_has_every_field(self):
        self.client.site_create.return_value = fakes.copy_of(fakes.SITE_A)
        _, _, (columns, _) = self.take(site.CreateSite, [
            "--name", "a", "--site-type", "primary", "--auth-url", "u",
            "-f", "json"])
        self.assertIn("capabilities", columns)
        self.assertIn("created_at", columns)

    def test_create_bad_site_type(self):
        self.assertEqual(1, self.run_command(site.CreateSite, [
            "--name", "a", "--site-type", "tertiary", "--auth-url", "u"]))
        self.client.site_create.assert_not_called()

    def test_list(self):
        self.client.site_list.return_value = [fakes.copy_of(fakes.SITE_A),
                                              fakes.copy_of(fakes.SITE_B)]
        _, _, (columns, rows) = self.take(site.ListSite, [])
        self.assertEqual(("ID", "Name", "Site Type", "Status"), columns)
        self.assertEqual([(fakes.SITE_A["id"], "site-a", "primary", "active"),
                          (fakes.SITE_B["id"], "site-b", "secondary",
                           "active")], list(rows))
        self.client.site_list.assert_called_once_with(
            name=None, site_type=None, status=None)

    def test_list_filters_and_long(self):
        self.client.site_list.return_value = []
        _, _, (columns, _) = self.take(site.ListSite, [
            "--site-type", "secondary", "--status", "active", "--long"],
            [("site_type", "secondary"), ("status", "active"),
             ("long", True)])
        self.assertIn("Auth URL", columns)
        self.client.site_list.assert_called_once_with(
            name=None, site_type="secondary", status="active")

    def test_show(self):
        self.client.site_show.return_value = fakes.copy_of(fakes.SITE_A)
        _, _, (columns, data) = self.take(site.ShowSite, ["site-a"],
                                          [("site", "site-a")])
        self.client.site_show.assert_called_once_with("site-a")
        self.assertEqual("id", columns[0])
        self.assertIn("capabilities", columns)
        self.assertIn("status_reason", columns)

    def test_output_table_rendered(self):
        self.client.site_list.return_value = [fakes.copy_of(fakes.SITE_A)]
        self.assertEqual(0, self.run_command(site.ListSite, []))
        out = self.fake_stdout.make_string()
        self.assertIn("| ID", out)
        self.assertIn("| Site Type |", out)

    def test_delete(self):
        self.assertEqual(0, self.run_command(site.DeleteSite,
                                             ["site-a", "site-b"]))
        self.assertEqual(2, self.client.site_delete.call_count)

    def test_delete_partial_failure(self):
        self.client.site_delete.side_effect = [
            None, exceptions.APIError(409, code="protector.site.in_use",
                                      detail="in use")]
        self.assertEqual(1, self.run_command(site.DeleteSite, ["a", "b"]))
        self.assertIn("1 of 2 sites failed", self.fake_stderr.getvalue())

    def test_validate_text(self):
        self.client.site_validate.return_value = {
            "site": "site-a", "reachable": True,
            "services": {"keystone": "OK", "nova": "OK", "cinder": "OK",
                         "neutron": "OK"},
            "replicated_volume_types": ["replicated-async"],
            "capabilities": {}}
        self.assertEqual(0, self.run_command(site.ValidateSite, ["site-a"]))
        # doc/cli.md, "Sites": the validate report.
        self.assertEqual(
            "Site site-a: reachable\nKeystone: OK\nCinder: OK\nNova: OK\n"
            "Neutron: OK\nReplicated volume types found: replicated-async\n",
            self.fake_stdout.make_string())

    def test_validate_json(self):
        body = {"site": "site-b", "reachable": False,
                "services": {"keystone": "Connection refused"},
                "replicated_volume_types": []}
        self.client.site_validate.return_value = body
        self.assertEqual(0, self.run_command(site.ValidateSite,
                                             ["site-b", "-f", "json"]))
        import json
        self.assertEqual(body, json.loads(self.fake_stdout.make_string()))

    def test_validate_unreachable_text(self):
        text = site.render_validation({"site": "b", "reachable": False,
                                       "services": {}})
        self.assertIn("Site b: unreachable", text)
        self.assertIn("Replicated volume types found: none", text)

    def test_list_volume_types(self):
        self.client.site_volume_types.return_value = [
            {"id": "vt1", "name": "replicated-async",
             "replication_type": "async",
             "extra_specs": {"replication_enabled": "<is> True"}}]
        _, _, (columns, rows) = self.take(site.ListSiteVolumeTypes,
                                          ["site-a", "--long"])
        self.assertEqual(("ID", "Name", "Replication Type", "Extra Specs"),
                         columns)
        self.assertEqual("vt1", list(rows)[0][0])

    def test_pair_shows_the_key_id_never_a_secret(self):
        self.client.site_pair.return_value = {
            "site": "site-b", "key_id": "5b0c1c9e-0000-4000-8000-000000000001",
            "created_at": "2026-12-05T00:00:00Z"}
        for cls in (site.PairSite,):
            _, _, (columns, data) = self.take(cls, ["site-b"],
                                              [("site", "site-b")])
            self.client.site_pair.assert_called_with("site-b")
            self.assertEqual(("created_at", "key_id", "site"),
                             tuple(sorted(columns)))

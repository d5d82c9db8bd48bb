"""openstack dr tenant mapping ... and openstack dr health show."""
from protectorclient import exceptions
from protectorclient.osc.v1 import health
from protectorclient.osc.v1 import tenant_mapping as tm
from protectorclient.tests.unit import fakes


class TestTenantMapping(fakes.TestProtectorCommand):

    def test_create(self):
        self.client.site_show.return_value = fakes.SITE_B
        self.client.tenant_mapping_create.return_value = \
            fakes.copy_of(fakes.TENANT_MAPPING)
        _, _, (columns, data) = self.take(tm.CreateTenantMapping, [
            "--local-tenant", "local-project", "--remote-site", "site-b",
            "--remote-tenant", "remote-project",
            "--description", "myproject tenant mapping"])
        self.client.tenant_mapping_create.assert_called_once_with({
            "local_tenant": "local-project",
            "remote_site_id": fakes.SITE_B["id"],
            "remote_tenant": "remote-project",
            "description": "myproject tenant mapping"})
        # doc/cli.md, "Tenant mappings".
        self.assertEqual(("id", "local_tenant", "remote_site",
                          "remote_tenant", "description"), columns)
        self.assertEqual("site-b", data[2])

    def test_create_missing(self):
        self.assertEqual(1, self.run_command(tm.CreateTenantMapping,
                                             ["--local-tenant", "x"]))
        self.assertIn("--remote-site", self.fake_stderr.getvalue())

    def test_list(self):
        self.client.tenant_mapping_list.return_value = [
            fakes.copy_of(fakes.TENANT_MAPPING)]
        _, _, (columns, rows) = self.take(tm.ListTenantMapping, [])
        self.assertEqual(("ID", "Local Tenant", "Remote Site",
                          "Remote Tenant", "Description"), columns)
        self.assertEqual("tm-aabbcc-1234", list(rows)[0][0])

    def test_show(self):
        self.client.tenant_mapping_show.return_value = \
            fakes.copy_of(fakes.TENANT_MAPPING)
        _, _, (columns, _) = self.take(tm.ShowTenantMapping,
                                       ["tm-aabbcc-1234"])
        self.client.tenant_mapping_show.assert_called_once_with(
            "tm-aabbcc-1234")

    def test_delete(self):
        self.assertEqual(0, self.run_command(tm.DeleteTenantMapping,
                                             ["a", "b"]))
        self.assertEqual(2, self.client.tenant_mapping_delete.call_count)

    def test_delete_missing(self):
        self.client.tenant_mapping_delete.side_effect = exceptions.APIError(
            404, code="protector.tenant_mapping.not_found")
        self.assertEqual(1, self.run_command(tm.DeleteTenantMapping, ["a"]))


class TestHealth(fakes.TestProtectorCommand):

    def test_show_matches_doc_cli(self):
        self.client.health.return_value = fakes.copy_of(fakes.HEALTH)
        _, _, (columns, rows) = self.take(health.ShowHealth, [])
        self.assertEqual(("Component", "Status", "Detail"), columns)
        self.assertEqual(("protector-api", "ok", "Responding on port 8788"),
                         list(rows)[0])

    def test_degraded_still_exit_zero(self):
        self.client.health.return_value = {"status": "degraded",
                                           "components": [
            {"component": "site-b", "status": "error",
             "detail": "Unreachable"}]}
        self.assertEqual(0, self.run_command(health.ShowHealth, []))
        self.assertIn("Unreachable", self.fake_stdout.make_string())

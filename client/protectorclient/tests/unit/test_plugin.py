"""Plugin wiring: options, make_client, endpoints, secondary cloud."""
import argparse
import importlib.metadata
import re
from unittest import mock

from keystoneauth1 import exceptions as ks_exc
import testtools

from protectorclient import client as protector_client
from protectorclient import exceptions
from protectorclient.osc import plugin
from protectorclient import sites


class TestOptions(testtools.TestCase):

    def _parse(self, argv, env=None):
        with mock.patch.dict("os.environ", env or {}, clear=True):
            parser = plugin.build_option_parser(argparse.ArgumentParser())
            return parser.parse_args(argv)

    def test_defaults(self):
        opts = self._parse([])
        self.assertEqual("1.6", opts.os_protector_api_version)
        self.assertIsNone(opts.secondary_cloud)
        self.assertIsNone(opts.os_protector_endpoint_override)

    def test_env(self):
        opts = self._parse([], {"PROTECTOR_API_VERSION": "1.1",
                                "OS_SECONDARY_CLOUD": "site-b",
                                "OS_PROTECTOR_ENDPOINT": "http://h:8788"})
        self.assertEqual("1.1", opts.os_protector_api_version)
        self.assertEqual("site-b", opts.secondary_cloud)
        self.assertEqual("http://h:8788", opts.os_protector_endpoint_override)

    def test_flags_win(self):
        opts = self._parse(["--secondary-cloud", "x",
                            "--os-protector-api-version", "1.1"],
                           {"OS_SECONDARY_CLOUD": "y"})
        self.assertEqual("x", opts.secondary_cloud)
        self.assertEqual("1.1", opts.os_protector_api_version)

    def test_check_api_version(self):
        self.assertTrue(plugin.check_api_version("1.2"))
        self.assertTrue(plugin.check_api_version("1.7"))
        self.assertRaises(exceptions.UsageError, plugin.check_api_version,
                          "2")
        self.assertRaises(exceptions.UsageError, plugin.check_api_version,
                          "latest")

    def test_plugin_attributes(self):
        self.assertEqual("protector", plugin.API_NAME)
        self.assertEqual("os_protector_api_version",
                         plugin.API_VERSION_OPTION)


class TestMakeClient(testtools.TestCase):

    def _instance(self, endpoint, project_id="proj", secondary=None):
        instance = mock.Mock()
        instance._api_version = {"protector": "1.1"}
        instance._cli_options.config = {"secondary_cloud": secondary}
        instance.get_endpoint_for_service_type.return_value = endpoint
        instance.auth_ref.project_id = project_id
        return instance

    def test_catalog_endpoint(self):
        instance = self._instance("http://h:8788/v1/proj")
        client = plugin.make_client(instance)
        self.assertEqual("http://h:8788/v1/proj", client.endpoint)
        self.assertEqual("1.1", client.api_version)
        self.assertIs(instance.session, client.session)
        self.assertIsNone(client.peer)
        instance.get_endpoint_for_service_type.assert_called_once_with(
            "protector", region_name=instance.region_name,
            interface=instance.interface)

    def test_template_endpoint(self):
        client = plugin.make_client(
            self._instance("http://h:8788/v1/%(tenant_id)s"))
        self.assertEqual("http://h:8788/v1/proj", client.endpoint)

    def test_base_endpoint_override(self):
        client = plugin.make_client(self._instance("http://h:8788"))
        self.assertEqual("http://h:8788/v1/proj", client.endpoint)

    def test_no_endpoint(self):
        self.assertRaises(exceptions.ProtectorClientError,
                          plugin.make_client, self._instance(None))

    def test_secondary_cloud(self):
        client = plugin.make_client(self._instance("http://h/v1/p",
                                                   secondary="site-b"))
        self.assertIsInstance(client.peer, sites.CloudSite)
        self.assertEqual("site-b", client.peer.name)

    def test_secondary_cloud_loaded_without_primary_env(self):
        with mock.patch("openstack.config.loader.OpenStackConfig") as cfg, \
                mock.patch.dict("os.environ",
                                {"OS_CLIENT_CONFIG_FILE": "/x/clouds.yaml",
                                 "OS_PASSWORD": "primary-secret"}):
            site = plugin.secondary_site("site-b")
            site.region
        kwargs = cfg.call_args[1]
        self.assertFalse(kwargs["load_envvars"])
        self.assertEqual("/x/clouds.yaml", kwargs["config_files"][0])
        cfg.return_value.get_one.assert_called_once_with(cloud="site-b")


class TestEndpoints(testtools.TestCase):

    def test_expand(self):
        cases = [
            ("http://h:8788/v1/%(tenant_id)s", "http://h:8788/v1/p"),
            ("http://h:8788/v1/%(project_id)s/", "http://h:8788/v1/p"),
            ("http://h:8788/v1/abc", "http://h:8788/v1/abc"),
            ("http://h:8788/v1", "http://h:8788/v1/p"),
            ("http://h:8788/", "http://h:8788/v1/p"),
            ("https://h/protector", "https://h/protector/v1/p"),
        ]
        for url, expected in cases:
            self.assertEqual(expected, sites.expand_endpoint(url, "p"), url)

    def test_needs_project(self):
        self.assertRaises(exceptions.UsageError, sites.expand_endpoint,
                          "http://h:8788", None)
        self.assertEqual("http://h:8788/v1/admin",
                         sites.expand_endpoint("http://h:8788/v1/admin",
                                               None))


class TestCloudSite(testtools.TestCase):

    def _site(self, session):
        region = mock.Mock()
        region.get_session.return_value = session
        region.config = {}
        return sites.CloudSite("site-b", lambda: region), region

    def test_token(self):
        session = mock.Mock()
        session.get_token.return_value = "t"
        site, _ = self._site(session)
        self.assertEqual("t", site.token())
        self.assertEqual("t", site.token())
        session.get_token.assert_called_once_with()

    def test_unreachable_keystone_is_exit_3(self):
        session = mock.Mock()
        session.get_token.side_effect = ks_exc.ConnectFailure("refused")
        site, _ = self._site(session)
        err = self.assertRaises(exceptions.PeerUnreachable, site.token)
        self.assertEqual(3, err.exit_code)

    def test_bad_credentials_is_exit_1(self):
        session = mock.Mock()
        session.get_token.side_effect = ks_exc.Unauthorized("nope")
        site, _ = self._site(session)
        err = self.assertRaises(exceptions.ProtectorClientError, site.token)
        self.assertEqual(1, err.exit_code)

    def test_unknown_cloud(self):
        def boom():
            raise Exception("Cloud site-x was not found.")
        site = sites.CloudSite("site-x", boom)
        err = self.assertRaises(exceptions.ProtectorClientError, site.token)
        self.assertIn("site-x", str(err))

    def test_client_from_catalog(self):
        session = mock.Mock()
        session.get_token.return_value = "t"
        session.get_project_id.return_value = "proj-b"
        session.get_endpoint.return_value = "http://b:8788/v1/proj-b"
        site, region = self._site(session)
        client = site.client("1.2", peer="primary")
        self.assertIsInstance(client, protector_client.Client)
        self.assertEqual("http://b:8788/v1/proj-b", client.endpoint)
        self.assertEqual("primary", client.peer)

    def test_client_endpoint_override(self):
        session = mock.Mock()
        session.get_project_id.return_value = "proj-b"
        site, region = self._site(session)
        region.config = {"protector_endpoint_override": "http://b:8788"}
        self.assertEqual("http://b:8788/v1/proj-b",
                         site.client("1.2").endpoint)

    def test_no_catalog_entry(self):
        session = mock.Mock()
        session.get_endpoint.return_value = None
        site, _ = self._site(session)
        self.assertRaises(exceptions.ProtectorClientError, site.client,
                          "1.2")

    def test_session_site(self):
        session = mock.Mock()
        session.get_token.side_effect = ks_exc.ConnectFailure("x")
        self.assertRaises(exceptions.PeerUnreachable,
                          sites.SessionSite(session).token)


class TestEntryPoints(testtools.TestCase):
    """Both spellings are registered and share implementation classes."""

    def _eps(self):
        return {ep.name: ep.value for ep in
                importlib.metadata.entry_points(
                    group="openstack.protector.v1")}

    def test_plugin_registered(self):
        eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(
            group="openstack.cli.extension")}
        self.assertEqual("protectorclient.osc.plugin", eps["protector"])

    def test_dr_commands(self):
        eps = self._eps()
        for name in ("site_create", "site_list", "site_show", "site_delete",
                     "site_validate", "protection-group_create",
                     "protection-group_list", "protection-group_show",
                     "protection-group_delete", "protection-group_set",
                     "member_add", "member_set", "member_remove",
                     "member_list", "member_show", "policy_create",
                     "policy_show",
                     "failover", "failback", "test-failover", "test-cleanup",
                     "operation_list", "operation_show", "health_show",
                     "tenant_mapping_create", "tenant_mapping_list",
                     "tenant_mapping_show", "tenant_mapping_delete"):
            self.assertIn("dr_" + name, eps)

    def test_protector_spellings_share_classes(self):
        eps = self._eps()
        pairs = {
            "protector_protection-group_member-add": "dr_member_add",
            "protector_protection-group_member-set": "dr_member_set",
            "protector_protection-group_member-list": "dr_member_list",
            "protector_protection-group_create":
                "dr_protection-group_create",
            "protector_protection-group_sync-status":
                "dr_protection-group_sync-status",
            "protector_protection-group_sync-force":
                "dr_protection-group_sync-force",
            "protector_site_validate": "dr_site_validate",
            "protector_site_list-volume-types": "dr_site_list-volume-types",
            "protector_site_list": "dr_site_list",
            "protector_site_show": "dr_site_show",
            "protector_operation_list": "dr_operation_list",
            "protector_protection-group_list": "dr_protection-group_list",
            "protector_protection-group_show": "dr_protection-group_show",
            "protector_protection-group_delete":
                "dr_protection-group_delete",
        }
        for protector_name, dr_name in pairs.items():
            self.assertEqual(eps[dr_name], eps[protector_name])

    def test_every_entry_point_loads(self):
        for ep in importlib.metadata.entry_points(
                group="openstack.protector.v1"):
            ep.load()


class TestStandalone(testtools.TestCase):
    """The client installs and imports without the server package."""

    def test_distribution_is_named_as_doc_cli_installs_it(self):
        # doc/cli.md: 'pip install protectorclient' (issue 14 item 15).
        self.assertEqual("protectorclient", importlib.metadata.metadata(
            "protectorclient")["Name"])

    def test_no_dependency_on_server(self):
        requires = importlib.metadata.requires("protectorclient")
        names = {r.split(";")[0].split("[")[0].split("<")[0].split(">")[0]
                 .split("=")[0].split("!")[0].strip().lower()
                 for r in requires or ()}
        self.assertNotIn("protector", names)

    def test_no_server_imports(self):
        import pathlib
        root = pathlib.Path(plugin.__file__).resolve().parents[1]
        server_import = re.compile(r"^\s*(from|import)\s+protector(\.|\s|$)",
                                   re.M)
        for path in root.rglob("*.py"):
            self.assertIsNone(server_import.search(path.read_text()), path)


class TestHelpEpilog(testtools.TestCase):

    def test_names_the_plugin_without_scanning_installed_packages(self):
        """cliff's epilog looks the distribution up in every installed
        package's file list, on each run of each command; ours names it."""
        from cliff import command as cliff_command

        from protectorclient.osc.v1 import site
        from protectorclient.tests.unit import fakes

        self.assertEqual(
            "protectorclient",
            importlib.metadata.distribution("protectorclient").metadata[
                "Name"])
        app = fakes.FakeOptions()
        # (_dists_by_mods: cliff's cache of the scan, empty as in a new
        # process.)
        with mock.patch.object(cliff_command, "_dists_by_mods", None), \
                mock.patch.object(cliff_command, "packages_distributions",
                                  side_effect=AssertionError("scanned")):
            cmd = site.ListSite(mock.Mock(options=app), None)
            parser = cmd.get_parser("openstack dr site list")
        self.assertIn("This command is provided by the protectorclient "
                      "plugin.", parser.epilog)

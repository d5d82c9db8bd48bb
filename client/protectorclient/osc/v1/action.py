"""DR operations: ``openstack dr failover|failback|test-failover|
test-cleanup <pg>``.

Each command POSTs ``/protection-groups/{pg}/action`` and returns at once
with the operation (exit 0 = accepted). ``--wait`` follows it with a
progress bar on stderr and exits 1 if it fails.

Which site receives the request: the operation runs on the site that will
host the workload (doc/architecture.md, 6), so

* failover, test-failover and test-cleanup go to the **secondary** site
  (``--secondary-cloud``) with the primary site's token as peer token;
  an *unplanned* failover proceeds with secondary credentials alone when
  the primary site cannot be reached (doc/cli.md);
* failback goes to the **primary** site (``--os-cloud``) with the
  secondary site's token as peer token.
"""
from protectorclient import client as protector_client
from protectorclient import exceptions
from protectorclient import sites
from protectorclient.osc.v1 import base
from protectorclient.osc.v1 import operation as op_cmd
from protectorclient.osc.v1 import protection_group

FAILOVER_TYPES = ("planned", "unplanned")
# The API takes planned failbacks only (doc/cli.md, "Where this deviates").
FAILBACK_TYPES = ("planned",)


def _add_mapping_options(parser, what="failover"):
    parser.add_argument(
        "--network-mapping", metavar="<source=target>", action="append",
        default=[], dest="network_mapping",
        help="Map a network of the source site to one of the target site "
             "(name or ID, repeatable)")
    parser.add_argument(
        "--flavor-mapping", metavar="<source=target>", action="append",
        default=[], dest="flavor_mapping",
        help="Map a flavor of the source site to one of the target site "
             "(repeatable)")


def _add_keep_ips_option(parser):
    parser.add_argument(
        "--no-keep-fixed-ips", action="store_false", default=True,
        dest="keep_fixed_ips",
        help="Let Neutron choose the recovered ports' addresses. By "
             "default a port keeps its original fixed IP where the "
             "target subnet contains it and it is free")


def _keep_ips(params, parsed_args):
    # Sent only when turned off: a server of an older version knows no
    # such field, and the default is the server's.
    if not parsed_args.keep_fixed_ips:
        params["keep_fixed_ips"] = False
    return params


def _add_wait_option(parser):
    parser.add_argument("--wait", action="store_true", default=False,
                        help="Follow the operation until it completes or "
                             "fails, with a progress bar on stderr; exit 1 "
                             "if it fails")


def _add_dry_run_option(parser):
    parser.add_argument("--dry-run", action="store_true", default=False,
                        dest="dry_run",
                        help="Only run the preflight checks (quotas, "
                             "mappings, images, volume type, storage, "
                             "peer site...) and print them; change "
                             "nothing. Exit 5 if a check fails")


PREFLIGHT_COLUMNS = ("Check", "Result", "Detail")


class _ActionCommand(base.ShowOne):
    action = None

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        protection_group.add_pg_argument(parser)
        return parser

    def _secondary(self, parsed_args, peer):
        """A client for the secondary site's protector-api."""
        secondary = self._secondary_site()
        if secondary is None:
            raise exceptions.UsageError(
                "%s runs on the secondary site: name its cloud with "
                "--secondary-cloud or OS_SECONDARY_CLOUD."
                % self.action.replace("_", "-"))
        return secondary.client(self._api_version(), peer=peer)

    def _secondary_site(self):
        from protectorclient.osc import plugin
        options = getattr(self.app, "options", None)
        return plugin.secondary_site(getattr(options, "secondary_cloud",
                                             None))

    def _api_version(self):
        from protectorclient.osc import plugin
        return self.app.api_version.get(plugin.API_NAME,
                                        protector_client.DEFAULT_API_VERSION)

    def produce_output(self, parsed_args, column_names, data):
        # --dry-run prints the preflight table (a list), not one record.
        rows = getattr(self, "_preflight_rows", None)
        if rows is None:
            return super().produce_output(parsed_args, column_names, data)
        self.formatter.emit_list(PREFLIGHT_COLUMNS, rows, self.app.stdout,
                                 parsed_args)
        return 0

    def _submit(self, parsed_args, client, params, peer_mode):
        if getattr(parsed_args, "dry_run", False):
            report = client.pg_preflight(parsed_args.protection_group,
                                         self.action, params,
                                         peer=protector_client.PEER_OPTIONAL)
            self._preflight_rows = [
                (c.get("check"), c.get("result"), c.get("detail"))
                for c in report.get("checks") or []]
            if not report.get("ok"):
                self.exit_code = exceptions.EXIT_PRECONDITION
            return PREFLIGHT_COLUMNS, ()
        operation = client.pg_action(parsed_args.protection_group,
                                     self.action, params, peer=peer_mode)
        if getattr(parsed_args, "wait", False):
            operation = op_cmd.wait_for_operation(client, operation,
                                                  self.app.stderr)
            if operation.get("status") == "failed":
                self.app.stderr.write(
                    op_cmd.failure_message(operation) + "\n")
                self.exit_code = exceptions.EXIT_ERROR
        return op_cmd.accepted_columns(operation, parsed_args)


class Failover(_ActionCommand):
    """Fail a protection group over to the secondary site.

    Prompts for network and flavor mappings (when run on a terminal) unless
    they are given with --network-mapping / --flavor-mapping.
    """

    action = "failover"
    # The primary site may be down (unplanned failover): authenticate it
    # ourselves, and only when it is needed.
    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--type", metavar="{planned,unplanned}",
                            dest="failover_type", default="planned",
                            help="planned: shut the primary VMs down "
                                 "gracefully first (default); unplanned: "
                                 "the primary site is lost")
        _add_mapping_options(parser)
        _add_keep_ips_option(parser)
        _add_wait_option(parser)
        _add_dry_run_option(parser)
        return parser

    def _primary_site(self):
        app = self.app

        def load():
            return app.cloud_config.get_one(
                cloud=getattr(app.options, "cloud", None),
                argparse=app.options, validate=True)

        return sites.CloudSite(getattr(app.options, "cloud", None)
                               or "OS_* environment", load, role="primary")

    def _prompt_mappings(self, label):
        stdin = self.app.stdin
        if not getattr(stdin, "isatty", lambda: False)():
            return {}
        err = self.app.stderr
        err.write("%s mappings for the target site (SOURCE=TARGET), one per "
                  "line; empty line to finish:\n" % label)
        values = []
        while True:
            err.write("%s mapping> " % label.lower())
            err.flush()
            line = stdin.readline()
            if not line or not line.strip():
                break
            values.append(line.strip())
        return base.parse_mappings(values, "%s mapping" % label.lower())

    def take_action(self, parsed_args):
        base.check_choice(parsed_args.failover_type, FAILOVER_TYPES,
                          "--type")
        networks = base.parse_mappings(parsed_args.network_mapping,
                                       "--network-mapping")
        flavors = base.parse_mappings(parsed_args.flavor_mapping,
                                      "--flavor-mapping")
        if not networks:
            networks = self._prompt_mappings("Network")
        if not flavors:
            flavors = self._prompt_mappings("Flavor")
        params = {"type": parsed_args.failover_type}
        if networks:
            params["network_mapping"] = networks
        if flavors:
            params["flavor_mapping"] = flavors

        primary = self._primary_site()
        unplanned = parsed_args.failover_type == "unplanned"
        peer = primary
        if unplanned:
            try:
                primary.token()
            except exceptions.ProtectorClientError as exc:
                # doc/cli.md: an unplanned failover proceeds with the
                # secondary site's credentials only.
                self.app.stderr.write(
                    "Primary site not usable (%s); continuing with the "
                    "secondary site only.\n" % exc)
                peer = None
        secondary = self._secondary(parsed_args, peer)
        mode = (protector_client.PEER_OPTIONAL if unplanned
                else protector_client.PEER_REQUIRED)
        return self._submit(parsed_args, secondary,
                            _keep_ips(params, parsed_args), mode)


class Failback(_ActionCommand):
    """Return a protection group's workloads to the original primary site."""

    action = "failback"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--type", metavar="{planned}",
                            dest="failback_type", default="planned",
                            help="planned (the only kind: a failback "
                                 "stops the workload on the current site "
                                 "and replicates its last writes back "
                                 "first)")
        parser.add_argument("--reverse-replication", action="store_true",
                            default=False,
                            help="Resync writes made on the current site "
                                 "back to the original primary before "
                                 "cutting over")
        _add_mapping_options(parser)
        _add_keep_ips_option(parser)
        _add_wait_option(parser)
        _add_dry_run_option(parser)
        return parser

    def take_action(self, parsed_args):
        base.check_choice(parsed_args.failback_type, FAILBACK_TYPES,
                          "--type")
        params = {"type": parsed_args.failback_type,
                  "reverse_replication": parsed_args.reverse_replication}
        networks = base.parse_mappings(parsed_args.network_mapping,
                                       "--network-mapping")
        flavors = base.parse_mappings(parsed_args.flavor_mapping,
                                      "--flavor-mapping")
        if networks:
            params["network_mapping"] = networks
        if flavors:
            params["flavor_mapping"] = flavors
        return self._submit(parsed_args, self.client,
                            _keep_ips(params, parsed_args),
                            protector_client.PEER_REQUIRED)


class TestFailover(_ActionCommand):
    """Run a DR drill: boot copies on the secondary site, primary untouched.
    """

    action = "test_failover"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        networks = parser.add_mutually_exclusive_group()
        networks.add_argument(
            "--network-mapping", metavar="<source=target>", action="append",
            default=[], dest="network_mapping",
            help="Map a primary network to a test network of the secondary "
                 "site (repeatable)")
        networks.add_argument(
            "--auto-network", action="store_true", default=False,
            help="Let Protector create isolated temporary test networks")
        _add_keep_ips_option(parser)
        _add_wait_option(parser)
        _add_dry_run_option(parser)
        return parser

    def take_action(self, parsed_args):
        params = {"auto_network": parsed_args.auto_network}
        networks = base.parse_mappings(parsed_args.network_mapping,
                                       "--network-mapping")
        if networks:
            params["network_mapping"] = networks
        primary = sites.SessionSite(self.app.client_manager.session)
        secondary = self._secondary(parsed_args, primary)
        return self._submit(parsed_args, secondary,
                            _keep_ips(params, parsed_args),
                            protector_client.PEER_REQUIRED)


class TestCleanup(_ActionCommand):
    """Tear down what test-failover created on the secondary site."""

    action = "test_cleanup"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_wait_option(parser)
        return parser

    def take_action(self, parsed_args):
        primary = sites.SessionSite(self.app.client_manager.session)
        secondary = self._secondary(parsed_args, primary)
        return self._submit(parsed_args, secondary, {},
                            protector_client.PEER_OPTIONAL)


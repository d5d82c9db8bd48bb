"""``openstack dr site ...`` / ``openstack protector site ...``."""
from protectorclient import exceptions
from protectorclient.osc.v1 import base
from protectorclient import registration

SITE_TYPES = ("primary", "secondary")
STATUSES = ("active", "unreachable", "error")

# doc/cli.md, "Sites": what site create shows.
CREATE_COLUMNS = ("id", "name", "site_type", "auth_url", "region_name",
                  "status")
# doc/cli.md, "Sites": the site list columns.
LIST_COLUMNS = [("ID", "id"), ("Name", "name"), ("Site Type", "site_type"),
                ("Status", "status")]
LONG_COLUMNS = LIST_COLUMNS + [("Auth URL", "auth_url"),
                               ("Region", "region_name"),
                               ("Protector URL", "protector_url")]
SHOW_COLUMNS = ("id", "name", "description", "site_type", "auth_url",
                "region_name", "protector_url", "status", "status_reason",
                "last_checked_at", "capabilities", "created_at",
                "updated_at")


class CreateSite(base.ShowOne):
    """Register a site (an OpenStack cloud) with Protector (admin).

    With --secondary-cloud (or OS_SECONDARY_CLOUD; an admin there too)
    the site is registered on both sites under one ID; if the secondary
    site refuses, nothing is left registered. Without it, on this site
    only (then register it on the other site separately).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        base.add_required(parser, "--name", metavar="<name>",
                          help="Site name, unique")
        parser.add_argument("--description", metavar="<description>",
                            help="Free-text description")
        base.add_required(parser, "--site-type", metavar="{primary,secondary}",
                          help="Initial role of the site; roles swap on "
                               "failover")
        base.add_required(parser, "--auth-url", metavar="<url>",
                          help="Keystone v3 endpoint of the site")
        parser.add_argument("--region-name", metavar="<region>",
                            help="Region of the site's endpoints")
        parser.add_argument("--protector-url", metavar="<url>",
                            help="protector-api base URL of the site when "
                                 "not in its catalog, e.g. "
                                 "http://site-b-controller:8788")
        return parser

    def take_action(self, parsed_args):
        base.check_choice(parsed_args.site_type, SITE_TYPES, "--site-type")
        body = {"name": parsed_args.name,
                "site_type": parsed_args.site_type,
                "auth_url": parsed_args.auth_url}
        for key in ("description", "region_name", "protector_url"):
            value = getattr(parsed_args, key)
            if value is not None:
                body[key] = value
        peer = registration.peer_client(self.client)
        site = registration.create(self.client, body, peer)
        return base.show_columns(site, parsed_args, CREATE_COLUMNS)


class ListSite(base.Lister):
    """List registered sites and their status."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--name", metavar="<name>",
                            help="Only the site with this name")
        parser.add_argument("--site-type", metavar="{primary,secondary}",
                            help="Only sites of this type")
        parser.add_argument("--status", metavar="{active,unreachable,error}",
                            help="Only sites in this status")
        parser.add_argument("--long", action="store_true", default=False,
                            help="List additional fields in output")
        return parser

    def take_action(self, parsed_args):
        base.check_choice(parsed_args.site_type, SITE_TYPES, "--site-type")
        base.check_choice(parsed_args.status, STATUSES, "--status")
        items = self.client.site_list(name=parsed_args.name,
                                      site_type=parsed_args.site_type,
                                      status=parsed_args.status)
        spec = LONG_COLUMNS if parsed_args.long else LIST_COLUMNS
        return base.list_columns(items, spec)


class ShowSite(base.ShowOne):
    """Show a site: endpoints, capabilities and reachability."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("site", metavar="<site>",
                            help="Site name or ID")
        return parser

    def take_action(self, parsed_args):
        site = self.client.site_show(parsed_args.site)
        ordered = {k: site.get(k) for k in SHOW_COLUMNS if k in site}
        ordered.update(site)
        return base.show_columns(ordered, parsed_args)


class DeleteSite(base.Command):
    """Remove site registration(s); refused while referenced.

    With --secondary-cloud the site is removed on both sites.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("sites", metavar="<site>", nargs="+",
                            help="Site(s) to delete (name or ID)")
        return parser

    def take_action(self, parsed_args):
        failures = []
        last_exc = None
        peer = registration.peer_client(self.client)
        for site in parsed_args.sites:
            try:
                registration.delete(self.client, site, peer)
            except exceptions.ProtectorClientError as exc:
                failures.append("%s: %s" % (site, exc))
                last_exc = exc
        if not failures:
            return
        if len(parsed_args.sites) == 1:
            raise last_exc
        error = exceptions.ProtectorClientError(
            "%d of %d sites failed to delete:\n%s" % (
                len(failures), len(parsed_args.sites), "\n".join(failures)))
        # Keep the specific exit code when every failure shares it.
        error.exit_code = last_exc.exit_code
        raise error


def render_validation(validation):
    """The ``site validate`` report of doc/cli.md, "Sites"."""
    lines = ["Site %s: %s" % (validation.get("site"),
                              "reachable" if validation.get("reachable")
                              else "unreachable")]
    services = validation.get("services") or {}
    for name, label in (("keystone", "Keystone"), ("cinder", "Cinder"),
                        ("nova", "Nova"), ("neutron", "Neutron")):
        if name in services:
            lines.append("%s: %s" % (label, services[name]))
    for name in sorted(set(services) - {"keystone", "cinder", "nova",
                                        "neutron"}):
        lines.append("%s: %s" % (name.capitalize(), services[name]))
    vtypes = validation.get("replicated_volume_types") or []
    lines.append("Replicated volume types found: %s"
                 % (", ".join(vtypes) if vtypes else "none"))
    return "\n".join(lines) + "\n"


class ValidateSite(base.ShowOne):
    """Check a site's Keystone, Nova, Cinder and Neutron and capabilities.

    Prints a text report; ``-f json|yaml`` (or ``-c``) give the raw fields.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("site", metavar="<site>",
                            help="Site name or ID")
        return parser

    def take_action(self, parsed_args):
        validation = self.client.site_validate(parsed_args.site)
        self._validation = validation
        return base.show_columns(validation, parsed_args)

    def produce_output(self, parsed_args, column_names, data):
        if parsed_args.formatter == "table" and not parsed_args.columns:
            self.app.stdout.write(render_validation(self._validation))
            return 0
        return super().produce_output(parsed_args, column_names, data)


class PairSite(base.ShowOne):
    """Pair this site with a peer site (admin, both sites).

    Makes the key the two sites' Protectors sign their internal calls
    with and installs it on both: --os-cloud is this site,
    --secondary-cloud (or OS_SECONDARY_CLOUD) an admin of <site>. Run
    once after registering both sites; run again (or use 'site
    rotate-key') to replace the key. The key itself is never shown.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("site", metavar="<site>",
                            help="The peer site (name or ID)")
        return parser

    def take_action(self, parsed_args):
        key = self.client.site_pair(parsed_args.site)
        return base.show_columns(key, parsed_args)


class ListSiteVolumeTypes(base.Lister):
    """List the replication-enabled volume types of a site."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("site", metavar="<site>",
                            help="Site name or ID")
        parser.add_argument("--long", action="store_true", default=False,
                            help="Also show extra specs")
        return parser

    def take_action(self, parsed_args):
        items = self.client.site_volume_types(parsed_args.site)
        spec = [("ID", "id"), ("Name", "name"),
                ("Replication Type", "replication_type")]
        if parsed_args.long:
            spec.append(("Extra Specs", "extra_specs"))
        return base.list_columns(items, spec)


"""``openstack dr tenant mapping create|list|show|delete`` (doc/cli.md).

A mapping pairs a project of this site's Keystone with the project of the
same tenant in the remote site's Keystone; the server syncs it to the
remote site (the peer token is sent when --secondary-cloud is set).
"""
from protectorclient import exceptions
from protectorclient.osc.v1 import base

# doc/cli.md, "Tenant mappings".
SHOW_COLUMNS = ("id", "local_tenant", "remote_site", "remote_tenant",
                "description")
LIST_COLUMNS = [("ID", "id"), ("Local Tenant", "local_tenant"),
                ("Remote Site", "remote_site"),
                ("Remote Tenant", "remote_tenant"),
                ("Description", "description")]


class CreateTenantMapping(base.ShowOne):
    """Map a local project to its counterpart on a remote site."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        base.add_required(parser, "--local-tenant", metavar="<project-id>",
                          help="Project ID in this site's Keystone")
        base.add_required(parser, "--remote-site", metavar="<site>",
                          help="Remote site (name or ID)")
        base.add_required(parser, "--remote-tenant", metavar="<project-id>",
                          help="Project ID in the remote site's Keystone")
        parser.add_argument("--description", metavar="<description>",
                            help="Free-text description")
        return parser

    def take_action(self, parsed_args):
        body = {"local_tenant": parsed_args.local_tenant,
                "remote_site_id": base.resolve_site_id(
                    self.client, parsed_args.remote_site),
                "remote_tenant": parsed_args.remote_tenant}
        if parsed_args.description is not None:
            body["description"] = parsed_args.description
        mapping = self.client.tenant_mapping_create(body)
        return base.show_columns(mapping, parsed_args, SHOW_COLUMNS)


class ListTenantMapping(base.Lister):
    """List tenant mappings."""

    def take_action(self, parsed_args):
        return base.list_columns(self.client.tenant_mapping_list(),
                                 LIST_COLUMNS)


class ShowTenantMapping(base.ShowOne):
    """Show a tenant mapping."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("mapping", metavar="<mapping-id>",
                            help="Tenant mapping ID")
        return parser

    def take_action(self, parsed_args):
        mapping = self.client.tenant_mapping_show(parsed_args.mapping)
        return base.show_columns(mapping, parsed_args, SHOW_COLUMNS)


class DeleteTenantMapping(base.Command):
    """Delete tenant mapping(s) on both sites."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("mappings", metavar="<mapping-id>", nargs="+",
                            help="Tenant mapping ID(s)")
        return parser

    def take_action(self, parsed_args):
        failures = []
        last_exc = None
        for mapping in parsed_args.mappings:
            try:
                self.client.tenant_mapping_delete(mapping)
            except exceptions.APIError as exc:
                failures.append("%s: %s" % (mapping, exc))
                last_exc = exc
        if not failures:
            return
        if len(parsed_args.mappings) == 1:
            raise last_exc
        error = exceptions.ProtectorClientError(
            "%d of %d tenant mappings failed to delete:\n%s" % (
                len(failures), len(parsed_args.mappings),
                "\n".join(failures)))
        error.exit_code = last_exc.exit_code
        raise error

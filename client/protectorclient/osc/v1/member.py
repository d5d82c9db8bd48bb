"""Members (VMs) of a protection group.

``openstack dr member add|set|remove|list|show <pg> ...`` and
``openstack protector protection-group member-add|member-set|member-remove|
member-list|member-show <pg> ...`` (doc/cli.md, "Members").
"""
from protectorclient.osc.v1 import base
from protectorclient.osc.v1 import protection_group

# Boot tiers (doc/cli.md, "Members"): 1 starts first, 5 last.
MIN_PRIORITY, MAX_PRIORITY, DEFAULT_PRIORITY = 1, 5, 3
PRIORITY_HELP = ("Boot tier, %d (first) to %d (last): a failover, failback "
                 "or test failover starts the VMs of a tier once every VM "
                 "of the tiers before it is ACTIVE or failed" % (
                     MIN_PRIORITY, MAX_PRIORITY))

# doc/cli.md, "Members": what member add and member set show.
SHOW_COLUMNS = ("id", "protection_group_id", "instance_id", "instance_name",
                "status", "priority", "volumes_added")
# doc/cli.md, "Members": the member list columns.
LIST_COLUMNS = [("id", "id"), ("instance_name", "instance_name"),
                ("status", "status"), ("priority", "priority"),
                ("volumes", "volume_count")]
LONG_COLUMNS = LIST_COLUMNS + [("instance_id", "instance_id"),
                               ("created_at", "created_at")]


class AddMember(base.ShowOne):
    """Add a VM to a protection group with all its attached volumes.

    Syncs the metadata to the secondary site at once; refused (exit 3) if
    the secondary site is unreachable.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        protection_group.add_pg_argument(parser)
        base.add_required(parser, "--instance-id", metavar="<uuid>",
                          help="Nova instance UUID")
        parser.add_argument("--volume-id", metavar="<uuid>",
                            dest="volume_ids", action="append",
                            help="Protect only this attached volume "
                                 "(repeatable; default: every attached "
                                 "volume)")
        parser.add_argument("--priority", metavar="<1-5>",
                            help=PRIORITY_HELP + " (default %d)"
                            % DEFAULT_PRIORITY)
        return parser

    def take_action(self, parsed_args):
        priority = base.parse_int(parsed_args.priority, "--priority",
                                  MIN_PRIORITY, MAX_PRIORITY)
        body = {"instance_id": parsed_args.instance_id}
        if parsed_args.volume_ids:
            body["volume_ids"] = parsed_args.volume_ids
        if priority is not None:
            body["priority"] = priority
        member = self.client.member_add(parsed_args.protection_group, body)
        return base.show_columns(member, parsed_args, SHOW_COLUMNS)


class SetMember(base.ShowOne):
    """Change a member of a protection group: its boot tier.

    Syncs the metadata to the secondary site at once; refused (exit 3) if
    the secondary site is unreachable, and (exit 4) while an operation
    runs on the group.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        protection_group.add_pg_argument(parser)
        parser.add_argument("member_id", metavar="<member-id>",
                            help="Member ID (see member list)")
        base.add_required(parser, "--priority", metavar="<1-5>",
                          help=PRIORITY_HELP)
        return parser

    def take_action(self, parsed_args):
        priority = base.parse_int(parsed_args.priority, "--priority",
                                  MIN_PRIORITY, MAX_PRIORITY)
        member = self.client.member_set(parsed_args.protection_group,
                                        parsed_args.member_id,
                                        {"priority": priority})
        return base.show_columns(member, parsed_args, SHOW_COLUMNS)


class RemoveMember(base.Command):
    """Remove a VM from a protection group (its volumes are kept)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        protection_group.add_pg_argument(parser)
        base.add_required(parser, "--member-id", metavar="<uuid>",
                          help="Member ID (see member list)")
        return parser

    def take_action(self, parsed_args):
        self.client.member_remove(parsed_args.protection_group,
                                  parsed_args.member_id)


class ListMember(base.Lister):
    """List the VMs of a protection group."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        protection_group.add_pg_argument(parser)
        parser.add_argument("--long", action="store_true", default=False,
                            help="List additional fields in output")
        return parser

    def take_action(self, parsed_args):
        items = self.client.member_list(parsed_args.protection_group)
        for item in items:
            if item.get("volume_count") is None and \
                    item.get("volumes") is not None:
                item["volume_count"] = len(item["volumes"])
        spec = LONG_COLUMNS if parsed_args.long else LIST_COLUMNS
        return base.list_columns(items, spec)


class ShowMember(base.ShowOne):
    """Show a member of a protection group with its volumes."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        protection_group.add_pg_argument(parser)
        parser.add_argument("member_id", metavar="<member-id>",
                            help="Member ID")
        return parser

    def take_action(self, parsed_args):
        member = self.client.member_show(parsed_args.protection_group,
                                         parsed_args.member_id)
        return base.show_columns(member, parsed_args)

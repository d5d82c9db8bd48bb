"""``openstack dr protection-group ...`` / ``openstack protector
protection-group ...``."""
from protectorclient import exceptions
from protectorclient.osc.v1 import base

REPLICATION_TYPES = ("async", "sync")
MAX_TIER_DELAY = 3600
TIER_DELAY_HELP = ("Seconds a failover, failback or test failover waits "
                   "between two boot tiers (member priorities), after every "
                   "VM of the earlier tier is ACTIVE or failed (0-%d)"
                   % MAX_TIER_DELAY)

# doc/cli.md, "Protection groups" (create/set show the same),
# plus why the status is what it is and what to run next (issue 11).
SHOW_COLUMNS = ("id", "name", "status", "status_reason", "next_action",
                "replication_type", "primary_site",
                "secondary_site", "current_primary_site",
                "consistency_group_id", "member_count", "failover_count",
                "last_failover_at", "tier_delay", "metadata_version",
                "remote_sync_status", "remote_sync_version")
LIST_COLUMNS = [("ID", "id"), ("Name", "name"), ("Status", "status"),
                ("Replication Type", "replication_type"),
                ("Current Primary Site", "current_primary_site")]
LONG_COLUMNS = LIST_COLUMNS + [("Primary Site", "primary_site"),
                               ("Secondary Site", "secondary_site"),
                               ("Members", "member_count"),
                               ("Sync Status", "remote_sync_status"),
                               # The cached RPO state (microversion 1.5).
                               ("RPO Status", "rpo_status"),
                               ("Replication Lag (s)",
                                "replication_lag_seconds")]


def add_pg_argument(parser, dest="protection_group", nargs=None):
    parser.add_argument(dest, metavar="<protection-group>", nargs=nargs,
                        help="Protection group name or ID")


class CreateProtectionGroup(base.ShowOne):
    """Create a protection group and its consistency groups on both sites.

    Needs --secondary-cloud: the new metadata is pushed to the peer site.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        base.add_required(parser, "--name", metavar="<name>",
                          help="Name, unique within the project")
        parser.add_argument("--description", metavar="<description>",
                            help="Free-text description")
        base.add_required(parser, "--replication-type",
                          metavar="{async,sync}",
                          help="async (FlashArray protection group) or sync "
                               "(ActiveCluster pod)")
        base.add_required(parser, "--primary-site", metavar="<site>",
                          help="Site where the workload runs now (name or "
                               "ID)")
        base.add_required(parser, "--secondary-site", metavar="<site>",
                          help="DR target site (name or ID)")
        base.add_required(parser, "--volume-type", metavar="<volume-type>",
                          help="Replication-enabled Cinder volume type of "
                               "the primary cloud (name or ID)")
        parser.add_argument(
            "--secondary-volume-type", metavar="<volume-type>",
            help="The secondary cloud's volume type, when its name differs "
                 "(name or ID, looked up by the server on the secondary "
                 "site). Default: the type of the same name there, else "
                 "the one replicated type there that matches")
        parser.add_argument("--tier-delay", metavar="<seconds>",
                            help=TIER_DELAY_HELP + " (default 0)")
        return parser

    def take_action(self, parsed_args):
        base.check_choice(parsed_args.replication_type, REPLICATION_TYPES,
                          "--replication-type")
        tier_delay = base.parse_int(parsed_args.tier_delay, "--tier-delay",
                                    0, MAX_TIER_DELAY)
        client = self.client
        # Fail before any lookup if the peer token cannot be had.
        client.peer_token("required")
        body = {
            "name": parsed_args.name,
            "replication_type": parsed_args.replication_type,
            "primary_site_id": base.resolve_site_id(
                client, parsed_args.primary_site),
            "secondary_site_id": base.resolve_site_id(
                client, parsed_args.secondary_site),
            "volume_type_id": base.resolve_volume_type_id(
                self.app.client_manager, parsed_args.volume_type),
        }
        if parsed_args.description is not None:
            body["description"] = parsed_args.description
        if tier_delay is not None:
            body["tier_delay"] = tier_delay
        if parsed_args.secondary_volume_type is not None:
            # Sent as given: the server looks a name or an ID up on the
            # secondary site and refuses a bad one before making anything.
            body["secondary_volume_type"] = parsed_args.secondary_volume_type
        pg = client.pg_create(body)
        return base.show_columns(pg, parsed_args, SHOW_COLUMNS)


class ListProtectionGroup(base.Lister):
    """List protection groups of the project."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--long", action="store_true", default=False,
                            help="List additional fields in output")
        parser.add_argument("--limit", type=int, metavar="<n>",
                            help="Only one page of at most <n> groups "
                            "(1 to the site's [api] max_limit; "
                            "microversion 1.6). Without it every group "
                            "is listed, page by page")
        parser.add_argument("--marker", metavar="<protection-group-id>",
                            help="Only the page after this group (the "
                            "last ID of the previous page; 1.6)")
        return parser

    def take_action(self, parsed_args):
        # --long shows the RPO state, which the list carries from 1.5 on.
        items = self.client.pg_list(rpo=parsed_args.long,
                                    limit=parsed_args.limit,
                                    marker=parsed_args.marker)
        spec = LONG_COLUMNS if parsed_args.long else LIST_COLUMNS
        return base.list_columns(items, spec)


# show adds the linked consistency group's details and the replication
# policy summary (doc/cli.md, "Protection groups").
SHOW_DETAIL_COLUMNS = SHOW_COLUMNS + ("consistency_group",
                                      "replication_policy")


def _optional(call, *args):
    """A related resource, or None where there is none (404)."""
    try:
        return call(*args)
    except exceptions.APIError as exc:
        if exc.not_found:
            return None
        raise


def policy_summary(policy):
    if not policy:
        return "none (openstack dr policy create <pg> ...)"
    parts = ["array pg %s" % policy.get("pure_pg_name")]
    if policy.get("replication_interval"):
        parts.append("every %ss" % policy["replication_interval"])
    if policy.get("rpo_minutes"):
        parts.append("RPO %s min" % policy["rpo_minutes"])
    if policy.get("rpo_status"):
        parts.append("RPO status %s" % policy["rpo_status"])
    return ", ".join(parts)


def cg_summary(cg):
    if not cg:
        return None
    return "%s (%s, %s volume(s); primary %s, secondary %s)" % (
        cg.get("name"), cg.get("status"), cg.get("volume_count"),
        cg.get("primary_cg_id"), cg.get("secondary_cg_id"))


class ShowProtectionGroup(base.ShowOne):
    """Show a protection group: sites, failover state, sync version, its
    consistency group and replication policy."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_pg_argument(parser)
        return parser

    def take_action(self, parsed_args):
        pg = self.client.pg_show(parsed_args.protection_group)
        pg = dict(pg)
        pg["consistency_group"] = cg_summary(_optional(
            self.client.pg_consistency_group, pg["id"]))
        pg["replication_policy"] = policy_summary(_optional(
            self.client.policy_show, pg["id"]))
        return base.show_columns(pg, parsed_args, SHOW_DETAIL_COLUMNS)


class ShowConsistencyGroup(base.ShowOne):
    """Show the Cinder consistency group of a protection group (doc/cli.md):
    its name, status, volume count and both sites' group IDs."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_pg_argument(parser)
        return parser

    def take_action(self, parsed_args):
        cg = self.client.pg_consistency_group(parsed_args.protection_group)
        return base.show_columns(cg, parsed_args)


class SetProtectionGroup(base.ShowOne):
    """Change the name, description or tier delay of a protection group
    (both sites)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_pg_argument(parser)
        parser.add_argument("--name", metavar="<name>", help="New name")
        parser.add_argument("--description", metavar="<description>",
                            help="New description")
        parser.add_argument("--tier-delay", metavar="<seconds>",
                            help=TIER_DELAY_HELP)
        return parser

    def take_action(self, parsed_args):
        changes = {k: getattr(parsed_args, k) for k in ("name", "description")
                   if getattr(parsed_args, k) is not None}
        tier_delay = base.parse_int(parsed_args.tier_delay, "--tier-delay",
                                    0, MAX_TIER_DELAY)
        if tier_delay is not None:
            changes["tier_delay"] = tier_delay
        if not changes:
            raise exceptions.UsageError(
                "Nothing to change: give --name, --description and/or "
                "--tier-delay.")
        pg = self.client.pg_update(parsed_args.protection_group, changes)
        return base.show_columns(pg, parsed_args, SHOW_COLUMNS)


class DeleteProtectionGroup(base.Command):
    """Delete protection group(s) and their consistency groups."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_pg_argument(parser, dest="protection_groups", nargs="+")
        return parser

    def take_action(self, parsed_args):
        failures = []
        last_exc = None
        for pg in parsed_args.protection_groups:
            try:
                self.client.pg_delete(pg)
            except exceptions.ProtectorClientError as exc:
                # No peer token or peer unreachable: the same for every
                # group, so stop at once.
                if not isinstance(exc, exceptions.APIError):
                    raise
                failures.append("%s: %s" % (pg, exc))
                last_exc = exc
        if not failures:
            return
        if len(parsed_args.protection_groups) == 1:
            raise last_exc
        error = exceptions.ProtectorClientError(
            "%d of %d protection groups failed to delete:\n%s" % (
                len(failures), len(parsed_args.protection_groups),
                "\n".join(failures)))
        error.exit_code = last_exc.exit_code
        raise error

"""``openstack dr policy create|show <pg>``: the replication policy."""
from protectorclient import exceptions
from protectorclient.osc.v1 import base
from protectorclient.osc.v1 import protection_group

# doc/cli.md, "Replication policy".
COLUMNS = ("protection_group_id", "primary_fa_url", "primary_fa_api_token",
           "secondary_fa_url", "secondary_fa_api_token", "pure_pg_name",
           "replication_interval", "rpo_minutes")
SECRET_KEYS = ("primary_fa_api_token", "secondary_fa_api_token")


def _policy_columns(policy, parsed_args):
    # The API masks tokens already; mask again so a server bug can never
    # print a FlashArray token (doc/cli.md: "masked in all command output").
    return base.show_columns(base.mask_secrets(policy, SECRET_KEYS),
                             parsed_args, COLUMNS)


def _positive_int(value, flag):
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise exceptions.UsageError(
            "%s must be a positive integer, got %r" % (flag, value))
    return number


class CreatePolicy(base.ShowOne):
    """Create or replace the replication policy of a protection group."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        protection_group.add_pg_argument(parser)
        base.add_required(parser, "--primary-fa-url", metavar="<url>",
                          help="FlashArray management URL on the primary "
                               "site")
        base.add_required(parser, "--primary-fa-token", metavar="<token>",
                          help="FlashArray API token on the primary site")
        base.add_required(parser, "--secondary-fa-url", metavar="<url>",
                          help="FlashArray management URL on the secondary "
                               "site")
        base.add_required(parser, "--secondary-fa-token", metavar="<token>",
                          help="FlashArray API token on the secondary site")
        base.add_required(parser, "--pure-pg-name", metavar="<name>",
                          help="FlashArray protection group (or pod) name")
        parser.add_argument("--replication-interval", metavar="<seconds>",
                            help="Snapshot replication interval in seconds "
                                 "(async; default 300; not used by sync "
                                 "groups)")
        parser.add_argument("--rpo-minutes", metavar="<minutes>",
                            help="Recovery point objective in minutes "
                                 "(async; default 15; not needed by sync "
                                 "groups)")
        return parser

    def take_action(self, parsed_args):
        body = {
            "primary_fa_url": parsed_args.primary_fa_url,
            "primary_fa_api_token": parsed_args.primary_fa_token,
            "secondary_fa_url": parsed_args.secondary_fa_url,
            "secondary_fa_api_token": parsed_args.secondary_fa_token,
            "pure_pg_name": parsed_args.pure_pg_name,
        }
        interval = _positive_int(parsed_args.replication_interval,
                                 "--replication-interval")
        rpo = _positive_int(parsed_args.rpo_minutes, "--rpo-minutes")
        if interval is not None:
            body["replication_interval"] = interval
        if rpo is not None:
            body["rpo_minutes"] = rpo
        policy = self.client.policy_set(parsed_args.protection_group, body)
        return _policy_columns(policy, parsed_args)


class ShowPolicy(base.ShowOne):
    """Show the replication policy of a protection group (tokens masked)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        protection_group.add_pg_argument(parser)
        return parser

    def take_action(self, parsed_args):
        policy = self.client.policy_show(parsed_args.protection_group)
        return _policy_columns(policy, parsed_args)

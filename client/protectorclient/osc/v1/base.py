"""Shared behaviour of every Protector command.

* Exit codes (doc/cli.md): a :class:`~protectorclient.exceptions.
  ProtectorClientError` is written to stderr and its ``exit_code`` becomes
  the process exit status. OSC's own ``main`` returns whatever
  ``Command.run`` returns, so this is the one place codes 3-5 can escape
  cliff's catch-all (which would turn every exception into 1).
* Required flags are checked after parsing, so that a missing flag is a
  "general error" (1) as doc/cli.md says, while argparse keeps exit 2 for
  usage errors (unknown command, missing positional, exclusive flags).
* Output: tables show the columns doc/cli.md lists; ``-f json|yaml``
  give every field the API returned; ``-c`` may pick any field.
"""
import logging
import re

from cliff import columns as cliff_columns
from osc_lib.cli import format_columns
from osc_lib.command import command

from protectorclient import exceptions

MACHINE_FORMATS = ("json", "yaml")
DISTRIBUTION = "protectorclient"  # client/pyproject.toml
MASKED = "*** (masked)"
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                      r"[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def is_uuid_like(value):
    return bool(value) and bool(_UUID_RE.match(str(value)))


def add_required(parser, *flags, **kwargs):
    """Add an option the command needs, validated after parsing (exit 1)."""
    help_text = kwargs.pop("help", "")
    kwargs["help"] = (help_text + " (required)").strip()
    action = parser.add_argument(*flags, **kwargs)
    required = getattr(parser, "_protector_required", [])
    required.append((action.dest, flags[0]))
    parser._protector_required = required
    return action


class ProtectorMixin:
    """Exit-code mapping and post-parse checks for every command."""

    log = logging.getLogger(__name__)
    # Set by take_action to end with a non-zero status after printing
    # (``--wait`` on an operation that failed).
    exit_code = 0

    def get_epilog(self):
        """cliff's, without its look-up of the distribution that provides
        the command: that scans every installed package's file list
        (``importlib.metadata.packages_distributions``), 0.4-0.5 s of
        each ``openstack dr`` run, for one line of ``--help``."""
        parts = [self._epilog or ""]
        parts += [epilog for hook in self._hooks if hook.obj is not None
                  for epilog in [hook.obj.get_epilog()] if epilog]
        parts.append("This command is provided by the %s plugin." %
                     DISTRIBUTION)
        return "\n\n".join(parts)

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        # Subclasses add their options after this returns; read the
        # required list from the parser when checking.
        self._protector_parser = parser
        return parser

    def _check_required(self, parsed_args):
        parser = getattr(self, "_protector_parser", None)
        required = getattr(parser, "_protector_required", ())
        missing = [flag for dest, flag in required
                   if getattr(parsed_args, dest, None) in (None, "", [])]
        if missing:
            raise exceptions.UsageError(
                "Missing required flag%s: %s" % (
                    "s" if len(missing) > 1 else "", ", ".join(missing)))

    def run(self, parsed_args):
        try:
            self._check_required(parsed_args)
            result = super().run(parsed_args)
        except exceptions.ProtectorClientError as exc:
            options = getattr(self.app, "options", None)
            if getattr(options, "debug", False):
                self.log.exception("protector command failed")
            self.app.stderr.write("%s\n" % exc)
            return exc.exit_code
        return self.exit_code or result

    @property
    def client(self):
        return self.app.client_manager.protector


class Command(ProtectorMixin, command.Command):
    pass


class Lister(ProtectorMixin, command.Lister):
    pass


class ShowOne(ProtectorMixin, command.ShowOne):
    pass


def _format_value(value):
    if isinstance(value, cliff_columns.FormattableColumn):
        return value
    if isinstance(value, dict):
        return format_columns.DictColumn(value)
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return format_columns.ListColumn(value)
        return format_columns.ListDictColumn(value) \
            if all(isinstance(v, dict) for v in value) \
            else format_columns.ListColumn(value)
    return value


def mask_secrets(item, keys):
    item = dict(item)
    for key in keys:
        if key in item and item[key] not in (None, ""):
            item[key] = MASKED
    return item


def show_columns(item, parsed_args, summary=None, rename=None):
    """(columns, values) for a ShowOne.

    ``summary`` is the table doc/cli.md lists; fields the API returned
    beyond it are appended when the output is machine-readable or ``-c``
    was given. ``rename`` maps an API key to the displayed field name.
    """
    rename = rename or {}
    keys = list(summary) if summary else []
    everything = (summary is None or bool(parsed_args.columns)
                  or getattr(parsed_args, "formatter", None)
                  in MACHINE_FORMATS)
    if everything:
        keys += [k for k in item if k not in keys
                 and k not in rename.values()]
    columns = tuple(keys)
    values = []
    for key in keys:
        source = rename.get(key, key)
        values.append(_format_value(item.get(source)))
    return columns, tuple(values)


def list_columns(items, spec, parsed_args=None):
    """(headers, rows) for a Lister from ``spec`` = [(header, key), ...]."""
    headers = tuple(h for h, _ in spec)
    rows = [tuple(_format_value(item.get(key)) for _, key in spec)
            for item in items]
    return headers, rows


def parse_mappings(values, flag):
    """``['a=b', 'c=d']`` -> ``{'a': 'b', 'c': 'd'}`` (malformed: exit 1)."""
    result = {}
    for value in values or ():
        source, sep, target = value.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise exceptions.UsageError(
                "%s expects SOURCE=TARGET, got %r" % (flag, value))
        result[source.strip()] = target.strip()
    return result


def check_choice(value, choices, flag):
    if value is not None and value not in choices:
        raise exceptions.UsageError(
            "%s must be one of %s, got %r" % (flag, ", ".join(choices),
                                              value))
    return value


def parse_int(value, flag, low, high):
    """``value`` as an integer in ``low``..``high`` (malformed: exit 1);
    None stays None."""
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise exceptions.UsageError(
            "%s must be a whole number from %d to %d, got %r" % (
                flag, low, high, value))
    return number


def resolve_site_id(client, value):
    """A site name or UUID -> its UUID, through the sites API."""
    try:
        return client.site_show(value)["id"]
    except exceptions.APIError as exc:
        if exc.not_found:
            raise exceptions.ProtectorClientError(
                "No site named or with ID %r is registered." % value) \
                from exc
        raise


def resolve_volume_type_id(client_manager, value):
    """A Cinder volume type name or ID on the primary cloud -> its ID.

    UUIDs are passed through untouched (the server validates them on both
    sites); names are looked up with openstacksdk's block-storage proxy.
    """
    if is_uuid_like(value):
        return value
    try:
        conn = client_manager.sdk_connection
        vtype = conn.block_storage.find_type(value, ignore_missing=False)
    except Exception as exc:  # sdk raises ResourceNotFound, HttpException..
        raise exceptions.ProtectorClientError(
            "Cannot resolve volume type %r on the primary site: %s"
            % (value, exc)) from exc
    return vtype.id

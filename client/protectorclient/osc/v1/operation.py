"""``openstack dr operation list|show|retry|rollback`` and following an
operation.

DR operations run on the site that receives them (failover and test
failover on the secondary site, failback on the primary), so their records
may live on either site: ``show`` falls back to the secondary site on 404
and ``list`` merges both sites when ``--secondary-cloud`` is set.
``retry`` and ``rollback`` go to the site that holds the operation the
same way (primary first, the secondary on 404), with the other site's
token as peer token when there is one (a planned operation's source-site
steps use it; without it the credential the operation kept is used).
"""
import time

from cliff import columns as cliff_columns

from protectorclient import client as protector_client
from protectorclient import exceptions
from protectorclient import sites
from protectorclient.osc.v1 import base

TERMINAL_STATUSES = ("completed", "failed")
OPERATION_TYPES = ("failover", "failback", "test_failover", "test_cleanup",
                   "rollback")
STATUSES = ("queued", "running", "completed", "failed")

# doc/cli.md, "Operations": the list columns.
LIST_COLUMNS = [("ID", "id"), ("Type", "operation_type"),
                ("PG Name", "protection_group_name"), ("Status", "status"),
                ("Progress", "progress")]
LONG_COLUMNS = LIST_COLUMNS + [("Current Step", "current_step"),
                               ("Started At", "started_at"),
                               ("Completed At", "completed_at")]
# doc/cli.md, "Operations": the show table; -f json adds every field, in
# the order of JSON_ORDER (steps_completed etc.).
SHOW_COLUMNS = ("id", "operation_type", "status", "progress", "started_at",
                "completed_at", "error_message")
JSON_ORDER = ("id", "protection_group_id", "operation_type", "status",
              "source_site_id", "target_site_id", "progress", "started_at",
              "completed_at", "error_message", "steps_completed",
              "steps_failed")
# The show table adds ``tiers`` when the operation has boot tiers
# (microversion 1.4): one line per tier.
TIERS = "tiers"
# What a DR action command prints (doc/cli.md, "DR operations").
ACCEPTED_COLUMNS = ("operation_id", "operation_type", "status", "progress")

POLL_INTERVAL = 2.0
BAR_WIDTH = 30


def order_operation(operation):
    ordered = {k: operation.get(k) for k in JSON_ORDER if k in operation}
    ordered.update(operation)
    return ordered


def accepted_columns(operation, parsed_args):
    return base.show_columns(order_operation(operation), parsed_args,
                             ACCEPTED_COLUMNS, rename={"operation_id": "id"})


def _seconds(value):
    return "%.1f s" % value if isinstance(value, (int, float)) else "-"


def tier_lines(tiers):
    """One line per boot tier: ``tier 2 (priority 3, after a 30 s delay):
    completed in 41.2 s; db-1 active 40.8 s, db-2 failed 12.0 s (...)``."""
    lines = []
    for tier in tiers or []:
        head = "tier %s (priority %s" % (tier.get("tier"),
                                         tier.get("priority"))
        if tier.get("delay_seconds"):
            head += ", after a %s s delay" % tier["delay_seconds"]
        head += "): %s" % tier.get("status")
        if tier.get("duration_seconds") is not None:
            head += " in %s" % _seconds(tier["duration_seconds"])
        vms = []
        for vm in tier.get("instances") or []:
            text = "%s %s" % (vm.get("instance_name") or vm.get("member_id"),
                              vm.get("status"))
            if vm.get("seconds") is not None:
                text += " %s" % _seconds(vm["seconds"])
            if vm.get("error"):
                text += " (%s)" % vm["error"]
            vms.append(text)
        lines.append(head + ("; " + ", ".join(vms) if vms else ""))
    return lines


class TiersColumn(cliff_columns.FormattableColumn):
    """``tiers``: a line per tier in tables, the API's list otherwise."""

    def human_readable(self):
        return "\n".join(tier_lines(self._value))

    def machine_readable(self):
        return self._value


def progress_line(operation):
    try:
        percent = max(0, min(100, int(operation.get("progress") or 0)))
    except (TypeError, ValueError):
        percent = 0
    filled = BAR_WIDTH * percent // 100
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    step = operation.get("current_step") or "-"
    return "[%s] %3d%%  %s (%s)" % (bar, percent, step,
                                    operation.get("status"))


# Consecutive failed polls tolerated by --wait (x POLL_INTERVAL seconds).
POLL_RETRIES = 30


def wait_for_operation(client, operation, stream, interval=POLL_INTERVAL,
                       sleep=None):
    """Poll until the operation ends, drawing a progress bar on ``stream``.

    On a terminal the bar redraws in place; otherwise one line is written
    per change (logs stay readable). Returns the final operation.
    """
    sleep = sleep or time.sleep
    isatty = getattr(stream, "isatty", lambda: False)()
    last = None
    width = 0
    failures = 0
    while True:
        line = progress_line(operation)
        if isatty:
            stream.write("\r" + line.ljust(width))
            width = max(width, len(line))
        elif line != last:
            stream.write(line + "\n")
        last = line
        if hasattr(stream, "flush"):
            stream.flush()
        if operation.get("status") in TERMINAL_STATUSES:
            break
        sleep(interval)
        try:
            operation = client.operation_show(operation["id"])
            failures = 0
        except exceptions.APIUnreachable as exc:
            # A read: retry through a dropped connection or an API restart
            # (the operation runs in the engine, not in this request).
            failures += 1
            if failures > POLL_RETRIES:
                raise
            stream.write("%s(retrying: %s)\n" % ("\n" if isatty else "",
                                                  exc))
    if isatty:
        stream.write("\n")
    return operation


def failure_message(operation):
    steps = ", ".join(operation.get("steps_failed") or []) or \
        operation.get("current_step") or "unknown step"
    return ("Operation %s (%s) failed at %s: %s" % (
        operation.get("id"), operation.get("operation_type"), steps,
        operation.get("error_message") or "no error message"))


def peer_client(client, peer=None):
    """A client for the secondary site's API, or None when not configured.
    ``peer``: the token source its requests send as peer token."""
    if client.peer is None or not hasattr(client.peer, "client"):
        return None
    if peer is None:
        return client.peer.client(client.api_version)
    return client.peer.client(client.api_version, peer=peer)


class ListOperation(base.Lister):
    """List DR operations with type, status and progress."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--protection-group", metavar="<pg>",
                            help="Only operations of this protection group "
                                 "(name or ID)")
        parser.add_argument("--status", metavar="<status>",
                            help="Only operations in this status (%s)"
                                 % ", ".join(STATUSES))
        parser.add_argument("--type", metavar="<type>", dest="op_type",
                            help="Only operations of this type (%s)"
                                 % ", ".join(OPERATION_TYPES))
        parser.add_argument("--long", action="store_true", default=False,
                            help="Also show current step and timestamps")
        return parser

    def take_action(self, parsed_args):
        base.check_choice(parsed_args.status, STATUSES, "--status")
        base.check_choice(parsed_args.op_type, OPERATION_TYPES, "--type")
        client = self.client
        filters = {"status": parsed_args.status,
                   "operation_type": parsed_args.op_type}
        if parsed_args.protection_group:
            filters["protection_group_id"] = client.pg_show(
                parsed_args.protection_group)["id"]
        items = list(client.operation_list(**filters))
        try:
            secondary = peer_client(client)
            if secondary is not None:
                seen = {op["id"] for op in items}
                items += [op for op in secondary.operation_list(**filters)
                          if op["id"] not in seen]
        except exceptions.ProtectorClientError as exc:
            self.app.stderr.write(
                "Warning: operations of the secondary site not listed: "
                "%s\n" % exc)
        items.sort(key=lambda op: op.get("started_at") or "", reverse=True)
        spec = LONG_COLUMNS if parsed_args.long else LIST_COLUMNS
        return base.list_columns(items, spec)


class ShowOperation(base.ShowOne):
    """Show a DR operation with per-step detail."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("operation", metavar="<operation-id>",
                            help="Operation ID")
        parser.add_argument("--wait", action="store_true", default=False,
                            help="Follow the operation until it completes "
                                 "or fails (progress on stderr)")
        return parser

    def take_action(self, parsed_args):
        client = self.client
        try:
            operation = client.operation_show(parsed_args.operation)
        except exceptions.APIError as exc:
            secondary = peer_client(client) if exc.not_found else None
            if secondary is None:
                raise
            operation = secondary.operation_show(parsed_args.operation)
            client = secondary
        if parsed_args.wait:
            operation = wait_for_operation(client, operation,
                                           self.app.stderr)
            if operation.get("status") == "failed":
                self.app.stderr.write(failure_message(operation) + "\n")
                self.exit_code = exceptions.EXIT_ERROR
        # Machine formats keep the field order doc/cli.md gives (JSON_ORDER).
        summary = (None if parsed_args.formatter in base.MACHINE_FORMATS
                   else SHOW_COLUMNS)
        operation = order_operation(operation)
        if operation.get(TIERS):
            operation[TIERS] = TiersColumn(operation[TIERS])
            if summary is not None:
                summary = SHOW_COLUMNS + (TIERS,)
        return base.show_columns(operation, parsed_args, summary)


class _OperationAction(base.ShowOne):
    action = None

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("operation", metavar="<operation-id>",
                            help="ID of the failed operation")
        parser.add_argument("--wait", action="store_true", default=False,
                            help="Follow the operation until it completes "
                                 "or fails, with a progress bar on stderr; "
                                 "exit 1 if it fails")
        return parser

    def _peer_mode(self, site):
        """Send the other site's token when it can be had; a retry or a
        rollback can go on without it (the operation kept a credential)."""
        if site is None:
            return protector_client.PEER_NONE
        try:
            site.token()
        except exceptions.ProtectorClientError as exc:
            self.app.stderr.write(
                "Warning: no token for the other site (%s); sending the "
                "request without it.\n" % exc)
            return protector_client.PEER_NONE
        return protector_client.PEER_OPTIONAL

    def take_action(self, parsed_args):
        client = self.client
        op_id = parsed_args.operation
        try:
            operation = client.operation_action(
                op_id, self.action, peer=self._peer_mode(client.peer))
        except exceptions.APIError as exc:
            primary = sites.SessionSite(self.app.client_manager.session)
            secondary = peer_client(client, peer=primary) \
                if exc.not_found else None
            if secondary is None:
                raise
            operation = secondary.operation_action(
                op_id, self.action, peer=self._peer_mode(primary))
            client = secondary
        if parsed_args.wait:
            operation = wait_for_operation(client, operation,
                                           self.app.stderr)
            if operation.get("status") == "failed":
                self.app.stderr.write(failure_message(operation) + "\n")
                self.exit_code = exceptions.EXIT_ERROR
        return accepted_columns(operation, parsed_args)


class RetryOperation(_OperationAction):
    """Retry a failed DR operation: it continues from its failed step.

    Only the newest operation of its protection group, once nothing else
    runs on the group.
    """

    action = "retry"


class RollbackOperation(_OperationAction):
    """Roll back a failed failover, failback or test failover.

    A new rollback operation deletes what the failed one made, restarts the
    source instances it shut down and returns the group to its previous
    status.
    """

    action = "rollback"

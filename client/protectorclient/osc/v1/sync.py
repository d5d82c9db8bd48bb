"""Metadata sync of a protection group between the two sites.

``openstack protector protection-group sync-status|sync-force <pg>``
(also under ``openstack dr protection-group``). The default output is
the text report of doc/cli.md, "Protection groups"; ``-f json|yaml`` (or
``-c``) give the raw API fields for scripts.
"""
import datetime

from protectorclient.osc.v1 import base
from protectorclient.osc.v1 import protection_group

OK = "\u2705"     # the report's check mark
FAIL = "\u274c"   # the report's cross


def _parse_time(value):
    if not value:
        return None
    try:
        return datetime.datetime.fromisoformat(
            str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _ago(value, now):
    when = _parse_time(value)
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    seconds = int((now - when).total_seconds())
    if seconds < 0:
        return ""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return " (%d %s%s ago)" % (count, unit, "" if count == 1 else "s")
    return " (%d second%s ago)" % (seconds, "" if seconds == 1 else "s")


def render_sync_status(status, now=None):
    """The ``sync-status`` report (doc/cli.md) for a ``sync_status`` body."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    in_sync = bool(status.get("in_sync"))
    local = status.get("local_version")
    remote = status.get("remote_version")
    remote_status = status.get("remote_status") or "UNKNOWN"
    lines = ["Sync Status: %s" % ("%s IN SYNC" % OK if in_sync
                                  else "%s OUT OF SYNC" % FAIL),
             "",
             "Local Metadata:",
             "  Version: %s" % local,
             "  Current Site: %s" % status.get("current_site"),
             "  Last Modified: %s" % status.get("last_modified"),
             "",
             "Remote Sync:"]
    if status.get("remote_site"):
        lines.append("  Site: %s" % status.get("remote_site"))
    lines += ["  Status: %s" % remote_status,
              "  Remote Version: %s" % remote,
              "  Last Sync: %s%s" % (status.get("last_sync_at"),
                                     _ago(status.get("last_sync_at"), now))]
    if status.get("last_error"):
        lines.append("  Error: %s" % status["last_error"])
    lines.append("")
    if in_sync:
        last_sync = _parse_time(status.get("last_sync_at"))
        modified = _parse_time(status.get("last_modified"))
        recent = (last_sync is not None and
                  (modified is None or last_sync >= modified))
        lines += ["Validation:",
                  "  %s Versions match (%s = %s)" % (
                      OK if local == remote else FAIL, local, remote),
                  "  %s Sync status is '%s'" % (
                      OK if remote_status == "SYNCED" else FAIL,
                      remote_status.lower()),
                  "  %s %s" % ((OK, "Last sync is recent") if recent else
                               (FAIL, "Last sync predates the last local "
                                      "change")),
                  "",
                  "Both sites have identical metadata."]
    else:
        if status.get("ahead"):
            lines += ["Newer metadata: %s" % (
                "the sites diverged at the same version"
                if status["ahead"] == "diverged" else status["ahead"]), ""]
        lines.append("Action Required:")
        if status.get("remote_checked"):
            lines += ["  1. Converge them: openstack protector "
                      "protection-group sync-force <pg> (the newer site "
                      "pushes, whichever site you ask)"]
        elif remote_status == "PENDING":
            lines += ["  1. Wait for the pending sync to finish",
                      "  2. Or force it: openstack protector "
                      "protection-group sync-force <pg>"]
        else:
            lines += ["  1. Check remote site connectivity",
                      "  2. Force sync once remote site is available"]
    return "\n".join(lines) + "\n"


def render_sync_result(result):
    """The ``sync-force`` report (doc/cli.md) for a ``sync_result``."""
    site = result.get("remote_site") or "the remote site"
    version = result.get("version")
    ok = result.get("status") == "success"
    lines = ["Force Sync Initiated...",
             "Checking remote site connectivity..."]
    steps = result.get("steps")
    if ok:
        lines.append("%s %s is reachable" % (OK, site))
    lines += ["", "Syncing metadata (version %s%s)..." % (
        version, ", from %s to %s" % (result["source_site"],
                                      result["target_site"])
        if result.get("source_site") else "")]
    if steps is None:
        # A server that does not report its steps: only the outcome.
        steps = [{"step": "push to %s" % site, "ok": ok}]
    for step in steps:
        # The steps the server reports it took, in its words.
        text = step.get("step") or ""
        lines.append("  %s... %s" % (text[:1].upper() + text[1:],
                                     OK if step.get("ok") else FAIL))
    lines += ["",
              "Remote Site Response:",
              "  Status: %s" % result.get("status"),
              "  Version: %s" % version]
    if result.get("duration_ms") is not None:
        lines.append("  Duration: %sms" % result["duration_ms"])
    if result.get("error"):
        lines.append("  Error: %s" % result["error"])
    lines.append("")
    if ok:
        lines += ["%s Sync completed successfully" % OK,
                  "Both sites now at version %s" % version]
    else:
        lines += ["%s Sync failed; the sites still differ. Fix the cause "
                  "above and run sync-force again." % FAIL]
    return "\n".join(lines) + "\n"


class _TextReport(base.ShowOne):
    renderer = None

    def produce_output(self, parsed_args, column_names, data):
        if parsed_args.formatter == "table" and not parsed_args.columns:
            self.app.stdout.write(type(self).renderer(self._body))
            return 0
        return super().produce_output(parsed_args, column_names, data)


class ShowSyncStatus(_TextReport):
    """Show whether both sites hold the same protection group metadata."""

    renderer = staticmethod(render_sync_status)

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        protection_group.add_pg_argument(parser)
        return parser

    def take_action(self, parsed_args):
        self._body = self.client.pg_sync_status(parsed_args.protection_group)
        return base.show_columns(self._body, parsed_args)


class ForceSync(_TextReport):
    """Push this site's protection group metadata to the peer site now."""

    renderer = staticmethod(render_sync_result)

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        protection_group.add_pg_argument(parser)
        return parser

    def take_action(self, parsed_args):
        self._body = self.client.pg_sync_force(parsed_args.protection_group)
        if self._body.get("status") != "success":
            # The report is printed; the status says the sites differ.
            self.exit_code = 1
        return base.show_columns(self._body, parsed_args)

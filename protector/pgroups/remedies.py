"""What to run next for a protection group: ``next_action`` of show/list.

A pure function of the group and its latest operation (the plain dicts of
``db.protection_groups.get`` and ``latest_operation``), so every case is
unit-tested without a cloud or a database. The texts name CLI commands;
doc/engine.md ("Group status: cause and remedy") has the same table.
``None`` means nothing needs doing.
"""

# Once a step of these has started, a rollback is refused (412
# protector.precondition.rollback_impossible): only a retry goes on.
ROLLBACK_BARRIERS = {
    "failover": ("update_protection_group",),
    "failback": ("retire_previous_instances", "unmanage_source_volumes",
                 "update_protection_group"),
}
ROLLBACK_KINDS = ("failover", "failback", "test_failover")
ACTIVE = ("queued", "running")
# The markers groups.delete writes in status_reason (kept here too so
# this module imports nothing).
PEER_NOTIFIED = "deleting: peer notified"


def can_roll_back(kind, started_steps):
    """Whether a failed ``kind`` whose steps ``started_steps`` ran (or
    failed) may still be rolled back."""
    if kind not in ROLLBACK_KINDS:
        return False
    return not set(ROLLBACK_BARRIERS.get(kind, ())) & set(started_steps)


def fix_then(op_id, kind, started_steps, previous):
    """'Fix the cause, then retry (or roll back)' for failed ``op_id``."""
    text = ("Fix the cause (openstack dr operation show %s), then "
            "'openstack dr operation retry %s' to continue" % (op_id, op_id))
    if can_roll_back(kind, started_steps):
        text += (", or 'openstack dr operation rollback %s' to undo it and "
                 "return to '%s'" % (op_id, previous or "its status before"))
    elif kind in ROLLBACK_KINDS:
        text += " (it is too far along to roll back)"
    return text + "."


def _started(op):
    return [s["name"] for s in op.get("steps") or ()
            if s.get("status") not in (None, "pending")]


def _previous(op):
    return (op.get("parameters") or {}).get("previous_status")


def _lifecycle(pg, stale_after):
    name, wait = pg["name"], int(stale_after)
    if pg["status"] == "creating":
        return ("Being created. If it is still 'creating' %d s after its "
                "last change (updated_at), the create was interrupted: "
                "protector-engine on this site then marks it 'error' "
                "(restart protector-engine if it is not running; it checks "
                "at start), and 'openstack dr protection-group delete %s' "
                "removes what was made." % (wait, name))
    if (pg.get("status_reason") or "").startswith(PEER_NOTIFIED):
        return ("Being deleted; the peer site has already dropped it. If it "
                "is still 'deleting' %d s after its last change, "
                "protector-engine on this site finishes the delete (restart "
                "protector-engine if it is not running; it checks at "
                "start)." % wait)
    return ("Being deleted. If it is still 'deleting' %d s after its last "
            "change, the peer site was never told: protector-engine on "
            "this site puts it back to 'active' (restart it if it is not "
            "running), then run 'openstack dr protection-group delete %s' "
            "again." % (wait, name))


def _after_failure(pg, op):
    """The text for a failed latest operation that left the group usable
    (status back to what it was, or a test failover's resources)."""
    op_id, kind = op["id"], op["operation_type"]
    show = "openstack dr operation show %s" % op_id
    if kind == "test_failover" and pg.get("active_test_operation_id") == \
            op_id:
        return ("Test failover %s failed and left resources on the DR "
                "site. Fix the cause (%s), then 'openstack dr operation "
                "retry %s' to finish the test, or 'openstack dr test-cleanup "
                "%s' to remove what it made." % (op_id, show, op_id,
                                                 pg["name"]))
    if kind == "test_cleanup":
        return ("Test cleanup %s failed. Fix the cause (%s), then "
                "'openstack dr operation retry %s' (or run 'openstack dr "
                "test-cleanup %s' again)." % (op_id, show, op_id,
                                              pg["name"]))
    return ("Operation %s (%s) failed without changing anything. Fix the "
            "cause (%s), then 'openstack dr operation retry %s', or start "
            "it again." % (op_id, kind, show, op_id))


def next_action(pg, latest=None, stale_after=300):
    """Command(s) to run next for ``pg`` (text), or None.

    ``latest`` is the operation holding the group, else its newest
    top-level operation on this site (None if none); ``stale_after`` is
    ``[engine] lifecycle_stale_after``.
    """
    status = pg["status"]
    op = latest or {}
    if status in ("creating", "deleting"):
        return _lifecycle(pg, stale_after)
    if op.get("status") in ACTIVE:
        return ("Wait for operation %s (%s, %s): openstack dr operation "
                "show %s --wait" % (op["id"], op["operation_type"],
                                    op["status"], op["id"]))
    failed = op.get("status") == "failed"
    if status in ("error", "failing_over", "failing_back"):
        if failed:
            return fix_then(op["id"], op["operation_type"], _started(op),
                            _previous(op))
        if status != "error":
            return ("No operation is running although the group is '%s': "
                    "check that protector-engine runs on this site "
                    "(systemctl status protector-engine); it resumes the "
                    "interrupted operation when it starts." % status)
        if not pg.get("metadata_version"):
            return ("The create failed or was interrupted (see "
                    "status_reason): 'openstack dr protection-group delete "
                    "%s' removes what it made; then create it again." %
                    pg["name"])
        return ("See status_reason and 'openstack dr operation list "
                "--protection-group %s'; fix the cause, then retry or roll "
                "back the failed operation ('openstack dr operation retry "
                "<operation-id>' / 'rollback <operation-id>')." % pg["name"])
    if failed:
        return _after_failure(pg, op)
    if pg.get("active_test_operation_id"):
        return ("A test failover (operation %s) is up on the DR site: "
                "remove it with 'openstack dr test-cleanup %s' when the "
                "drill is done (a failover needs it gone)." % (
                    pg["active_test_operation_id"], pg["name"]))
    if status == "failed_over":
        text = ("The workload runs on %s. When %s is back: 'openstack dr "
                "failback %s --dry-run' to check, then 'openstack dr "
                "failback %s'." % (pg.get("current_primary_site") or
                                   "the secondary site",
                                   pg.get("primary_site") or
                                   "the original site", pg["name"],
                                   pg["name"]))
        sync = pg.get("sync") or {}
        if sync and sync.get("status") != "SYNCED":
            text += (" First push the metadata there: 'openstack dr "
                     "protection-group sync-force %s'." % pg["name"])
        return text
    return None

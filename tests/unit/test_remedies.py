"""next_action (pgroups/remedies.py) for every group status, and the
status_reason the engine's on_failure hook writes (lifecycle_tasks)."""
import pytest

from protector.engine.tasks import lifecycle_tasks
from protector import exception
from protector.pgroups import remedies

OP = "0f0f0f0f-0000-4000-8000-000000000001"
TEST = "0f0f0f0f-0000-4000-8000-000000000002"


def group(status="active", **kw):
    pg = {"id": "pg-id", "name": "web", "status": status,
          "status_reason": None, "metadata_version": 3,
          "current_operation_id": None, "active_test_operation_id": None,
          "primary_site": "site-a", "current_primary_site": "site-b",
          "sync": {"status": "SYNCED"}}
    pg.update(kw)
    return pg


def op(kind="failover", status="failed", steps=(), previous="active",
       op_id=OP):
    names = ("validate_sites", "snapshot_consistency_group",
             "promote_volumes", "recreate_instances",
             "update_protection_group") if kind == "failover" else (
        "validate_sites", "reverse_replication",
        "snapshot_consistency_group", "promote_volumes",
        "recreate_instances", "retire_previous_instances",
        "unmanage_source_volumes", "update_protection_group")
    done = dict(steps)
    return {"id": op_id, "operation_type": kind, "status": status,
            "parameters": {"previous_status": previous},
            "steps": [{"name": n, "status": done.get(n, "pending")}
                      for n in names]}


def test_error_after_failed_failover_offers_retry_and_rollback():
    text = remedies.next_action(group("error"), op(steps=[
        ("validate_sites", "completed"),
        ("snapshot_consistency_group", "completed"),
        ("promote_volumes", "failed")]))
    assert "openstack dr operation show %s" % OP in text
    assert "'openstack dr operation retry %s'" % OP in text
    assert "'openstack dr operation rollback %s'" % OP in text
    assert "return to 'active'" in text


def test_error_after_failback_past_retire_offers_retry_only():
    text = remedies.next_action(group("error"), op(
        "failback", previous="failed_over", steps=[
            ("validate_sites", "completed"),
            ("recreate_instances", "completed"),
            ("retire_previous_instances", "failed")]))
    assert "operation retry %s" % OP in text
    assert "rollback" not in text.replace("too far along to roll back", "")
    assert "too far along" in text


def test_failback_before_retire_rolls_back_to_failed_over():
    text = remedies.next_action(group("error"), op(
        "failback", previous="failed_over", steps=[
            ("promote_volumes", "failed")]))
    assert "rollback %s" % OP in text
    assert "return to 'failed_over'" in text


@pytest.mark.parametrize("status", ["failing_over", "failing_back"])
def test_running_operation_wait(status):
    pg = group(status, current_operation_id=OP)
    text = remedies.next_action(pg, op(status="running"))
    assert text == ("Wait for operation %s (failover, running): openstack "
                    "dr operation show %s --wait" % (OP, OP))


def test_transient_status_without_running_operation_points_at_engine():
    text = remedies.next_action(group("failing_over"),
                                op(status="completed"))
    assert "protector-engine" in text


def test_failed_over_suggests_failback_and_sync_force_when_unsynced():
    text = remedies.next_action(group("failed_over"), op(
        status="completed"))
    assert "'openstack dr failback web'" in text
    assert "--dry-run" in text
    assert "site-b" in text and "sync-force" not in text
    text = remedies.next_action(group(
        "failed_over", sync={"status": "UNREACHABLE"}), op(
        status="completed"))
    assert "openstack dr protection-group sync-force web" in text


def test_active_with_active_test_suggests_cleanup():
    pg = group(active_test_operation_id=TEST)
    text = remedies.next_action(pg, op("test_failover", status="completed",
                                       op_id=TEST))
    assert "openstack dr test-cleanup web" in text
    assert TEST in text


def test_failed_test_that_left_resources():
    pg = group(active_test_operation_id=TEST)
    text = remedies.next_action(pg, op("test_failover", op_id=TEST))
    assert "operation retry %s" % TEST in text
    assert "openstack dr test-cleanup web" in text


def test_active_after_failed_operation_that_changed_nothing():
    text = remedies.next_action(group(), op(steps=[
        ("validate_sites", "failed")]))
    assert "failed without changing anything" in text
    assert "'openstack dr operation retry %s'" % OP in text


def test_active_and_nothing_to_do():
    assert remedies.next_action(group(), None) is None
    assert remedies.next_action(group(), op(status="completed")) is None


def test_error_from_failed_create_suggests_delete():
    text = remedies.next_action(group("error", metadata_version=0), None)
    assert "openstack dr protection-group delete web" in text


def test_error_without_operation_after_sync_points_at_operation_list():
    text = remedies.next_action(group("error"), None)
    assert "openstack dr operation list --protection-group web" in text


def test_creating_names_the_engine_and_the_wait():
    text = remedies.next_action(group("creating", metadata_version=0),
                                None, stale_after=120)
    assert "120 s" in text
    assert "protector-engine" in text and "'error'" in text
    assert "openstack dr protection-group delete web" in text


def test_deleting_before_and_after_the_peer_was_told():
    before = remedies.next_action(group(
        "deleting", status_reason="deleting: telling the peer site"), None)
    assert "back to 'active'" in before
    assert "openstack dr protection-group delete web" in before
    after = remedies.next_action(group(
        "deleting", status_reason=remedies.PEER_NOTIFIED), None)
    assert "finishes the delete" in after


# -- on_failure: status and status_reason --------------------------------

class _Calls(list):
    pass


@pytest.fixture
def hook(monkeypatch):
    calls = _Calls()
    calls.made = []
    monkeypatch.setattr(lifecycle_tasks.pg_db, "set_values",
                        lambda ctx, pg_id, values: calls.append(values))
    monkeypatch.setattr(lifecycle_tasks.dr_db, "resources",
                        lambda ctx, op_id=None: calls.made)

    def run(kind, step, results=(), planned=True, previous="active"):
        store = {"operation": {
            "id": OP, "operation_type": kind, "protection_group_id": "pg",
            "protection_group_name": "web",
            "parameters": {"type": "planned" if planned else "unplanned",
                           "previous_status": previous}},
            "results": {name: {} for name in results}}
        lifecycle_tasks.mark_group_after_failure(
            None, store, step, exception.ProtectorException("it broke"))
        return calls[-1] if calls else None
    run.calls = calls
    return run


def test_planned_failover_failing_after_the_shutdown_is_error(hook):
    values = hook("failover", "promote_volumes",
                  ["validate_sites", "snapshot_consistency_group"])
    assert values["status"] == "error"
    assert "in step promote_volumes" in values["status_reason"]
    # The shutdown alone (snapshot step failed half way) is a change too.
    values = hook("failover", "snapshot_consistency_group",
                  ["validate_sites"])
    assert values["status"] == "error"
    reason = values["status_reason"]
    assert OP in reason and "snapshot_consistency_group" in reason
    assert "it broke" in reason
    assert "'openstack dr operation retry %s'" % OP in reason
    assert "'openstack dr operation rollback %s'" % OP in reason


def test_unplanned_failover_failing_in_the_snapshot_changed_nothing(hook):
    values = hook("failover", "snapshot_consistency_group",
                  ["validate_sites"], planned=False)
    assert values["status"] == "active"
    assert "Nothing was changed" in values["status_reason"]
    assert "operation retry %s" % OP in values["status_reason"]


def test_failback_past_retire_is_error_without_rollback(hook):
    values = hook("failback", "unmanage_source_volumes",
                  ["validate_sites", "recreate_instances",
                   "retire_previous_instances"], previous="failed_over")
    assert values["status"] == "error"
    assert "rollback" not in values["status_reason"].replace(
        "roll back", "")


def test_failed_test_failover_keeps_the_status(hook):
    hook.calls.made.append({"id": "rr"})
    values = hook("test_failover", "create_test_network",
                  ["validate_sites", "snapshot_consistency_group",
                   "create_test_volumes"])
    assert "status" not in values
    assert "openstack dr test-cleanup web" in values["status_reason"]
    hook.calls.made.clear()
    values = hook("test_failover", "snapshot_consistency_group",
                  ["validate_sites"])
    assert "status" not in values
    assert "Nothing was made" in values["status_reason"]

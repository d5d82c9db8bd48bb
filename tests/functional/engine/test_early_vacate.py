"""A failback queues the other site's vacate when it starts retiring its
previous instances, so both run at once (they touch different sites);
``unmanage_source_volumes`` then waits for that vacate
(engine/tasks/storage_tasks.start_vacate, doc/engine.md "Failback").

The real engine against two fake clouds (``twosite.py``): the fake
source engine runs a queued sub-operation at once, so the order of
events, not their overlap, is what is checked here.
"""
import pytest

from protector.dr import recovery
from protector.engine import subops
from protector.engine.tasks import retire_tasks
from tests.functional.engine import twosite


@pytest.fixture
def failed_over(engine_db, monkeypatch):
    h = twosite.TwoSite(engine_db, monkeypatch, members=2, volumes=1)
    op_id, status = h.do("failover")
    assert status == "completed", h.operation(op_id)["error_message"]
    yield h
    h.close()


def _vacates(h):
    return [op_id for kind, op_id in h.sub_runs if kind == "vacate_site"]


def test_the_vacate_is_queued_before_the_retirement_deletes(failed_over,
                                                            monkeypatch):
    h = failed_over
    events = []
    real_start, real_delete = (subops.start_on_source,
                               retire_tasks._delete)

    def start(ctx, operation, kind, extra=None):
        events.append("queue " + kind)
        return real_start(ctx, operation, kind, extra)

    def delete(cloud, server_id):
        events.append("retire delete")
        return real_delete(cloud, server_id)
    monkeypatch.setattr(subops, "start_on_source", start)
    monkeypatch.setattr(retire_tasks, "_delete", delete)
    op_id, status = h.do("failback")
    assert status == "completed", h.operation(op_id)["error_message"]
    assert events == ["queue vacate_site"] + ["retire delete"] * 2
    # One vacate, waited for by the step that reports it.
    assert len(_vacates(h)) == 1
    step, = [s for s in h.operation(op_id)["steps"]
             if s["name"] == "unmanage_source_volumes"]
    assert step["result"]["sub_operation_id"] == _vacates(h)[0]
    assert len(step["result"]["deleted_instances"]) == 2
    assert len(h.a.servers) == 2 and h.b.servers == {}


def test_a_failed_vacate_fails_the_step_once_and_a_retry_runs_it_again(
        failed_over):
    h = failed_over
    # The vacate's delete of the first shut-down instance on site-b fails.
    h.b.fail("compute.delete_server", "http_500")
    op_id, status = h.do("failback")
    assert status == "failed"
    op = h.operation(op_id)
    assert op["error_code"] == "protector.operation.sub_operation_failed"
    assert h.step_status(op_id)["retire_previous_instances"] == "completed"
    assert h.step_status(op_id)["unmanage_source_volumes"] == "failed"
    # Not queued again within the run: it failed once.
    assert len(_vacates(h)) == 1
    assert len(h.a.servers) == 2  # the workload is up on site-a

    recovery.retry(h.req(), op_id)
    assert h.run(op_id) == "completed"
    assert len(set(_vacates(h))) == 1 and len(_vacates(h)) == 2
    assert h.b.servers == {}
    assert h.group()["status"] == "active"

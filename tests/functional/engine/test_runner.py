"""The flow machinery: steps recorded, resume after a crash, forward-only.

A flow of counting fake tasks runs through the real runner and database.
A "crash" is a BaseException escaping the runner mid-step, exactly what a
killed engine leaves behind: the step 'running', the operation 'running'.
Running the operation again (the restarted engine) must not re-run any
completed step, must re-run the interrupted one, and must fail cleanly if
that step is forward-only.
"""
import threading
import uuid

import pytest

from protector import context
from protector.db import operations as ops_db
from protector.engine import flows
from protector.engine import runner
from protector import exception
from tests.functional.engine import fixtures

HOST = "engine-test"
NAMES = ("first", "second", "third", "fourth")


class Crash(BaseException):
    """A process death, as far as the runner can tell."""


class FakeFlow:
    def __init__(self, forward_only=()):
        self.calls = {n: 0 for n in NAMES}
        self.crash_at = None
        self.fail_at = None
        self.forward_only = forward_only
        self.failures = []

    def task(self, name):
        def run(ctx, store):
            self.calls[name] += 1
            if self.crash_at == name:
                self.crash_at = None
                raise Crash()
            if self.fail_at == name:
                raise exception.StorageError(driver="fake", reason="boom")
            if name == "third":
                # Earlier results are in the store, rebuilt on resume.
                assert store["results"]["second"] == {"value": "second"}
            return {"value": name}
        return run

    def factory(self, parameters):
        return flows.Flow(
            name="fake",
            steps=tuple(flows.Step(n, self.task(n),
                                   forward_only=n in self.forward_only)
                        for n in NAMES),
            on_failure=lambda ctx, store, step, exc:
                self.failures.append(step))


@pytest.fixture
def fake(engine_db, monkeypatch):
    flow = FakeFlow()
    flows._load()
    monkeypatch.setitem(flows.REGISTRY, "fake", flow.factory)
    return flow


def _queue(engine_db):
    a = engine_db.site("fake-a", "http://127.0.0.1:1/v3")
    b = engine_db.site("fake-b", "http://127.0.0.1:1/v3")
    pg_id = engine_db.group("p-" + uuid.uuid4().hex[:6], a, b)
    ctx = context.get_admin_context()
    op = ops_db.create(ctx, pg_id, {
        "project_id": "p", "protection_group_id": pg_id,
        "operation_type": "fake", "source_site_id": a,
        "target_site_id": b, "parameters": {}}, list(NAMES))
    assert ops_db.claim(ctx, op["id"], HOST)
    return ctx, op["id"], pg_id


def test_steps_run_in_order_and_are_recorded(engine_db, fake):
    ctx, op_id, pg_id = _queue(engine_db)
    assert runner.run_operation(ctx, op_id, HOST) == "completed"
    op = engine_db.operation(op_id)
    assert op["status"] == "completed" and op["progress"] == 100
    assert all(s["status"] == "completed" and s["attempts"] == 1
               for s in op["steps"].values())
    assert fake.calls == {n: 1 for n in NAMES}
    assert engine_db.group_row(pg_id)["current_operation_id"] is None


@pytest.mark.parametrize("crash_at", NAMES)
def test_resume_after_crash_never_reruns_completed_steps(engine_db, fake,
                                                         crash_at):
    ctx, op_id, _ = _queue(engine_db)
    fake.crash_at = crash_at
    with pytest.raises(Crash):
        runner.run_operation(ctx, op_id, HOST)
    op = engine_db.operation(op_id)
    assert op["status"] == "running"
    assert op["steps"][crash_at]["status"] == "running"

    assert runner.run_operation(ctx, op_id, HOST) == "completed"
    op = engine_db.operation(op_id)
    assert op["status"] == "completed"
    for name in NAMES:
        expected = 2 if name == crash_at else 1
        assert fake.calls[name] == expected, name
        assert op["steps"][name]["attempts"] == expected, name


@pytest.mark.parametrize("crash_at", NAMES)
def test_interrupted_forward_only_step_fails_the_operation(engine_db, fake,
                                                           crash_at):
    fake.forward_only = (crash_at,)
    ctx, op_id, pg_id = _queue(engine_db)
    fake.crash_at = crash_at
    with pytest.raises(Crash):
        runner.run_operation(ctx, op_id, HOST)
    assert runner.run_operation(ctx, op_id, HOST) == "failed"
    op = engine_db.operation(op_id)
    assert op["status"] == "failed"
    assert op["error_code"] == "protector.operation.step_interrupted"
    assert crash_at in op["error_message"]
    assert fake.calls[crash_at] == 1  # never re-run
    later = NAMES[NAMES.index(crash_at) + 1:]
    assert all(fake.calls[n] == 0 for n in later)
    assert fake.failures == [crash_at]
    assert engine_db.group_row(pg_id)["current_operation_id"] is None


def test_a_failing_step_fails_the_operation_with_its_error(engine_db, fake):
    ctx, op_id, _ = _queue(engine_db)
    fake.fail_at = "third"
    assert runner.run_operation(ctx, op_id, HOST) == "failed"
    op = engine_db.operation(op_id)
    assert op["error_code"] == "protector.storage.error"
    assert "Step third failed" in op["error_message"]
    assert op["steps"]["third"]["status"] == "failed"
    assert op["steps"]["fourth"]["status"] == "pending"
    assert fake.calls["fourth"] == 0
    assert op["progress"] == 50


def test_an_engine_that_lost_its_operation_stops(engine_db, fake):
    ctx, op_id, _ = _queue(engine_db)
    op = ops_db.get_by_id(ctx, op_id)
    assert ops_db.adopt(ctx, op_id, "other-engine", HOST,
                        op["heartbeat_at"])
    assert runner.run_operation(ctx, op_id, HOST) is None
    assert fake.calls == {n: 0 for n in NAMES}


def test_stop_request_leaves_the_operation_resumable(engine_db, fake):
    ctx, op_id, _ = _queue(engine_db)
    stop = iter([False, False, True])
    assert runner.run_operation(ctx, op_id, HOST,
                                should_stop=lambda: next(stop)) is None
    assert engine_db.operation(op_id)["status"] == "running"
    assert runner.run_operation(ctx, op_id, HOST) == "completed"
    assert fake.calls == {n: 1 for n in NAMES}


def test_second_claim_loses(engine_db, fake):
    ctx, op_id, _ = _queue(engine_db)
    assert not ops_db.claim(ctx, op_id, "another")


def test_every_operation_type_has_a_flow():
    for kind in ("failover", "failback", "test_failover", "test_cleanup"):
        assert flows.step_names(kind)
    assert flows.step_names("failover") == [
        "validate_sites", "snapshot_consistency_group", "promote_volumes",
        "recreate_instances", "update_protection_group"]


def test_no_queued_operation_of_a_group_with_one_running(engine_db, fake):
    """An engine that let go of a running operation after an error leaves
    its group busy: no engine starts the group's next operation meanwhile
    (the group lock alone is free by then)."""
    ctx, op_id, pg_id = _queue(engine_db)  # claimed: running
    later = fixtures.queue(engine_db, pg_id, "fake", hold=False)
    assert (later, pg_id) not in ops_db.queued(ctx)
    assert runner.run_operation(ctx, op_id, HOST) == "completed"
    assert (later, pg_id) in ops_db.queued(ctx)


def test_engine_keeps_the_group_through_an_unexpected_error(
        engine_db, fake, monkeypatch):
    """A run that stops on an unexpected error (a database hiccup) is
    resumed by the same engine, group lock held, not handed over."""
    from protector.engine import manager as manager_mod
    ctx, op_id, pg_id = _queue(engine_db)
    calls = []
    real = runner.run_operation

    def flaky(ctx_, op_id_, host, should_stop=None):
        calls.append(op_id_)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return real(ctx_, op_id_, host, should_stop=should_stop)
    monkeypatch.setattr(manager_mod.runner, "run_operation", flaky)
    monkeypatch.setattr(manager_mod, "RUN_RETRY_DELAY", 0.01)
    released = []
    lock = type("Lock", (), {"release": lambda self: released.append(
        len(calls))})()
    eng = manager_mod.Engine.__new__(manager_mod.Engine)
    eng.ctx, eng.host = ctx, HOST
    eng._stop = threading.Event()
    eng._wake = threading.Event()
    eng._lock = threading.Lock()
    eng._running = {op_id: pg_id}
    eng._run(op_id, lock)
    assert calls == [op_id, op_id]
    assert released == [2]  # released only after the second, good run
    assert engine_db.operation(op_id)["status"] == "completed"

"""Run (or resume) one operation's flow, step by step, recording everything.

``run_operation`` is called by the engine once it owns an operation (it
claimed it from the queue or adopted it from a dead engine) and holds the
group's lock. It rebuilds the store from the database, skips the steps
already completed or skipped, and:

* re-runs a step left ``running`` by a dead engine (steps are idempotent),
  unless the step is ``forward_only``: then the operation fails with
  ``protector.operation.step_interrupted`` and nothing is re-run;
* records each step's status, attempts, timestamps, result or error;
* keeps ``operations.progress`` (share of step weights done) current;
* on a step failure marks the operation failed with the step's error code
  and message, and calls the flow's ``on_failure`` (no automatic reverts:
  the operator retries or rolls back, ``dr/recovery.py``); the peer
  credential is kept for that retry or rollback (it expires by itself);
* stops between steps when the engine is asked to stop (``should_stop``),
  leaving the operation ``running`` for its restart to resume; a step
  that waits (``flows.pause``, e.g. between boot tiers) stops waiting
  then, and stays ``running`` to be re-run by the restart.

Every write carries the owner (``engine_host``); an engine that lost its
operation to another engine gets ``OperationLost`` and stops quietly.
"""
from collections.abc import Callable
import time
from typing import Any, Optional

from oslo_log import log as logging
from oslo_utils import timeutils

from protector.cloud import timing
from protector.db import operations as db
from protector.engine import faults
from protector.engine import flows
from protector.engine import subops
from protector import exception

LOG = logging.getLogger(__name__)

DONE = ("completed", "skipped")


class StepFailed(Exception):
    def __init__(self, step: str, error: BaseException) -> None:
        super().__init__(str(error))
        self.step = step
        self.error = error


def _store(op: dict[str, Any]) -> flows.Store:
    results = {s["name"]: s["result"] for s in op["steps"]
               if s["status"] in DONE}
    operation = {k: op[k] for k in (
        "id", "project_id", "user_id", "protection_group_id",
        "protection_group_name", "operation_type", "source_site_id",
        "target_site_id", "parameters", "parent_operation_id")}
    return {"operation": operation, "results": results}


def _progress(flow: flows.Flow, states: dict[str, dict[str, Any]]) -> int:
    total = sum(s.weight for s in flow.steps) or 1
    done = sum(s.weight for s in flow.steps
               if states.get(s.name, {}).get("status") in DONE)
    return int(100 * done / total)


def _error_of(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, exception.ProtectorException):
        return exc.code, exc.message
    return "protector.operation.step_error", "%s: %s" % (
        type(exc).__name__, exc)


def run_operation(ctx: Any, op_id: str, host: str,
                  should_stop: Callable[[], bool] = lambda: False
                  ) -> Optional[str]:
    """Run the operation to its end; return its final status (or None
    when stopped early or lost)."""
    op = db.get_by_id(ctx, op_id)
    if op is None or op["status"] != "running" or op["engine_host"] != host:
        return None
    flow = flows.get_flow(op["operation_type"], op["parameters"])
    states = {s["name"]: s for s in op["steps"]}
    store = _store(op)
    try:
        try:
            flow.on_start(ctx, store)
            for step in flow.steps:
                state = states.get(step.name) or {"status": "pending",
                                                  "attempts": 0}
                if state["status"] in DONE:
                    continue
                if should_stop():
                    LOG.info("Stopping before step %s of operation %s; "
                             "it resumes when an engine restarts",
                             step.name, op_id)
                    return None
                if state["status"] in ("running", "failed") and \
                        step.forward_only:
                    raise StepFailed(step.name, exception.StepInterrupted(
                        step=step.name))
                # What the step declared it reads (flows.read), fresh for
                # each step: plain data, like the rest of the store.
                store["step"] = step.name
                store["inputs"] = flows.inputs_of(flow, step, store)
                with flows.stopping(should_stop):
                    _run_step(ctx, op_id, host, step, store, states)
                db.update_owned(ctx, op_id, host,
                                {"progress": _progress(flow, states)})
        except StepFailed as failed:
            code, message = _error_of(failed.error)
            LOG.warning("Operation %s failed in step %s: %s", op_id,
                        failed.step, message)
            try:
                flow.on_failure(ctx, store, failed.step, failed.error)
            except Exception:  # on_failure must not hide the real error
                LOG.exception("on_failure of operation %s raised", op_id)
            keep = False
            try:
                keep = flow.keeps_test_on_failure(ctx, store)
            except Exception:
                LOG.exception("keeps_test_on_failure of %s raised", op_id)
            db.finish(ctx, op_id, host, "failed", error_code=code,
                      error_message="Step %s failed: %s" % (failed.step,
                                                            message),
                      keep_test=keep)
            # The source-site credential is kept: a retry or a rollback of
            # this operation needs it to reach the source site again. One
            # never used again expires after [engine]
            # peer_credential_lifetime.
            return "failed"
        db.finish(ctx, op_id, host, "completed",
                  keep_test=op["operation_type"] == "test_failover")
        # The source-site credential is not needed any more (it was for
        # this operation only); a failure here only leaves it to expire.
        subops.release_peer_credential(ctx, op)
        try:
            flow.on_complete(ctx, store)
        except Exception:  # the operation has completed; only log
            LOG.exception("on_complete of operation %s raised", op_id)
        LOG.info("Operation %s (%s) completed", op_id,
                 op["operation_type"])
        return "completed"
    except db.OperationLost:
        LOG.warning("Operation %s was taken over by another engine; this "
                    "engine stops working on it", op_id)
        return None
    except flows.Interrupted:
        LOG.info("Stopping in step %s of operation %s; it is re-run when "
                 "an engine restarts", store.get("step"), op_id)
        return None


def _run_step(ctx: Any, op_id: str, host: str, step: flows.Step,
              store: flows.Store,
              states: dict[str, dict[str, Any]]) -> None:
    started = timeutils.utcnow()
    states[step.name] = db.update_step(ctx, op_id, host, step.name, {
        "status": "running", "attempts": "+1", "started_at": started,
        "completed_at": None, "error_message": None})
    LOG.info("Operation %s: step %s (attempt %d)", op_id, step.name,
             states[step.name]["attempts"])
    clock = time.monotonic()
    try:
        result = faults.wrap(step.name, step.task)(ctx, store)
    except flows.Skip as skip:
        result = {"skipped": skip.reason}
        status = "skipped"
    except (db.OperationLost, flows.Interrupted):
        raise
    except Exception as exc:
        code, message = _error_of(exc)
        if not isinstance(exc, exception.ProtectorException):
            LOG.exception("Step %s of operation %s raised", step.name,
                          op_id)
        states[step.name] = db.update_step(ctx, op_id, host, step.name, {
            "status": "failed", "completed_at": timeutils.utcnow(),
            "error_message": message, "result": {"error_code": code}})
        raise StepFailed(step.name, exc)
    else:
        status = "completed"
    result = result or {}
    now = time.monotonic()
    # Read by tools/bench_failover.py (orchestration overhead).
    LOG.info("Operation %s: step %s took %.3f s, %.3f s of it waiting on "
             "the clouds", op_id, step.name, now - clock,
             timing.union_between(clock, now))
    states[step.name] = db.update_step(ctx, op_id, host, step.name, {
        "status": status, "completed_at": timeutils.utcnow(),
        "result": result})
    store["results"][step.name] = result

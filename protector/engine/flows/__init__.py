"""Flows: what an operation does, as an ordered list of named steps.

A flow factory (``flows/<kind>_flows.py``, one ``get_<type>_flow`` per
operation type) returns a ``Flow``: its steps, in order, and two hooks. The
runner (``engine/runner.py``) executes the steps one by one and records
each step's status, attempts and result in ``operation_steps``, so the API
shows progress and a restarted engine knows where to continue.

Rules every step follows (STYLE.md 6):

* A step is a function ``task(ctx, store) -> dict``; ``store`` is plain
  data only (the operation, the group, earlier steps' results), so any
  engine can rebuild it from the database and resume.
* A step is idempotent: re-running it after a crash finds what the crashed
  run made (``RecoveryResource`` rows are written *before* a resource is
  created) instead of making it twice.
* A step that cannot be made safe to re-run is ``forward_only``: if it was
  interrupted, the operation fails with ``StepInterrupted`` instead.
* A step with nothing to do raises ``Skip``; it is recorded as skipped.
* Recovery is forward-only (masakari): no reverts. ``on_failure`` only puts
  the group into a truthful status and never raises.

``REGISTRY`` maps operation types to factories; ``get_flow`` and
``step_names`` are what the API and the engine call.
"""
import dataclasses
from typing import Callable


class Skip(Exception):
    """Raised by a step that has nothing to do (recorded as skipped)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Step:
    name: str
    task: Callable
    forward_only: bool = False
    # Share of the operation's progress bar this step represents.
    weight: int = 1


def _noop(ctx, store):
    return None


def _noop_failure(ctx, store, step_name, error):
    return None


@dataclasses.dataclass(frozen=True)
class Flow:
    name: str
    steps: tuple
    # Called (again) every time the runner starts or resumes the flow.
    on_start: Callable = _noop
    # Called once when a step failed; must not raise.
    on_failure: Callable = _noop_failure
    # Whether a failed run leaves the group's test marker in place (test
    # failovers that created something: cleanup must remove it).
    keeps_test_on_failure: Callable = lambda ctx, store: False
    # Called once after the operation completed (releasing what it held
    # for others, e.g. a rolled-back operation's peer credential); must
    # not raise.
    on_complete: Callable = _noop

    def step(self, name):
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


REGISTRY = {}


def register(operation_type):
    """Decorator: ``factory(parameters) -> Flow`` for an operation type."""
    def decorator(factory):
        REGISTRY[operation_type] = factory
        return factory
    return decorator


def _load():
    # Importing the flow modules fills REGISTRY.
    from protector.engine.flows import failback_flows  # noqa: F401
    from protector.engine.flows import failover_flows  # noqa: F401
    from protector.engine.flows import rollback_flows  # noqa: F401
    from protector.engine.flows import source_flows  # noqa: F401
    from protector.engine.flows import test_flows  # noqa: F401


def get_flow(operation_type, parameters=None):
    _load()
    try:
        factory = REGISTRY[operation_type]
    except KeyError:
        raise ValueError("no flow for operation type %r" % operation_type)
    return factory(parameters or {})


def step_names(operation_type, parameters=None):
    return [s.name for s in get_flow(operation_type, parameters).steps]

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
* A step declares what it needs and makes: ``inputs`` (results of earlier
  steps it reads, with ``read(store, name)``), ``outputs`` (the keys of
  its result that later steps may read) and ``changes_cloud``. ``get_flow``
  checks, when it builds a flow, that every input is made by an earlier
  step (or is an operation parameter); ``tests/unit/test_flows.py`` checks
  that the tasks read nothing else.

Step names are stored with each operation (``operation_steps``) when it
is queued and shown by the API, so a flow keeps the names of its released
steps even where the task is named otherwise (``update_protection_group``
in every flow, ``recreate_instances`` of a test failover): an operation
queued by an earlier version resumes under the same names.

``REGISTRY`` maps operation types to factories; ``get_flow`` and
``step_names`` are what the API and the engine call.
"""
from collections.abc import Callable, Iterator, Mapping
import contextlib
import contextvars
import dataclasses
import time
from typing import Any, Optional

# What a task gets: plain data only (see the rules above), rebuilt from
# the database on resume: {"operation": {...}, "results": {step name:
# result}, "inputs": {name: value}} (inputs: set by the runner before
# each step, from its declaration).
Store = dict[str, Any]
Result = Optional[dict[str, Any]]
# task(ctx, store); ctx is a protector.context.RequestContext.
Task = Callable[[Any, Store], Result]


class Skip(Exception):
    """Raised by a step that has nothing to do (recorded as skipped)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FlowError(ValueError):
    """A flow whose declarations do not hold (a programming error)."""


class Interrupted(Exception):
    """Raised by ``pause`` when the engine stops while a step waits: the
    runner leaves the step ``running``, and the engine's restart re-runs
    it (steps are idempotent)."""


# Whether the engine that runs the current step is stopping: set by the
# runner around each step (runner.run_operation's ``should_stop``), read
# by ``pause``. Plain data stays in the store; this is the one callable.
_STOPPING: contextvars.ContextVar[Callable[[], bool]] = \
    contextvars.ContextVar("protector_engine_stopping",
                           default=lambda: False)
# How often a pause looks at the engine's stop flag.
PAUSE_TICK = 0.5


@contextlib.contextmanager
def stopping(should_stop: Callable[[], bool]) -> Iterator[None]:
    """Steps run in this block see ``should_stop`` (the runner's)."""
    token = _STOPPING.set(should_stop)
    try:
        yield
    finally:
        _STOPPING.reset(token)


def pause(seconds: float) -> None:
    """Wait ``seconds`` in a step (e.g. between boot tiers), or raise
    ``Interrupted`` as soon as the engine stops, so a stopping engine is
    not held up by a long wait."""
    should_stop = _STOPPING.get()
    deadline = time.monotonic() + seconds
    while True:
        if should_stop():
            raise Interrupted()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, PAUSE_TICK))


@dataclasses.dataclass(frozen=True)
class Step:
    name: str
    task: Task
    forward_only: bool = False
    # Share of the operation's progress bar this step represents.
    weight: int = 1
    # Names the task reads with read(store, name): an output of an
    # earlier step, or an operation parameter.
    inputs: tuple[str, ...] = ()
    # Keys of its result that later steps may read.
    outputs: tuple[str, ...] = ()
    # Whether it changes the workload on a cloud or an array (instances,
    # volumes, networks, replication, the group's record): once it has
    # started, a failed operation can no longer say "nothing changed"
    # (lifecycle_tasks.mark_group_after_failure). Taking a snapshot is
    # not such a change.
    changes_cloud: bool = False


def _noop(ctx: Any, store: Store) -> None:
    return None


def _noop_failure(ctx: Any, store: Store, step_name: str,
                  error: BaseException) -> None:
    return None


def _keeps_nothing(ctx: Any, store: Store) -> bool:
    return False


@dataclasses.dataclass(frozen=True)
class Flow:
    name: str
    steps: tuple[Step, ...]
    # Called (again) every time the runner starts or resumes the flow.
    on_start: Callable[[Any, Store], None] = _noop
    # Called once when a step failed; must not raise.
    on_failure: Callable[[Any, Store, str, BaseException], None] = \
        _noop_failure
    # Whether a failed run leaves the group's test marker in place (test
    # failovers that created something: cleanup must remove it).
    keeps_test_on_failure: Callable[[Any, Store], bool] = _keeps_nothing
    # Called once after the operation completed (releasing what it held
    # for others, e.g. a rolled-back operation's peer credential); must
    # not raise.
    on_complete: Callable[[Any, Store], None] = _noop

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


Factory = Callable[[Mapping[str, Any]], Flow]
REGISTRY: dict[str, Factory] = {}


def register(operation_type: str) -> Callable[[Factory], Factory]:
    """Decorator: ``factory(parameters) -> Flow`` for an operation type."""
    def decorator(factory: Factory) -> Factory:
        REGISTRY[operation_type] = factory
        return factory
    return decorator


def _load() -> None:
    # Importing the flow modules fills REGISTRY.
    from protector.engine.flows import failback_flows  # noqa: F401
    from protector.engine.flows import failover_flows  # noqa: F401
    from protector.engine.flows import rollback_flows  # noqa: F401
    from protector.engine.flows import source_flows  # noqa: F401
    from protector.engine.flows import test_flows  # noqa: F401


def get_flow(operation_type: str,
             parameters: Optional[Mapping[str, Any]] = None) -> Flow:
    """The flow of an operation, its declarations checked (``check``)."""
    _load()
    try:
        factory = REGISTRY[operation_type]
    except KeyError:
        raise ValueError("no flow for operation type %r" % operation_type)
    flow = factory(parameters or {})
    check(flow, parameters or {})
    return flow


def step_names(operation_type: str,
               parameters: Optional[Mapping[str, Any]] = None) -> list[str]:
    return [s.name for s in get_flow(operation_type, parameters).steps]


def check(flow: Flow, parameters: Mapping[str, Any]) -> None:
    """Raise ``FlowError`` unless the step names are unique and every
    input of a step is an output of exactly one earlier step, or else an
    operation parameter."""
    made: dict[str, list[str]] = {}
    seen: set[str] = set()
    for step in flow.steps:
        if step.name in seen:
            raise FlowError("flow %s: two steps are named %s" % (
                flow.name, step.name))
        seen.add(step.name)
        for name in step.inputs:
            makers = made.get(name, [])
            if len(makers) > 1:
                raise FlowError(
                    "flow %s: step %s reads %r, which steps %s all make; "
                    "declare one of them only" % (
                        flow.name, step.name, name, ", ".join(makers)))
            if not makers and name not in parameters:
                later = [s.name for s in flow.steps if name in s.outputs]
                raise FlowError(
                    "flow %s: step %s reads %r, which no earlier step "
                    "makes%s and is no operation parameter" % (
                        flow.name, step.name, name,
                        " (%s makes it later)" % ", ".join(later)
                        if later else ""))
        for name in step.outputs:
            made.setdefault(name, []).append(step.name)


def inputs_of(flow: Flow, step: Step, store: Store) -> dict[str, Any]:
    """What ``step`` reads, from the results of the earlier steps that
    make it (None when that step was skipped or recorded no such key) or
    the operation's parameters."""
    before = flow.steps[:flow.steps.index(step)]
    params = store["operation"].get("parameters") or {}
    out = {}
    for name in step.inputs:
        makers = [s.name for s in before if name in s.outputs]
        if makers:
            out[name] = (store["results"].get(makers[-1]) or {}).get(name)
        else:
            out[name] = params.get(name)
    return out


def read(store: Store, name: str) -> Any:
    """The declared input ``name`` of the running step (``Step.inputs``;
    the runner puts them in the store before the step runs)."""
    inputs = store.get("inputs") or {}
    if name not in inputs:
        raise FlowError("step %s reads %r, which it does not declare in "
                        "its inputs" % (store.get("step"), name))
    return inputs[name]


def ran(store: Store, failed_step: str) -> list[str]:
    """The steps of a failed run that have started: the one that failed
    and those with a result (completed or skipped)."""
    return [failed_step] + [n for n in store["results"] if n != failed_step]


def changed_clouds(store: Store, failed_step: str) -> bool:
    """Whether a step that changes a cloud (``Step.changes_cloud`` of the
    operation's flow, for its parameters) has started."""
    operation = store["operation"]
    flow = get_flow(operation["operation_type"], operation["parameters"])
    started = set(ran(store, failed_step))
    return any(s.changes_cloud for s in flow.steps if s.name in started)

"""Test-only fault injection for engine tests.

``PROTECTOR_ENGINE_FAULTS`` (JSON in the environment, never in config)
changes what named steps do. Unset, this does nothing.

* ``{"sleep_in": {"delete_test_volumes": 30}}``: the step sleeps that many
  seconds before it runs, so a test can SIGKILL the real process while
  the step is running.
* ``{"fail_in": {"promote_volumes": {"times": 1, "code":
  "protector.storage.array_unreachable", "message": "array down"}}}``: the
  step raises a ``ProtectorException`` with that code and message instead
  of running, the first ``times`` times it is reached (default 1), then
  runs normally. ``"when": "after"`` raises after the step's task ran
  instead (its work is done, its result is lost: what a failure just
  before the step is recorded looks like). The count is kept in
  ``$state_path/engine-faults/fail_in.json``, so it survives engine
  restarts (a retried operation sees the step pass once the count is
  used up); delete the file to start again.

The counted faults apply to every operation whose flow has that step name
(sub-operations on the source site included, where that engine has the
variable set).
"""
import contextlib
import fcntl
import json
import os
import threading
import time

from oslo_config import cfg

from protector import exception

ENV = "PROTECTOR_ENGINE_FAULTS"
COUNT_FILE = "fail_in.json"
DEFAULT_CODE = "protector.engine.injected_fault"

_lock = threading.Lock()


def _faults():
    raw = os.environ.get(ENV)
    return json.loads(raw) if raw else {}


def count_path():
    return os.path.join(cfg.CONF.state_path, "engine-faults", COUNT_FILE)


@contextlib.contextmanager
def _counts():
    """The per-step failure counts, read and written under a file lock
    (several engine threads or processes may share the state path)."""
    path = count_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with _lock, open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        text = f.read()
        counts = json.loads(text) if text.strip() else {}
        yield counts
        f.seek(0)
        f.truncate()
        f.write(json.dumps(counts, sort_keys=True))


def _should_fail(step_name, spec):
    """Count one arrival at the step; True while under ``times``."""
    with _counts() as counts:
        used = counts.get(step_name, 0)
        if used >= int(spec.get("times", 1)):
            return False
        counts[step_name] = used + 1
        return True


def _injected(step_name, spec):
    exc = exception.ProtectorException(
        spec.get("message") or "injected fault in step %s" % step_name)
    exc.code = spec.get("code") or DEFAULT_CODE
    return exc


def wrap(step_name, task):
    faults = _faults()
    seconds = faults.get("sleep_in", {}).get(step_name)
    fail = faults.get("fail_in", {}).get(step_name)
    if not seconds and not fail:
        return task

    def faulty(ctx, store):
        if seconds:
            time.sleep(seconds)
        if fail and fail.get("when", "before") == "before" and \
                _should_fail(step_name, fail):
            raise _injected(step_name, fail)
        result = task(ctx, store)
        if fail and fail.get("when") == "after" and \
                _should_fail(step_name, fail):
            raise _injected(step_name, fail)
        return result
    return faulty

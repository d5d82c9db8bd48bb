"""Test-only fault injection for engine process tests.

``PROTECTOR_ENGINE_FAULTS`` (JSON in the environment, never in config)
makes the engine sleep inside named steps, e.g.
``{"sleep_in": {"delete_test_volumes": 30}}``, so a test can SIGKILL the
real process while that step is running. Unset, this does nothing.
"""
import json
import os
import time

ENV = "PROTECTOR_ENGINE_FAULTS"


def _faults():
    raw = os.environ.get(ENV)
    return json.loads(raw) if raw else {}


def wrap(step_name, task):
    seconds = _faults().get("sleep_in", {}).get(step_name)
    if not seconds:
        return task

    def sleepy(ctx, store):
        time.sleep(seconds)
        return task(ctx, store)
    return sleepy

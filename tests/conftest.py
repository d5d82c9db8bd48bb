"""Test-wide settings.

When ``PROTECTOR_REQUIRE_SERVICES=1`` (``.ci/run`` sets it), tests that need
MariaDB or RabbitMQ fail instead of skipping when the server is missing, so
CI can never pass with them silently skipped.
"""
import os

import pytest
from xdist.scheduler import LoadScopeScheduling

from tests import services


def require_or_skip(reason):
    if os.environ.get("PROTECTOR_REQUIRE_SERVICES") == "1":
        pytest.fail("required service missing: %s" % reason)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _servers_stop_together():
    """Made first, torn down last: waits for the servers that fixtures
    stopped with ``later`` (``services.LATER``)."""
    yield
    services.LATER.wait()


# The lab's tests (every module under tests/integration/) share one lab,
# which only one process may drive: under pytest-xdist they are one unit
# of work, given to one worker; every other module is a unit of its own
# (its module-scoped fixtures are made once).
LAB_TESTS = "tests/integration/"


def scope_of(nodeid):
    """The unit of work of a test, by its node id: what the xdist
    controller has (it collects nothing, so it sees no markers)."""
    path = nodeid.split("::", 1)[0]
    return "lab" if path.startswith(LAB_TESTS) else path


class LabScheduling(LoadScopeScheduling):
    """xdist's 'loadscope' with the lab's tests as one unit. (xdist's own
    'loadgroup' groups by a node id suffix it writes into Item._nodeid,
    which pytest 9 no longer reads: the lab's tests were spread over both
    workers, each bringing up the one lab.)"""

    def _split_scope(self, nodeid):
        return scope_of(nodeid)


def pytest_xdist_make_scheduler(config, log):
    return LabScheduling(config, log)

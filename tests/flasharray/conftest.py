"""Fixtures for the FlashArray simulator tests.

``sim``: a fresh in-process ``Simulator`` with arrays ``array1`` and
``array2`` (connected, manual clock). Every reply it sends during the test
is checked against the FlashArray REST 2.56 OpenAPI spec; a test fails at
teardown if any reply did not conform. ``fa1``/``fa2``: real py-pure-client
clients logged in to each array.
"""
import logging
import os
import threading

import pytest
import urllib3

from protector_lab.flasharray import Simulator
from protector_lab.flasharray.openapi_check import SpecValidator, load_spec

HERE = os.path.dirname(__file__)
DEFAULT_SPEC = os.path.join(HERE, "data",
                            "flasharray-rest-2.56.openapi.yaml.gz")

# The client logs a retry warning per attempt when an array is "down",
# and warns on every unverified HTTPS request (the default, as with Cinder).
logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def pytest_configure(config):
    # pytest re-installs warning filters per test; declare ours there too.
    config.addinivalue_line(
        "filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning")

STATS = {"validated": 0}


@pytest.fixture(scope="session")
def spec_validator(pytestconfig):
    path = os.environ.get("FLASHARRAY_OPENAPI_SPEC", DEFAULT_SPEC)
    # None with -p no:cacheprovider
    cache = getattr(pytestconfig, "cache", None)
    cache_dir = str(cache.mkdir("flasharray-openapi")) if cache else None
    return SpecValidator(load_spec(path, cache_dir=cache_dir))


class Recorder:
    """Observer that validates each exchange and keeps it for assertions."""

    def __init__(self, validator):
        self.validator = validator
        self.exchanges = []
        self.problems = []
        self.lock = threading.Lock()

    def __call__(self, exch):
        problems = self.validator.check_exchange(exch)
        with self.lock:
            self.exchanges.append(exch)
            self.problems.extend(problems)
            STATS["validated"] += 1

    def calls(self, array=None, method=None, suffix=None):
        return [e for e in self.exchanges
                if (array is None or e.array == array)
                and (method is None or e.method == method)
                and (suffix is None or e.path.endswith(suffix))]


@pytest.fixture
def sim(spec_validator):
    s = Simulator(["array1", "array2"])
    rec = Recorder(spec_validator)
    s.fabric.observers.append(rec)
    s.recorder = rec
    s.start()
    try:
        yield s
    finally:
        s.stop()
    assert not rec.problems, "replies that do not match the OpenAPI spec:\n" \
        + "\n".join(rec.problems[:30])


@pytest.fixture
def fa1(sim):
    return sim.client("array1")


@pytest.fixture
def fa2(sim):
    return sim.client("array2")


def pytest_terminal_summary(terminalreporter):
    if STATS["validated"]:
        terminalreporter.write_line(
            f"flasharray simulator: {STATS['validated']} replies validated "
            "against the OpenAPI spec")

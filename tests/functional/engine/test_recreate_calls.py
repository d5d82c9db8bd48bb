"""The cloud calls a recreate step makes per VM (issue #15: "count the
Nova and Neutron calls per VM, and cut the avoidable ones").

The real engine runs a failover against the two fake clouds
(``twosite.py``), which count every call. Same answer for every VM: the
flavor, the network by name and its subnets are asked once per step
(``compute_tasks.Lookups``); a first run does not list the project's
servers by name before each create (nothing can be found: the record was
just written); a re-run after a lost answer still does, and finds the
server instead of making a second one.
"""
import threading

from protector.dr import recovery
from protector.engine.tasks import compute_tasks
from tests.functional.engine import twosite

MEMBERS = 6


def _failover(h):
    op_id, status = h.do("failover")
    assert status == "completed", h.operation(op_id)["error_message"]
    return op_id


def test_same_answers_are_asked_once_per_step(engine_db, monkeypatch):
    h = twosite.TwoSite(engine_db, monkeypatch, members=MEMBERS, volumes=1)
    try:
        before = dict(h.b.calls)
        _failover(h)
        calls = {k: v - before.get(k, 0) for k, v in h.b.calls.items()}
        assert calls["compute.create_server"] == MEMBERS
        assert calls.get("compute.find_flavor", 0) == 1, calls
        assert calls.get("network.find_network", 0) == 1, calls
        assert calls.get("network.subnets", 0) <= 1, calls
        # No listing by name before a first create.
        assert calls.get("compute.servers", 0) == 0, calls
        assert h.duplicates()["servers"] == 0
    finally:
        h.close()


def test_a_rerun_after_a_lost_answer_still_finds_the_server(engine_db,
                                                            monkeypatch):
    h = twosite.TwoSite(engine_db, monkeypatch, members=2, volumes=1)
    try:
        h.b.fail("compute.create_server", "lost_response", times=1)
        op_id, status = h.do("failover")
        assert status == "failed"
        h.b.clear_faults()
        recovery.retry(h.req(), op_id)
        assert h.run(op_id) == "completed"
        assert h.b.calls.get("compute.servers", 0) >= 1
        assert h.duplicates() == {"servers": 0, "volumes": 0, "networks": 0}
    finally:
        h.close()


def test_lookups_one_fetch_for_many_threads():
    lookups = compute_tasks.Lookups()
    fetched = []
    gate = threading.Event()

    def fetch():
        fetched.append(1)
        gate.wait(5)
        return "m2.small"

    out = []
    threads = [threading.Thread(target=lambda: out.append(
        lookups.get(("flavor", "m2.small"), fetch))) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert out == ["m2.small"] * 8
    assert len(fetched) == 1


def test_lookups_a_failed_fetch_is_asked_again():
    lookups = compute_tasks.Lookups()
    answers = iter([RuntimeError("Neutron 503"), "net-b"])

    def fetch():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    try:
        lookups.get(("network name", "net-b"), fetch)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the first fetch's error was swallowed")
    assert lookups.get(("network name", "net-b"), fetch) == "net-b"
    assert lookups.get(("network name", "net-b"), fetch) == "net-b"

"""Boot tiers (doc/engine.md "Boot tiers"): a recovery starts the VMs of
one member priority only once every VM of the tier before it is ACTIVE
or has failed, waits the group's ``tier_delay`` after that, and builds
the VMs of one tier in parallel.

The real engine against two fake clouds (``twosite.py``) whose Nova keeps
a new server in BUILD for a while (``build_seconds``) and records when
each server was created and when its build ended: without tiers every
server would be created before the first one is ACTIVE.
"""
import types

import pytest

from protector.api.handlers import operations as op_handler
from protector.engine import runner
from protector import version
from tests.functional.engine import twosite

BUILD = 0.3  # seconds a new server stays in BUILD
# Scheduling slack of the test machine (seconds).
SLACK = 0.05


@pytest.fixture
def make(engine_db, monkeypatch):
    made = []

    def build(members, priorities, delay=0, **kw):
        h = twosite.TwoSite(engine_db, monkeypatch, members=members,
                            volumes=1, width=8, **kw)
        made.append(h)
        h.set_tiers(priorities, delay)
        for cloud in h.clouds.values():
            cloud.build_seconds = BUILD
        return h
    yield build
    for h in made:
        h.close()


def _timeline(cloud, suffix=""):
    """{"vm-<i>": {"created", "built", "status"}} of the servers made."""
    return {name[:len(name) - len(suffix)] if suffix else name: t
            for name, t in cloud.timeline().items()
            if name.endswith(suffix)}


def _tiers(priorities):
    """[[vm names of the lowest priority], [the next], ...]."""
    out = {}
    for i, priority in enumerate(priorities):
        out.setdefault(priority, []).append("vm-%d" % i)
    return [out[p] for p in sorted(out)]


def _assert_tiered(timeline, priorities, delay=0):
    tiers = _tiers(priorities)
    for earlier, later in zip(tiers, tiers[1:]):
        done = max(timeline[vm]["built"] for vm in earlier)
        for vm in later:
            # Not one server of the later tier before the earlier tier
            # ended (and the delay passed).
            assert timeline[vm]["created"] >= done + delay, (
                vm, timeline)
    for tier in tiers:
        # Within a tier: all created before the first is ACTIVE
        # (parallel, as the fan-out has always built them).
        first_built = min(timeline[vm]["built"] for vm in tier)
        assert max(timeline[vm]["created"] for vm in tier) < first_built


def _op_tiers(h, op_id, microversion="1.4"):
    """``tiers`` as operation show gives it at ``microversion``."""
    req = types.SimpleNamespace(
        microversion=version.Version.parse(microversion))
    return op_handler.serialize(req, h.operation(op_id)).get("tiers")


def test_failover_starts_a_tier_when_the_one_before_is_active(make):
    priorities = [2, 1, 3, 1]
    h = make(4, priorities)
    op_id, status = h.do("failover")
    assert status == "completed", h.operation(op_id)["error_message"]
    timeline = _timeline(h.b)
    assert sorted(timeline) == ["vm-0", "vm-1", "vm-2", "vm-3"]
    assert {t["status"] for t in timeline.values()} == {"ACTIVE"}
    _assert_tiered(timeline, priorities)

    tiers = _op_tiers(h, op_id)
    assert [(t["tier"], t["priority"], t["status"]) for t in tiers] == [
        (1, 1, "completed"), (2, 2, "completed"), (3, 3, "completed")]
    assert [sorted(i["instance_name"] for i in t["instances"])
            for t in tiers] == _tiers(priorities)
    servers = {s["name"]: s["id"] for s in h.b.servers.values()}
    for tier in tiers:
        assert tier["started_at"] and tier["finished_at"]
        assert tier["duration_seconds"] >= BUILD - SLACK
        assert tier["delay_seconds"] == 0
        for vm in tier["instances"]:
            assert vm["status"] == "active"
            assert vm["server_id"] == servers[vm["instance_name"]]
            assert vm["started_at"] and vm["active_at"]
            assert vm["failed_at"] is None and vm["error"] is None
            assert vm["seconds"] >= BUILD - SLACK
    for earlier, later in zip(tiers, tiers[1:]):
        assert later["started_at"] >= earlier["finished_at"]
    # Below 1.4 the operation shows no tiers.
    assert _op_tiers(h, op_id, "1.3") is None


def test_the_delay_between_tiers_is_honoured(make):
    priorities = [1, 5, 5]
    h = make(3, priorities, delay=1)
    op_id, status = h.do("failover")
    assert status == "completed", h.operation(op_id)["error_message"]
    _assert_tiered(_timeline(h.b), priorities, delay=1)
    tiers = _op_tiers(h, op_id)
    assert [(t["priority"], t["delay_seconds"]) for t in tiers] == [
        (1, 0), (5, 1)]


@pytest.mark.parametrize("kind", ["test_failover", "failback"])
def test_test_failover_and_failback_run_tier_by_tier(make, kind):
    priorities = [3, 1, 2]
    h = make(3, priorities)
    cloud, suffix = h.b, ""
    if kind == "failback":
        op_id, status = h.do("failover")
        assert status == "completed", h.operation(op_id)["error_message"]
        cloud = h.a
    else:
        suffix = "-drtest"
    op_id, status = h.do(kind)
    assert status == "completed", h.operation(op_id)["error_message"]
    timeline = _timeline(cloud, suffix)
    assert sorted(timeline) == ["vm-0", "vm-1", "vm-2"]
    _assert_tiered(timeline, priorities)
    assert [t["status"] for t in _op_tiers(h, op_id)] == ["completed"] * 3


def test_a_failed_vm_ends_its_tier_and_the_next_tier_starts(make):
    priorities = [1, 1, 2]
    h = make(3, priorities)
    h.b.build_fails.add("vm-0")
    op_id, status = h.do("failover")
    assert status == "failed"
    op = h.operation(op_id)
    assert "recreate_instances" in op["error_message"]
    assert "did not become ACTIVE" in op["error_message"]
    timeline = _timeline(h.b)
    assert timeline["vm-0"]["status"] == "ERROR"
    assert timeline["vm-1"]["status"] == timeline["vm-2"]["status"] == \
        "ACTIVE"
    # vm-2 waited for vm-0's failure and vm-1's success.
    _assert_tiered(timeline, priorities)
    first, second = _op_tiers(h, op_id)
    assert first["status"] == "failed" and second["status"] == "completed"
    vms = {vm["instance_name"]: vm for vm in first["instances"]}
    assert vms["vm-0"]["status"] == "failed"
    assert vms["vm-0"]["failed_at"] and vms["vm-0"]["active_at"] is None
    assert "did not become ACTIVE" in vms["vm-0"]["error"]
    assert vms["vm-1"]["status"] == "active"


def test_a_stopping_engine_does_not_wait_out_the_delay(make):
    """The delay is waited in the step; an engine that stops meanwhile
    leaves the step running (no failure), and its restart re-runs the
    step without waiting again for the tier it finds built."""
    h = make(2, [1, 2], delay=3600)
    op_id = h.start("failover")

    def waiting():
        tiers = (h.operation(op_id)["result"] or {}).get("tiers") or []
        return len(tiers) == 2 and tiers[1]["status"] == "waiting"
    host = "engine-twosite-b"
    from protector.db import operations as ops_db
    assert ops_db.claim(h.ctx, op_id, host)
    assert runner.run_operation(h.ctx, op_id, host,
                                should_stop=waiting) is None
    assert h.operation(op_id)["status"] == "running"
    assert h.step_status(op_id)["recreate_instances"] == "running"
    assert sorted(_timeline(h.b)) == ["vm-0"]
    # The restart: tier 1 is found built, tier 2 goes at once.
    assert h.run(op_id) == "completed"
    assert sorted(_timeline(h.b)) == ["vm-0", "vm-1"]
    tiers = _op_tiers(h, op_id)
    assert [t["delay_seconds"] for t in tiers] == [0, 0]
    assert h.duplicates() == {"servers": 0, "volumes": 0, "networks": 0}

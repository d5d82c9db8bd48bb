"""The recreate step builds as many instances at once as the target's
compute hosts do (engine/tasks/capacity.py, doc/engine.md "Width"): up
and enabled nova-compute services times ``[engine]
builds_per_compute_host``, within ``max_parallel_instances``.

The real engine against two fake clouds (``twosite.py``) whose Nova keeps
a new server in BUILD for a while; the most servers in BUILD at one time
is the width the engine used.
"""
from oslo_config import cfg
import pytest

from tests.functional.engine import twosite

BUILD = 0.3  # seconds a new server stays in BUILD
MEMBERS = 12


@pytest.fixture
def make(engine_db, monkeypatch):
    made = []

    def build(source_hosts, target_hosts, members=MEMBERS):
        # width=None: the engine's own width, not a fixed override.
        h = twosite.TwoSite(engine_db, monkeypatch, members=members,
                            volumes=1, width=None)
        made.append(h)
        h.a.compute_hosts, h.b.compute_hosts = source_hosts, target_hosts
        for cloud in h.clouds.values():
            cloud.build_seconds = BUILD
        return h
    cfg.CONF.set_override("builds_per_compute_host", 2, group="engine")
    yield build
    for h in made:
        h.close()
    cfg.CONF.clear_override("builds_per_compute_host", group="engine")


def _most_building(cloud):
    """The most servers in BUILD at one time."""
    events = []
    for t in cloud.timeline().values():
        events += [(t["created"], 1), (t["built"], -1)]
    most = now = 0
    for _, delta in sorted(events):  # an end before a start at a tie
        now += delta
        most = max(most, now)
    return most


@pytest.mark.parametrize("target_hosts,width", [(1, 2), (3, 6), (5, 10)])
def test_failover_builds_per_target_compute_host(make, target_hosts,
                                                 width):
    h = make(source_hosts=4, target_hosts=target_hosts)
    op_id, status = h.do("failover")
    assert status == "completed", h.operation(op_id)["error_message"]
    assert len(h.b.timeline()) == MEMBERS
    assert _most_building(h.b) == width


def test_max_parallel_instances_bounds_the_width(make):
    cfg.CONF.set_override("max_parallel_instances", 3, group="engine")
    try:
        h = make(source_hosts=1, target_hosts=6)
        op_id, status = h.do("failover")
        assert status == "completed", h.operation(op_id)["error_message"]
        assert _most_building(h.b) == 3
    finally:
        cfg.CONF.clear_override("max_parallel_instances", group="engine")


def test_failback_counts_the_other_sites_hosts(make):
    # 8: site-a keeps the stopped instances until the failback ends
    # (the fake project's quota is 20 instances).
    h = make(source_hosts=2, target_hosts=1, members=8)
    op_id, status = h.do("failover")
    assert status == "completed", h.operation(op_id)["error_message"]
    op_id, status = h.do("failback")
    assert status == "completed", h.operation(op_id)["error_message"]
    # Back on site-a, whose two hosts build 2 x 2 at once.
    assert _most_building(h.a) == 4

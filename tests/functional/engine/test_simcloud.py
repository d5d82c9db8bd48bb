"""The simulated cloud's caps and latency model (tests/benchmarks/simcloud.py),
on its logical clock: no wall-clock timing."""
import pytest

from tests.benchmarks import simcloud


def _conf(**sets):
    base = ["pools.nova_build.hosts=2", "pools.nova_build.per_host=3",
            "pools.cinder_volume.hosts=1", "pools.cinder_volume.per_host=4",
            "transitions.server.build.duration=10",
            "transitions.volume.create.duration=5",
            "latency.compute.create_server=0.5",
            "latency.compute.get_server=0.1",
            "latency.block_storage.create_volume=0.2"]
    return simcloud.config(sets=base + ["%s=%s" % kv for kv in sets.items()])


def _cloud(conf):
    site = {"id": "site-x", "name": "site-x"}
    return simcloud.SimCloud(site, "project", conf, simcloud.ManualClock())


def test_builds_queue_behind_max_concurrent_builds_per_host():
    cloud = _cloud(_conf())
    conn = cloud.site_cloud().conn
    made = [conn.compute.create_server(
        name="vm-%d" % i, flavor_id="flavor-small", networks="none")
        for i in range(9)]
    pool = cloud.site_model.pools["nova_build"]
    # 2 hosts x 3 slots: never more than 3 builds at once on a host, and
    # the servers spread over both hosts.
    assert [pool.peak(h) for h in range(2)] == [3, 3]
    assert pool.peak() == 6
    # Created 0.5 s apart (the POST's latency): the 7th and later wait
    # for a free slot, so the last is ready one build later.
    ready = sorted(cloud.servers[s.id]["ready_at"] for s in made)
    assert ready[:6] == [pytest.approx(10 + 0.5 * i) for i in range(1, 7)]
    assert ready[6] >= ready[0] + 10
    # Nothing is ACTIVE before its time; waiting moves the logical clock
    # to the poll that sees it (a GET, then every 2 s + GET).
    assert conn.compute.get_server(made[-1].id).status == "BUILD"
    before = cloud.calls.get("compute.get_server", 0)
    due = cloud.servers[made[-1].id]["ready_at"]
    server = conn.compute.wait_for_server(made[-1], status="ACTIVE")
    assert server.status == "ACTIVE"
    assert cloud.clock.now() >= due
    assert cloud.calls["compute.get_server"] - before > 1


def test_volume_operations_capped_per_backend():
    cloud = _cloud(_conf())
    conn = cloud.site_cloud().conn
    for i in range(10):
        conn.block_storage.create_volume(name="v%d" % i, size=1)
    pool = cloud.site_model.pools["cinder_volume"]
    assert pool.peak() == 4
    ends = sorted(cloud.volumes[v]["ready_at"] for v in cloud.volumes)
    # 10 creates, 4 at a time, 5 s each: three rounds.
    assert ends[-1] >= 15


def test_uncapped_pool_runs_everything_at_once():
    cloud = _cloud(_conf(**{"pools.nova_build.per_host": 0}))
    conn = cloud.site_cloud().conn
    for i in range(9):
        conn.compute.create_server(name="vm-%d" % i,
                                   flavor_id="flavor-small", networks="none")
    assert cloud.site_model.pools["nova_build"].peak() == 9


def test_first_call_of_a_session_authenticates_once():
    cloud = _cloud(_conf(**{"latency.identity.token": 0.25}))
    site_cloud = cloud.site_cloud()
    for _ in range(3):
        with site_cloud.guard("compute"):
            site_cloud.conn.compute.flavors()
    assert cloud.calls["identity.token"] == 1
    assert cloud.clock.now() == pytest.approx(0.25 + 3 * 0.03)


def test_bound_of_one_vm_is_the_sum_of_its_chain():
    conf = _conf()
    total, calls = simcloud.bound(conf, 1, "unplanned_failover", ideal=True)
    # token, both volume creates at once (the longer from the image),
    # then the server's POST and build.
    image = conf["transitions"]["volume.create_from_image"]["duration"]
    assert total == pytest.approx(0.10 + 0.2 + max(image, 5) + 0.5 + 10)
    assert calls["block_storage.create_volume"] == 2
    assert calls["compute.create_server"] == 1


def test_bound_grows_with_the_cap_not_with_n_squared():
    conf = _conf()
    one = simcloud.bound(conf, 6, "unplanned_failover", ideal=True)[0]
    # 12 builds on 6 slots: a second round of builds.
    two = simcloud.bound(conf, 12, "unplanned_failover", ideal=True)[0]
    assert two >= one + 10


def test_rest_lets_the_backends_finish_before_the_next_operation():
    """bench_scale starts each operation on settled sites: a delete is
    answered at once but keeps the backend busy (as Cinder's does), and
    the next operation's creates must not queue behind the previous
    operation's deletes, which its bound does not have."""
    from types import SimpleNamespace

    from tests.benchmarks import bench_scale
    cloud = _cloud(_conf(**{"transitions.volume.delete.duration": 5}))
    conn = cloud.site_cloud().conn
    vols = [conn.block_storage.create_volume(name="v%d" % i, size=1)
            for i in range(8)]
    for vol in vols:
        conn.block_storage.wait_for_status(vol, "available")
    for vol in vols:
        conn.block_storage.delete_volume(vol)
    # 8 deletes, 4 at a time, 5 s each: the backend is busy 10 s more.
    busy = cloud.site_model.busy_until()
    assert busy >= cloud.clock.now() + 9
    skipped = bench_scale.rest(SimpleNamespace(clouds={"x": cloud}),
                               cloud.clock)
    assert cloud.clock.now() == pytest.approx(busy)
    assert skipped >= 9
    # The next create starts at once: ready one create after its POST.
    t = cloud.clock.now()
    new = conn.block_storage.create_volume(name="new", size=1)
    assert cloud.volumes[new.id]["ready_at"] == pytest.approx(t + 0.2 + 5)


def _two_sites(engine_db, monkeypatch, background, scale=0.1):
    conf = simcloud.config(sets=[
        "transitions.server.delete.duration=5",
        "transitions.server.build.duration=1",
        "transitions.server.stop.duration=1"])
    cloud = type("Cloud", (simcloud.SimCloud,), {
        "conf": conf, "clock": simcloud.Clock(scale)})
    harness = type("Sites", (simcloud.SimTwoSite,), {
        "cloud_class": cloud, "background_sub_operations": background})
    return harness(engine_db, monkeypatch, members=4, volumes=2, width=4)


@pytest.mark.parametrize("background", [
    simcloud.SimTwoSite.background_sub_operations, frozenset()],
    ids=["background", "inside-the-request"])
def test_failback_retires_while_the_other_site_vacates(
        engine_db, monkeypatch, background):
    """As between real sites, the vacate a failback queues on the other
    site runs there while the failback retires its own previous
    instances (storage_tasks.start_vacate): both delete servers (5 model
    s each), so the retirement takes one delete's time, not two. Run to
    its end inside the queueing request (as the functional tests' peer
    does), the vacate was inside the retirement's time."""
    h = _two_sites(engine_db, monkeypatch, background)
    try:
        _, status = h.do("failover")
        assert status == "completed"
        op_id, status = h.do("failback")
        assert status == "completed", h.operation(op_id)["error_message"]
        assert h.sub_threads == {}
        steps = {s["name"]: s for s in h.operation(op_id)["steps"]}
        retire = steps["retire_previous_instances"]
        seconds = (retire["completed_at"] -
                   retire["started_at"]).total_seconds() / 0.1
        vacate = [i for kind, i in h.sub_runs if kind == "vacate_site"]
        assert len(vacate) == 1
        if background:
            assert 5 <= seconds < 9, seconds
        else:
            assert seconds >= 10, seconds
    finally:
        h.close()

"""Failback with reverse replication: the peer (where the workload ran
since the failover) replicates back, resynced before the cut-over."""
from tests.functional.storage.conftest import Env
from tests.functional.storage.conftest import SITE_A
from tests.functional.storage.conftest import SITE_B


def _schedule(client, pg):
    return list(client.get_protection_groups(
        names=[pg]).items)[0].replication_schedule.enabled


def _fail_over(env):
    driver = env.driver(SITE_B)
    driver.ensure_replication(env.volumes)
    env.write()
    env.sim.fabric.advance(301)
    snap = driver.latest_replicated_snapshot(env.volumes)
    copies = driver.promote_volumes(snap, "fo-1")
    env.group["current_primary_site_id"] = SITE_B["id"]
    return copies


def test_async_failback_resyncs_writes_made_on_the_target(env):
    copies = _fail_over(env)
    # The workload ran on site B and wrote there.
    written = {c["source_volume_id"]: env.sim.fabric.write(
        "array2", c["backend_ref"]) for c in copies}
    driver = env.driver(SITE_A)
    out = driver.reverse_replication(env.volumes)
    assert out["source_array"] == "array2"
    assert out["target_array"] == "array1"
    assert out["stopped_old_direction"] is True
    assert out["volumes"] == sorted(c["backend_ref"] for c in copies)
    assert out["resync_snapshot"].startswith("array2:dr-web.")
    # The old direction no longer replicates; the new one does.
    assert _schedule(env.fa1, "dr-web") is False
    assert _schedule(env.fa2, "dr-web") is True
    assert driver.replication_lag() is not None

    snap = driver.latest_replicated_snapshot(env.volumes)
    assert snap["name"] == out["resync_snapshot"]
    back = driver.promote_volumes(snap, "fb-1")
    for copy in back:
        assert copy["array"] == "array1"
        assert env.version("array1", copy["backend_ref"]) == \
            written[copy["source_volume_id"]]

    # Back home: protecting again from site A stops site B's schedule
    # and replicates the volumes the workload now runs on.
    env.group["current_primary_site_id"] = SITE_A["id"]
    again = env.driver(SITE_B).ensure_replication(env.volumes)
    assert again["source_array"] == "array1"
    assert again["volumes"] == sorted(c["backend_ref"] for c in back)
    assert _schedule(env.fa1, "dr-web") is True
    assert _schedule(env.fa2, "dr-web") is False


def test_sync_failback_puts_the_target_copies_back_in_the_pod(sim, conf):
    env = Env(sim, conf, rtype="sync", pg="dr-pod")
    b = env.driver(SITE_B)
    b.ensure_replication(env.volumes)
    env.write(pod="dr-pod")
    sim.fabric.faults.array_down("array1")
    copies = b.promote_volumes(b.latest_replicated_snapshot(env.volumes),
                               "fo-s")
    env.group["current_primary_site_id"] = SITE_B["id"]
    written = {c["source_volume_id"]: sim.fabric.write(
        "array2", c["backend_ref"]) for c in copies}
    sim.fabric.faults.array_up("array1")

    a = env.driver(SITE_A)
    out = a.reverse_replication(env.volumes)
    assert out["source_array"] == "array2"
    assert out["volumes"] == sorted("dr-pod::" + c["backend_ref"]
                                    for c in copies)
    snap = a.latest_replicated_snapshot(env.volumes)
    assert snap["array"] == "array1"
    back = a.promote_volumes(snap, "fb-s")
    for copy in back:
        assert env.version("array1", copy["backend_ref"]) == \
            written[copy["source_volume_id"]]

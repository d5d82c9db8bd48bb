"""The ``pure`` driver when arrays or links fail: typed errors naming the
array, nothing half-made that a resume would duplicate, and RPO lag."""
import pytest

from protector import exception


def test_array_down_during_promote_fails_cleanly_and_resumes(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    versions = env.write()
    snap = driver.create_replicated_snapshot(env.volumes, "op-1")
    # The target array goes away in the middle of the step.
    env.sim.fabric.faults.array_down("array2")
    with pytest.raises(exception.ArrayUnreachable) as err:
        env.driver().promote_volumes(snap, "op-1")
    assert err.value.code == "protector.storage.array_unreachable"
    assert "secondary" in err.value.message or "array2" in err.value.message
    assert env.sim.endpoint("array2") in err.value.message
    env.sim.fabric.faults.array_up("array2")
    # One copy was made before the failure; the resume must reuse it.
    first = env.driver().promote_volumes(
        dict(snap, volumes=snap["volumes"][:1]), "op-1")
    env.sim.fabric.faults.array_down("array2")
    with pytest.raises(exception.ArrayUnreachable):
        env.driver().promote_volumes(snap, "op-1")
    env.sim.fabric.faults.array_up("array2")
    before = env.volume_names(env.fa2)
    copies = env.driver().promote_volumes(snap, "op-1")
    assert copies[0] == first[0]
    after = env.volume_names(env.fa2)
    assert len(after) == len(before) + len(env.volumes) - 1
    for copy in copies:
        assert env.version("array2", copy["backend_ref"]) == \
            versions[copy["source_volume_id"]]


def test_array_down_before_snapshot_names_the_array(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    env.sim.fabric.faults.array_down("array1")
    with pytest.raises(exception.ArrayUnreachable) as err:
        env.driver().create_replicated_snapshot(env.volumes, "op-p")
    assert env.sim.endpoint("array1") in err.value.message
    env.sim.fabric.faults.array_up("array1")
    snap = env.driver().create_replicated_snapshot(env.volumes, "op-p")
    assert snap["name"].startswith("array1:dr-web.")


def test_503_answers_are_unreachable_too(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    env.sim.fabric.faults.array_down("array2", mode="503")
    with pytest.raises(exception.ArrayUnreachable) as err:
        env.driver().latest_replicated_snapshot(env.volumes)
    assert "503" in err.value.message


def test_api_error_is_typed_with_purity_message(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    env.sim.fabric.faults.inject_error("array1", "POST",
                                       "/protection-group-snapshots",
                                       status=400, message="Out of space.")
    with pytest.raises(exception.ArrayError) as err:
        env.driver().create_replicated_snapshot(env.volumes, "op-e")
    assert err.value.code == "protector.storage.array_error"
    assert "Out of space." in err.value.message
    assert "post_protection_group_snapshots" in err.value.message


def test_link_down_replicate_now_times_out_then_completes(env):
    driver = env.driver()
    driver.ensure_replication(env.volumes)
    env.sim.fabric.faults.link_down("array1", "array2")
    with pytest.raises(exception.ReplicationTimeout) as err:
        env.driver().create_replicated_snapshot(env.volumes, "op-l")
    assert err.value.code == "protector.storage.replication_timeout"
    env.sim.fabric.faults.link_up("array1", "array2")
    env.sim.fabric.advance(1)
    snap = env.driver().create_replicated_snapshot(env.volumes, "op-l")
    snaps = list(env.fa1.get_protection_group_snapshots(
        source_names=["dr-web"]).items)
    assert len(snaps) == 1 and snap["name"] == "array1:" + snaps[0].name


def test_waiting_for_a_slow_transfer_polls_the_array(env):
    """With a timeout, the driver polls (the sleep advances the sim
    clock here) until the transfer completes."""
    env.conf.set_override("pure_replication_timeout", 3600, group="storage")
    env.sim.fabric.faults.slow_link("array1", "array2", 30)
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        env.sim.fabric.advance(10)

    driver = env.driver(sleep=sleep)
    driver.ensure_replication(env.volumes)
    snap = driver.create_replicated_snapshot(env.volumes, "op-s")
    assert snap["name"].startswith("array1:dr-web.")
    assert 2 <= len(slept) <= 4


def test_bad_token_is_an_auth_error_without_the_token(env):
    env.policy["secondary_fa_api_token"] = "wrong-token-1234"
    with pytest.raises(exception.ArrayAuthFailed) as err:
        env.driver().latest_replicated_snapshot(env.volumes)
    assert "wrong-token-1234" not in err.value.message
    assert env.sim.endpoint("array2") in err.value.message


def test_rpo_lag_grows_while_the_link_is_down(env):
    driver = env.driver()
    assert driver.replication_lag() is None
    driver.ensure_replication(env.volumes)
    env.sim.fabric.advance(301)
    lag = driver.replication_lag()
    assert lag is not None and lag <= 300
    env.sim.fabric.faults.link_down("array1", "array2")
    env.sim.fabric.advance(16 * 60)
    assert driver.replication_lag() > 15 * 60
    env.sim.fabric.faults.link_up("array1", "array2")
    env.sim.fabric.advance(301)
    assert driver.replication_lag() <= 300

"""The ``pure`` driver, sync: an ActiveCluster pod over both arrays."""
import pytest

from protector import exception
from tests.functional.storage.conftest import Env

POD = "dr-pod"


@pytest.fixture
def senv(sim, conf):
    return Env(sim, conf, rtype="sync", pg=POD)


def _pod(client):
    return list(client.get_pods(names=[POD]).items)[0]


def test_ensure_replication_stretches_the_pod(senv):
    out = senv.driver().ensure_replication(senv.volumes)
    assert out["replication_type"] == "sync"
    assert out["volumes"] == sorted(senv.array_name(v, POD)
                                    for v in senv.volumes)
    pod = _pod(senv.fa1)
    assert sorted(a.name for a in pod.arrays) == ["array1", "array2"]
    assert all(a.status == "online" for a in pod.arrays)
    # Both arrays serve the same volumes.
    for name in out["volumes"]:
        assert name in senv.volume_names(senv.fa2)
    assert senv.driver().ensure_replication(senv.volumes)["volumes"] == \
        out["volumes"]
    assert senv.driver().replication_lag() == 0


def test_failover_from_the_survivor_loses_no_write(senv):
    senv.driver().ensure_replication(senv.volumes)
    versions = senv.write(pod=POD)
    senv.sim.fabric.faults.array_down("array1")
    driver = senv.driver()
    assert driver.replication_lag() is None   # a member is offline
    snap = driver.create_replicated_snapshot(senv.volumes, "op-s")
    assert snap["kind"] == "pod" and snap["array"] == "array2"
    assert snap["pod_arrays"] == {"array1": "offline", "array2": "online"}
    copies = driver.promote_volumes(snap, "op-s")
    for copy in copies:
        assert "::" not in copy["backend_ref"]     # out of the pod: manageable
        assert senv.version("array2", copy["backend_ref"]) == \
            versions[copy["source_volume_id"]]
    before = senv.volume_names(senv.fa2)
    assert driver.promote_volumes(snap, "op-s") == copies
    assert senv.volume_names(senv.fa2) == before


def test_test_failover_on_a_pod_leaves_it_stretched(senv):
    senv.driver().ensure_replication(senv.volumes)
    driver = senv.driver()
    snap = driver.latest_replicated_snapshot(senv.volumes)
    tests = driver.promote_volumes(snap, "t-1", purpose="test")
    driver.delete_copies(tests)
    pod = _pod(senv.fa1)
    assert sorted(a.name for a in pod.arrays) == ["array1", "array2"]
    for vol in senv.volumes:
        assert senv.array_name(vol, POD) in senv.volume_names(senv.fa2)
    assert not any(c["backend_ref"] in senv.volume_names(senv.fa2)
                   for c in tests)


def test_failover_without_a_pod_is_a_clear_error(senv):
    with pytest.raises(exception.ReplicationNotReady) as err:
        senv.driver().latest_replicated_snapshot(senv.volumes)
    assert POD in err.value.message and "array2" in err.value.message


def test_sync_needs_a_sync_connection(sim, conf, spec_validator):
    from tests.functional.storage.conftest import make_sim
    asim = make_sim(spec_validator, connect="async-replication")
    try:
        conf.set_override("pure_ca_bundle", asim.cert_path, group="storage")
        env = Env(asim, conf, rtype="sync", pg=POD)
        with pytest.raises(exception.ArrayError) as err:
            env.driver().ensure_replication(env.volumes)
        assert "sync-replication" in err.value.message
    finally:
        asim.stop()

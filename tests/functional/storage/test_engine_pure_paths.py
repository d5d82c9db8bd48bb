"""The engine's storage steps on the ``pure`` path, against the simulator.

* A planned failover's ``final_snapshot`` runs on the *source* site (a
  sub-operation): the driver there must replicate from its own array to
  the target's, and the snapshot it returns (carried in the step results)
  must be the one the target's ``promote_volumes`` copies.
* A test failover's ``snapshot_consistency_group`` ensures the group's
  replication (protection group, members, schedule, target) and
  replicates now.
* Copies are brought into Cinder with the reference Cinder's Pure driver
  reads (``source-name``) and stay bootable.
"""
import types

import pytest

from protector.engine.tasks import storage_tasks
from protector import exception
from tests.functional.storage.conftest import SITE_A, SITE_B


def test_final_snapshot_on_the_source_site_feeds_the_target(env):
    versions = env.write()
    # The sub-operation's driver acts on the source site (site A); nothing
    # set up replication before (no ensure_replication call).
    source = env.driver(site=SITE_A)
    snap = source.create_replicated_snapshot(env.volumes, "final:op-1")
    # Replicated from array1 to array2, and described as array2 holds it.
    assert snap["name"].startswith("array1:dr-web.")
    assert snap["array"] == "array2"
    assert snap["site"] == SITE_B["id"]
    pg = env.fa1.get_protection_groups(names=["dr-web"])
    assert pg.status_code == 200
    members = {m.member.name for m in env.fa1.get_protection_groups_volumes(
        group_names=["dr-web"]).items}
    assert members == {env.array_name(v) for v in env.volumes}
    # The target promotes that very snapshot.
    copies = env.driver(site=SITE_B).promote_volumes(snap, "op-1")
    for vol, copy in zip(env.volumes, copies):
        ref = [v for v in snap["volumes"]
               if v["volume_id"] == vol["volume_id"]][0]["snapshot_ref"]
        assert ref.startswith(snap["name"] + ".")
        assert env.version("array2", copy["backend_ref"]) == \
            versions[vol["volume_id"]]
    # A resumed step finds the same snapshot (no second replication).
    again = source.create_replicated_snapshot(env.volumes, "final:op-1")
    assert again["name"] == snap["name"]


def test_final_snapshot_after_failover_runs_the_other_way(env):
    """Failback: the group's current primary is site B; its sub-operation
    replicates array2 -> array1."""
    target = env.driver(site=SITE_B)
    snap = target.create_replicated_snapshot(env.volumes, "test:op-0")
    copies = target.promote_volumes(snap, "op-0")
    failed_over = [dict(v, backend_ref=c["backend_ref"])
                   for v, c in zip(env.volumes, copies)]
    for vol in failed_over:
        env.sim.fabric.write("array2", vol["backend_ref"], data_version=77)
    env.group["current_primary_site_id"] = SITE_B["id"]
    snap = env.driver(site=SITE_B).create_replicated_snapshot(
        failed_over, "final:op-2")
    assert snap["name"].startswith("array2:dr-web.")
    assert snap["array"] == "array1" and snap["site"] == SITE_A["id"]
    back = env.driver(site=SITE_A).promote_volumes(snap, "op-2")
    for copy in back:
        assert env.version("array1", copy["backend_ref"]) == 77


def _store(kind, params=None):
    return {"operation": {"id": "op-%s" % kind, "operation_type": kind,
                          "parameters": params or {},
                          "protection_group_id": "pg-1"},
            "results": {}}


@pytest.fixture
def engine_with(env, monkeypatch):
    """storage_tasks with the driver and the member volumes of ``env``
    (the database parts of the engine are not what is tested here)."""
    drivers = []

    def driver(ctx, store, cloud_factory=None):
        drv = env.driver(site=SITE_B)
        drivers.append(drv)
        return drv
    monkeypatch.setattr(storage_tasks.tasks, "driver", driver)
    monkeypatch.setattr(storage_tasks, "_volumes",
                        lambda ctx, store: env.volumes)
    return drivers


def test_test_failover_ensures_replication_and_replicates_now(env,
                                                              engine_with):
    versions = env.write()
    # Nothing replicated yet, no array group: before, the drill failed
    # with no_snapshot because nothing ever called ensure_replication.
    with pytest.raises(exception.SnapshotNotFound):
        env.driver(site=SITE_B).latest_replicated_snapshot(env.volumes)
    out = storage_tasks.snapshot_consistency_group(
        None, _store("test_failover"))
    assert out["mode"] == "replicated_now"
    assert out["replication"]["pure_pg_name"] == "dr-web"
    sched = list(env.fa1.get_protection_groups(
        names=["dr-web"]).items)[0].replication_schedule
    assert sched.enabled and sched.frequency == 300_000
    snap = out["snapshot"]
    assert snap["name"].startswith("array1:dr-web.")
    copies = env.driver(site=SITE_B).promote_volumes(snap, "op-t",
                                                     purpose="test")
    for vol, copy in zip(env.volumes, copies):
        assert env.version("array2", copy["backend_ref"]) == \
            versions[vol["volume_id"]]


def test_test_failover_of_a_lost_source_uses_the_newest_snapshot(
        env, engine_with):
    env.driver(site=SITE_B).ensure_replication(env.volumes)
    env.driver(site=SITE_B).create_replicated_snapshot(env.volumes, "k1")
    env.sim.fabric.faults.array_down("array1")
    out = storage_tasks.snapshot_consistency_group(
        None, _store("test_failover"))
    assert out["mode"] == "latest_replicated"
    assert "array1" in out["replicate_now_failed"] or \
        "primary" in out["replicate_now_failed"]
    assert out["snapshot"]["name"].startswith("array1:dr-web.")


def test_unplanned_failover_does_not_touch_the_source(env, engine_with):
    env.driver(site=SITE_B).ensure_replication(env.volumes)
    env.driver(site=SITE_B).create_replicated_snapshot(env.volumes, "k1")
    env.sim.fabric.faults.array_down("array1")
    out = storage_tasks.snapshot_consistency_group(
        None, _store("failover", {"type": "unplanned"}))
    assert out["mode"] == "latest_replicated"


class _Volumes:
    """What ``_manage`` asks of Cinder (openstacksdk's block_storage)."""

    def __init__(self, services_forbidden=False):
        self.managed = []
        self.services_forbidden = services_forbidden

    def volumes(self, name=None):
        return []  # nothing managed yet (a re-run would find it by key)

    def services(self, binary=None):
        if self.services_forbidden:
            from openstack import exceptions as sdk_exc
            raise sdk_exc.ForbiddenException("admin only")
        return [types.SimpleNamespace(host="site-b-cinder@lab-b",
                                      state="up")]

    def manage_volume(self, **kwargs):
        self.managed.append(kwargs)
        return types.SimpleNamespace(id="cinder-%d" % len(self.managed))


class _Cloud:
    site = {"id": "site-b-id", "name": "site-b",
            "auth_url": "http://127.0.0.1:6100/v3"}

    def __init__(self, block_storage):
        self.conn = types.SimpleNamespace(block_storage=block_storage)

    def warm(self, *service_types):
        pass  # no token to have validated (SiteCloud.warm)

    def guard(self, service):
        import contextlib
        return contextlib.nullcontext()


def test_pure_copies_are_managed_by_source_name_and_stay_bootable(env):
    drv = env.driver(site=SITE_B)
    snap = drv.create_replicated_snapshot(env.volumes, "final:op-3")
    copies = drv.promote_volumes(snap, "op-3")
    cinder = _Volumes()
    sources = {v["volume_id"]: dict(v, description="d-" + v["volume_name"],
                                    metadata={"app": "web"})
               for v in env.volumes}
    for copy in copies:
        storage_tasks._manage(_Cloud(cinder), {"volume_type_name":
                                               "replicated-async"},
                              copy, sources[copy["source_volume_id"]],
                              "op-3", "failover")
    # The Cinder volume keeps the source's name, description and
    # metadata; Protector's marker is in the metadata, not the name.
    assert [(m["name"], m["description"]) for m in cinder.managed] == [
        ("vol-0", "d-vol-0"), ("vol-1", "d-vol-1")]
    assert [m["metadata"] for m in cinder.managed] == [
        {"app": "web", "protector_copy_key": "op-3:" + c["source_volume_id"],
         "protector_operation": "op-3"} for c in copies]
    # Cinder's Pure driver (manage_existing) reads only 'source-name'.
    assert [m["ref"] for m in cinder.managed] == [
        {"source-name": c["backend_ref"]} for c in copies]
    assert [m["bootable"] for m in cinder.managed] == [True, False]
    assert cinder.managed[0]["host"] == "site-b-cinder@lab-b#lab-b"
    assert cinder.managed[0]["volume_type"] == "replicated-async"


def test_copies_on_the_secondary_get_its_own_volume_type(env):
    """doc/api-ref.md: the type may have another name on the secondary; the
    one chosen at group create (remote_volume_type_id) is used there."""
    drv = env.driver(site=SITE_B)
    snap = drv.create_replicated_snapshot(env.volumes, "final:op-4")
    copy = drv.promote_volumes(snap, "op-4")[0]
    grp = {"volume_type_name": "replicated-async", "volume_type_id": "vt-a",
           "secondary_site_id": "site-b-id", "remote_volume_type_id": "vt-b"}
    cinder = _Volumes()
    storage_tasks._manage(_Cloud(cinder), grp, copy, env.volumes[0],
                          "op-4", "failover")
    # On the primary (a failback), the group's own type.
    storage_tasks._manage(_Cloud(cinder), dict(
        grp, secondary_site_id="site-a-id"), copy, env.volumes[0], "op-5",
        "failover")
    assert [m["volume_type"] for m in cinder.managed] == [
        "vt-b", "replicated-async"]


def test_a_copy_without_a_manage_ref_uses_source_name():
    assert storage_tasks._manage_ref({"backend_ref": "vol-x"}) == \
        {"source-name": "vol-x"}
    assert storage_tasks._manage_ref(
        {"backend_ref": "vol-x", "manage_ref": {"source-id": "7"}}) == \
        {"source-id": "7"}


def test_ensure_group_replication_for_the_api(env):
    """The entry point the API can call when a policy is created or
    members change: the group on the current primary's array."""
    from protector import storage
    env.conf.set_override("driver", "pure", group="storage")
    env.conf.register_opt(__import__("oslo_config").cfg.BoolOpt(
        "use_mock_storage", default=False))
    out = storage.ensure_group_replication(env.group, env.policy,
                                           env.volumes, conf=env.conf)
    assert out["pure_pg_name"] == "dr-web"
    members = {m.member.name for m in env.fa1.get_protection_groups_volumes(
        group_names=["dr-web"]).items}
    assert members == {env.array_name(v) for v in env.volumes}
    targets = list(env.fa1.get_protection_groups_targets(
        group_names=["dr-web"]).items)
    assert [(t.member.name, t.allowed) for t in targets] == [("array2", True)]

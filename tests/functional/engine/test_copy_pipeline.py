"""The recovery is pipelined per VM (issue #15): the promote step only
checks that the copies can be made; the rebuild asks for each VM's
copies in boot order ahead of the builds (``storage_tasks.
CopyRequests``) and boots each VM as soon as its own copies are
available, while Cinder still makes the others
(``storage_tasks.wait_copies``). A copy that Cinder puts in error is
asked for once more; a second failure fails the step with a message that
says what to do, and a retry then completes.

The pipeline is shown on the simulated cloud (tests/benchmarks/
simcloud.py) with one volume made at a time, on a scaled real clock: the
first VM is created before Cinder has made the last copy (without the
pipeline every VM waited for every copy).
"""
from protector.dr import recovery
from tests.benchmarks import simcloud
from tests.functional.engine import twosite

MEMBERS = 8


def _sim_harness(engine_db, monkeypatch, events, sets=(
        "pools.cinder_volume.hosts=1", "pools.cinder_volume.per_host=1",
        "transitions.volume.create.duration=1",
        "transitions.volume.create_from_image.duration=1")):
    conf = simcloud.config(sets=list(sets) + [
        "transitions.server.build.duration=1"])
    clock = simcloud.Clock(0.1)

    class Cloud(simcloud.SimCloud):
        def schedule(self, table, ident, kind):
            super().schedule(table, ident, kind)
            row = getattr(self, table + "s")[ident]
            events.append((self.name, kind, self.clock.now(),
                           row["ready_at"]))

    Cloud.conf, Cloud.clock = conf, clock
    harness = type("PipelineTwoSite", (simcloud.SimTwoSite,),
                   {"cloud_class": Cloud})
    return harness(engine_db, monkeypatch, members=MEMBERS, volumes=2,
                   width=MEMBERS)


def _on_b(h, events):
    """(copy creates, server builds) on site B, each as (scheduled at,
    ready at) in model seconds."""
    on_b = [e for e in events if e[0] == h.b.name]
    return ([(start, ready) for _, kind, start, ready in on_b
             if kind.startswith("volume.create")],
            [(start, ready) for _, kind, start, ready in on_b
             if kind == "server.build"])


def test_a_vm_boots_before_cinder_has_made_every_copy(engine_db,
                                                      monkeypatch):
    events = []
    h = _sim_harness(engine_db, monkeypatch, events)
    try:
        del events[:]  # the group's own volumes and servers on site A
        op_id, status = h.do("failover", type="unplanned")
        assert status == "completed", h.operation(op_id)["error_message"]
        creates, builds = _on_b(h, events)
        copies_ready = [ready for _, ready in creates]
        boots = [start for start, _ in builds]
        assert len(copies_ready) == 2 * MEMBERS
        assert len(boots) == MEMBERS
        # One copy at a time, a model second each: the last of the 16 is
        # ready about 16 s after the first; some VM has both its copies
        # among the first nine (in whatever order Cinder got them), and
        # boots a poll (1 s) and a request later. Without the pipeline
        # every boot comes after the last copy.
        assert min(boots) < max(copies_ready) - 3, (boots, copies_ready)
    finally:
        h.close()


def test_a_vm_boots_before_every_copy_is_asked_for(engine_db,
                                                   monkeypatch):
    """cinder-api answers one request at a time, a model second per
    create: asking for all 16 copies takes 16 s. The first VM boots
    once its own two are asked for and made, seconds before the last
    create is answered (when the promote step asked for every copy, no
    VM booted before the last create)."""
    events = []
    h = _sim_harness(engine_db, monkeypatch, events, sets=(
        "workers.block_storage=1", "latency.block_storage.create_volume=1",
        "transitions.volume.create.duration=0.1",
        "transitions.volume.create_from_image.duration=0.1"))
    try:
        del events[:]
        op_id, status = h.do("failover", type="unplanned")
        assert status == "completed", h.operation(op_id)["error_message"]
        creates, builds = _on_b(h, events)
        asked = [start for start, _ in creates]
        boots = [start for start, _ in builds]
        assert len(asked) == 2 * MEMBERS and len(boots) == MEMBERS
        assert min(boots) < max(asked) - 4, (boots, asked)
        # Still one copy per source volume, each recorded once.
        copies = [v for v in h.inventory()["b"]["volumes"]
                  if v["operation"] == op_id]
        assert len(copies) == 2 * MEMBERS
        assert h.duplicates() == {"servers": 0, "volumes": 0,
                                  "networks": 0}
    finally:
        h.close()


def test_a_copy_in_error_is_asked_for_again(engine_db, monkeypatch):
    h = twosite.TwoSite(engine_db, monkeypatch, members=2, volumes=2)
    try:
        h.b.volume_fails["vm-1-disk-1"] = 1
        op_id, status = h.do("failover")
        assert status == "completed", h.operation(op_id)["error_message"]
        inv = h.inventory()["b"]
        copies = [v for v in inv["volumes"] if v["operation"] == op_id]
        # One copy per source volume: the one in error was deleted.
        assert len(copies) == 4 and all(v["status"] == "in-use"
                                        for v in copies), copies
        assert h.duplicates() == {"servers": 0, "volumes": 0,
                                  "networks": 0}
        # The member's recorded volumes are the ones its VM uses.
        by_id = {v["id"]: v for v in copies}
        for member in h.members():
            for vol in member["volumes"]:
                assert vol["current_volume_id"] in by_id, member
    finally:
        h.close()


def test_a_copy_failing_twice_fails_the_step_and_a_retry_completes(
        engine_db, monkeypatch):
    h = twosite.TwoSite(engine_db, monkeypatch, members=2, volumes=2)
    try:
        h.b.volume_fails["vm-0-disk-0"] = 2
        op_id, status = h.do("failover")
        assert status == "failed"
        op = h.operation(op_id)
        assert h.step_status(op_id)["recreate_instances"] == "failed"
        assert op["error_code"] == "protector.storage.error"
        assert "went to error" in op["error_message"]
        assert "twice" in op["error_message"]
        assert "retry" in op["error_message"]
        assert h.group()["status"] == "error"
        # Cinder is fixed; the retry asks for the copy once more.
        recovery.retry(h.req(), op_id)
        assert h.run(op_id) == "completed", \
            h.operation(op_id)["error_message"]
        assert h.group()["status"] == "failed_over"
        copies = [v for v in h.inventory()["b"]["volumes"]
                  if v["operation"] == op_id]
        assert len(copies) == 4 and all(v["status"] == "in-use"
                                        for v in copies), copies
    finally:
        h.close()


def test_test_cleanup_finds_a_copy_whose_answer_was_lost(engine_db,
                                                         monkeypatch):
    """A drill's copy request took effect but its answer was lost: the
    operation recorded the copy as intended, never as made. Test cleanup
    asks the driver for it (``find_copy``) and deletes it: nothing the
    drill made is left."""
    h = twosite.TwoSite(engine_db, monkeypatch, members=2, volumes=2)
    try:
        h.b.fail("block_storage.create_volume", "lost_response")
        op_id, status = h.do("test_failover", auto_network=True)
        assert status == "failed"
        assert h.b.fault_hits() == 1
        h.b.clear_faults()
        assert h.group()["active_test_operation_id"] == op_id
        cleanup, status = h.do("test_cleanup")
        assert status == "completed", h.operation(cleanup)["error_message"]
        assert h.made_by(op_id)["b"] == []
        assert h.inventory()["b"]["volumes"] == []
    finally:
        h.close()

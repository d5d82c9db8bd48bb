"""Failback's retire_previous_instances against a fake Nova/Cinder and the
real database (the lab tests run it against the real services).

What is stale: each member's original instance and servers Protector
built for a member earlier (metadata), not the ones this failback built,
not a DR test's, not anything else of the project. Deleting a server must
never delete a volume (delete_on_termination turned off first), and a
crash between the delete and the unmanage must not lose a volume.
"""
import contextlib
import threading
import types
import uuid

import pytest

from protector import context
from protector.db import dr as dr_db
from protector.db import members as members_db
from protector.engine.tasks import retire_tasks
from tests.functional.engine import fixtures


class FakeNova:
    def __init__(self, block):
        self.block = block
        self.servers_ = {}
        self.deleted = []
        self.on_wait = None

    def add(self, metadata=None, volumes=()):
        sid = str(uuid.uuid4())
        self.servers_[sid] = {"metadata": metadata or {},
                              "dot": {v: True for v in volumes}}
        for vol in volumes:
            self.block.volumes[vol] = "in-use"
        return sid

    def servers(self, details=True):
        return [types.SimpleNamespace(id=sid, metadata=s["metadata"])
                for sid, s in self.servers_.items()]

    def find_server(self, sid, ignore_missing=True):
        return types.SimpleNamespace(id=sid) if sid in self.servers_ \
            else None

    def volume_attachments(self, sid):
        return [types.SimpleNamespace(volume_id=v)
                for v in self.servers_[sid]["dot"]]

    def put(self, url, json=None, microversion=None, raise_exc=True):
        assert microversion == "2.85"
        sid = url.split("/")[2]
        att = json["volumeAttachment"]
        self.servers_[sid]["dot"][att["volumeId"]] = \
            att["delete_on_termination"]
        return types.SimpleNamespace(status_code=202, text="")

    def delete_server(self, server):
        sid = getattr(server, "id", server)
        record = self.servers_.pop(sid)
        for vol, dot in record["dot"].items():
            # Nova deletes a volume whose attachment says so.
            if dot:
                self.block.volumes.pop(vol)
            else:
                self.block.volumes[vol] = "available"
        self.deleted.append(sid)

    def wait_for_delete(self, server, wait=None, interval=2):
        if self.on_wait is not None:
            self.on_wait()
        return server


class FakeCinder:
    def __init__(self):
        self.volumes = {}
        self.unmanaged = []
        self.fail_once = set()

    def find_volume(self, vid, ignore_missing=True):
        return types.SimpleNamespace(id=vid) if vid in self.volumes else None

    def wait_for_status(self, volume, status, failures=None, wait=None,
                        interval=2):
        assert self.volumes[volume.id] == status
        return volume

    def unmanage_volume(self, volume):
        if volume.id in self.fail_once:
            self.fail_once.discard(volume.id)
            raise RuntimeError("engine killed")
        self.volumes.pop(volume.id)
        self.unmanaged.append(volume.id)


class FakeCloud:
    def __init__(self):
        cinder = FakeCinder()
        self.conn = types.SimpleNamespace(compute=FakeNova(cinder),
                                          block_storage=cinder)
        self.site = {"name": "site-a"}

    def warm(self, *service_types):
        pass  # no token to have validated (SiteCloud.warm)

    @contextlib.contextmanager
    def guard(self, service):
        yield


@pytest.fixture
def setup(engine_db, monkeypatch):
    rows = engine_db
    a = rows.site("retire-a", "http://a/v3")
    b = rows.site("retire-b", "http://b/v3")
    pg_id = rows.group("p", a, b, members=2, status="failed_over")
    ctx = context.get_admin_context()
    members = members_db.list_all(ctx, pg_id)
    cloud = FakeCloud()
    nova = cloud.conn.compute
    # The originals (their ids are the members' instance_id).
    originals = []
    for member in members:
        vols = [str(uuid.uuid4()), str(uuid.uuid4())]
        nova.servers_[member["instance_id"]] = {
            "metadata": {}, "dot": {v: True for v in vols}}
        for vol in vols:
            cloud.conn.block_storage.volumes[vol] = "in-use"
        originals.append((member["instance_id"], vols))
    monkeypatch.setattr(retire_tasks.tasks, "target_cloud",
                        lambda ctx, store, warm=(): cloud)
    op_id = fixtures.queue(rows, pg_id, "failback", {"type": "planned"},
                           source=b, target=a)
    store = {"operation": {"id": op_id, "protection_group_id": pg_id,
                           "target_site_id": a, "source_site_id": b,
                           "operation_type": "failback",
                           "parameters": {}},
             "results": {},
             # What the runner gives the step (its declared inputs).
             "inputs": {"servers": None, "volumes": None}}
    return types.SimpleNamespace(ctx=ctx, cloud=cloud, nova=nova,
                                 cinder=cloud.conn.block_storage,
                                 members=members, originals=originals,
                                 store=store, rows=rows, pg_id=pg_id)


def test_retires_originals_and_earlier_copies_only(setup):
    s = setup
    m0, m1 = s.members
    # An instance an earlier failback built for member 0 (stale), the one
    # this failback built (kept), a DR test's, and an unrelated server.
    earlier_vol = str(uuid.uuid4())
    earlier = s.nova.add({"protector_member": m0["id"],
                          "protector_operation": "old-op"}, [earlier_vol])
    new_vol = str(uuid.uuid4())
    new = s.nova.add({"protector_member": m1["id"],
                      "protector_operation": s.store["operation"]["id"]},
                     [new_vol])
    test_op = fixtures.queue(s.rows, s.pg_id, "test_failover", hold=False)
    dr_db.intend_resource(s.ctx, test_op, s.pg_id, None, "server",
                          "server:%s" % m0["id"], {"purpose": "test"})
    drill = s.nova.add({"protector_member": m0["id"],
                        "protector_operation": test_op}, [])
    other = s.nova.add({}, [str(uuid.uuid4())])
    s.store["inputs"]["servers"] = {m1["id"]: new}

    result = retire_tasks.retire_previous_instances(s.ctx, s.store)

    stale = [sid for sid, _ in s.originals] + [earlier]
    assert sorted(result["deleted_instances"]) == sorted(stale)
    assert sorted(s.nova.deleted) == sorted(stale)
    assert set(s.nova.servers_) == {new, drill, other}
    # Every volume of a retired instance was kept by Nova and unmanaged.
    vols = [v for _, vs in s.originals for v in vs] + [earlier_vol]
    assert sorted(result["unmanaged_volumes"]) == sorted(vols)
    assert sorted(s.cinder.unmanaged) == sorted(vols)
    assert new_vol in s.cinder.volumes


def test_crash_between_delete_and_unmanage_loses_no_volume(setup):
    s = setup
    sid, vols = s.originals[0]
    s.cinder.fail_once.add(vols[1])
    with pytest.raises(RuntimeError):
        retire_tasks.retire_previous_instances(s.ctx, s.store)
    # The server is gone, one of its volumes is still in Cinder: only the
    # recorded row knows it belonged to the retired instance.
    assert sid not in s.nova.servers_
    assert vols[1] in s.cinder.volumes
    result = retire_tasks.retire_previous_instances(s.ctx, s.store)
    assert sid in result["deleted_instances"]
    assert vols[1] in result["unmanaged_volumes"]
    assert vols[1] not in s.cinder.volumes
    assert len(s.nova.deleted) == 2


def test_nothing_left_to_retire(setup):
    s = setup
    for sid, _ in s.originals:
        s.nova.servers_.pop(sid)
    result = retire_tasks.retire_previous_instances(s.ctx, s.store)
    assert result["deleted_instances"] == []
    assert result["unmanaged_volumes"] == []


def test_volumes_leave_the_consistency_group_and_copies_join(
        setup, monkeypatch):
    """Cinder unmanages no volume in a group: the retired ones leave the
    group's consistency group first; the failback's copies take their
    place (group driver in mock mode)."""
    from oslo_config import cfg

    from protector.db import models
    from protector import volume_groups
    s = setup
    monkeypatch.setattr(cfg.CONF, "use_mock_cinder", True)
    vgroups = volume_groups.for_site({"name": "retire-a"}, None)
    cg = vgroups.create_group("pg", "type")
    with s.rows.session() as sess, sess.begin():
        sess.add(models.ConsistencyGroup(
            id=str(uuid.uuid4()), protection_group_id=s.pg_id, name="pg",
            volume_type_id="type", status="available",
            primary_cg_id=cg["id"],
            secondary_cg_id=str(uuid.uuid4()), created_at=fixtures._now()))
    old = [v for _, vols in s.originals for v in vols]
    vgroups.add_volumes(cg["id"], old)
    copies = [str(uuid.uuid4()), str(uuid.uuid4())]
    s.store["inputs"]["volumes"] = {
        "src-%d" % i: v for i, v in enumerate(copies)}
    removed = []
    real_unmanage = s.cinder.unmanage_volume

    def unmanage(volume):
        # Cinder's rule, checked at the moment of the unmanage.
        assert not vgroups.volumes_in_group(cg["id"], [volume.id])
        removed.append(volume.id)
        real_unmanage(volume)
    s.cinder.unmanage_volume = unmanage
    # One group update for all the retired volumes: Cinder takes one
    # update of a group at a time, each waiting for it to be available.
    updates = []
    real_remove = type(vgroups).remove_volumes

    def remove_volumes(self, group_id, volume_ids):
        updates.append(sorted(volume_ids))
        real_remove(self, group_id, volume_ids)
    monkeypatch.setattr(type(vgroups), "remove_volumes", remove_volumes)
    added = []
    real_add = type(vgroups).add_volumes

    def add_volumes(self, group_id, volume_ids):
        added.extend(volume_ids)
        real_add(self, group_id, volume_ids)
    monkeypatch.setattr(type(vgroups), "add_volumes", add_volumes)
    # The group is updated while Nova deletes the servers, not after:
    # each wait for a delete sees the update done (or times out).
    regrouped = threading.Event()
    s.nova.on_wait = lambda: waits.append(regrouped.wait(timeout=3))
    waits = []
    real_update = type(vgroups).update_volumes

    def update_volumes(self, group_id, add, remove):
        try:
            return real_update(self, group_id, add, remove)
        finally:
            regrouped.set()
    monkeypatch.setattr(type(vgroups), "update_volumes", update_volumes)

    result = retire_tasks.retire_previous_instances(s.ctx, s.store)
    assert updates == [sorted(old)]
    assert sorted(added) == sorted(copies)
    assert sorted(removed) == sorted(old)
    assert result["consistency_group_id"] == cg["id"]
    assert sorted(result["added_to_consistency_group"]) == sorted(copies)
    assert sorted(vgroups.volumes_in_group(cg["id"], old + copies)) == \
        sorted(copies)
    assert waits == [True, True]
    vgroups.delete_group(cg["id"])

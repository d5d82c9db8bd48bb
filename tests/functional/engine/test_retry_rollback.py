"""Retry and rollback of failed operations (dr/recovery.py) through the
real database, the real runner and flows, the mock storage driver and a
fake Nova/Neutron/Cinder/Glance.

A failure is injected with ``PROTECTOR_ENGINE_FAULTS`` ``fail_in`` (the
count file under the state path), the operation is retried or rolled back
through ``recovery.retry``/``recovery.rollback`` (what the API calls), and
the "engine" claims and runs it as the real one does.
"""
import contextlib
import dataclasses
import itertools
import json
import os
import types
import uuid

from oslo_config import cfg
import pytest
import sqlalchemy as sa

from protector import context
from protector.cloud import probe
from protector.db import dr as dr_db
from protector.db import members as members_db
from protector import caller
from protector.db import protection_groups as pg_db
from protector.db import models
from protector.db import operations as ops_db
from protector.db import sites as sites_db
from protector.dr import recovery
from protector.dr import subops
from protector.engine import faults
from protector.engine import flows
from protector.engine import runner
from protector.engine import subops as engine_subops
from protector.engine import tasks
from protector.engine.tasks import lifecycle_tasks
from protector.engine.tasks import source_tasks
from protector import exception
from protector.storage import mock as mock_storage

HOST = "engine-recovery-test"
NET = "net-b"
_ids = itertools.count()


# -- a fake target cloud ----------

def _id():
    return "%08d-0000-4000-8000-%012d" % (os.getpid() % 10 ** 8, next(_ids))


class Obj(types.SimpleNamespace):
    pass


class FakeCompute:
    def __init__(self):
        self.servers_ = {}
        self.created = []
        self.deleted = []
        self.started = []
        self.stopped = []

    def add(self, name, status="ACTIVE", metadata=None, server_id=None):
        server = Obj(id=server_id or _id(), name=name, status=status,
                     metadata=dict(metadata or {}))
        self.servers_[server.id] = server
        return server

    def find_server(self, sid, ignore_missing=True):
        return self.servers_.get(sid)

    def servers(self, name=None, details=True):
        wanted = name.strip("^$") if name else None
        return [s for s in self.servers_.values()
                if wanted is None or s.name == wanted]

    def find_flavor(self, name, ignore_missing=True):
        return Obj(id="flavor-" + name, name=name)

    def flavors(self):
        return []

    def find_keypair(self, name, ignore_missing=True):
        return None

    def services(self):
        return [Obj(binary="nova-compute", state="up", status="enabled")]

    def create_server(self, name, metadata=None, **attrs):
        server = self.add(name, metadata=metadata)
        server.attrs = attrs
        self.created.append(server.id)
        return server

    def wait_for_server(self, server, status="ACTIVE", wait=None,
                        interval=2):
        current = self.servers_[server.id]
        current.status = status
        return current

    def delete_server(self, server):
        self.servers_.pop(server.id, None)
        self.deleted.append(server.id)

    def wait_for_delete(self, server, wait=None, interval=2):
        return server

    def volume_attachments(self, server_id):
        # What the server was built with; keep_volumes (engine) turns off
        # any delete_on_termination before a delete.
        bdm = getattr(self.servers_.get(server_id), "attrs", {}).get(
            "block_device_mapping") or []
        return [Obj(volume_id=b["uuid"],
                    delete_on_termination=b.get("delete_on_termination"))
                for b in bdm if b.get("source_type") == "volume"]

    def stop_server(self, server):
        self.stopped.append(server.id)
        self.servers_[server.id].status = "SHUTOFF"

    def start_server(self, server):
        self.started.append(server.id)
        self.servers_[server.id].status = "ACTIVE"


class FakeNetwork:
    def __init__(self):
        self.items = {}
        self.deleted = []

    def _add(self, kind, name, **attrs):
        obj = Obj(id=_id(), name=name, kind=kind, **attrs)
        self.items[obj.id] = obj
        return obj

    def find_network(self, name_or_id, ignore_missing=True):
        if name_or_id in self.items:
            return self.items[name_or_id]
        if name_or_id == NET:
            return Obj(id="net-b-id", name=NET)
        return None

    find_subnet = find_network

    def find_security_group(self, name, ignore_missing=True):
        return None

    def networks(self, name=None):
        return [o for o in self.items.values()
                if o.kind == "network" and o.name == name]

    def subnets(self, network_id=None):
        return [o for o in self.items.values()
                if o.kind == "subnet" and o.network_id == network_id]

    def create_network(self, name, description=None):
        return self._add("network", name, description=description)

    def create_subnet(self, name, network_id=None, **attrs):
        return self._add("subnet", name, network_id=network_id)

    def _delete(self, res_id, ignore_missing=True):
        if self.items.pop(res_id, None) is not None:
            self.deleted.append(res_id)

    delete_network = _delete
    delete_subnet = _delete


class FakeBlock:
    def __init__(self):
        self.vols = {}
        self.created = []
        self.deleted = []

    def volumes(self, name=None):
        return [v for v in self.vols.values()
                if name is None or v.name == name]

    def create_volume(self, name, size=1, **attrs):
        # Cinder keeps the metadata (the copy's key is there).
        vol = Obj(id=_id(), name=name, status="available", size=size,
                  metadata=dict(attrs.get("metadata") or {}))
        self.vols[vol.id] = vol
        self.created.append(vol.id)
        return vol

    def wait_for_status(self, vol, status, failures=None, wait=None,
                        interval=2):
        return vol

    def delete_volume(self, vol_id, ignore_missing=True):
        if self.vols.pop(vol_id, None) is not None:
            self.deleted.append(vol_id)


class FakeImage:
    def find_image(self, name, ignore_missing=True):
        return Obj(id="image-" + name, name=name)


class FakeCloud:
    def __init__(self, name="target"):
        self.site = {"name": name}
        self.conn = Obj(compute=FakeCompute(), network=FakeNetwork(),
                        block_storage=FakeBlock(), image=FakeImage())

    def warm(self, *service_types):
        pass  # no token to have validated (SiteCloud.warm)

    @contextlib.contextmanager
    def guard(self, service):
        yield


def Req(ctx, tenant, headers=None):
    """The caller recovery.retry/rollback get from the API handler."""
    return caller.Caller(ctx, tenant, (headers or {}).get(
        "X-Protector-Peer-Token"))


def from_peer(req, site):
    """``req`` as signed by the peer ``site`` (an internal request)."""
    return dataclasses.replace(req, peer_site=site)


# -- fixtures ----------

@pytest.fixture
def env(engine_db, monkeypatch):
    cfg.CONF.set_override("use_mock_storage", True)
    # One at a time: the in-process SQLite file takes one writer.
    cfg.CONF.set_override("max_parallel_instances", 1, group="engine")
    cloud = FakeCloud()
    monkeypatch.setattr(tasks, "target_cloud",
                        lambda ctx, store, warm=(): cloud)
    monkeypatch.setattr(probe, "probe", lambda site, timeout=None: {
        "keystone": None, "protector": "unset", "compatible": None})
    # The engine's preflight (quotas, mappings, images of the target) is
    # tested on its own; this fake cloud only runs the flows.
    monkeypatch.setattr(lifecycle_tasks, "_preflight",
                        lambda *args, **kwargs: [])
    released = []
    monkeypatch.setattr(engine_subops, "release_peer_credential",
                        lambda ctx, op: released.append(op["id"]))
    monkeypatch.delenv(faults.ENV, raising=False)
    with contextlib.suppress(FileNotFoundError):
        os.remove(faults.count_path())
    tag = uuid.uuid4().hex[:6]
    a = engine_db.site("rr-a-" + tag, "http://127.0.0.1:1/v3")
    b = engine_db.site("rr-b-" + tag, "http://127.0.0.1:1/v3")
    project = "p-" + tag
    ns = types.SimpleNamespace(
        rows=engine_db, cloud=cloud, a=a, b=b, project=project,
        ctx=context.get_admin_context(), released=released,
        monkeypatch=monkeypatch)
    ns.req = Req(ns.ctx, project)
    yield ns
    cfg.CONF.clear_override("use_mock_storage")
    cfg.CONF.clear_override("max_parallel_instances", group="engine")
    with contextlib.suppress(FileNotFoundError):
        os.remove(faults.count_path())


def inject(env, step, times=1, when="before",
           code="protector.storage.array_unreachable"):
    env.monkeypatch.setenv(faults.ENV, json.dumps({"fail_in": {step: {
        "times": times, "code": code, "message": "injected in " + step,
        "when": when}}}))


def group(env, members=2, status="active"):
    return env.rows.group(env.project, env.a, env.b, members=members,
                          status=status)


def start(env, pg_id, kind, params, source=None, target=None):
    """Queue an operation as the API does (claims the group)."""
    params = dict(params)
    params.setdefault("previous_status",
                      pg_db.get_by_id(env.ctx, pg_id)["status"])
    op = ops_db.create(env.ctx, pg_id, {
        "project_id": env.project, "user_id": None,
        "protection_group_id": pg_id, "protection_group_name": "pg",
        "operation_type": kind, "source_site_id": source or env.a,
        "target_site_id": target or env.b, "parameters": params},
        flows.step_names(kind, params), test=kind == "test_failover")
    return op["id"]


def run(env, op_id):
    """The engine: claim the queued operation, run it to its end."""
    assert ops_db.claim(env.ctx, op_id, HOST)
    return runner.run_operation(env.ctx, op_id, HOST)


FAILOVER = {"type": "unplanned", "network_mapping": {"net-web": NET}}


def resources(env, op_id, rtype=None):
    return dr_db.resources(env.ctx, op_id=op_id, rtype=rtype)


def set_steps(env, op_id, status="failed", **steps):
    """Make an operation look as if it had run (for refusal checks)."""
    with env.rows.session() as s, s.begin():
        s.execute(sa.update(models.Operation).where(
            models.Operation.id == op_id).values(status=status))
        for name, step_status in steps.items():
            s.execute(sa.update(models.OperationStep).where(
                models.OperationStep.operation_id == op_id,
                models.OperationStep.name == name).values(
                status=step_status))
        pg_id = s.get(models.Operation, op_id).protection_group_id
        if status in ("failed", "completed"):
            s.execute(sa.update(models.ProtectionGroup).where(
                models.ProtectionGroup.id == pg_id,
                models.ProtectionGroup.current_operation_id == op_id).values(
                current_operation_id=None))


# -- fault injection ----------

def test_fail_in_fails_the_first_n_times_and_counts_in_a_file(env):
    inject(env, "some_step", times=2, code="protector.test.boom")
    calls = []
    task = faults.wrap("some_step", lambda ctx, store: calls.append(1) or {})
    for _ in range(2):
        with pytest.raises(exception.ProtectorException) as err:
            task(None, None)
        assert err.value.code == "protector.test.boom"
    assert calls == []
    # The count survives a new wrap (an engine restart reads the file).
    assert faults.wrap("some_step", lambda c, s: {"ok": 1})(None, None) == \
        {"ok": 1}
    assert json.load(open(faults.count_path())) == {"some_step": 2}
    assert faults.wrap("other_step", len) is len


def test_fail_in_after_runs_the_task_first(env):
    inject(env, "after_step", when="after")
    calls = []
    task = faults.wrap("after_step", lambda ctx, store: calls.append(1))
    with pytest.raises(exception.ProtectorException):
        task(None, None)
    assert calls == [1]


# -- retry ----------

def test_retry_continues_from_the_failed_step(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "failover", FAILOVER)
    inject(env, "recreate_instances", when="after")
    assert run(env, op_id) == "failed"
    op = env.rows.operation(op_id)
    assert op["error_code"] == "protector.storage.array_unreachable"
    assert env.rows.group_row(pg_id)["status"] == "error"
    made_volumes = list(env.cloud.conn.block_storage.created)
    made_servers = list(env.cloud.conn.compute.created)
    assert len(made_volumes) == 2 and len(made_servers) == 2
    # The credential is kept for the retry (it expires by itself).
    assert op_id not in env.released

    queued = recovery.retry(env.req, op_id)
    assert queued["id"] == op_id and queued["status"] == "queued"
    assert queued["error_code"] is None and queued["engine_host"] is None
    steps = {s["name"]: s for s in queued["steps"]}
    assert steps["recreate_instances"]["status"] == "pending"
    assert steps["recreate_instances"]["attempts"] == 1
    assert steps["promote_volumes"]["status"] == "completed"
    assert env.rows.group_row(pg_id)["current_operation_id"] == op_id

    assert run(env, op_id) == "completed"
    op = env.rows.operation(op_id)
    assert op["steps"]["promote_volumes"]["attempts"] == 1  # not re-run
    assert op["steps"]["validate_sites"]["attempts"] == 1
    assert op["steps"]["recreate_instances"]["attempts"] == 2
    # Nothing made twice: the re-run found its servers by their records.
    assert env.cloud.conn.block_storage.created == made_volumes
    assert env.cloud.conn.compute.created == made_servers
    assert len(resources(env, op_id, "server")) == 2
    assert len(resources(env, op_id, "volume")) == 2
    grp = env.rows.group_row(pg_id)
    assert grp["status"] == "failed_over"
    assert grp["current_primary_site_id"] == env.b
    assert grp["failover_count"] == 1
    assert op_id in env.released  # released once completed


def test_retry_of_a_step_that_failed_after_making_things_reuses_them(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "failover", FAILOVER)
    inject(env, "recreate_instances", when="after")
    assert run(env, op_id) == "failed"
    made = list(env.cloud.conn.block_storage.created)
    recovery.retry(env.req, op_id)
    assert run(env, op_id) == "completed"
    assert env.cloud.conn.block_storage.created == made
    vols = resources(env, op_id, "volume")
    assert len(vols) == 2 and {v["resource_id"] for v in vols} == set(made)


def test_retry_refused_unless_failed_latest_and_group_free(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "failover", FAILOVER)
    with pytest.raises(exception.OperationNotRetryable) as err:
        recovery.retry(env.req, op_id)  # queued, not failed
    assert "queued" in err.value.message
    set_steps(env, op_id, validate_sites="failed")
    # Busy: another operation holds the group.
    env.rows.set_group(pg_id, current_operation_id=str(uuid.uuid4()))
    with pytest.raises(exception.OperationConflict):
        recovery.retry(env.req, op_id)
    env.rows.set_group(pg_id, current_operation_id=None)
    # Not the newest any more.
    later = start(env, pg_id, "test_failover", {"auto_network": True})
    set_steps(env, later, status="completed")
    env.rows.set_group(pg_id, active_test_operation_id=None)
    with pytest.raises(exception.OperationNotRetryable) as err:
        recovery.retry(env.req, op_id)
    assert later in err.value.message
    assert env.rows.operation(op_id)["status"] == "failed"


def test_retry_refused_for_another_project_and_sub_operations(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "failover", FAILOVER)
    set_steps(env, op_id, validate_sites="failed")
    with pytest.raises(exception.OperationNotFound):
        recovery.retry(Req(env.ctx, "someone-else"), op_id)
    sub = ops_db.create(env.ctx, group(env), {
        "project_id": env.project, "protection_group_id": None,
        "operation_type": "prepare_failover", "source_site_id": env.b,
        "target_site_id": env.a, "parent_operation_id": op_id,
        "parameters": {}}, ["shutdown_instances", "final_snapshot"])
    with pytest.raises(exception.OperationNotRetryable) as err:
        recovery.check_retry(env.ctx, dict(sub, status="failed"))
    assert "retry that operation there" in err.value.message
    assert op_id in err.value.message


def test_requeue_is_one_conditional_transaction(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "failover", FAILOVER)
    set_steps(env, op_id, validate_sites="completed",
              snapshot_consistency_group="failed",
              promote_volumes="running")
    env.rows.set_group(pg_id, current_operation_id=str(uuid.uuid4()))
    with pytest.raises(exception.OperationConflict):
        ops_db.requeue(env.ctx, op_id)
    # Nothing changed: the operation is still failed, its steps as they
    # were.
    op = env.rows.operation(op_id)
    assert op["status"] == "failed"
    assert op["steps"]["snapshot_consistency_group"]["status"] == "failed"
    env.rows.set_group(pg_id, current_operation_id=None)
    queued = ops_db.requeue(env.ctx, op_id, parameters={"type": "x"})
    assert queued["parameters"] == {"type": "x"}
    steps = {s["name"]: s["status"] for s in queued["steps"]}
    assert steps == {"validate_sites": "completed",
                     "snapshot_consistency_group": "pending",
                     "promote_volumes": "pending",
                     "recreate_instances": "pending",
                     "update_protection_group": "pending"}
    with pytest.raises(exception.OperationNotRetryable):
        ops_db.requeue(env.ctx, op_id)  # queued now


def test_retry_of_a_test_failover_takes_the_test_marker_again(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "test_failover", {"auto_network": True})
    inject(env, "snapshot_consistency_group")
    assert run(env, op_id) == "failed"
    # It made nothing: the marker was released with the group.
    assert env.rows.group_row(pg_id)["active_test_operation_id"] is None
    recovery.retry(env.req, op_id)
    assert env.rows.group_row(pg_id)["active_test_operation_id"] == op_id
    assert run(env, op_id) == "completed"
    assert env.rows.group_row(pg_id)["active_test_operation_id"] == op_id


def test_retry_with_a_peer_token_replaces_the_credential(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "failover", {
        "type": "planned", engine_subops.CREDENTIAL_KEY: {"id": "old"}})
    set_steps(env, op_id, validate_sites="failed")

    def keep(req, site, args, purpose):
        assert site["id"] == env.a  # the source site
        args[engine_subops.CREDENTIAL_KEY] = {"id": "new"}
    env.monkeypatch.setattr(engine_subops, "keep_peer_token", keep)
    req = Req(env.ctx, env.project, {"X-Protector-Peer-Token": "tok"})
    queued = recovery.retry(req, op_id)
    assert queued["parameters"][engine_subops.CREDENTIAL_KEY] == {"id": "new"}
    assert env.released == [op_id]  # the old one, deleted


# -- forward-only steps ----------

class ForwardOnly:
    def __init__(self):
        self.calls = []
        self.fail = True

    def factory(self, parameters):
        def swap(ctx, store):
            self.calls.append("swap")
            if self.fail:
                self.fail = False
                raise exception.StorageError(driver="fake", reason="boom")
            return {"swapped": True}
        return flows.Flow(name="fo", steps=(
            flows.Step("first", lambda c, s: {"ok": 1}),
            flows.Step("swap", swap, forward_only=True)))


def test_a_failed_forward_only_step_runs_again_on_retry(env):
    fake = ForwardOnly()
    flows._load()
    env.monkeypatch.setitem(flows.REGISTRY, "fo", fake.factory)
    pg_id = group(env)
    op_id = ops_db.create(env.ctx, pg_id, {
        "project_id": env.project, "protection_group_id": pg_id,
        "operation_type": "fo", "parameters": {}}, ["first", "swap"])["id"]
    assert run(env, op_id) == "failed"
    ops_db.requeue(env.ctx, op_id)
    assert run(env, op_id) == "completed"
    assert fake.calls == ["swap", "swap"]
    assert env.rows.operation(op_id)["steps"]["first"]["attempts"] == 1


def test_an_interrupted_forward_only_step_runs_on_explicit_retry(env):
    fake = ForwardOnly()
    fake.fail = False
    flows._load()
    env.monkeypatch.setitem(flows.REGISTRY, "fo", fake.factory)
    pg_id = group(env)
    op_id = ops_db.create(env.ctx, pg_id, {
        "project_id": env.project, "protection_group_id": pg_id,
        "operation_type": "fo", "parameters": {}}, ["first", "swap"])["id"]
    assert ops_db.claim(env.ctx, op_id, HOST)
    ops_db.update_step(env.ctx, op_id, HOST, "swap", {"status": "running"})
    # The resumed run refuses the interrupted forward-only step ...
    assert runner.run_operation(env.ctx, op_id, HOST) == "failed"
    assert env.rows.operation(op_id)["error_code"] == \
        "protector.operation.step_interrupted"
    assert fake.calls == []
    # ... the operator's explicit retry runs it.
    ops_db.requeue(env.ctx, op_id)
    assert run(env, op_id) == "completed"
    assert fake.calls == ["swap"]


# -- sub-operations ----------

def test_a_failed_sub_operation_is_requeued_for_its_retried_parent(env,
                                                                  request):
    pg_id = group(env)
    parent = str(uuid.uuid4())
    sub = ops_db.create(env.ctx, pg_id, {
        "project_id": env.project, "protection_group_id": pg_id,
        "operation_type": "prepare_failover", "source_site_id": env.b,
        "target_site_id": env.a, "parent_operation_id": parent,
        "parameters": {"parent_operation_id": parent}},
        ["shutdown_instances", "final_snapshot"])
    set_steps(env, sub["id"], shutdown_instances="completed",
              final_snapshot="failed")
    req = Req(env.ctx, env.project)
    # This site is site A (the group's current primary, where the
    # shutdown runs); the peer B asks.
    sender = sites_db.get(env.ctx, env.b)
    cfg.CONF.set_override("site_name", sites_db.get(env.ctx, env.a)["name"])
    request.addfinalizer(lambda: cfg.CONF.clear_override("site_name"))
    op, created = subops.start(from_peer(req, sender), pg_id,
                               "prepare_failover",
                               {"parent_operation_id": parent})
    assert created and op["id"] == sub["id"] and op["status"] == "queued"
    steps = {s["name"]: s["status"] for s in op["steps"]}
    assert steps == {"shutdown_instances": "completed",
                     "final_snapshot": "pending"}
    assert env.rows.group_row(pg_id)["current_operation_id"] == sub["id"]
    # Asked again while it runs: the same one, not queued twice.
    again, created = subops.start(from_peer(req, sender), pg_id,
                                  "prepare_failover",
                                  {"parent_operation_id": parent})
    assert not created and again["id"] == sub["id"]


def test_a_sub_operation_is_refused_unless_it_makes_sense_here(env, request):
    """Only the group's other site may ask, only while this site is the
    group's current primary (where the workload runs), never while the
    group is being created or deleted; a refusal queues nothing."""
    pg_id = group(env)
    parent = {"parent_operation_id": str(uuid.uuid4())}
    req = Req(env.ctx, env.project)
    here = sites_db.get(env.ctx, env.a)
    cfg.CONF.set_override("site_name", here["name"])
    request.addfinalizer(lambda: cfg.CONF.clear_override("site_name"))
    third = sites_db.get(env.ctx, env.rows.site(
        "third-%s" % uuid.uuid4().hex[:6], "http://third.invalid/v3"))
    with pytest.raises(exception.PeerAuthFailed):
        subops.start(from_peer(req, third), pg_id, "vacate_site", parent)
    with pytest.raises(exception.PeerAuthFailed):
        subops.start(from_peer(req, here), pg_id, "vacate_site", parent)
    other = sites_db.get(env.ctx, env.b)
    # The workload runs on B: nothing to stop or vacate here.
    env.rows.set_group(pg_id, current_primary_site_id=env.b)
    with pytest.raises(exception.ProtectionGroupBusy) as err:
        subops.start(from_peer(req, other), pg_id, "vacate_site", parent)
    assert "current primary" in err.value.message
    env.rows.set_group(pg_id, current_primary_site_id=env.a,
                       status="deleting")
    with pytest.raises(exception.ProtectionGroupBusy):
        subops.start(from_peer(req, other), pg_id, "prepare_failover",
                     parent)
    assert ops_db.list_all(env.ctx, env.project,
                           {"protection_group_id": pg_id}) == []


# -- rollback ----------

def test_rollback_of_a_failover_deletes_exactly_what_it_made(env):
    pg_id = group(env)
    compute = env.cloud.conn.compute
    block = env.cloud.conn.block_storage
    bystander = compute.add("not-ours")
    other_vol = block.create_volume("not-ours")
    op_id = start(env, pg_id, "failover", FAILOVER)
    inject(env, "recreate_instances", when="after")
    assert run(env, op_id) == "failed"
    made_servers = [s["resource_id"] for s in resources(env, op_id,
                                                        "server")]
    made_volumes = [v["resource_id"] for v in resources(env, op_id,
                                                        "volume")]
    assert len(made_servers) == 2 and len(made_volumes) == 2

    rb = recovery.rollback(env.req, op_id)
    assert rb["operation_type"] == "rollback" and rb["status"] == "queued"
    assert rb["source_site_id"] == env.a and rb["target_site_id"] == env.b
    assert rb["parameters"] == {
        "rolled_back_operation_id": op_id,
        "rolled_back_operation_type": "failover",
        "previous_status": "active", "type": "unplanned"}
    assert env.rows.group_row(pg_id)["current_operation_id"] == rb["id"]
    assert run(env, rb["id"]) == "completed"

    assert sorted(compute.deleted) == sorted(made_servers)
    assert sorted(block.deleted) == sorted(made_volumes)
    assert bystander.id in compute.servers_ and other_vol.id in block.vols
    assert all(r["status"] == "deleted" for r in resources(env, op_id))
    grp = env.rows.group_row(pg_id)
    assert grp["status"] == "active"
    assert op_id in grp["status_reason"] and rb["id"] in grp["status_reason"]
    assert grp["current_primary_site_id"] == env.a
    assert grp["current_operation_id"] is None
    steps = env.rows.operation(rb["id"])["steps"]
    assert steps["restore_replication"]["status"] == "skipped"
    assert steps["restart_source_instances"]["status"] == "skipped"
    assert steps["delete_recovered_networks"]["status"] == "skipped"
    # The failed one stays failed, says what undid it, is not retried.
    original = ops_db.get_by_id(env.ctx, op_id)
    assert original["status"] == "failed"
    assert original["result"]["rolled_back_by"] == rb["id"]
    with pytest.raises(exception.OperationNotRetryable) as err:
        recovery.retry(env.req, op_id)
    assert "rolled back by operation %s" % rb["id"] in err.value.message
    # The rolled-back operation's credential goes with the rollback.
    assert env.released.count(op_id) == 1 and rb["id"] in env.released


def test_rollback_finds_a_copy_made_but_never_recorded(env):
    pg_id = group(env, members=1)
    op_id = start(env, pg_id, "failover", FAILOVER)
    real = dr_db.record_resource

    def lost(ctx, rr_id, resource_id, status="created", details=None):
        if status == "created":
            raise exception.StorageError(driver="db", reason="lost")
        return real(ctx, rr_id, resource_id, status, details)
    env.monkeypatch.setattr(dr_db, "record_resource", lost)
    assert run(env, op_id) == "failed"
    env.monkeypatch.setattr(dr_db, "record_resource", real)
    # The step failed after the driver made the copy, before the engine
    # recorded its ID.
    (row,) = resources(env, op_id, "volume")
    assert row["resource_id"] is None and row["status"] == "creating"
    (made,) = env.cloud.conn.block_storage.created
    rb = recovery.rollback(env.req, op_id)
    assert run(env, rb["id"]) == "completed"
    assert env.cloud.conn.block_storage.deleted == [made]


def test_a_failed_rollback_is_retried(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "failover", FAILOVER)
    inject(env, "recreate_instances", when="after")
    assert run(env, op_id) == "failed"
    rb = recovery.rollback(env.req, op_id)
    inject(env, "delete_recovered_volumes")
    assert run(env, rb["id"]) == "failed"
    grp = env.rows.group_row(pg_id)
    assert grp["status"] == "error" and rb["id"] in grp["status_reason"]
    with pytest.raises(exception.OperationNotRollbackable):
        recovery.rollback(env.req, rb["id"])  # a rollback is retried
    recovery.retry(env.req, rb["id"])
    assert run(env, rb["id"]) == "completed"
    steps = env.rows.operation(rb["id"])["steps"]
    assert steps["delete_recovered_instances"]["attempts"] == 1
    assert steps["delete_recovered_volumes"]["attempts"] == 2
    assert env.rows.group_row(pg_id)["status"] == "active"
    assert len(env.cloud.conn.block_storage.deleted) == 2


def test_rollback_of_a_test_failover_frees_the_group_as_cleanup_does(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "test_failover", {"auto_network": True})
    inject(env, "recreate_instances", when="after")
    assert run(env, op_id) == "failed"
    grp = env.rows.group_row(pg_id)
    assert grp["active_test_operation_id"] == op_id  # it made things
    network = env.cloud.conn.network
    assert len(network.items) == 2
    rb = recovery.rollback(env.req, op_id)
    assert run(env, rb["id"]) == "completed"
    assert network.items == {}
    assert env.cloud.conn.compute.servers_ == {}
    assert env.cloud.conn.block_storage.vols == {}
    grp = env.rows.group_row(pg_id)
    assert grp["active_test_operation_id"] is None
    assert grp["status"] == "active" and grp["status_reason"] is None
    # A new drill can start.
    start(env, pg_id, "test_failover", {"auto_network": True})


def test_rollback_refused_after_the_point_of_no_return(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "failover", FAILOVER)
    set_steps(env, op_id, update_protection_group="failed")
    with pytest.raises(exception.RollbackImpossible) as err:
        recovery.rollback(env.req, op_id)
    assert "update_protection_group" in err.value.message
    assert "openstack dr operation retry %s" % op_id in err.value.message
    for step in ("retire_previous_instances", "unmanage_source_volumes",
                 "update_protection_group"):
        pg_id = group(env, status="failed_over")
        fb = start(env, pg_id, "failback", {"type": "planned"},
                   source=env.b, target=env.a)
        set_steps(env, fb, **{step: "failed"})
        with pytest.raises(exception.RollbackImpossible) as err:
            recovery.rollback(env.req, fb)
        assert step in err.value.message
        # Up to there it is allowed.
        assert recovery.allowed_actions(env.ctx, ops_db.get_by_id(
            env.ctx, fb)) == ["retry"]


def test_rollback_refused_for_the_wrong_operations(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "failover", FAILOVER)
    with pytest.raises(exception.OperationNotRollbackable) as err:
        recovery.rollback(env.req, op_id)  # queued
    assert "queued" in err.value.message
    set_steps(env, op_id, status="completed")
    with pytest.raises(exception.OperationNotRollbackable):
        recovery.rollback(env.req, op_id)
    cleanup = start(env, pg_id, "test_cleanup", {})
    set_steps(env, cleanup, delete_test_volumes="failed")
    with pytest.raises(exception.OperationNotRollbackable) as err:
        recovery.rollback(env.req, cleanup)
    assert "retry it instead" in err.value.message
    assert recovery.allowed_actions(env.ctx, ops_db.get_by_id(
        env.ctx, cleanup)) == ["retry"]


def test_rollback_of_a_failback_puts_replication_back(env):
    pg_id = group(env, status="failed_over")
    fb = start(env, pg_id, "failback", {"type": "unplanned",
                                        "reverse_replication": True},
               source=env.b, target=env.a)
    grp = pg_db.get_by_id(env.ctx, pg_id)
    driver = mock_storage.MockStorageDriver(None, grp, {"id": env.a})
    driver.ensure_replication([])
    driver.reverse_replication([])
    assert driver.replication_source() == env.a
    set_steps(env, fb, validate_sites="completed",
              reverse_replication="completed",
              snapshot_consistency_group="failed")
    rb = recovery.rollback(env.req, fb)
    assert rb["target_site_id"] == env.a
    assert run(env, rb["id"]) == "completed"
    assert driver.replication_source() == env.b
    grp = env.rows.group_row(pg_id)
    assert grp["status"] == "failed_over"
    assert grp["current_primary_site_id"] == env.b


def test_pure_async_reversal_is_refused_up_front(env):
    pg_id = group(env, status="failed_over")
    fb = start(env, pg_id, "failback", {"type": "planned",
                                        "reverse_replication": True},
               source=env.b, target=env.a)
    set_steps(env, fb, validate_sites="completed",
              reverse_replication="completed",
              snapshot_consistency_group="failed")
    cfg.CONF.set_override("use_mock_storage", False)
    cfg.CONF.set_override("driver", "pure", group="storage")
    try:
        with pytest.raises(exception.RollbackImpossible) as err:
            recovery.rollback(env.req, fb)
    finally:
        cfg.CONF.clear_override("driver", group="storage")
    assert "reverse_replication" in err.value.message
    assert "Retry it instead" in err.value.message


def test_rollback_of_a_planned_failover_restarts_the_source(env):
    pg_id = group(env)
    op_id = start(env, pg_id, "failover", {
        "type": "planned", engine_subops.CREDENTIAL_KEY: {"id": "kept"}})
    set_steps(env, op_id, validate_sites="completed",
              snapshot_consistency_group="failed")
    calls = []

    def on_source(ctx, operation, kind, timeout=None, extra=None):
        calls.append((operation, kind, extra))
        return "sub-1", {"start_instances": {"started": ["s1"],
                                             "already_active": []}}
    env.monkeypatch.setattr(engine_subops, "run_on_source", on_source)
    rb = recovery.rollback(env.req, op_id)  # no peer token in the request
    assert rb["parameters"]["type"] == "planned"
    assert run(env, rb["id"]) == "completed"
    ((operation, kind, extra),) = calls
    assert kind == "restore_source" and operation["id"] == rb["id"]
    assert extra == {"rolled_back_operation_id": op_id}
    # Without a credential of its own the rollback uses the one the
    # failed operation kept.
    assert operation["parameters"][engine_subops.CREDENTIAL_KEY] == {
        "id": "kept"}
    result = env.rows.operation(rb["id"])
    assert result["steps"]["restart_source_instances"]["status"] == \
        "completed"


def test_restore_source_starts_only_what_protector_stopped(env):
    pg_id = group(env, members=3)
    members = members_db.list_all(env.ctx, pg_id)
    compute = env.cloud.conn.compute
    # Members' instances on this (source) site: two running, one the
    # user had shut down before the failover.
    for member, status in zip(members, ("ACTIVE", "ACTIVE", "SHUTOFF")):
        compute.add(member["instance_name"], status=status,
                    server_id=member["instance_id"])
    parent = str(uuid.uuid4())
    prep = ops_db.create(env.ctx, pg_id, {
        "project_id": env.project, "protection_group_id": pg_id,
        "operation_type": "prepare_failover", "source_site_id": env.b,
        "target_site_id": env.a, "parent_operation_id": parent,
        "parameters": {"parent_operation_id": parent}},
        ["shutdown_instances", "final_snapshot"])
    store = runner._store(prep)
    result = source_tasks.shutdown_instances(env.ctx, store)
    running = [m["instance_id"] for m in members[:2]]
    assert sorted(result["stopped"]) == sorted(running)
    assert result["already_stopped"] == [members[2]["instance_id"]]
    rows = resources(env, prep["id"], source_tasks.STOPPED)
    assert sorted(r["resource_id"] for r in rows) == sorted(running)
    assert all(r["status"] == "created" for r in rows)
    # Idempotent: a re-run after a crash keeps the same records.
    source_tasks.shutdown_instances(env.ctx, store)
    assert len(resources(env, prep["id"], source_tasks.STOPPED)) == 2
    set_steps(env, prep["id"], shutdown_instances="completed",
              final_snapshot="failed")

    rollback_id = str(uuid.uuid4())
    restore = ops_db.create(env.ctx, pg_id, {
        "project_id": env.project, "protection_group_id": pg_id,
        "operation_type": "restore_source", "source_site_id": env.b,
        "target_site_id": env.a, "parent_operation_id": rollback_id,
        "parameters": {"parent_operation_id": rollback_id,
                       "rolled_back_operation_id": parent}},
        flows.step_names("restore_source"))
    assert run(env, restore["id"]) == "completed"
    assert sorted(compute.started) == sorted(running)
    statuses = {sid: compute.servers_[sid].status
                for sid in (m["instance_id"] for m in members)}
    assert statuses == {running[0]: "ACTIVE", running[1]: "ACTIVE",
                        members[2]["instance_id"]: "SHUTOFF"}
    # A re-run starts nothing again.
    store = runner._store(ops_db.get_by_id(env.ctx, restore["id"]))
    again = source_tasks.start_instances(env.ctx, store)
    assert again["started"] == [] and len(compute.started) == 2


def test_restore_source_without_a_shutdown_is_skipped(env):
    pg_id = group(env, members=1)
    restore = ops_db.create(env.ctx, pg_id, {
        "project_id": env.project, "protection_group_id": pg_id,
        "operation_type": "restore_source", "source_site_id": env.b,
        "target_site_id": env.a, "parent_operation_id": str(uuid.uuid4()),
        "parameters": {"rolled_back_operation_id": str(uuid.uuid4())}},
        flows.step_names("restore_source"))
    assert run(env, restore["id"]) == "completed"
    assert env.rows.operation(restore["id"])["steps"]["start_instances"][
        "status"] == "skipped"

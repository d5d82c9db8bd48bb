"""DR operations end to end in the two-site lab, through the REST API.

A group of 3 boot-from-volume VMs (2 volumes each) on site A is failed
over to site B and back, drilled (test failover + cleanup, which must
leave both clouds exactly as before), failed over unplanned with site A's
protector-api and Keystone stopped, and resumed after its engine is
SIGKILLed in the middle of a step. Mock storage mode (seed 004).
"""
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.integration.conftest import run_lab
from tests.integration import dr_lab

pytestmark = pytest.mark.lab

MAPPINGS = {"network_mapping": {"net-a": "net-b"},
            "flavor_mapping": {"m1.small": "m2.small"}}


@pytest.fixture(scope="module")
def sites(lab):
    dr_lab.register_sites(lab)
    dr_lab.raise_quotas(lab)
    a = dr_lab.Protector(lab, "site-a", "site-b")
    b = dr_lab.Protector(lab, "site-b", "site-a")
    ids = {}
    for name in ("site-a", "site-b"):
        status, body = a.call("GET", "/sites/%s" % name)
        assert status == 200, body
        ids[name] = body["site"]["id"]
    vtype = a.conn.block_storage.find_type("replicated-async")
    return {"a": a, "b": b, "ids": ids, "volume_type": vtype.id}


@pytest.fixture
def workload(sites):
    """3 VMs x 2 volumes on site A and their protection group."""
    a = sites["a"]
    prefix = "drvm-%s" % uuid.uuid4().hex[:6]
    made = dr_lab.make_vms(a.conn, prefix, 3)
    servers = [s.id for s, _ in made]
    pg = dr_lab.make_group(a, sites["b"], sites["ids"],
                           sites["volume_type"], servers)
    yield {"pg": pg, "servers": servers,
           "volumes": {s.id: v for s, v in made}}
    dr_lab.delete_servers(a.conn, servers)


def _test_failover(sites, pg_id):
    b = sites["b"]
    status, body = b.action(pg_id, "test_failover",
                            {"network_mapping": {"net-a": "net-b"}})
    assert status == 202, body
    op = b.wait(body["operation"]["id"])
    assert op["status"] == "completed", op
    return op


def test_test_failover_and_cleanup_leave_clouds_as_before(sites, workload):
    a, b = sites["a"], sites["b"]
    pg = workload["pg"]
    before = dr_lab.inventory(a.conn), dr_lab.inventory(b.conn)

    op = _test_failover(sites, pg["id"])
    made = op["result_data"]["recreate_instances"]["servers"]
    assert len(made) == 3
    for server_id in made.values():
        server = b.conn.compute.get_server(server_id)
        assert server.status == "ACTIVE"
        assert server.name.endswith("-drtest")
        assert list(server.addresses) == ["net-b"]
        assert len(list(b.conn.compute.volume_attachments(server))) == 2
    # The primary is untouched.
    assert dr_lab.inventory(a.conn) == before[0]

    # A second drill, or a real failover, while one is active.
    status, body = b.action(pg["id"], "test_failover",
                            {"network_mapping": {"net-a": "net-b"}})
    assert status == 409, body
    assert body["errors"][0]["code"] == "protector.operation.test_active"
    status, body = b.action(pg["id"], "failover", MAPPINGS)
    assert status == 412, body
    assert body["errors"][0]["code"] == "protector.precondition.test_active"

    status, body = b.action(pg["id"], "test_cleanup")
    assert status == 202, body
    op = b.wait(body["operation"]["id"])
    assert op["status"] == "completed", op
    assert (dr_lab.inventory(a.conn), dr_lab.inventory(b.conn)) == before


def _check_on(conn, op, workload, flavor, network):
    """The recreated servers: ACTIVE, mapped flavor and network, and
    exactly the volumes the operation promoted for their member."""
    servers = op["result_data"]["recreate_instances"]["servers"]
    promoted = op["result_data"]["promote_volumes"]["volumes"]
    assert len(servers) == 3
    for server_id in servers.values():
        server = conn.compute.get_server(server_id)
        assert server.status == "ACTIVE", server
        assert server.flavor["original_name"] == flavor
        assert list(server.addresses) == [network]
        attached = sorted(a.volume_id for a in
                          conn.compute.volume_attachments(server))
        source = [v for vols in workload["volumes"].values() for v in vols
                  if promoted[v] in attached]
        assert len(attached) == 2 and len(source) == 2
        assert sorted(promoted[v] for v in source) == attached
    return servers


def _names(conn, ids):
    return sorted(conn.compute.get_server(i).name for i in ids)


def test_planned_failover_and_failback(sites, workload):
    a, b = sites["a"], sites["b"]
    pg = workload["pg"]
    status, body = b.action(pg["id"], "failover",
                            dict(MAPPINGS, type="planned"))
    assert status == 202, body
    op = b.wait(body["operation"]["id"])
    assert op["status"] == "completed", op
    # Graceful shutdown and final snapshot ran on site A, as a
    # sub-operation through its API.
    snap = op["result_data"]["snapshot_consistency_group"]
    assert snap["mode"] == "final_replicated"
    status, sub = a.call("GET", "/operations/%s" % snap["sub_operation_id"])
    assert status == 200 and sub["operation"]["status"] == "completed", sub
    for server_id in workload["servers"]:
        assert a.conn.compute.get_server(server_id).status == "SHUTOFF"
    servers = _check_on(b.conn, op, workload, "m2.small", "net-b")

    # Both sites agree: pushed to site A right after the failover.
    for site in (a, b):
        status, body = site.call("GET", "/protection-groups/%s" % pg["id"])
        assert status == 200, body
        group = body["protection_group"]
        assert group["status"] == "failed_over"
        assert group["current_primary_site"] == "site-b"
        assert group["failover_count"] == 1
    status, body = b.call("GET", "/protection-groups/%s/sync-status" %
                          pg["id"])
    assert body["sync_status"]["in_sync"] is True, body

    # A second failover is refused: the group is failed over.
    status, body = b.action(pg["id"], "failover", MAPPINGS)
    assert status == 412, body

    status, body = a.action(pg["id"], "failback", {
        "type": "planned",
        "network_mapping": {"net-b": "net-a"},
        "flavor_mapping": {"m2.small": "m1.small"}})
    assert status == 202, body
    back = a.wait(body["operation"]["id"])
    assert back["status"] == "completed", back
    _check_on(a.conn, back, workload, "m1.small", "net-a")
    vacate = back["result_data"]["unmanage_source_volumes"]
    assert sorted(vacate["deleted_instances"]) == sorted(servers.values())
    assert len(vacate["unmanaged_volumes"]) == 6
    # Site B is vacated: no instance or volume of the group left there.
    left = {v.id for v in b.conn.block_storage.volumes()}
    assert not left & set(vacate["unmanaged_volumes"])
    for site in (a, b):
        status, body = site.call("GET", "/protection-groups/%s" % pg["id"])
        assert body["protection_group"]["status"] == "active", body
        assert body["protection_group"]["current_primary_site"] == "site-a"
    workload["servers"] += list(
        back["result_data"]["recreate_instances"]["servers"].values())


def _failback(sites, pg_id):
    a = sites["a"]
    status, body = a.action(pg_id, "failback", {
        "type": "planned", "network_mapping": {"net-b": "net-a"},
        "flavor_mapping": {"m2.small": "m1.small"}})
    assert status == 202, body
    op = a.wait(body["operation"]["id"])
    assert op["status"] == "completed", op
    return op


def test_unplanned_failover_with_source_site_down(lab, sites, workload):
    a, b = sites["a"], sites["b"]
    pg = workload["pg"]
    try:
        lab.stop("site-a", "protector-api")
        lab.stop("site-a", "keystone")
        # Only site B's credentials: no peer token at all.
        status, body = b.action(pg["id"], "failover",
                                dict(MAPPINGS, type="unplanned"), peer=False)
        assert status == 202, body
        op = b.wait(body["operation"]["id"])
        assert op["status"] == "completed", op
        assert op["result_data"]["snapshot_consistency_group"]["mode"] == \
            "latest_replicated"
        assert op["result_data"]["validate_sites"]["source"] == \
            "not contacted"
        _check_on(b.conn, op, workload, "m2.small", "net-b")
        status, body = b.call("GET", "/protection-groups/%s/sync-status" %
                              pg["id"], peer=False)
        assert body["sync_status"]["remote_status"] == "UNREACHABLE", body
        assert body["sync_status"]["in_sync"] is False
    finally:
        lab.start("site-a", "keystone")
        lab.start("site-a", "protector-api")
    # Site A is back: sync-force converges it, then the workload returns.
    a.conn = lab.connect("site-a")
    b.peer_conn = lab.connect("site-a")
    status, body = b.call("POST", "/protection-groups/%s/sync-force" %
                          pg["id"])
    assert status == 200, body
    status, body = b.call("GET", "/protection-groups/%s/sync-status" %
                          pg["id"])
    assert body["sync_status"]["in_sync"] is True, body
    back = _failback(sites, pg["id"])
    workload["servers"] += list(
        back["result_data"]["recreate_instances"]["servers"].values())


def _engine_pid(lab, site):
    for proc in lab.status()["processes"]:
        if proc["site"] == site and proc["process"] == "protector-engine":
            return proc["pid"]
    raise AssertionError("no protector-engine on %s" % site)


def _kill(pid):
    """SIGKILL and wait until the pid is gone (else 'start' finds it still
    there and does nothing)."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        try:
            with open("/proc/%d/stat" % pid) as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in "ZX":
                    return
        except FileNotFoundError:
            return
        assert time.monotonic() < deadline, "engine %d did not die" % pid
        time.sleep(0.1)


def _start_engine():
    # Through the CLI, so the engine is not a child of this test process.
    run_lab("start", "site-b", "protector-engine", check=True,
            capture_output=True)


def _wait_step(b, op_id, step, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = b.call("GET", "/operations/%s" % op_id, peer=False)
        op = body["operation"]
        if op["current_step"] == step or op["status"] in ("completed",
                                                           "failed"):
            return op
        time.sleep(0.2)
    raise AssertionError("step %s never ran" % step)


def test_engine_killed_mid_step_resumes_without_duplicates(lab, sites,
                                                           workload):
    b = sites["b"]
    pg = workload["pg"]
    status, body = b.action(pg["id"], "failover", MAPPINGS)
    assert status == 202, body
    op_id = body["operation"]["id"]
    # Conflict: one operation per group at a time.
    status, body = b.action(pg["id"], "test_failover",
                            {"network_mapping": {"net-a": "net-b"}})
    assert status == 409, body
    assert body["errors"][0]["code"] == "protector.operation.conflict"
    killed = []
    try:
        for step in ("snapshot_consistency_group", "promote_volumes",
                     "recreate_instances"):
            op = _wait_step(b, op_id, step)
            assert op["status"] == "running", op
            time.sleep(0.5)
            _kill(_engine_pid(lab, "site-b"))
            killed.append(step)
            _start_engine()
    finally:
        _start_engine()
    op = b.wait(op_id)
    assert op["status"] == "completed", op
    attempts = {s["name"]: s["attempts"] for s in op["steps"]}
    assert all(attempts[s] >= 2 for s in killed), attempts
    servers = _check_on(b.conn, op, workload, "m2.small", "net-b")
    # No duplicates: one server per member, one volume per source volume.
    names = [s.name for s in b.conn.compute.servers()]
    for name in _names(b.conn, servers.values()):
        assert names.count(name) == 1, name
    copies = [v.name for v in b.conn.block_storage.volumes()
              if op_id in (v.name or "")]
    assert len(copies) == len(set(copies)) == 6, copies
    back = _failback(sites, pg["id"])
    workload["servers"] += list(
        back["result_data"]["recreate_instances"]["servers"].values())


def test_preconditions(sites, workload):
    a, b = sites["a"], sites["b"]
    pg = workload["pg"]
    status, body = b.action(pg["id"], "failover",
                            {"network_mapping": {"net-a": "net-b"}})
    assert status == 412, body
    assert body["errors"][0]["code"] == \
        "protector.precondition.unmapped_flavor"
    status, body = b.action(pg["id"], "failback", MAPPINGS)
    assert status == 412, body
    assert body["errors"][0]["code"] == \
        "protector.precondition.invalid_status"
    status, body = b.action(pg["id"], "test_cleanup")
    assert status == 412, body
    assert body["errors"][0]["code"] == \
        "protector.precondition.no_active_test"
    empty = dr_lab.make_group(a, b, sites["ids"], sites["volume_type"], [])
    try:
        status, body = b.action(empty["id"], "test_failover",
                                {"network_mapping": {"net-a": "net-b"}})
        assert status == 412, body
        assert body["errors"][0]["code"] == \
            "protector.precondition.no_members"
    finally:
        a.call("DELETE", "/protection-groups/%s" % empty["id"])


def test_cli_test_failover_and_cleanup(lab, sites, workload):
    osc = os.path.join(os.path.dirname(sys.executable), "openstack")
    pg = workload["pg"]["name"]
    base = [osc, "--os-cloud", "site-a", "--secondary-cloud", "site-b", "dr"]
    for args in (["test-failover", pg, "--network-mapping", "net-a=net-b",
                  "--wait"], ["test-cleanup", pg, "--wait"]):
        result = subprocess.run(base + args, env=lab.env(), text=True,
                                capture_output=True, timeout=900)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    status, body = sites["a"].call("GET", "/protection-groups/%s" %
                                   workload["pg"]["id"])
    assert body["protection_group"]["status"] == "active", body

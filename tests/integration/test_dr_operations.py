"""DR operations end to end in the two-site lab, through the REST API.

A group of 3 boot-from-volume VMs (2 volumes each) on site A is failed
over to site B and back, drilled (test failover + cleanup, which must
leave both clouds exactly as before), failed over unplanned with site A's
protector-api and Keystone stopped, and resumed after its engine is
SIGKILLed in the middle of a step. Mock storage mode (doc/deployment.md).

The demo project runs at the quotas ``protector-lab up`` leaves (Cinder's
default of 10 volumes): a failback of the 6-volume group needs 12 on site
A (the new copies are made before the old ones are retired), its
preflight says so before anything is shut down, and a test raises that
one quota only after showing it. Each test removes its group, servers and
volumes, so the next one starts from the same usage.
"""
import json
import os
import subprocess
import sys
import time
import uuid

import pymysql
import pytest

from protector_lab import client as lab_client

pytestmark = pytest.mark.lab

MAPPINGS = {"network_mapping": {"net-a": "net-b"},
            "flavor_mapping": {"m1.small": "m2.small"}}
# For a test that needs a group with a member but not the 3-VM scale (its
# checks are per group, or its flow is covered at 3 VMs by another test):
# each VM costs a boot, two volumes and their deletion.
ONE_VM = pytest.mark.parametrize("workload", [1], indirect=True)


@pytest.fixture
def workload(request, sites):
    """3 VMs x 2 volumes on site A and their protection group (fewer for
    a test that says ``@ONE_VM``)."""
    a = sites["a"]
    prefix = "drvm-%s" % uuid.uuid4().hex[:6]
    made = lab_client.make_vms(a.conn, prefix, getattr(request, "param", 3))
    servers = [s.id for s, _ in made]
    pg = lab_client.make_group(a, sites["b"], sites["ids"],
                               sites["volume_type"], servers)
    data = {"pg": pg, "servers": servers,
            "volumes": {s.id: v for s, v in made}}
    yield data
    # The group first (its consistency group holds the volumes), then
    # every server the test left on site A with its volumes (rebuilt
    # copies keep their volumes when deleted).
    lab_client.delete_group(a, pg["id"])
    for conn in (a.conn, sites["b"].conn):
        # Also what a test that failed midway left (rebuilt copies keep
        # their member's name).
        left = {s.id for s in conn.compute.servers()
                if s.name.startswith(prefix)}
        ids = left | (set(data["servers"]) if conn is a.conn else set())
        lab_client.delete_servers(conn, sorted(ids), with_volumes=True)


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
    before = lab_client.inventory(a.conn), lab_client.inventory(b.conn)

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
    assert lab_client.inventory(a.conn) == before[0]

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
    assert (lab_client.inventory(a.conn),
            lab_client.inventory(b.conn)) == before


def _check_on(conn, op, workload, flavor, network):
    """The recreated servers: ACTIVE, mapped flavor and network, and
    exactly the volumes the operation promoted for their member."""
    servers = op["result_data"]["recreate_instances"]["servers"]
    promoted = op["result_data"]["recreate_instances"]["copies"]
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


def test_planned_failover_and_failback(lab, sites, workload):
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
    # The user finds their own volumes on B: the copies keep the source
    # volumes' names, Protector's marker is in their metadata.
    promoted = op["result_data"]["recreate_instances"]["copies"]
    for src, copy in promoted.items():
        made = b.conn.block_storage.get_volume(copy)
        assert made.name == a.conn.block_storage.get_volume(src).name
        assert made.metadata["protector_operation"] == op["id"]
    # Site A was reached through an application credential made from the
    # caller's token (kept, secret encrypted, in the operation's
    # parameters; the token itself is not kept); the engine deletes it
    # right after the failover ends.
    params = _parameters(lab, "site-b", op["id"])
    assert "peer_token_encrypted" not in params, params.keys()
    kept = params["peer_credential"]
    assert "secret" not in kept and kept["secret_encrypted"]
    deadline = time.monotonic() + 30
    while _protector_credentials(a.conn):
        assert time.monotonic() < deadline, _protector_credentials(a.conn)
        time.sleep(1)

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

    # At the lab's default quota, site A has no room for the failback's
    # 6 new volumes (its 6 originals are still there): the preflight
    # names the quota, and the failback is refused before anything is
    # shut down on site B.
    limit, used = lab_client.volume_usage(lab, "site-a")
    assert 0 <= limit - used < 6, (limit, used)
    before = lab_client.inventory(b.conn)
    failback = ["failback", pg["name"], "--type", "planned",
                "--network-mapping", "net-b=net-a",
                "--flavor-mapping", "m2.small=m1.small"]
    dry = lab_client.dr_cli(lab, failback + ["--dry-run", "-f", "json"])
    assert dry.returncode == 5, (dry.stdout, dry.stderr)
    checks = {c["Check"]: c for c in json.loads(dry.stdout)}
    quota = checks["quota_volumes"]
    assert quota["Result"] == "fail", checks
    assert "needs 6" in quota["Detail"], quota
    assert "%d free" % (limit - used) in quota["Detail"], quota
    failed = [c for c in checks.values() if c["Result"] == "fail"]
    assert failed == [quota], failed
    real = lab_client.dr_cli(lab, failback)
    assert real.returncode == 5, (real.stdout, real.stderr)
    assert "quota" in real.stderr and "volumes" in real.stderr, real.stderr
    assert lab_client.inventory(b.conn) == before
    for server_id in servers.values():
        assert b.conn.compute.get_server(server_id).status == "ACTIVE"
    for site in (a, b):
        status, body = site.call("GET", "/protection-groups/%s" % pg["id"])
        assert body["protection_group"]["status"] == "failed_over", body
    # What the preflight asked for: room for 6 more volumes on site A.
    lab_client.make_room(lab, "site-a", 6)
    dry = lab_client.dr_cli(lab, failback + ["--dry-run", "-f", "json"])
    assert dry.returncode == 0, (dry.stdout, dry.stderr)
    real = lab_client.dr_cli(lab, failback + ["--wait", "-f", "json"])
    assert real.returncode == 0, (real.stdout, real.stderr)
    status, body = a.call("GET", "/operations/%s" %
                          json.loads(real.stdout)["operation_id"])
    back = body["operation"]
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
    originals = list(workload["servers"])
    first = list(back["result_data"]["recreate_instances"]["servers"].values())
    workload["servers"] += first
    # Site A holds one copy of the workload: the original (shut off)
    # instances are gone, their volumes given back to the array, none of
    # the rebuilt ones touched.
    _check_retired(a.conn, back, originals,
                   [v for vols in workload["volumes"].values() for v in vols])

    # A second round trip retires the instances the first failback built
    # (found by their protector_member metadata) and nothing else.
    status, body = b.action(pg["id"], "failover",
                            dict(MAPPINGS, type="planned"))
    assert status == 202, body
    assert b.wait(body["operation"]["id"])["status"] == "completed"
    again = _failback(sites, pg["id"], lab)
    second = list(
        again["result_data"]["recreate_instances"]["servers"].values())
    workload["servers"] += second
    _check_retired(a.conn, again, first, list(
        back["result_data"]["recreate_instances"]["copies"].values()))
    for server_id in second:
        assert a.conn.compute.get_server(server_id).status == "ACTIVE"


def _parameters(lab, site, op_id):
    """An operation's stored parameters, from the site's database."""
    spot = lab.site(site).site
    conn = pymysql.connect(host="127.0.0.1", port=3306, user=spot.db_user,
                           password=spot.db_password,
                           database=spot.db_name("protector"))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT parameters FROM operations WHERE id = %s",
                        (op_id,))
            return json.loads(cur.fetchone()[0])
    finally:
        conn.close()


def _copies(conn, op_id):
    """Copy keys of the volumes the operation made (their names are the
    source volumes'; the marker is in the metadata)."""
    return [(v.metadata or {}).get("protector_copy_key")
            for v in conn.block_storage.volumes()
            if (v.metadata or {}).get("protector_operation") == op_id]


def _protector_credentials(conn):
    return [c.name for c in conn.identity.application_credentials(
        user=conn.current_user_id) if c.name.startswith("protector-")]


def _check_retired(conn, op, servers, volumes):
    retire = op["result_data"]["retire_previous_instances"]
    assert sorted(retire["deleted_instances"]) == sorted(servers), retire
    assert len(retire["unmanaged_volumes"]) == 2 * len(servers), retire
    if volumes is not None:
        assert sorted(retire["unmanaged_volumes"]) == sorted(volumes)
    for server_id in servers:
        assert conn.compute.find_server(server_id,
                                        ignore_missing=True) is None
    left = {v.id for v in conn.block_storage.volumes()}
    assert not left & set(retire["unmanaged_volumes"])
    # The rebuilt instances keep every one of their volumes.
    for server_id in op["result_data"]["recreate_instances"][
            "servers"].values():
        attached = {a.volume_id for a in
                    conn.compute.volume_attachments(server_id)}
        assert len(attached) == 2 and attached <= left


def _failback(sites, pg_id, lab=None):
    a = sites["a"]
    if lab is not None:
        # Room for the new copies beside the old ones (see the module doc).
        lab_client.make_room(lab, "site-a", 6)
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
    back = _failback(sites, pg["id"], lab)
    originals = list(workload["servers"])
    workload["servers"] += list(
        back["result_data"]["recreate_instances"]["servers"].values())
    # The originals kept running on site A through the outage (only its
    # API and Keystone were down): the failback retires them.
    _check_retired(a.conn, back, originals,
                   [v for vols in workload["volumes"].values() for v in vols])


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
        # (promote_volumes only checks, in some 30 ms: the copies are
        # asked for during recreate_instances, killed half a second in.)
        for step in ("snapshot_consistency_group", "recreate_instances"):
            op = lab_client.wait_step(b, op_id, step)
            assert op["status"] == "running", op
            time.sleep(0.5)
            lab_client.kill(lab_client.engine_pid(lab, "site-b"))
            killed.append(step)
            lab_client.start_engine()
    finally:
        lab_client.start_engine()
    op = b.wait(op_id)
    assert op["status"] == "completed", op
    attempts = {s["name"]: s["attempts"] for s in op["steps"]}
    assert all(attempts[s] >= 2 for s in killed), attempts
    servers = _check_on(b.conn, op, workload, "m2.small", "net-b")
    # No duplicates: one server per member, one volume per source volume.
    names = [s.name for s in b.conn.compute.servers()]
    for name in _names(b.conn, servers.values()):
        assert names.count(name) == 1, name
    copies = _copies(b.conn, op_id)
    assert len(copies) == len(set(copies)) == 6, copies

    # The failback, with site A's engine killed while it rebuilds and
    # while it retires the original instances.
    a = sites["a"]
    originals = list(workload["servers"])
    lab_client.make_room(lab, "site-a", 6)
    status, body = a.action(pg["id"], "failback", {
        "type": "planned", "network_mapping": {"net-b": "net-a"},
        "flavor_mapping": {"m2.small": "m1.small"}})
    assert status == 202, body
    back_id = body["operation"]["id"]
    killed = []
    try:
        for step in ("recreate_instances", "retire_previous_instances"):
            op = lab_client.wait_step(a, back_id, step)
            assert op["status"] == "running", op
            time.sleep(0.5)
            lab_client.kill(lab_client.engine_pid(lab, "site-a"))
            killed.append(step)
            lab_client.start_engine("site-a")
    finally:
        lab_client.start_engine("site-a")
    back = a.wait(back_id)
    assert back["status"] == "completed", back
    attempts = {s["name"]: s["attempts"] for s in back["steps"]}
    assert all(attempts[s] >= 2 for s in killed), attempts
    rebuilt = list(back["result_data"]["recreate_instances"][
        "servers"].values())
    workload["servers"] += rebuilt
    _check_retired(a.conn, back, originals,
                   [v for vols in workload["volumes"].values() for v in vols])
    names = [s.name for s in a.conn.compute.servers()]
    for name in _names(a.conn, rebuilt):
        assert names.count(name) == 1, name


@ONE_VM
def test_preconditions(sites, workload):
    a, b = sites["a"], sites["b"]
    pg = workload["pg"]
    status, body = b.action(pg["id"], "failover",
                            {"network_mapping": {"net-a": "net-b"}})
    assert status == 412, body
    assert body["errors"][0]["code"] == \
        "protector.precondition.unmapped_flavor"
    # A failback of a group that never failed over: refused for its
    # status whichever site is asked.
    for site in (a, b):
        status, body = site.action(pg["id"], "failback", MAPPINGS)
        assert status == 412, body
        assert body["errors"][0]["code"] == \
            "protector.precondition.invalid_status"
    # A test failover runs on site B: site A refuses it and names B.
    status, body = a.action(pg["id"], "test_failover",
                            {"network_mapping": {"net-a": "net-b"}})
    assert status == 409, body
    assert body["errors"][0]["code"] == "protector.operation.wrong_site"
    assert "site site-b" in body["errors"][0]["detail"], body
    status, body = b.action(pg["id"], "test_cleanup")
    assert status == 412, body
    assert body["errors"][0]["code"] == \
        "protector.precondition.no_active_test"
    empty = lab_client.make_group(a, b, sites["ids"], sites["volume_type"], [])
    try:
        status, body = b.action(empty["id"], "test_failover",
                                {"network_mapping": {"net-a": "net-b"}})
        assert status == 412, body
        assert body["errors"][0]["code"] == \
            "protector.precondition.no_members"
    finally:
        a.call("DELETE", "/protection-groups/%s" % empty["id"])


@ONE_VM
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


def test_image_booted_member_is_rebuilt_from_the_image(sites):
    """A member that boots from an image (root disk not on a volume):
    the target rebuilds it from the image of the same name there, with
    its replicated volumes attached; no such image -> 412 before anything
    changes."""
    a, b = sites["a"], sites["b"]
    name = "imgvm-%s" % uuid.uuid4().hex[:6]
    image_name = "img-%s" % name
    images = {"a": a.conn.image.create_image(
        name=image_name, data=b"protector-image-booted" * 64,
        disk_format="raw", container_format="bare")}
    server = None
    pg = None
    try:
        img = a.conn.image.wait_for_status(images["a"], "active", wait=120)
        vol = a.conn.block_storage.create_volume(
            name="%s-data0" % name, size=1, volume_type="replicated-async")
        a.conn.block_storage.wait_for_status(vol, "available", wait=120)
        server = a.conn.compute.create_server(
            name=name, image_id=img.id,
            flavor_id=a.conn.compute.find_flavor("m1.small").id,
            networks=[{"uuid": a.conn.network.find_network("net-a").id}],
            block_device_mapping=[{
                "boot_index": 0, "uuid": img.id, "source_type": "image",
                "destination_type": "local", "delete_on_termination": True},
                {"uuid": vol.id, "source_type": "volume",
                 "destination_type": "volume", "boot_index": -1,
                 "delete_on_termination": True}])
        server = a.conn.compute.wait_for_server(server, wait=300)
        pg = lab_client.make_group(a, b, sites["ids"],
                                   sites["volume_type"], [server.id])
        before = lab_client.inventory(b.conn)

        # Site B has no image of that name yet.
        status, body = b.action(pg["id"], "test_failover",
                                {"network_mapping": {"net-a": "net-b"}})
        assert status == 412, body
        assert body["errors"][0]["code"] == \
            "protector.precondition.image_missing"
        assert image_name in body["errors"][0]["detail"]
        assert lab_client.inventory(b.conn) == before

        images["b"] = b.conn.image.create_image(
            name=image_name, data=b"protector-image-booted" * 64,
            disk_format="raw", container_format="bare")
        b_img = b.conn.image.wait_for_status(images["b"], "active",
                                             wait=120)
        op = _test_failover(sites, pg["id"])
        made = op["result_data"]["recreate_instances"]["servers"]
        copy = b.conn.compute.get_server(list(made.values())[0])
        assert copy.status == "ACTIVE"
        assert copy.image["id"] == b_img.id
        attached = [x.volume_id for x in
                    b.conn.compute.volume_attachments(copy)]
        assert attached == list(op["result_data"]["recreate_instances"][
            "copies"].values())
        status, body = b.action(pg["id"], "test_cleanup")
        assert status == 202, body
        assert b.wait(body["operation"]["id"])["status"] == "completed"
        after = lab_client.inventory(b.conn)
        assert after == before
    finally:
        if pg is not None:
            a.call("DELETE", "/protection-groups/%s" % pg["id"])
        if server is not None:
            lab_client.delete_servers(a.conn, [server.id])
        for side, image in images.items():
            conn = a.conn if side == "a" else b.conn
            conn.image.delete_image(image, ignore_missing=True)


def _fail_midway(sites, admin_b, pg, mappings):
    """A planned failover that passes its preflight, shuts site A down,
    promotes the volumes, and then fails to rebuild: the mapped flavor is
    deleted on site B while the operation runs (a real change nobody
    could predict). Returns the failed operation."""
    b = sites["b"]
    status, body = b.action(pg["id"], "failover",
                            dict(mappings, type="planned"))
    assert status == 202, body
    op_id = body["operation"]["id"]
    op = lab_client.wait_step(b, op_id, "snapshot_consistency_group")
    assert op["status"] == "running", op
    admin_b.compute.delete_flavor(
        admin_b.compute.find_flavor(mappings["flavor_mapping"]["m1.small"]))
    op = b.wait(op_id)
    assert op["status"] == "failed", op
    assert op["steps_failed"] == ["recreate_instances"], op
    return op


def test_failover_failing_midway_is_rolled_back_or_retried(lab, sites,
                                                          workload):
    """Nothing strands the workload: a failover that failed after site A
    was shut down is rolled back (site A's VMs run again, site B holds
    nothing of it), and the same failure once its cause is fixed is
    retried to completion without a duplicate, through the real CLI."""
    a, b = sites["a"], sites["b"]
    pg = workload["pg"]
    admin_b = lab.connect("site-b-admin")
    small = admin_b.compute.find_flavor("m2.small")
    name = "m2.dr-%s" % uuid.uuid4().hex[:6]

    def make_flavor():
        return admin_b.compute.create_flavor(
            name=name, vcpus=small.vcpus, ram=small.ram, disk=small.disk,
            is_public=True)

    mappings = {"network_mapping": {"net-a": "net-b"},
                "flavor_mapping": {"m1.small": name}}
    before_b = lab_client.inventory(b.conn)
    make_flavor()
    try:
        op = _fail_midway(sites, admin_b, pg, mappings)
        for server_id in workload["servers"]:
            assert a.conn.compute.get_server(server_id).status == "SHUTOFF"
        status, body = b.call("GET", "/protection-groups/%s" % pg["id"])
        group = body["protection_group"]
        assert group["status"] == "error", group
        assert "operation retry %s" % op["id"] in group["next_action"]
        assert "operation rollback %s" % op["id"] in group["next_action"]

        # Rollback: site A runs again, site B is as before, the group is
        # back to 'active' on both sites.
        result = lab_client.dr_cli(lab, ["operation", "rollback", op["id"],
                                         "--wait", "-f", "json"])
        assert result.returncode == 0, (result.stdout, result.stderr)
        rollback = json.loads(result.stdout)
        assert rollback["status"] == "completed", rollback
        for server_id in workload["servers"]:
            assert a.conn.compute.get_server(server_id).status == "ACTIVE"
        assert lab_client.inventory(b.conn) == before_b
        for site in (a, b):
            status, body = site.call("GET", "/protection-groups/%s" %
                                     pg["id"])
            group = body["protection_group"]
            assert group["status"] == "active", group
            assert group["current_primary_site"] == "site-a", group
        # A rolled-back operation is not retried.
        result = lab_client.dr_cli(lab, ["operation", "retry", op["id"]])
        assert result.returncode == 5, (result.stdout, result.stderr)

        # Retry: the same failure, its cause fixed (the flavor is back),
        # continues from the failed step.
        make_flavor()
        op = _fail_midway(sites, admin_b, pg, mappings)
        make_flavor()
        result = lab_client.dr_cli(lab, ["operation", "retry", op["id"],
                                         "--wait", "-f", "json"])
        assert result.returncode == 0, (result.stdout, result.stderr)
        status, body = b.call("GET", "/operations/%s" % op["id"])
        done = body["operation"]
        assert done["status"] == "completed", done
        attempts = {s["name"]: s["attempts"] for s in done["steps"]}
        assert attempts["promote_volumes"] == 1, attempts
        assert attempts["recreate_instances"] == 2, attempts
        servers = _check_on(b.conn, done, workload, name, "net-b")
        names = [s.name for s in b.conn.compute.servers()]
        for server_name in _names(b.conn, servers.values()):
            assert names.count(server_name) == 1, server_name
        copies = _copies(b.conn, op["id"])
        assert len(copies) == len(set(copies)) == 6, copies

        # Back to site A, so the module's next test starts as this one did.
        lab_client.make_room(lab, "site-a", 6)
        status, body = a.action(pg["id"], "failback", {
            "type": "planned", "network_mapping": {"net-b": "net-a"},
            "flavor_mapping": {name: "m1.small"}})
        assert status == 202, body
        back = a.wait(body["operation"]["id"])
        assert back["status"] == "completed", back
        workload["servers"] += list(
            back["result_data"]["recreate_instances"]["servers"].values())
    finally:
        flavor = admin_b.compute.find_flavor(name, ignore_missing=True)
        if flavor is not None:
            admin_b.compute.delete_flavor(flavor)

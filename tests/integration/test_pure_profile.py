"""DR operations in the lab's ``pure`` profile, through the REST API.

Each site's Cinder runs Cinder's real Pure iSCSI driver against its own
simulated FlashArray (``protector-flasharray-sim``, started by
``protector-lab up --profile pure``), and Protector uses its ``pure``
storage driver with the replication policy naming both arrays. So the
volumes of the protected VMs live on array fa-site-a, Protector's array
protection group replicates them to fa-site-b, and a failover makes copies
there that Cinder's Pure driver brings in with ``manage``.

The simulator models volume contents as a ``data_version``; the tests
write one on the source volumes (a host write, through the simulator's
control API) and check that the volumes the operation made hold it.

These run last in a session (tests/integration/conftest.py): the
``pure_lab`` fixture switches the lab to the pure profile.
"""
import uuid

import pytest
import requests

from protector_lab import client as lab_client

pytestmark = pytest.mark.lab

MAPPINGS = {"network_mapping": {"net-a": "net-b"},
            "flavor_mapping": {"m1.small": "m2.small"}}
BACK = {"network_mapping": {"net-b": "net-a"},
        "flavor_mapping": {"m2.small": "m1.small"}}


class Arrays:
    """The lab's simulated arrays: the real py-pure-client, and the
    simulator's control API for host writes and contents."""

    def __init__(self, fa):
        self.fa = fa
        self._clients = {}

    def name(self, site):
        return self.fa["arrays"][site]["name"]

    def client(self, site):
        if site not in self._clients:
            from pypureclient import flasharray
            arr = self.fa["arrays"][site]
            self._clients[site] = flasharray.Client(
                target=arr["endpoint"], api_token=arr["token"])
        return self._clients[site]

    def volumes(self, site):
        res = self.client(site).get_volumes(destroyed=False)
        assert res.status_code == 200, res
        return {v.name for v in res.items}

    def pgroups(self, site):
        res = self.client(site).get_protection_groups()
        assert res.status_code == 200, res
        return {p.name: p for p in res.items}

    def _control(self, method, path, body=None):
        resp = requests.request(method, self.fa["control_url"] + path,
                                json=body, timeout=30)
        return resp

    def write(self, site, volume, version):
        resp = self._control("POST", "/_sim/arrays/%s/write/%s" % (
            self.name(site), volume), {"data_version": version})
        assert resp.status_code == 200, resp.text

    def data(self, site, volume):
        resp = self._control("GET", "/_sim/arrays/%s/data/%s" % (
            self.name(site), volume))
        assert resp.status_code == 200, (volume, resp.text)
        return resp.json()["data_version"]


def cinder_name(volume_id):
    """The array volume of a Cinder volume (Cinder's Pure driver)."""
    return "volume-%s-cinder" % volume_id


@pytest.fixture(scope="module")
def env(pure_lab, pure_sites):
    """``pure_sites`` (tests/integration/conftest.py) with the arrays."""
    fa = pure_lab.flasharray
    assert fa, "the lab is not in the pure profile"
    return dict(pure_sites, fa=fa, arrays=Arrays(fa))


def make_group(env, servers):
    """A protection group whose policy names the two simulated arrays."""
    a, fa = env["a"], env["fa"]["arrays"]
    name = "pure-%s" % uuid.uuid4().hex[:8]
    status, body = a.call("POST", "/protection-groups", {
        "protection_group": {
            "name": name, "replication_type": "async",
            "primary_site_id": env["ids"]["site-a"],
            "secondary_site_id": env["ids"]["site-b"],
            "volume_type_id": env["volume_type"]}})
    assert status == 201, body
    pg = body["protection_group"]
    status, body = a.call(
        "PUT", "/protection-groups/%s/policy" % pg["id"], {"policy": {
            "primary_fa_url": fa["site-a"]["url"],
            "primary_fa_api_token": fa["site-a"]["token"],
            "secondary_fa_url": fa["site-b"]["url"],
            "secondary_fa_api_token": fa["site-b"]["token"],
            "pure_pg_name": "pg-" + name,
            "replication_interval": 300, "rpo_minutes": 60}})
    assert status in (200, 201), body
    # Masked in the response, never echoed.
    assert fa["site-a"]["token"] not in str(body)
    for server in servers:
        status, body = a.call("POST", "/protection-groups/%s/members" %
                              pg["id"], {"member": {"instance_id": server}})
        assert status == 201, body
    return pg


@pytest.fixture
def workload(env):
    """One boot-from-volume VM (root + 1 data volume) on site A whose
    volumes live on fa-site-a, each with a known data_version."""
    a, arrays = env["a"], env["arrays"]
    prefix = "pvm-%s" % uuid.uuid4().hex[:6]
    server, vols = lab_client.make_vm(a.conn, prefix)
    on_array = arrays.volumes("site-a")
    versions = {}
    for i, vol_id in enumerate(vols):
        assert cinder_name(vol_id) in on_array
        versions[vol_id] = 1000 + i
        arrays.write("site-a", cinder_name(vol_id), versions[vol_id])
    pg = make_group(env, [server.id])
    yield {"pg": pg, "server": server.id, "volumes": vols,
           "versions": versions}
    # The group first: its Cinder consistency group holds the volumes
    # (a failback's copies join it), and Cinder refuses to delete a
    # volume in a group. Then every server the test left, with its
    # volumes (rebuilt copies keep the member's name).
    lab_client.delete_group(a, pg["id"])
    for conn in (a.conn, env["b"].conn):
        left = {s.id for s in conn.compute.servers()
                if s.name.startswith(prefix)}
        if conn is a.conn:
            left.add(server.id)
        lab_client.delete_servers(conn, sorted(left), with_volumes=True)


def _servers_ok(conn, op, flavor, network):
    servers = op["result_data"]["recreate_instances"]["servers"]
    assert len(servers) == 1
    for server_id in servers.values():
        server = conn.compute.get_server(server_id)
        assert server.status == "ACTIVE", server
        assert server.flavor["original_name"] == flavor
        assert list(server.addresses) == [network]
        assert len(list(conn.compute.volume_attachments(server))) == 2
    return servers


def test_test_failover_and_cleanup_on_the_arrays(env, workload):
    a, b, arrays = env["a"], env["b"], env["arrays"]
    pg = workload["pg"]
    before = lab_client.inventory(a.conn), lab_client.inventory(b.conn)
    array_b_before = arrays.volumes("site-b")

    status, body = b.action(pg["id"], "test_failover",
                            {"network_mapping": {"net-a": "net-b"}})
    assert status == 202, body
    op = b.wait(body["operation"]["id"])
    assert op["status"] == "completed", op
    snap = op["result_data"]["snapshot_consistency_group"]
    # The drill replicated now, in Protector's array protection group.
    assert snap["mode"] == "replicated_now", snap
    assert snap["snapshot"]["name"].startswith(
        "%s:pg-%s." % (arrays.name("site-a"), pg["name"]))
    assert "pg-" + pg["name"] in arrays.pgroups("site-a")
    _servers_ok(b.conn, op, "m2.small", "net-b")
    made = op["result_data"]["recreate_instances"]["copies"]
    assert sorted(made) == sorted(workload["volumes"])
    on_b = arrays.volumes("site-b")
    for source, copy in made.items():
        vol = b.conn.block_storage.get_volume(copy)
        assert vol.status == "in-use", vol
        # Cinder's Pure driver managed the array copy (renamed it).
        assert cinder_name(copy) in on_b
        assert arrays.data("site-b", cinder_name(copy)) == \
            workload["versions"][source]
    root = b.conn.block_storage.get_volume(made[workload["volumes"][0]])
    assert root.is_bootable
    # RPO visibility: the drill's snapshot is the newest replicated one.
    status, body = a.call("GET", "/protection-groups/%s/policy" % pg["id"])
    assert status == 200, body
    assert body["policy"]["rpo_status"] == "ok", body["policy"]
    assert 0 <= body["policy"]["replication_lag_seconds"] < 600
    assert lab_client.inventory(a.conn) == before[0]

    status, body = b.action(pg["id"], "test_cleanup")
    assert status == 202, body
    op = b.wait(body["operation"]["id"])
    assert op["status"] == "completed", op
    assert (lab_client.inventory(a.conn),
            lab_client.inventory(b.conn)) == before
    # The copies are gone from the array too; replication untouched.
    assert arrays.volumes("site-b") == array_b_before
    group = arrays.pgroups("site-a")["pg-" + pg["name"]]
    assert group.replication_schedule.enabled


def test_planned_failover_and_failback_on_the_arrays(env, workload):
    a, b, arrays = env["a"], env["b"], env["arrays"]
    pg = workload["pg"]
    status, body = b.action(pg["id"], "failover",
                            dict(MAPPINGS, type="planned"))
    assert status == 202, body
    op = b.wait(body["operation"]["id"])
    assert op["status"] == "completed", op
    snap = op["result_data"]["snapshot_consistency_group"]
    assert snap["mode"] == "final_replicated"
    assert snap["snapshot"]["name"].startswith(
        "%s:pg-%s.protector-" % (arrays.name("site-a"), pg["name"]))
    assert a.conn.compute.get_server(workload["server"]).status == "SHUTOFF"
    servers = _servers_ok(b.conn, op, "m2.small", "net-b")
    promoted = op["result_data"]["recreate_instances"]["copies"]
    for source, copy in promoted.items():
        assert arrays.data("site-b", cinder_name(copy)) == \
            workload["versions"][source]
    assert b.conn.block_storage.get_volume(
        promoted[workload["volumes"][0]]).is_bootable

    # The workload writes on site B; the failback must bring that back.
    written = {}
    for source, copy in promoted.items():
        written[source] = workload["versions"][source] + 500
        arrays.write("site-b", cinder_name(copy), written[source])

    status, body = a.action(pg["id"], "failback",
                            dict(BACK, type="planned",
                                 reverse_replication=True))
    assert status == 202, body
    back = a.wait(body["operation"]["id"])
    rev = back["result_data"]["reverse_replication"]
    assert rev["source_array"] == arrays.name("site-b")
    assert rev["target_array"] == arrays.name("site-a")
    snap = back["result_data"]["snapshot_consistency_group"]
    assert snap["snapshot"]["name"].startswith(
        "%s:pg-%s." % (arrays.name("site-b"), pg["name"]))
    _servers_ok(a.conn, back, "m1.small", "net-a")
    workload_back = back["result_data"]["recreate_instances"]["copies"]
    for source, copy in workload_back.items():
        # What the workload wrote on site B came back (reverse direction).
        assert arrays.data("site-a", cinder_name(copy)) == written[source]
    assert back["status"] == "completed", back
    # The original instance is retired: its volumes left the Cinder
    # consistency group (on the array: Cinder's group PG) and Cinder.
    retire = back["result_data"]["retire_previous_instances"]
    assert retire["deleted_instances"] == [workload["server"]]
    assert sorted(retire["unmanaged_volumes"]) == \
        sorted(workload["volumes"])
    for site in (a, b):
        status, body = site.call("GET", "/protection-groups/%s" % pg["id"])
        assert body["protection_group"]["status"] == "active", body
        assert body["protection_group"]["current_primary_site"] == "site-a"
    # Site B is vacated: its servers deleted, its volumes unmanaged (kept
    # on the array, Cinder forgot them).
    vacate = back["result_data"]["unmanage_source_volumes"]
    assert sorted(vacate["deleted_instances"]) == sorted(servers.values())
    left = {v.id for v in b.conn.block_storage.volumes()}
    assert not left & set(vacate["unmanaged_volumes"])


def test_unplanned_failover_from_the_last_replicated_snapshot(
        pure_lab, env, workload):
    """Site A is lost (its array, Keystone and protector-api down): the
    failover uses only site B and recovers the newest snapshot the array
    replicated on the policy's schedule, not writes made after it."""
    b, arrays = env["b"], env["arrays"]
    pg = workload["pg"]
    # The policy started the schedule (300 s): one interval on the
    # simulator's clock replicates the group to fa-site-b.
    resp = arrays._control("POST", "/_sim/clock/advance", {"seconds": 301})
    assert resp.status_code == 200, resp.text
    # Writes after that snapshot are lost with the site.
    for vol_id in workload["volumes"]:
        arrays.write("site-a", cinder_name(vol_id),
                     workload["versions"][vol_id] + 7)
    down = arrays._control("POST", "/_sim/arrays/%s/down" %
                           arrays.name("site-a"), {"mode": "refuse"})
    assert down.status_code == 200, down.text
    try:
        pure_lab.stop("site-a", "protector-api")
        pure_lab.stop("site-a", "keystone")
        status, body = b.action(pg["id"], "failover",
                                dict(MAPPINGS, type="unplanned"),
                                peer=False)
        assert status == 202, body
        op = b.wait(body["operation"]["id"])
        assert op["status"] == "completed", op
        snap = op["result_data"]["snapshot_consistency_group"]
        assert snap["mode"] == "latest_replicated", snap
        assert snap["snapshot"]["name"].startswith(
            "%s:pg-%s." % (arrays.name("site-a"), pg["name"]))
        _servers_ok(b.conn, op, "m2.small", "net-b")
        promoted = op["result_data"]["recreate_instances"]["copies"]
        for source, copy in promoted.items():
            assert arrays.data("site-b", cinder_name(copy)) == \
                workload["versions"][source]
    finally:
        arrays._control("POST", "/_sim/arrays/%s/up" %
                        arrays.name("site-a"))
        pure_lab.start("site-a", "keystone")
        pure_lab.start("site-a", "protector-api")

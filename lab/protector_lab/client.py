"""Using a running lab: what the lab tests, the benchmarks and scripts do.

The integration tests (``tests/integration``), ``tools/bench_failover.py``
and anyone at a Python prompt share these helpers (doc/lab.md, "In
tests"); nothing here brings a lab up or down except through
``run_lab``.

* ``run_lab(*args)``: the ``protector-lab`` command.
* ``Protector``: one site's protector-api over REST as the demo user (or
  the admin), with the peer site's token in ``X-Protector-Peer-Token``,
  as the CLI does. The engines act through the demo user's trusts, which
  each site's API creates on first use (``protector/cloud/trusts.py``).
* ``site_pair``: site A's and site B's ``Protector``, the sites' IDs and
  the ``replicated-async`` type; ``register_sites`` registers and pairs
  the sites first.
* ``cli`` / ``dr_cli``: the project's ``openstack`` CLI against the lab.
* ``wait_step``, ``engine_pid``, ``kill``, ``start_engine``: operations
  and the engines.
* Quotas of the demo project: ``raise_quotas``, ``default_quotas``,
  ``volume_usage``, ``make_room``.
* Workloads: ``make_vm``, ``make_vms``, ``make_group``; the Cinder group
  of a protection group: ``cinder_group``, ``wait_group_gone``.
* Clean-up: ``inventory`` (compare before/after), ``delete_servers``,
  ``delete_group``.
"""
import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

from openstack import exceptions as os_exc
import requests

API_VERSION = "protector 1.2"
# Cinder's generic groups API (GET /groups).
VOLUME_GROUPS = {"OpenStack-API-Version": "volume 3.13"}


# ---- the protector-lab command ---------------------------------------------

def lab_command():
    exe = os.path.join(os.path.dirname(sys.executable), "protector-lab")
    if os.path.exists(exe):
        return [exe]
    found = shutil.which("protector-lab")
    if found:
        return [found]
    return [sys.executable, "-m", "protector_lab.cli"]


def run_lab(*args, check=True, **kwargs):
    return subprocess.run(lab_command() + list(args), check=check,
                          **kwargs)


# ---- protector-api over REST -----------------------------------------------

class Protector:
    """One site's protector-api as ``user`` (``demo`` or ``admin``).

    ``version`` is the microversion sent (``None``: no header, so the
    API's minimum)."""

    def __init__(self, lab, site, peer_site, user="demo",
                 version=API_VERSION):
        self.lab = lab
        self.info = lab.site(site)
        suffix = "" if user == "demo" else "-admin"
        self.conn = lab.connect(site + suffix)
        self.peer_conn = lab.connect(peer_site + suffix)
        self.project = self.conn.current_project_id
        self.url = "%s/v1/%s" % (self.info.protector_url, self.project)
        self.headers = ({"OpenStack-API-Version": version} if version
                        else {})

    def call(self, method, path, body=None, peer=True, project=None):
        """(status, JSON body or None). ``project``: another project's
        URL than the user's own."""
        url = self.url if project is None else "%s/v1/%s" % (
            self.info.protector_url, project)
        headers = dict(self.headers, **{"X-Auth-Token": self.conn.auth_token})
        if peer:
            headers["X-Protector-Peer-Token"] = self.peer_conn.auth_token
        resp = requests.request(method, url + path, json=body,
                                headers=headers, timeout=300)
        return resp.status_code, (resp.json() if resp.content else None)

    def action(self, pg_id, kind, body=None, peer=True):
        return self.call("POST", "/protection-groups/%s/action" % pg_id,
                         {kind: body or {}}, peer=peer)

    def wait(self, op_id, timeout=900):
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.call("GET", "/operations/%s" % op_id,
                                     peer=False)
            assert status == 200, body
            op = body["operation"]
            if op["status"] in ("completed", "failed"):
                return op
            assert time.monotonic() < deadline, op
            time.sleep(1)


def register_sites(lab):
    """Both sites registered on both sites' Protectors (kept if there
    already), then paired: a new key for their internal calls, made on
    site A and installed on site B with site B's admin token."""
    for name, other in (("site-a", "site-b"), ("site-b", "site-a")):
        admin = Protector(lab, name, other, user="admin")
        for site in (lab.site_a, lab.site_b):
            status, body = admin.call("POST", "/sites", {"site": {
                "name": site.name, "site_type": "primary"
                if site.name == "site-a" else "secondary",
                "auth_url": site.auth_url,
                "protector_url": site.protector_url}})
            assert status in (201, 409), body
    admin = Protector(lab, "site-a", "site-b", user="admin")
    status, body = admin.call("POST", "/sites/site-b/pair", {})
    assert status == 200, body


def site_pair(lab, version=API_VERSION):
    """``{"a", "b", "ids", "volume_type"}``: the demo user's ``Protector``
    of site A (peer site B) and of site B (peer site A), both sites' IDs
    by name, and the ID of site A's ``replicated-async`` volume type. The
    sites must be registered (``register_sites``)."""
    a = Protector(lab, "site-a", "site-b", version=version)
    b = Protector(lab, "site-b", "site-a", version=version)
    ids = {}
    for name in ("site-a", "site-b"):
        status, body = a.call("GET", "/sites/%s" % name)
        assert status == 200, body
        ids[name] = body["site"]["id"]
    vtype = a.conn.block_storage.find_type("replicated-async")
    return {"a": a, "b": b, "ids": ids, "volume_type": vtype.id}


# ---- the CLI ---------------------------------------------------------------

def osc():
    """The ``openstack`` next to this Python (the project venv's, with the
    protectorclient plugin), else the one on ``PATH``."""
    exe = os.path.join(os.path.dirname(sys.executable), "openstack")
    return exe if os.path.exists(exe) else "openstack"


def cli(lab, *args, fmt=True):
    """(exit code, parsed JSON or text, stderr) of ``openstack --os-cloud
    site-a --secondary-cloud site-b <args> [-f json]``."""
    cmd = [osc(), "--os-cloud", "site-a", "--secondary-cloud", "site-b"]
    cmd += list(args)
    if fmt:
        cmd += ["-f", "json"]
    env = lab.env()
    env.pop("OS_CLOUD", None)
    result = subprocess.run(cmd, capture_output=True, text=True, env=env,
                            timeout=300)
    out = result.stdout
    if fmt and result.returncode == 0:
        out = json.loads(out)
    return result.returncode, out, result.stderr


def dr_cli(lab, args, timeout=900):
    """``openstack --os-cloud site-a --secondary-cloud site-b dr ...``
    (the ``CompletedProcess``)."""
    exe = os.path.join(os.path.dirname(sys.executable), "openstack")
    return subprocess.run(
        [exe, "--os-cloud", "site-a", "--secondary-cloud", "site-b",
         "dr"] + args, env=lab.env(), text=True, capture_output=True,
        timeout=timeout)


# ---- operations and engines ------------------------------------------------

def wait_step(client, op_id, step, timeout=300):
    """The operation once it is at ``step`` (or has ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = client.call("GET", "/operations/%s" % op_id, peer=False)
        op = body["operation"]
        if op["current_step"] == step or op["status"] in ("completed",
                                                           "failed"):
            return op
        time.sleep(0.2)
    raise AssertionError("step %s never ran" % step)


def engine_pid(lab, site):
    for proc in lab.status()["processes"]:
        if proc["site"] == site and proc["process"] == "protector-engine":
            return proc["pid"]
    raise AssertionError("no protector-engine on %s" % site)


def kill(pid):
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


def start_engine(site="site-b"):
    # Through the CLI, so the engine is not a child of this process.
    run_lab("start", site, "protector-engine", check=True,
            capture_output=True)


# ---- quotas of the demo project --------------------------------------------

def raise_quotas(lab):
    """Room for the 10-VM benchmark and its copies (lab defaults: 10).

    For tools/bench_failover.py only: tests run at the quotas
    ``protector-lab up`` leaves (Cinder's default of 10 volumes per
    project), and a test that needs more raises just that quota, after
    showing that the product names it (test_dr_operations.py)."""
    for name in ("site-a", "site-b"):
        admin = lab.connect(name + "-admin")
        project = lab.site(name).demo_project_id
        admin.set_volume_quotas(project, volumes=500, gigabytes=5000,
                                snapshots=200, groups=100)
        admin.set_compute_quotas(project, instances=200, cores=800,
                                 ram=2048000)
        admin.set_network_quotas(project, port=1000, network=100,
                                 subnet=100)


def default_quotas(lab):
    """Put the demo project back on the services' default quotas, as
    ``protector-lab up`` leaves it (undoes what an earlier module or a
    benchmark on a reused lab raised)."""
    for name in ("site-a", "site-b"):
        admin = lab.connect(name + "-admin")
        project = lab.site(name).demo_project_id
        admin.delete_volume_quotas(project)
        admin.delete_compute_quotas(project)
        admin.delete_network_quotas(project)


def volume_usage(lab, site):
    """(limit, in_use) of the demo project's volumes quota on ``site``."""
    admin = lab.connect(site + "-admin")
    quota = admin.block_storage.get_quota_set(
        lab.site(site).demo_project_id, usage=True)
    return quota.volumes, quota.usage["volumes"]


def make_room(lab, site, volumes):
    """Raise the demo project's volumes quota on ``site`` just enough for
    ``volumes`` more (what the preflight asks the operator to do)."""
    limit, used = volume_usage(lab, site)
    if limit < 0 or limit - used >= volumes:
        return limit
    admin = lab.connect(site + "-admin")
    admin.set_volume_quotas(lab.site(site).demo_project_id,
                            volumes=used + volumes)
    return used + volumes


# ---- workloads -------------------------------------------------------------

def make_vm(conn, name, flavor="m1.small", network="net-a", data_volumes=1,
            volume_type="replicated-async", image="cirros"):
    """A boot-from-volume server with ``data_volumes`` more volumes.

    If anything fails, what was made is deleted before the error is
    raised: a fixture that fails here has no teardown, and what it left
    would count against the next tests' quotas (the demo project holds
    12 volumes)."""
    img = conn.image.find_image(image)
    vols, server = [], None
    try:
        vols.append(conn.block_storage.create_volume(
            name="%s-root" % name, size=1, image_id=img.id,
            volume_type=volume_type))
        for i in range(data_volumes):
            vols.append(conn.block_storage.create_volume(
                name="%s-data%d" % (name, i), size=1,
                volume_type=volume_type))
        for vol in vols:
            _wait_volume(conn, vol, "available", wait=120)
        bdm = [{"uuid": v.id, "source_type": "volume",
                "destination_type": "volume",
                "boot_index": i if i == 0 else -1,
                "delete_on_termination": True} for i, v in enumerate(vols)]
        server = conn.compute.create_server(
            name=name, flavor_id=conn.compute.find_flavor(flavor).id,
            networks=[{"uuid": conn.network.find_network(network).id}],
            block_device_mapping=bdm)
        server = conn.compute.wait_for_server(server, wait=300)
    except BaseException:
        discard(conn, [server.id] if server is not None else [],
                [v.id for v in vols])
        raise
    return server, [v.id for v in vols]


def _wait_volume(conn, vol, status, wait):
    """wait_for_status that says, on a timeout, where the volume was
    stuck (its status and host: which Cinder service did not answer)."""
    try:
        return conn.block_storage.wait_for_status(
            vol, status, failures=["error"], wait=wait)
    except os_exc.ResourceTimeout as exc:
        now = conn.block_storage.get_volume(vol)
        raise os_exc.ResourceTimeout(
            "%s (after %d s it is %r, host %r, created %s)" % (
                exc, wait, now.status, now.host, now.created_at)) from exc


def make_vms(conn, prefix, count, **kwargs):
    """``count`` VMs (``make_vm``), at most 4 at a time: bursts of Cinder
    creates grow its DB pools past the lab MariaDB's max_connections (151).
    If one fails, the others are deleted too, then the first error is
    raised."""
    with concurrent.futures.ThreadPoolExecutor(
            max_workers=min(count, 4)) as pool:
        jobs = [pool.submit(make_vm, conn, "%s-%d" % (prefix, i), **kwargs)
                for i in range(count)]
        concurrent.futures.wait(jobs)
    failed = [j for j in jobs if j.exception() is not None]
    if failed:
        made = [j.result() for j in jobs if j.exception() is None]
        discard(conn, [s.id for s, _ in made],
                [v for _, vols in made for v in vols])
        raise failed[0].exception()
    return [j.result() for j in jobs]


def discard(conn, server_ids, volume_ids):
    """Best-effort delete of servers, then of volumes, for a workload that
    could not be finished. A volume still ``creating`` after a minute
    cannot be deleted by its project; it is reported, not hidden."""
    try:
        delete_servers(conn, server_ids)
    except Exception as exc:
        print("[lab client] could not delete servers %s: %s" % (
            server_ids, exc), flush=True)
    deadline = time.monotonic() + 60
    for vid in volume_ids:
        while True:
            vol = conn.block_storage.find_volume(vid, ignore_missing=True)
            if vol is None:
                break
            if vol.status in ("available", "error"):
                conn.block_storage.delete_volume(vol, ignore_missing=True)
                break
            if time.monotonic() > deadline:
                print("[lab client] volume %s left %s: it could not be "
                      "deleted" % (vid, vol.status), flush=True)
                break
            time.sleep(2)


def make_group(a, b, ids, volume_type_id, servers, name=None):
    """A protection group with a mock-mode policy and ``servers`` as
    members; returns the group. The policy PUT is synced to site B."""
    name = name or "dr-%s" % uuid.uuid4().hex[:8]
    status, body = a.call("POST", "/protection-groups", {
        "protection_group": {
            "name": name, "replication_type": "async",
            "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": volume_type_id}})
    assert status == 201, body
    pg = body["protection_group"]
    for site in (a,):
        status, body = site.call(
            "PUT", "/protection-groups/%s/policy" % pg["id"], {"policy": {
                "primary_fa_url": "https://fa-a.lab.example",
                "primary_fa_api_token": "T-lab-a",
                "secondary_fa_url": "https://fa-b.lab.example",
                "secondary_fa_api_token": "T-lab-b",
                "pure_pg_name": "pg-" + name,
                "replication_interval": 300, "rpo_minutes": 15}})
        assert status in (200, 201), body
    for server in servers:
        status, body = a.call("POST", "/protection-groups/%s/members" %
                              pg["id"], {"member": {"instance_id": server}})
        assert status == 201, body
    return pg


def cinder_group(conn, group_id):
    """A Cinder generic group (dict), or None once it is gone."""
    resp = conn.block_storage.get("/groups/%s" % group_id,
                                  headers=VOLUME_GROUPS, raise_exc=False)
    if resp.status_code == 404:
        return None
    return resp.json()["group"]


def wait_group_gone(conn, group_id, timeout=120):
    deadline = time.monotonic() + timeout
    while cinder_group(conn, group_id) is not None:
        assert time.monotonic() < deadline, "group %s not deleted" % group_id
        time.sleep(1)


# ---- clean-up --------------------------------------------------------------

def inventory(conn):
    """What the demo project has on a site (compare before/after)."""
    return {
        "servers": sorted((s.id, s.name, s.status)
                          for s in conn.compute.servers()),
        "volumes": sorted((v.id, v.name, v.status)
                          for v in conn.block_storage.volumes()),
        "ports": sorted(p.id for p in conn.network.ports(
            project_id=conn.current_project_id)),
        "networks": sorted(n.id for n in conn.network.networks(
            project_id=conn.current_project_id)),
    }


def delete_servers(conn, ids, with_volumes=False):
    """Delete servers; ``with_volumes`` also deletes the volumes attached
    to them (a rebuilt instance keeps its volumes when deleted: Protector
    sets ``delete_on_termination`` off on every copy)."""
    attached = []
    if with_volumes:
        for sid in ids:
            if conn.compute.find_server(sid, ignore_missing=True):
                attached += [a.volume_id for a in
                             conn.compute.volume_attachments(sid)]
    for sid in ids:
        conn.compute.delete_server(sid, ignore_missing=True)
    for sid in ids:
        server = conn.compute.find_server(sid, ignore_missing=True)
        if server is not None:
            conn.compute.wait_for_delete(server, wait=300)
    for vid in attached:
        volume = conn.block_storage.find_volume(vid, ignore_missing=True)
        if volume is None:
            continue
        conn.block_storage.wait_for_status(volume, "available",
                                           failures=["error"], wait=120)
        ungroup(conn, volume)
        conn.block_storage.delete_volume(volume, ignore_missing=True)


def ungroup(conn, volume):
    """Take a volume out of its Cinder group (the consistency group of a
    protection group a test could not delete, e.g. one it left failed
    over), which Cinder requires before deleting it; else its volumes
    would count against the quotas of every later test."""
    if not volume.group_id:
        return
    resp = conn.block_storage.put(
        "/groups/%s" % volume.group_id, headers=VOLUME_GROUPS,
        json={"group": {"remove_volumes": volume.id}}, raise_exc=False)
    if resp.status_code >= 400:
        print("[lab client] could not take volume %s out of group %s: %s"
              % (volume.id, volume.group_id, resp.text[:200]), flush=True)
        return
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fresh = conn.block_storage.get_volume(volume.id)
        if not fresh.group_id:
            return
        time.sleep(1)


def delete_group(protector, pg_id):
    """Remove a group's members, then the group (best effort: a group
    that is not ``active`` stays, and says why)."""
    status, body = protector.call("GET", "/protection-groups/%s/members" %
                                  pg_id)
    if status != 200:
        return status, body
    for member in body.get("members", []):
        protector.call("DELETE", "/protection-groups/%s/members/%s" %
                       (pg_id, member["id"]))
    return protector.call("DELETE", "/protection-groups/%s" % pg_id)


# Names the integration tests give what they make (tests/integration).
TEST_PREFIXES = ("it-", "tier-", "cli-", "ui-", "drvm-", "imgvm-",
                 "lab-test-", "pure-", "pvm-")


def sweep(conn, prefixes=TEST_PREFIXES):
    """Delete the servers and free volumes that earlier tests left in the
    demo project (a test that failed midway, a teardown that could not
    finish), so one failure does not use up the quotas of the tests after
    it. Only names with a test prefix are touched; volumes still in a
    Cinder group (a protection group left failed over) stay. Returns what
    was deleted, to print."""
    servers = [s for s in conn.compute.servers()
               if (s.name or "").startswith(prefixes)]
    if servers:
        delete_servers(conn, [s.id for s in servers], with_volumes=True)
    volumes = [v for v in conn.block_storage.volumes()
               if (v.name or "").startswith(prefixes) and
               v.status in ("available", "error")]
    for vol in volumes:
        ungroup(conn, vol)
        conn.block_storage.delete_volume(vol, ignore_missing=True)
    return sorted(s.name for s in servers) + sorted(
        v.name for v in volumes)

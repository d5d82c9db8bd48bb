#!/usr/bin/env python3
"""Benchmark: failover and failback of a group of N VMs in the lab, against
the time the clouds themselves need (not a test).

Builds N boot-from-volume VMs (1 root + 1 data volume each) on site A and
a protection group with a mock-mode policy. Then, per operation type
(planned failover, failback, unplanned failover):

1. **the bound**: the unavoidable cloud calls of the same operation, made
   directly with openstacksdk, fully parallel and pipelined per VM: stop
   every server on the source site at once and wait until all are SHUTOFF
   (planned failover and failback only), then on the target site, at most
   ``--width`` VMs at a time (Nova builds 10 at a time per compute host by
   default: ``max_concurrent_builds``), create each VM's two volumes and
   boot it as soon as they are available, until it is ACTIVE. A failback
   also leaves one copy of the workload: the previous instances on its
   target and the source's shut-down ones go, with their volumes. The
   bound then deletes as many servers of two volumes on both sites (on
   the target the ones it built, on the source stand-ins built and
   stopped before its clock started), each with its volumes, all at
   once, until Nova has them gone and Cinder their volumes.
   What the bound made is deleted, and the stopped servers are started
   again;
2. **Protector**: the same operation through the API, timed from the
   engine's log (first step started -> operation completed), with the
   engine's per-step time and cloud wait (``protector/cloud/timing.py``),
   and "workload up": the steps up to the end of ``recreate_instances``
   (a failback then retires the previous instances and gives their
   volumes back to the array).

It prints both times and their ratio per operation type, and the same up
to the workload being up (the bound before its deletes; Protector's
steps to the end of the rebuild). The bound does only what any failover
must do: no snapshot, no metadata, no checks, no bookkeeping, no group
updates; everything Protector does beyond it is in the ratio.

Quotas are raised for the benchmark (``lab_client.raise_quotas``): tests
never do that. Everything the benchmark made is deleted at the end.

    .venv/bin/python tools/bench_failover.py [--vms 10] [--width 10]
        [--ops planned,failback,unplanned]
"""
import argparse
import concurrent.futures
import datetime
import os
import re
import time
import uuid

from openstack.compute.v2 import server as sdk_server
from protector_lab import client as lab_client
from protector_lab.info import LabInfo

# Requests in flight at once, as the engine's (source_tasks.REQUEST_WIDTH).
REQUEST_WIDTH = 16
RUN_LOG = re.compile(r"^(\S+ \S+) .*Operation (\S+)(: step validate_sites "
                     r"\(attempt| \((failover|failback)\) completed)")
STEP_LOG = re.compile(r"Operation (\S+): step (\S+) took ([\d.]+) s, "
                      r"([\d.]+) s of it waiting on the clouds")


def _parse(ts):
    return datetime.datetime.fromisoformat(ts.rstrip("Z"))


def step_timings(lab, site, op_id):
    """Per step (took, cloud wait), and the engine's run time (first step
    started -> operation completed, millisecond log timestamps)."""
    path = os.path.join(lab.state_dir, site, "log", "protector-engine.log")
    out, marks = {}, []
    with open(path) as log:
        for line in log:
            m = STEP_LOG.search(line)
            if m and m.group(1) == op_id:
                out[m.group(2)] = (float(m.group(3)), float(m.group(4)))
            m = RUN_LOG.search(line)
            if m and m.group(2) == op_id:
                marks.append(datetime.datetime.strptime(
                    m.group(1), "%Y-%m-%d %H:%M:%S.%f"))
    run = (marks[-1] - marks[0]).total_seconds() if len(marks) > 1 \
        else None
    return out, run


def _timed(fn, *args):
    start = time.monotonic()
    fn(*args)
    return time.monotonic() - start


def _stop_all(conn, ids):
    for sid in ids:
        conn.compute.stop_server(sid)
    for sid in ids:
        conn.compute.wait_for_server(conn.compute.get_server(sid),
                                     status="SHUTOFF", interval=1, wait=600)


def _start_all(conn, ids):
    for sid in ids:
        conn.compute.start_server(sid)
    for sid in ids:
        conn.compute.wait_for_server(conn.compute.get_server(sid),
                                     interval=1, wait=600)


def _delete_all(conn, made, width):
    """Every delete of ``made`` ([(server, volume IDs)]) requested
    (``width`` requests at a time), then the waits until Nova has the
    servers gone and Cinder their volumes (deleted with them), as
    Protector's retirement ends with its volumes unmanaged."""
    def volume_gone(vol_id):
        deadline = time.monotonic() + 600
        while conn.block_storage.find_volume(vol_id, ignore_missing=True):
            if time.monotonic() > deadline:
                raise TimeoutError("volume %s still there" % vol_id)
            time.sleep(1)

    with concurrent.futures.ThreadPoolExecutor(width) as pool:
        list(pool.map(lambda m: conn.compute.delete_server(m[0].id), made))
        list(pool.map(lambda m: conn.compute.wait_for_delete(
            sdk_server.Server.existing(id=m[0].id), interval=1, wait=600),
            made))
        list(pool.map(volume_gone, [v for _, vols in made for v in vols]))


def stand_ins(conn, n, width, network, flavor):
    """``n`` shut-down servers of two volumes on the failback's source,
    for the bound to delete as the vacate deletes the real ones (which
    Protector's run needs): built and stopped before the bound's clock
    starts."""
    prefix = "standin-%s" % uuid.uuid4().hex[:6]
    with concurrent.futures.ThreadPoolExecutor(width) as pool:
        made = list(pool.map(lambda i: lab_client.make_vm(
            conn, "%s-%d" % (prefix, i), flavor=flavor, network=network),
            range(n)))
    _stop_all(conn, [s.id for s, _ in made])
    return made


def bound(source, target, source_servers, width, stop, network, flavor,
          retire=None):
    """Seconds the direct calls take (see the module doc), as (to the
    workload up, in all); leaves both sites as they were. ``retire``: the
    source's stand-ins (``stand_ins``) of a failback."""
    prefix = "bound-%s" % uuid.uuid4().hex[:6]
    start = time.monotonic()
    if stop:
        _stop_all(source, source_servers)
    made = []
    try:
        with concurrent.futures.ThreadPoolExecutor(width) as pool:
            jobs = [pool.submit(lab_client.make_vm, target,
                                "%s-%d" % (prefix, i), flavor=flavor,
                                network=network)
                    for i in range(len(source_servers))]
            for job in jobs:
                made.append(job.result())
        up = time.monotonic() - start
        if retire is not None:
            # A failback leaves one copy of the workload: the previous
            # instances on its target go, and the source's shut-down ones,
            # with their volumes. Stand-ins for them: as many servers of
            # two volumes on the target (the ones just built) and on the
            # source (``retire``), their volumes deleted with them
            # (delete_on_termination), all deleted at once on both sites.
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                jobs = [pool.submit(_delete_all, target, made,
                                    REQUEST_WIDTH),
                        pool.submit(_delete_all, source, retire,
                                    REQUEST_WIDTH)]
                for job in jobs:
                    job.result()
        took = time.monotonic() - start
    finally:
        # Cinder deletes their volumes after Nova the servers: waited for,
        # not to weigh on Protector's run that follows.
        _delete_all(target, made, REQUEST_WIDTH)
        if stop:
            _start_all(source, source_servers)
    return up, took


def protector_run(lab, client, site, pg_id, kind, body):
    """Run ``kind`` on the group through the API; (seconds, steps, op)."""
    status, resp = client.action(pg_id, kind, body)
    assert status == 202, resp
    op = client.wait(resp["operation"]["id"], timeout=3600)
    assert op["status"] == "completed", op
    time.sleep(1)  # let the log line of the last step land
    steps, total = step_timings(lab, site, op["id"])
    total = total or (_parse(op["completed_at"]) -
                      _parse(op["started_at"])).total_seconds()
    return total, steps, op


def print_steps(title, steps, total):
    print("\n%s" % title)
    print("%-28s %9s %12s %10s" % ("step", "time s", "cloud wait s",
                                   "overhead s"))
    for name, (took, cloud) in steps.items():
        print("%-28s %9.2f %12.2f %10.2f" % (name, took, cloud, took - cloud))
    cloud = sum(c for _, c in steps.values())
    print("total %.2f s, waiting on the clouds %.2f s" % (total, cloud))


def converge(b, pg_id):
    """After an unplanned failover site A still holds the group as it was
    (nothing was pushed to the source): the documented sync-force first,
    as an operator would before the failback."""
    status, body = b.call("POST", "/protection-groups/%s/sync-force" % pg_id)
    assert status == 200, body


TO_B = {"network_mapping": {"net-a": "net-b"},
        "flavor_mapping": {"m1.small": "m2.small"}}
TO_A = {"network_mapping": {"net-b": "net-a"},
        "flavor_mapping": {"m2.small": "m1.small"}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10)
    parser.add_argument("--width", type=int, default=10,
                        help="VMs built at once by the bound (default 10, "
                             "Nova's max_concurrent_builds)")
    parser.add_argument("--ops", default="planned,failback,unplanned",
                        help="comma-separated, in this order")
    args = parser.parse_args()
    ops = args.ops.split(",")
    lab = LabInfo.load()
    lab_client.register_sites(lab)
    lab_client.raise_quotas(lab)
    pair = lab_client.site_pair(lab)
    a, b, ids, vtype = pair["a"], pair["b"], pair["ids"], pair["volume_type"]
    prefix = "bench-%s" % uuid.uuid4().hex[:6]
    print("building %d VMs on site-a ..." % args.vms, flush=True)
    made = lab_client.make_vms(a.conn, prefix, args.vms)
    on_a = [s.id for s, _ in made]
    every = {"site-a": list(on_a), "site-b": []}
    pg = lab_client.make_group(a, b, ids, vtype, on_a, name=prefix)
    rows = []
    where = "site-a"
    try:
        for kind in ops:
            if kind in ("planned", "unplanned"):
                if where != "site-a":
                    raise SystemExit("%s needs the group on site-a; put "
                                     "failback between" % kind)
                print("\n%s failover: the bound ..." % kind, flush=True)
                cut_up, cut = bound(a.conn, b.conn, on_a, args.width,
                                    kind == "planned", "net-b", "m2.small")
                print("%s failover: Protector ..." % kind, flush=True)
                took, steps, op = protector_run(
                    lab, b, "site-b", pg["id"], "failover",
                    dict(TO_B, type=kind))
                where = "site-b"
            else:
                if where != "site-b":
                    raise SystemExit("failback needs the group on site-b")
                on_b = list(every["site-b"][-args.vms:])
                converge(b, pg["id"])
                print("\nfailback: the bound's stand-ins on site-b ...",
                      flush=True)
                extra = stand_ins(b.conn, args.vms, args.width, "net-b",
                                  "m2.small")
                every["site-b"] += [srv.id for srv, _ in extra]
                print("failback: the bound ...", flush=True)
                cut_up, cut = bound(b.conn, a.conn, on_b, args.width,
                                    True, "net-a", "m1.small", retire=extra)
                print("failback: Protector ...", flush=True)
                took, steps, op = protector_run(
                    lab, a, "site-a", pg["id"], "failback",
                    dict(TO_A, type="planned"))
                where = "site-a"
            rebuilt = list(op["result_data"]["recreate_instances"][
                "servers"].values())
            every["site-b" if where == "site-b" else "site-a"] += rebuilt
            if where == "site-a":
                on_a = rebuilt
            print_steps("%s: Protector's steps (operation %s)" % (
                kind, op["id"]), steps, took)
            # The workload is up when the rebuild ends; a failback then
            # retires the previous instances and gives their volumes back
            # (the bound deletes as many servers and volumes).
            names = list(steps)
            upto = names[:names.index("recreate_instances") + 1] \
                if "recreate_instances" in names else names
            up = sum(steps[n][0] for n in upto)
            rows.append((kind, cut, took, cut_up, up))
        print("\n%d VMs (%d volumes), bound at %d VMs at a time" % (
            args.vms, 2 * args.vms, args.width))
        print("%-20s %9s %12s %7s %11s %13s %9s" % (
            "operation", "bound s", "Protector s", "ratio", "bound up s",
            "workload up s", "up ratio"))
        for kind, cut, took, cut_up, up in rows:
            print("%-20s %9.1f %12.1f %7.2f %11.1f %13.1f %9.2f" % (
                kind + (" failover" if kind != "failback" else ""), cut,
                took, took / cut, cut_up, up, up / cut_up))
    finally:
        if where == "site-b":
            print("\nfailing back to clean up ...", flush=True)
            converge(b, pg["id"])
            _, _, op = protector_run(lab, a, "site-a", pg["id"], "failback",
                                     dict(TO_A, type="planned"))
            every["site-a"] += list(op["result_data"]["recreate_instances"][
                "servers"].values())
        lab_client.delete_group(a, pg["id"])
        for site, conn in (("site-a", a.conn), ("site-b", b.conn)):
            lab_client.delete_servers(conn, every[site], with_volumes=True)
        lab_client.default_quotas(lab)


if __name__ == "__main__":
    main()

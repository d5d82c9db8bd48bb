#!/usr/bin/env python3
"""Benchmark: planned failover of a group of N VMs in the lab (not a test).

Builds N boot-from-volume VMs (1 root + 1 data volume each) on site A, a
protection group with a mock-mode policy, then fails it over (planned:
shutdown and final snapshot on site A as a sub-operation, promote and
rebuild on site B, metadata push) and prints:

* total: the operation's wall time (queued -> completed, from the API);
* cloud wait: time the engine spent waiting on the clouds on the
  critical path (per step, the union of the intervals in which at least
  one cloud call or status wait was in flight; the engine logs it per step,
  ``protector/cloud/timing.py``) - including waiting on site A's
  sub-operation;
* overhead: the difference (Protector's own time: database, scheduling,
  polling granularity, thread hand-offs).

VMs are rebuilt ``[engine] max_parallel_instances`` at a time. Then the
group is failed back and everything the benchmark made is deleted.

    .venv/bin/python tools/bench_failover.py [--vms 10] [--keep]
"""
import argparse
import datetime
import os
import re
import time
import uuid

from protector_lab import client as lab_client
from protector_lab.info import LabInfo

RUN_LOG = re.compile(r"^(\S+ \S+) .*Operation (\S+)(: step validate_sites "
                     r"\(attempt| \(failover\) completed)")
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10)
    parser.add_argument("--keep", action="store_true",
                        help="leave the group failed over on site B")
    args = parser.parse_args()
    lab = LabInfo.load()
    lab_client.register_sites(lab)
    lab_client.raise_quotas(lab)
    pair = lab_client.site_pair(lab)
    a, b, ids, vtype = pair["a"], pair["b"], pair["ids"], pair["volume_type"]
    prefix = "bench-%s" % uuid.uuid4().hex[:6]
    print("building %d VMs on site-a ..." % args.vms, flush=True)
    made = lab_client.make_vms(a.conn, prefix, args.vms)
    servers = [s.id for s, _ in made]
    pg = lab_client.make_group(a, b, ids, vtype, servers, name=prefix)
    try:
        start = time.monotonic()
        status, body = b.action(pg["id"], "failover", {
            "type": "planned", "network_mapping": {"net-a": "net-b"},
            "flavor_mapping": {"m1.small": "m2.small"}})
        assert status == 202, body
        op = b.wait(body["operation"]["id"], timeout=3600)
        wall = time.monotonic() - start
        assert op["status"] == "completed", op
        time.sleep(1)  # let the log line of the last step land
        steps, total = step_timings(lab, "site-b", op["id"])
        total = total or (_parse(op["completed_at"]) -
                          _parse(op["started_at"])).total_seconds()
        print("\nplanned failover of %d VMs (%d volumes), operation %s" % (
            args.vms, 2 * args.vms, op["id"]))
        print("%-28s %9s %12s %10s" % ("step", "time s", "cloud wait s",
                                       "overhead s"))
        for name, (took, cloud) in steps.items():
            print("%-28s %9.2f %12.2f %10.2f" % (name, took, cloud,
                                                 took - cloud))
        cloud = sum(c for _, c in steps.values())
        in_steps = sum(t for t, _ in steps.values())
        print("\ntotal (engine: first step -> completed): %7.2f s (client "
              "wall time, 1 s polling: %.2f s)" % (total, wall))
        print("waiting on the clouds:                   %7.2f s" % cloud)
        print("orchestration overhead:                  %7.2f s (%.2f s "
              "inside steps, "
              "%.2f s between steps)" % (total - cloud, in_steps - cloud,
                                         total - in_steps))
        if not args.keep:
            status, body = a.action(pg["id"], "failback", {
                "type": "planned", "network_mapping": {"net-b": "net-a"},
                "flavor_mapping": {"m2.small": "m1.small"}})
            assert status == 202, body
            back = a.wait(body["operation"]["id"], timeout=3600)
            assert back["status"] == "completed", back
            servers += list(back["result_data"]["recreate_instances"][
                "servers"].values())
    finally:
        if not args.keep:
            lab_client.delete_servers(a.conn, servers)


if __name__ == "__main__":
    main()

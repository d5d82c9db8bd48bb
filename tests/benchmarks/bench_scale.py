#!/usr/bin/env python3
"""Benchmark: the engine's DR operations at 100 to 5,000 VMs on a
simulated cloud (doc/benchmarks.md). Not a test.

For each N: a protection group of N boot-from-volume VMs (a boot and a
data volume each) on two ``SimCloud`` sites (``simcloud.py``: latency per
call, Nova- and Cinder-like caps), then the real engine runs, in process
against the real database, a planned failover, a planned failback and an
unplanned failover (site A down). For each it prints:

* bound: the necessary cloud calls of that operation done directly,
  fully parallel and pipelined per VM, on the same model (``simcloud
  .bound``, in model seconds; "ideal" without SDK polling);
* Protector: the engine's run (first step -> completed), real seconds
  divided by the time scale, and the ratio to the bound;
* calls per VM (Keystone, Nova, Cinder, Neutron, Glance, peer; status
  polls apart), database statements that write and rows added per VM,
  the engine process's peak RSS growth during the run and its CPU time,
  and model seconds per VM (flat when the cost grows linearly).

    .venv/bin/python -m tests.benchmarks.bench_scale --vms 100 1000 5000
        [--profile default|lab] [--config model.json] [--set key=value]
        [--time-scale 0.05] [--width N] [--ops planned ...]
        [--cprofile DIR] [--json out.json]
"""
import argparse
import cProfile
import json
import os
import pstats
import resource
import tempfile
import threading
import time

from oslo_config import cfg
import pytest
import sqlalchemy as sa

from protector.common import config as pconfig
from protector.common import fanout
from protector.db import api as db_api
from protector.db import models
from tests.benchmarks import simcloud
from tests.functional.engine import fixtures

CONF = cfg.CONF
OPS = {"planned": "planned_failover", "failback": "failback",
       "unplanned": "unplanned_failover"}
SERVICES = (("identity", "Keystone"), ("compute", "Nova"),
            ("block_storage", "Cinder"), ("network", "Neutron"),
            ("image", "Glance"), ("protector", "peer"))
POLLS = ("compute.get_server", "block_storage.get_volume")


def setup_db(work):
    url = "sqlite:///%s/protector.sqlite" % work
    pconfig.register_all(CONF)
    CONF([], project="protector")
    CONF.set_override("connection", url, group="database")
    CONF.set_override("state_path", work)
    db_api.configure(CONF)
    models.Base.metadata.create_all(db_api.get_engine())
    return fixtures.Rows(url)


class Statements:
    """SQL statements of Protector's engine (the enginefacade)."""

    def __init__(self):
        self.counts = {}
        sa.event.listen(db_api.get_engine(), "before_cursor_execute",
                        self.seen)

    def seen(self, conn, cursor, statement, params, context, many):
        verb = statement.lstrip().split(None, 1)[0].upper()
        self.counts[verb] = self.counts.get(verb, 0) + 1

    def snapshot(self):
        return dict(self.counts)


def row_counts(rows):
    with rows.engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(
            t)).scalar() for t in models.Base.metadata.sorted_tables}


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Peak:
    """Peak RSS while a block runs (sampled every 20 ms)."""

    def __enter__(self):
        self.start = self.peak = rss_mb()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self.done.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, rss_mb())


def delta(after, before):
    return {k: after.get(k, 0) - before.get(k, 0)
            for k in set(after) | set(before)
            if after.get(k, 0) != before.get(k, 0)}


def calls_of(h):
    out = {}
    for key, cloud in h.clouds.items():
        for call, n in cloud.calls.items():
            out[call] = out.get(call, 0) + n
    return out


class Profiles:
    """cProfile of the run's thread and of every fan-out worker call
    (cProfile sees one thread only), merged."""

    def __init__(self, mp):
        self.lock = threading.Lock()
        self.done = []
        self.main = cProfile.Profile()
        real = fanout.run

        def run(fn, items, width):
            def profiled(item):
                prof = cProfile.Profile()
                prof.enable()
                try:
                    return fn(item)
                finally:
                    prof.disable()
                    with self.lock:
                        self.done.append(prof)
            return real(profiled, items, width)
        mp.setattr(fanout, "run", run)

    def dump(self, path):
        stats = pstats.Stats(self.main)
        for prof in self.done:
            stats.add(prof)
        stats.dump_stats(path)
        return stats


def step_times(h, op_id, scale):
    """Model seconds of each step of an operation."""
    out = {}
    for step in h.operation(op_id)["steps"]:
        if step.get("started_at") and step.get("completed_at"):
            out[step["name"]] = (step["completed_at"] -
                                 step["started_at"]).total_seconds() / scale
    return out


def measure(h, op_id, stmts, rows, scale, prof_path=None):
    calls0, stmts0, rows0 = calls_of(h), stmts.snapshot(), row_counts(rows)
    subs0 = len(h.sub_runs)
    cpu0 = time.process_time()
    mp = pytest.MonkeyPatch()
    prof = Profiles(mp) if prof_path else None
    with Peak() as mem:
        start = time.monotonic()
        if prof:
            prof.main.enable()
        try:
            status = h.run(op_id)
        finally:
            if prof:
                prof.main.disable()
            mp.undo()
        wall = time.monotonic() - start
    if prof:
        stats = prof.dump(prof_path)
        stats.sort_stats("tottime").print_stats(25)
    assert status == "completed", h.operation(op_id)["error_message"]
    steps = step_times(h, op_id, scale)
    for kind, sub_id in h.sub_runs[subs0:]:
        steps.update({"%s/%s" % (kind, k): v for k, v in step_times(
            h, sub_id, scale).items()})
    return {"model_s": wall / scale, "real_s": wall, "steps": steps,
            "cpu_s": time.process_time() - cpu0,
            "calls": delta(calls_of(h), calls0),
            "sql": delta(stmts.snapshot(), stmts0),
            "rows": delta(row_counts(rows), rows0),
            "rss_growth_mb": mem.peak - mem.start, "rss_peak_mb": mem.peak}


def rest(h, clock):
    """Let both sites finish what they were asked before (model time
    jumps to when their backends are idle; no real waiting): each
    operation starts on settled clouds, as its bound does. Without it
    the unplanned failover, run right after the failback, queued its
    volume creates on site B behind the vacate's unmanages and deletes
    (8-13 % at 1,000-5,000 VMs). Returns the model seconds skipped."""
    idle = max(c.site_model.busy_until() for c in h.clouds.values())
    skipped = max(0.0, idle - clock.now())
    clock.advance(skipped)
    for cloud in h.clouds.values():
        with cloud.lock:
            cloud.settle()
    return skipped


def run_n(n, args, rows, stmts, conf):
    scale = conf["time_scale"]
    clock = simcloud.Clock(scale)
    cloud_cls = type("RunCloud", (simcloud.SimCloud,),
                     {"conf": conf, "clock": clock})
    harness = type("RunTwoSite", (simcloud.SimTwoSite,),
                   {"cloud_class": cloud_cls})
    mp = pytest.MonkeyPatch()
    t = time.monotonic()
    h = harness(rows, mp, members=n, volumes=2, width=args.width)
    print("N=%d: group built in %.1f s" % (n, time.monotonic() - t),
          flush=True)
    out = {}
    try:
        for op in [o for o in ("planned", "failback", "unplanned")
                   if o in args.ops]:
            if op == "failback" and "planned" not in args.ops:
                continue  # a failback follows the planned failover
            skipped = rest(h, clock)
            if op == "unplanned":
                h.a.down = True
                op_id = h.start("failover", type="unplanned")
            else:
                op_id = h.start("failover" if op == "planned" else op)
            prof = os.path.join(args.cprofile, "%s-%d.prof" % (op, n)) \
                if args.cprofile else None
            res = measure(h, op_id, stmts, rows, scale, prof)
            res["bound_s"], res["bound_calls"] = simcloud.bound(
                conf, n, OPS[op])
            res["ideal_s"] = simcloud.bound(conf, n, OPS[op], ideal=True)[0]
            res["rested_s"] = skipped
            out[op] = res
            print("  %-9s Protector %8.1f s (real %.1f s, CPU %.1f s), "
                  "bound %7.1f s; sites rested %.1f s before; steps: %s" % (
                      op, res["model_s"], res["real_s"], res["cpu_s"],
                      res["bound_s"], skipped, ", ".join(
                          "%s %.1f" % kv for kv in res["steps"].items())),
                  flush=True)
    finally:
        h.a.down = False
        h.close()
        mp.undo()
    return out


def per_service(calls, n):
    """Calls per VM by service, polls apart."""
    out = {}
    for svc, label in SERVICES:
        out[label] = sum(v for k, v in calls.items()
                         if k.startswith(svc + ".") and k not in POLLS
                         and not k.endswith(".wait_for_server")
                         and not k.endswith(".wait_for_status")
                         and not k.endswith(".wait_for_delete")) / n
    out["polls"] = sum(calls.get(k, 0) for k in POLLS) / n
    return out


def table(results, conf):
    print("\nModel: %s; time scale %.3g (model s = real s / scale); "
          "engine width [engine] max_parallel_instances = %d" % (
              conf.get("_profile", "default"), conf["time_scale"],
              CONF.engine.max_parallel_instances))
    for op in ("planned", "unplanned", "failback"):
        if not any(op in res for res in results.values()):
            continue
        print("\n%s" % OPS[op].replace("_", " "))
        print("%6s %9s %9s %10s %6s %7s | %5s %5s %6s %5s %5s %5s %6s | "
              "%7s %6s %7s %7s %7s" % (
                  "N", "bound s", "ideal s", "Protector", "ratio",
                  "s/VM", "KS", "Nova", "Cinder", "Neut", "Glnc", "peer",
                  "polls", "wr/VM", "rows", "sel/VM", "RSS MB", "CPU s"))
        for n, res in sorted(results.items()):
            if op not in res:
                continue
            r = res[op]
            svc = per_service(r["calls"], n)
            writes = sum(r["sql"].get(v, 0)
                         for v in ("INSERT", "UPDATE", "DELETE"))
            print("%6d %9.1f %9.1f %10.1f %6.2f %7.3f | %5.2f %5.2f %6.2f "
                  "%5.2f %5.2f %5.2f %6.1f | %7.2f %6.2f %7.2f %7.1f %7.1f"
                  % (n, r["bound_s"], r["ideal_s"], r["model_s"],
                     r["model_s"] / r["bound_s"], r["model_s"] / n,
                     svc["Keystone"], svc["Nova"], svc["Cinder"],
                     svc["Neutron"], svc["Glance"], svc["peer"],
                     svc["polls"], writes / n,
                     sum(r["rows"].values()) / n,
                     r["sql"].get("SELECT", 0) / n, r["rss_growth_mb"],
                     r["cpu_s"]))
        for n, res in sorted(results.items()):
            if op not in res:
                continue
            b = per_service(res[op]["bound_calls"], n)
            print("%6d bound calls/VM: %s" % (n, ", ".join(
                "%s %.2f" % (k, v) for k, v in b.items() if v)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, nargs="+", default=[100])
    parser.add_argument("--profile", default="default",
                        choices=sorted(simcloud.PROFILES))
    parser.add_argument("--config", help="JSON file merged into the model")
    parser.add_argument("--set", action="append", default=[],
                        metavar="KEY=VALUE", help="e.g. pools.nova_build."
                        "hosts=20 or latency.compute.get_server=0.05")
    parser.add_argument("--time-scale", type=float)
    parser.add_argument("--width", type=int,
                        help="[engine] max_parallel_instances (default: "
                        "the engine's)")
    parser.add_argument("--ops", nargs="+", choices=sorted(OPS),
                        default=sorted(OPS))
    parser.add_argument("--cprofile", metavar="DIR",
                        help="cProfile each run into DIR")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    conf = simcloud.config(args.profile, args.config, args.set)
    if args.time_scale:
        conf["time_scale"] = args.time_scale
    conf["_profile"] = args.profile
    if args.cprofile:
        os.makedirs(args.cprofile, exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-scale-")
    rows = setup_db(work)
    stmts = Statements()
    results = {}
    for n in args.vms:
        results[n] = run_n(n, args, rows, stmts, conf)
    print("\nload: %s" % open("/proc/loadavg").read().strip())
    print("max RSS of the process: %.0f MB" % (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    table(results, conf)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"conf": conf, "results": results}, f, indent=1,
                      default=str)


if __name__ == "__main__":
    main()

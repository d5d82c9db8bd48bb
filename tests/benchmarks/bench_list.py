#!/usr/bin/env python3
"""Benchmark of list and show at scale: one site, many groups.

Starts protector-api (``noauth2``: no Keystone, so the figures are the
API's and the database's own) on a database seeded straight with
SQLAlchemy core: first 100 protection groups with 1,000 members, then,
in the same project, up to 10,000 groups with 100,000 members. Every
group has its consistency group, its sync record, its cached RPO check
(what ``list`` reads at microversion 1.5, which the requests ask for) and
one completed operation with four steps (what ``list`` and ``show`` read
for ``next_action``); every member one volume and an ``instance_config`` of
the size a member add captures (``fakecloud.instance_config``, ~1.8 KiB).

Measured at each scale, p50/p95 in milliseconds:

* ``list``: ``GET /protection-groups``, the default page (every group up
  to ``[api] max_limit``, 1,000 by default);
* ``list100``: the same on a second server with ``max_limit = 100``: a
  page of the same size at both scales, as a setting;
* ``page``: ``GET /protection-groups?limit=50&marker=<pg-00042's ID>``
  (microversion 1.6 paging, doc/api-ref.md "Paging"): 50 groups from
  the middle of the list at both scales, what a client that pages reads;
* ``byname``: ``GET /protection-groups?name=...`` (one group);
* ``show``: ``GET /protection-groups/{id}`` of one group;
* ``members``: ``GET /protection-groups/{id}/members`` (10 members).

Then prints large/small for each: the goal is at most 2. On SQLite (a
file in a temporary directory), and on MariaDB with ``--mariadb`` (a
database ``bench_list_<random>`` on 127.0.0.1:3306, root, no password,
dropped afterwards). Not a test: speed is never asserted in the suite.

    .venv/bin/python -m tests.benchmarks.bench_list [-n 50] [--mariadb]
"""
import argparse
import datetime
import json
import os
import statistics
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import sqlalchemy as sa

from protector.db import models
from tests.benchmarks import fakecloud
from tests.functional import apiserver

PROJECT = "b1e2c3d4a5f6478899aabbccddeeff00"
TYPE_ID = "5e1f2b4a-0000-4000-8000-00000000a51c"
MEMBERS_PER_GROUP = 10
STEPS = ("prepare", "failover_volumes", "recreate_instances", "finalize")


def percentile(values, pct):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1,
                       int(round(pct / 100.0 * len(ordered))) - 1))
    return ordered[index]


class Seeder:
    """Writes sites, groups and members with SQLAlchemy core."""

    def __init__(self, engine):
        self.engine = engine
        self.start = datetime.datetime(2026, 1, 1)
        self.groups = 0
        self.site_a = str(uuid.uuid4())
        self.site_b = str(uuid.uuid4())
        with engine.begin() as conn:
            conn.execute(sa.insert(models.Site), [
                {"id": self.site_a, "name": "site-a", "site_type": "primary",
                 "auth_url": "http://127.0.0.1:1/v3", "status": "active",
                 "created_at": self.start},
                {"id": self.site_b, "name": "site-b",
                 "site_type": "secondary",
                 "auth_url": "http://127.0.0.1:2/v3", "status": "active",
                 "created_at": self.start}])

    def grow(self, groups, batch=500):
        """Add groups (10 members each) until there are ``groups``."""
        while self.groups < groups:
            count = min(batch, groups - self.groups)
            self._batch(self.groups, count)
            self.groups += count

    def _batch(self, first, count):
        rows = {t: [] for t in ("pg", "cg", "sync", "op", "step", "member",
                                "volume", "rpo")}
        for g in range(first, first + count):
            pg_id = str(uuid.uuid4())
            when = self.start + datetime.timedelta(seconds=g)
            rows["pg"].append({
                "id": pg_id, "project_id": PROJECT, "name": "pg-%05d" % g,
                "description": "group %d" % g, "status": "active",
                "replication_type": "async", "primary_site_id": self.site_a,
                "secondary_site_id": self.site_b,
                "current_primary_site_id": self.site_a,
                "volume_type_id": TYPE_ID,
                "volume_type_name": "replicated-async",
                "remote_volume_type_id": TYPE_ID, "failover_count": 0,
                "metadata_version": 12, "metadata_checksum": "0" * 64,
                "created_at": when})
            rows["cg"].append({
                "id": str(uuid.uuid4()), "protection_group_id": pg_id,
                "name": "pg-pg-%05d-cg" % g, "volume_type_id": TYPE_ID,
                "volume_type_name": "replicated-async",
                "backend_name": "mock", "primary_cg_id": str(uuid.uuid4()),
                "secondary_cg_id": str(uuid.uuid4()), "status": "active",
                "created_at": when})
            rows["sync"].append({
                "id": str(uuid.uuid4()), "protection_group_id": pg_id,
                "peer_site_id": self.site_b, "remote_version": 12,
                "status": "SYNCED", "last_sync_at": when,
                "last_attempt_at": when, "last_duration_ms": 20,
                "created_at": when})
            # The engine's cached RPO check, which the list reads at 1.5.
            rows["rpo"].append({
                "protection_group_id": pg_id, "rpo_status": "ok",
                "replication_lag_seconds": 42, "rpo_minutes": 15,
                "rpo_detail": "replication lag 42s within the RPO of 15 "
                "min", "checked_at": when})
            op_id = str(uuid.uuid4())
            rows["op"].append({
                "id": op_id, "project_id": PROJECT, "user_id": "u",
                "protection_group_id": pg_id,
                "protection_group_name": "pg-%05d" % g,
                "operation_type": "test_failover", "status": "completed",
                "progress": 100, "parameters": "{}", "result": "{}",
                "created_at": when, "completed_at": when})
            for position, name in enumerate(STEPS):
                rows["step"].append({
                    "id": str(uuid.uuid4()), "operation_id": op_id,
                    "name": name, "position": position,
                    "status": "completed", "attempts": 1,
                    "result": "{}", "created_at": when})
            for i in range(MEMBERS_PER_GROUP):
                n = g * MEMBERS_PER_GROUP + i
                member_id, server_id, volume_id, port_id = (
                    str(uuid.uuid4()) for _ in range(4))
                config = fakecloud.instance_config(n, server_id, volume_id,
                                                   port_id)
                rows["member"].append({
                    "id": member_id, "protection_group_id": pg_id,
                    "project_id": PROJECT, "instance_id": server_id,
                    "instance_name": config["name"], "status": "protected",
                    "instance_config": json.dumps(config, sort_keys=True),
                    "current_site_id": self.site_a,
                    "current_instance_id": server_id, "created_at": when})
                rows["volume"].append({
                    "id": str(uuid.uuid4()), "member_id": member_id,
                    "volume_id": volume_id,
                    "volume_name": config["name"] + "-root", "size_gb": 10,
                    "volume_type_id": TYPE_ID, "device": "/dev/vda",
                    "boot_index": 0, "bootable": True, "created_at": when})
        tables = (("pg", models.ProtectionGroup),
                  ("cg", models.ConsistencyGroup),
                  ("sync", models.MetadataSync), ("op", models.Operation),
                  ("step", models.OperationStep), ("member", models.Member),
                  ("volume", models.MemberVolume),
                  ("rpo", models.GroupRpoStatus))
        with self.engine.begin() as conn:
            for key, model in tables:
                if rows[key]:
                    conn.execute(sa.insert(model), rows[key])


def get(url, path):
    req = urllib.request.Request(
        url + "/v1/%s%s" % (PROJECT, path),
        # The newest microversion: the list reads the cached RPO state.
        headers={"X-Auth-Token": "bencher:%s" % PROJECT,
                 "OpenStack-API-Version": "protector latest"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError("GET %s: HTTP %d %s" % (path, exc.code,
                                                   exc.read()[:500]))
    return (time.perf_counter() - start) * 1000, json.loads(body)


def measure(servers, pg_id, n):
    """{name: (samples, items)} of each request at the current scale."""
    main, page100 = servers
    requests = (
        ("list", main, "/protection-groups", max(5, n // 5)),
        ("list100", page100, "/protection-groups", n),
        ("page", main, "/protection-groups?limit=50&marker=%s" % pg_id, n),
        ("byname", main, "/protection-groups?name=pg-00042", n),
        ("show", main, "/protection-groups/%s" % pg_id, n),
        ("members", main, "/protection-groups/%s/members" % pg_id, n),
    )
    out = {}
    for name, server, path, count in requests:
        for _ in range(3):  # warm up: connections, caches
            get(server.url, path)
        samples = []
        for _ in range(count):
            ms, body = get(server.url, path)
            samples.append(ms)
        items = body.get("protection_groups") or body.get("members")
        out[name] = (samples, len(items) if items is not None else 1)
        print("  %-8s items=%-5d n=%-4d p50=%8.1f ms  p95=%8.1f ms  "
              "mean=%8.1f ms" % (name, out[name][1], count,
                                 percentile(samples, 50),
                                 percentile(samples, 95),
                                 statistics.mean(samples)), flush=True)
    return out


def run(db_url, workdir, n, scales):
    servers = []
    try:
        for name, limit in (("main", None), ("page100", 100)):
            extra = {"DEFAULT": {"site_name": "site-a", "debug": "False"}}
            if limit:
                extra["api"] = {"max_limit": str(limit)}
            servers.append(apiserver.APIServer(
                os.path.join(workdir, name), db_url, extra=extra,
                workers=1))
        servers[0].start()  # db sync, then the second only serves
        servers[1].start()
        engine = sa.create_engine(db_url)
        seeder = Seeder(engine)
        results = {}
        for groups in scales:
            start = time.perf_counter()
            seeder.grow(groups)
            print("%d groups, %d members (seeded in %.0f s):" % (
                groups, groups * MEMBERS_PER_GROUP,
                time.perf_counter() - start), flush=True)
            pg_id = engine.connect().execute(sa.select(
                models.ProtectionGroup.id).where(
                models.ProtectionGroup.name == "pg-00042")).scalar()
            results[groups] = measure(servers, pg_id, n)
        print("large/small (p50):", flush=True)
        for name in results[scales[0]]:
            small = percentile(results[scales[0]][name][0], 50)
            large = percentile(results[scales[-1]][name][0], 50)
            ratio = large / small
            print("  %-8s %8.1f ms -> %8.1f ms  x%.2f %s" % (
                name, small, large, ratio,
                "ok" if ratio <= 2 else "OVER the goal of x2"), flush=True)
        engine.dispose()
    finally:
        for server in servers:
            server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=50,
                        help="requests per measurement (default 50; the "
                        "default-page list runs n/5)")
    parser.add_argument("--mariadb", action="store_true",
                        help="also on MariaDB at 127.0.0.1:3306")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--groups", type=int, nargs=2, default=[100, 10000],
                        metavar=("SMALL", "LARGE"),
                        help="the two scales, in groups of 10 members "
                        "(default 100 10000)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-list-")
    if not args.no_sqlite:
        print("== SQLite", flush=True)
        run("sqlite:///%s/protector.sqlite" % work,
            os.path.join(work, "sqlite"), args.n, args.groups)
    if args.mariadb:
        from tests import services
        print("== MariaDB", flush=True)
        with services.mysql_database(prefix="bench_list") as url:
            run(url, os.path.join(work, "mariadb"), args.n, args.groups)


if __name__ == "__main__":
    main()

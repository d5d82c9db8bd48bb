#!/usr/bin/env python3
"""Benchmark of the synchronous metadata push between two sites (loopback).

Starts the test Keystone and two protector-api servers (SQLite, mock
Cinder) that sync to each other, exactly as the functional ``pair``
fixture does, plus a fake Nova/Neutron/Cinder (``fakecloud.py``) so that
members can be added through the API, and measures, per group size:

* ``push``: the signed ``PUT /internal/protection-groups/{id}/metadata``
  straight to the peer (what a site does on every modification: token
  check, signature and replay check, schema, checksum, version check,
  store), with the document site A holds;
* ``update``: a whole ``PUT /protection-groups/{id}`` on site A, which
  bumps the version, builds the document and pushes it to site B before
  it commits;
* ``add`` and ``remove``: a whole ``POST .../members`` on site A (reads
  the instance from the fake cloud, captures it, adds its volume to the
  mock consistency group, pushes) and the ``DELETE`` of that member again,
  so the group stays at its size;
* ``delta``: the signed delta push of one member's priority change
  straight to the peer (what a member change sends: one member, the
  group's own fields; the peer rebuilds the document for the checksum);
* ``build``: building the document and its checksum from site A's
  database in this process (the sender's part of every change).

``--members 10 100 1000`` makes one group per size: its members are
written straight into both sites' databases (the same rows, of the shape
an add makes, with a captured ``instance_config`` as
``fakecloud.instance_config``), and a real update of the group gives both
the same version. Without ``--members``: one empty
group.

Prints p50/p95/max in milliseconds and the size of the pushed document.
The target for the push is a p50 under 30 ms at 100 members. Not a test:
speed is never asserted in the test suite. It lives under tests/ because
it runs on the functional tests' harness (the pair of API servers), which
tools/ does not import.

    .venv/bin/python -m tests.benchmarks.bench_sync [-n 200] \\
        [--members 10 100 1000] [--adds 20] [--max-body MIB]
"""
import argparse
import datetime
import json
import os
import statistics
import tempfile
import time
import uuid

from protector_lab import keystone as ks_mod
import sqlalchemy as sa
from sqlalchemy import orm

from protector.db import metadata
from protector.db import models
from protector.db import protection_groups as pg_db
from tests.benchmarks import fakecloud
from tests.functional import conftest


def percentile(values, pct):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1,
                       int(round(pct / 100.0 * len(ordered))) - 1))
    return ordered[index]


def report(name, samples):
    print("  %-7s n=%-4d p50=%7.1f ms  p95=%7.1f ms  max=%7.1f ms  "
          "mean=%7.1f ms" % (name, len(samples), percentile(samples, 50),
                             percentile(samples, 95), max(samples),
                             statistics.mean(samples)), flush=True)
    return {"n": len(samples), "p50": percentile(samples, 50),
            "p95": percentile(samples, 95), "max": max(samples)}


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - start) * 1000, result


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def seed_members(targets, pg_id, project, count):
    """``count`` members (one boot volume each) of group ``pg_id``,
    inserted with SQLAlchemy core, the same rows into each of ``targets``
    (``(engine, ID of site-a in that database)``)."""
    members, volumes = [], []
    now = _now()
    for i in range(count):
        member_id, server_id, volume_id, port_id = (
            str(uuid.uuid4()) for _ in range(4))
        config = fakecloud.instance_config(i, server_id, volume_id, port_id)
        members.append({
            "id": member_id, "protection_group_id": pg_id,
            "project_id": project, "instance_id": server_id,
            "instance_name": config["name"], "status": "protected",
            "instance_config": json.dumps(config, sort_keys=True),
            "current_instance_id": server_id,
            "created_at": now})
        volumes.append({
            "id": str(uuid.uuid4()), "member_id": member_id,
            "volume_id": volume_id, "volume_name": config["name"] + "-root",
            "size_gb": 10, "volume_type_id":
            os.environ["MOCK_TYPE_REPLICATED_ASYNC"], "device": "/dev/vda",
            "boot_index": 0, "bootable": True, "backend_ref": None,
            "current_volume_id": None, "created_at": now})
    for engine, site_id in targets:
        with engine.begin() as conn:
            if members:
                conn.execute(sa.insert(models.Member), [
                    dict(m, current_site_id=site_id) for m in members])
                conn.execute(sa.insert(models.MemberVolume), volumes)


def build_document(engine, pg_id):
    """(document, milliseconds) as site A builds it for a push."""
    with orm.Session(engine) as session:
        start = time.perf_counter()
        row = session.get(models.ProtectionGroup, pg_id)
        doc = pg_db._document(session, row)
        metadata.checksum(doc)
        return doc, (time.perf_counter() - start) * 1000


def bench_size(pair, cloud, user, engine_a, size, args):
    """Measure one group of ``size`` members; returns the figures."""
    status, body = pair.request("a", "POST", "/protection-groups", {
        "protection_group": {
            "name": "bench-%d" % size, "replication_type": "async",
            "primary_site_id": pair.site_ids["a"]["site-a"],
            "secondary_site_id": pair.site_ids["a"]["site-b"],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
        **user)
    assert status == 201, body
    pg_id = body["protection_group"]["id"]
    path = "/protection-groups/%s" % pg_id
    # The same members on both sites, as synced adds leave them; a real
    # change of the group then gives both the same version (a delta push;
    # with a peer that refuses it, the whole document).
    seed_members([(engine_a, pair.site_ids["a"]["site-a"]),
                  (sa.create_engine(pair.b.db_url),
                   pair.site_ids["b"]["site-a"])],
                 pg_id, user["project"], size)
    status, body = pair.request("a", "PUT", path, {"protection_group": {
        "description": "seeded"}}, **user)
    print("%d members:" % size, flush=True)
    if status != 200:
        # E.g. a document over the peer's [api] max_request_body_size.
        print("  the change of the group fails: HTTP %d %s" % (
            status, body["errors"][0]["detail"]), flush=True)
        return None
    _, body = pair.request("b", "GET", path, **user)
    assert body["protection_group"]["member_count"] == size, body
    out = {"members": size}

    # Warm up both workers' token caches and connections.
    for i in range(10):
        pair.request("a", "PUT", path, {"protection_group": {
            "description": "warm-up %d" % i}}, **user)

    builds = []
    for i in range(min(args.n, 50)):
        doc, ms = build_document(engine_a, pg_id)
        builds.append(ms)
    size_bytes = len(metadata.canonical(doc))
    out["document_bytes"] = size_bytes
    print("  document %d bytes (%.1f KiB, %.0f bytes per member)" % (
        size_bytes, size_bytes / 1024.0,
        size_bytes / size if size else 0), flush=True)
    out["build"] = report("build", builds)

    updates = []
    for i in range(args.n):
        ms, (status, body) = timed(pair.request, "a", "PUT", path, {
            "protection_group": {"description": "update %d" % i}}, **user)
        assert status == 200, body
        updates.append(ms)
    out["update"] = report("update", updates)

    adds, removes = [], []
    for i in range(args.adds):
        server_id = cloud.make_server(size + i)
        ms, (status, body) = timed(
            pair.request, "a", "POST", path + "/members",
            {"member": {"instance_id": server_id}}, **user)
        assert status == 201, body
        adds.append(ms)
        ms, (status, body) = timed(
            pair.request, "a", "DELETE", "%s/members/%s" % (
                path, body["member"]["id"]), **user)
        assert status == 204, body
        removes.append(ms)
    if adds:
        out["add"] = report("add", adds)
        out["remove"] = report("remove", removes)

    _, body = pair.request("a", "GET", path + "/sync-status", **user)
    assert body["sync_status"]["in_sync"], body
    version = body["sync_status"]["local_version"]
    _, body = pair.request("b", "GET", path, **user)
    assert body["protection_group"]["member_count"] == size, body

    # The document as site A holds it, pushed with rising versions; site
    # A is told the last one afterwards (as if it had pushed them).
    doc, _ = build_document(engine_a, pg_id)
    pushes = []
    for i in range(args.n):
        doc["description"] = "push %d" % i
        version += 1
        checksum = metadata.checksum(doc)
        body = {"metadata": {"version": version, "checksum": checksum,
                             "document": doc}}
        # The internal route, signed with the pair's key, as site A's
        # Protector sends it (doc/architecture.md, trust boundaries).
        ms, (status, resp) = timed(
            pair.signed, "b", "PUT", "/internal" + path + "/metadata", body,
            token=user["token"], project=user["project"])
        if status == 413:
            # The whole document is over the peer's body limit (member
            # changes still work: they push deltas).
            print("  push: HTTP 413 %s" % resp["errors"][0]["detail"],
                  flush=True)
            version -= 1
            break
        assert status == 200, resp
        pushes.append(ms)
    if pushes:
        with engine_a.begin() as conn:
            conn.execute(sa.update(models.ProtectionGroup).where(
                models.ProtectionGroup.id == pg_id).values(
                description=doc["description"], metadata_version=version,
                metadata_checksum=checksum))
        out["push"] = report("push", pushes)
    if size:
        out["delta"] = report("delta", bench_delta(
            pair, user, engine_a, pg_id, path, version, args.n))
    return out


def bench_delta(pair, user, engine_a, pg_id, path, version, n):
    """The signed delta push of one member's priority change straight to
    site B (what a member change sends): it carries that member only,
    and site B rebuilds the whole document to check the checksum."""
    doc, _ = build_document(engine_a, pg_id)
    group = {k: v for k, v in doc.items() if k != "members"}
    member = doc["members"][0]
    pushes = []
    for i in range(n):
        member["priority"] = 1 + i % 2
        version += 1
        body = {"metadata": {"version": version, "base_version": version - 1,
                             "checksum": metadata.checksum(doc),
                             "group": group, "members": [member],
                             "removed_members": []}}
        ms, (status, resp) = timed(
            pair.signed, "b", "PUT", "/internal" + path + "/metadata", body,
            token=user["token"], project=user["project"])
        assert status == 200, resp
        pushes.append(ms)
    print("  delta body %d bytes" % len(json.dumps(body)), flush=True)
    with engine_a.begin() as conn:
        conn.execute(sa.update(models.Member).where(
            models.Member.id == member["id"]).values(
            priority=member["priority"]))
        conn.execute(sa.update(models.ProtectionGroup).where(
            models.ProtectionGroup.id == pg_id).values(
            metadata_version=version,
            metadata_checksum=metadata.checksum(doc)))
    return pushes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200,
                        help="requests per measurement (default 200)")
    parser.add_argument("--members", type=int, nargs="+", default=[0],
                        help="group sizes to measure (default: one empty "
                        "group)")
    parser.add_argument("--adds", type=int, default=20,
                        help="member adds (and removes) per size "
                        "(default 20)")
    parser.add_argument("--max-body", type=int, metavar="MIB",
                        help="both servers' [api] max_request_body_size, "
                        "in MiB (default: the product's, 1 MiB, which a "
                        "group of ~450 members' document exceeds)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-sync-")
    ks = ks_mod.StandaloneKeystone(os.path.join(work, "keystone"),
                                   log=lambda *a: None)
    ks.start()
    pair = cloud = None
    try:
        admin = ks.admin_token()
        project = ks.create_project("bench", admin)
        service = ks.create_project("service", admin)
        ks.create_user("protector", "protector-pw", service, "admin", admin)
        ks.create_user("bencher", "bencher-pw", project, "member", admin)
        token = ks.token("bencher", "bencher-pw", "bench")[0]
        ks.env = {"ADMIN_TOKEN": admin, "ADMIN_PROJECT_ID": ks.token(
            "admin", ks_mod.ADMIN_PASSWORD, "admin")[1]["project"]["id"]}
        # Serves the fake Cinder's types too (the pair finds it here).
        cloud = ks.fake_cinder = fakecloud.FakeCloud().start(ks)
        pair = conftest.SitePair(ks, os.path.join(work, "pair"),
                                 (None, None))
        if args.max_body:
            for server in pair.servers.values():
                # oslo.config merges a section given twice.
                with open(server.conf_file, "a") as f:
                    f.write("[api]\nmax_request_body_size = %d\n" % (
                        args.max_body * 1024 * 1024))
        pair.start()
        pair.export()
        user = {"token": token, "project": project}
        engine_a = sa.create_engine(pair.a.db_url)
        results = [bench_size(pair, cloud, user, engine_a, size, args)
                   for size in args.members]
        results = [r for r in results if r is not None]
        if not results:
            return
        small = [r for r in results if r["members"] == 100 and
                 "push" in r] or [r for r in results if "push" in r][:1]
        if small:
            print("target: push p50 < 30 ms at %d members -> %s" % (
                small[0]["members"], "met" if small[0]["push"]["p50"] < 30
                else "NOT met"))
        if len(results) > 1:
            first, last = results[0], results[-1]
            growth = last["members"] / max(first["members"], 1)
            print("from %d to %d members (x%.0f): " % (
                first["members"], last["members"], growth) + ", ".join(
                "%s p50 x%.1f" % (k, last[k]["p50"] / first[k]["p50"])
                for k in ("push", "delta", "update", "add", "remove",
                          "build")
                if k in first and k in last))
    finally:
        if pair:
            pair.stop()
        if cloud:
            cloud.stop()
        ks.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark of the synchronous metadata push between two sites (loopback).

Starts the test Keystone and two protector-api servers (SQLite, mock
Cinder) that sync to each other, exactly as the functional ``pair``
fixture does, creates one protection group and then measures:

* ``push``: the signed ``PUT /internal/protection-groups/{id}/metadata``
  straight to the peer (what a site does on every modification: token
  check, signature and replay check, checksum, version check, store);
* ``update``: a whole ``PUT /protection-groups/{id}`` on site A, which
  bumps the version and pushes to site B before it commits.

Prints p50/p95/max in milliseconds. The target for the push is a p50
under 30 ms. Not a test: speed is never asserted in the test suite. It
lives under tests/ because it runs on the functional tests' harness
(the pair of API servers), which tools/ does not import.

    .venv/bin/python -m tests.benchmarks.bench_sync [-n 200]
"""
import argparse
import os
import statistics
import tempfile
import time

from protector_lab import keystone as ks_mod

from protector.db import metadata
from tests.functional import conftest


def percentile(values, pct):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1,
                       int(round(pct / 100.0 * len(ordered))) - 1))
    return ordered[index]


def report(name, samples):
    print("%-7s n=%-4d p50=%6.1f ms  p95=%6.1f ms  max=%6.1f ms  "
          "mean=%6.1f ms" % (name, len(samples), percentile(samples, 50),
                             percentile(samples, 95), max(samples),
                             statistics.mean(samples)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200,
                        help="requests per measurement (default 200)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-sync-")
    ks = ks_mod.StandaloneKeystone(os.path.join(work, "keystone"),
                                   log=lambda *a: None)
    ks.start()
    pair = None
    try:
        admin = ks.admin_token()
        project = ks.create_project("bench", admin)
        service = ks.create_project("service", admin)
        ks.create_user("protector", "protector-pw", service, "admin", admin)
        ks.create_user("bencher", "bencher-pw", project, "member", admin)
        token = ks.token("bencher", "bencher-pw", "bench")[0]
        ks.env = {"ADMIN_TOKEN": admin, "ADMIN_PROJECT_ID": ks.token(
            "admin", ks_mod.ADMIN_PASSWORD, "admin")[1]["project"]["id"]}
        pair = conftest.SitePair(ks, os.path.join(work, "pair"),
                                 (None, None))
        pair.start()
        pair.export()
        user = {"token": token, "project": project}
        status, body = pair.request("a", "POST", "/protection-groups", {
            "protection_group": {
                "name": "bench", "replication_type": "async",
                "primary_site_id": pair.site_ids["a"]["site-a"],
                "secondary_site_id": pair.site_ids["a"]["site-b"],
                "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
            **user)
        assert status == 201, body
        pg_id = body["protection_group"]["id"]
        path = "/protection-groups/%s" % pg_id

        # Warm up both workers' token caches and connections.
        for i in range(10):
            pair.request("a", "PUT", path, {"protection_group": {
                "description": "warm-up %d" % i}}, **user)

        updates = []
        for i in range(args.n):
            start = time.perf_counter()
            status, body = pair.request("a", "PUT", path, {
                "protection_group": {"description": "update %d" % i}},
                **user)
            updates.append((time.perf_counter() - start) * 1000)
            assert status == 200, body
        version = body["protection_group"]["metadata_version"]

        _, body = pair.request("b", "GET", path + "/sync-status", **user)
        assert body["sync_status"]["in_sync"], body
        # The document as site B holds it, pushed with rising versions.
        document = _document_of(pair, user, path)
        pushes = []
        for i in range(args.n):
            document["description"] = "push %d" % i
            version += 1
            body = {"metadata": {"version": version,
                                 "checksum": metadata.checksum(document),
                                 "document": document}}
            start = time.perf_counter()
            # The internal route, signed with the pair's key, as site A's
            # Protector sends it (doc/architecture.md, trust boundaries).
            status, resp = pair.signed(
                "b", "PUT", "/internal" + path + "/metadata", body,
                token=token, project=project)
            pushes.append((time.perf_counter() - start) * 1000)
            assert status == 200, resp
        report("push", pushes)
        report("update", updates)
        print("target: push p50 < 30 ms -> %s" % (
            "met" if percentile(pushes, 50) < 30 else "NOT met"))
    finally:
        if pair:
            pair.stop()
        ks.stop()


def _document_of(pair, user, path):
    """A full document for the group, built from what the API shows."""
    _, body = pair.request("b", "GET", path, **user)
    pg = body["protection_group"]
    _, cg = pair.request("b", "GET", path + "/consistency-group", **user)
    cg = cg["consistency_group"]
    return {
        "id": pg["id"], "name": pg["name"], "description": None,
        "status": pg["status"], "status_reason": pg["status_reason"],
        "replication_type": pg["replication_type"],
        "volume_type_id": pg["volume_type_id"],
        "volume_type_name": pg["volume_type_name"],
        "remote_volume_type_id": None, "failover_count": 0,
        "last_failover_at": None, "primary_site": pg["primary_site"],
        "secondary_site": pg["secondary_site"],
        "current_primary_site": pg["current_primary_site"],
        "consistency_group": {k: cg[k] for k in (
            "id", "name", "volume_type_id", "volume_type_name",
            "backend_name", "primary_cg_id", "secondary_cg_id", "status")},
        "members": [], "policy": None}


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark of the receiving half of a metadata push, in process.

What protector-api does with a pushed document after authentication
(``api/handlers/internal.py`` and ``pgroups/groups.receive``): parse the
body, check its text, validate it against the push and document schemas,
check the checksum and store it (``apply_replica``), on a SQLite database
in a temporary directory, for a group of N members shaped as
``fakecloud.instance_config``. Each push changes the description only,
as most changes of a large group do. No HTTP, token or signature: the
figure the whole push (``bench_sync``) adds those to, measured without a
second server's noise. Prints min and p50 in milliseconds.

    .venv/bin/python -m tests.benchmarks.bench_receive [-n 30] [N ...]
"""
import argparse
import datetime
import json
import statistics
import tempfile
import time
import uuid

from oslo_config import cfg
import sqlalchemy as sa

from protector.api.schemas import protection_groups as schema
from protector.api import util
from protector.common import config
from protector import context
from protector.db import api as db_api
from protector.db import metadata
from protector.db import models
from protector.pgroups import groups
from tests.benchmarks import fakecloud


def document(size):
    members = []
    for i in range(size):
        server, volume, port = (str(uuid.uuid4()) for _ in range(3))
        members.append({
            "id": str(uuid.uuid4()), "instance_id": server,
            "instance_name": "vm-%05d" % i, "status": "protected",
            "instance_config": fakecloud.instance_config(i, server, volume,
                                                         port),
            "current_site": "site-a", "current_instance_id": server,
            "volumes": [{"volume_id": volume, "volume_name": "root",
                         "size_gb": 10, "volume_type_id": None,
                         "device": "/dev/vda", "boot_index": 0,
                         "bootable": True, "backend_ref": None,
                         "current_volume_id": None}]})
    return {"id": str(uuid.uuid4()), "name": "bench-%d" % size,
            "description": None, "status": "active", "status_reason": None,
            "replication_type": "async", "primary_site": "site-a",
            "secondary_site": "site-b", "current_primary_site": "site-a",
            "volume_type_id": str(uuid.uuid4()), "volume_type_name": "t",
            "remote_volume_type_id": None, "failover_count": 0,
            "last_failover_at": None, "consistency_group": None,
            "members": members, "policy": None}


def receive(ctx, doc, version):
    """As the handler: parse, check, validate, then store."""
    doc["description"] = "push %d" % version
    raw = json.dumps({"metadata": {
        "version": version, "checksum": metadata.checksum(doc),
        "document": doc}}).encode()
    start = time.perf_counter()
    body = json.loads(raw)
    util._check_text(body)
    util.validate(body, schema.METADATA)
    util.validate(body["metadata"]["document"], schema.DOCUMENT)
    groups.receive(ctx, "bench", doc["id"], body["metadata"],
                   {"id": "site-a", "name": "site-a"})
    return (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", type=int, nargs="*", default=[10, 100])
    parser.add_argument("-n", type=int, default=30)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-receive-")
    config.register_all(cfg.CONF)
    cfg.CONF([], project="protector")
    cfg.CONF.set_override("connection", "sqlite:///%s/p.sqlite" % work,
                          group="database")
    cfg.CONF.set_override("state_path", work)
    cfg.CONF.set_override("site_name", "site-b")
    db_api.configure(cfg.CONF)
    engine = db_api.get_engine()
    models.Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(models.Site), [
            {"id": name, "name": name, "site_type": "primary",
             "auth_url": "http://%s/v3" % name, "status": "active",
             "created_at": datetime.datetime(2026, 1, 1)}
            for name in ("site-a", "site-b")])
    ctx = context.get_admin_context()
    for size in args.sizes:
        doc = document(size)
        receive(ctx, doc, 1)  # the group arrives
        samples = [receive(ctx, doc, v) for v in range(2, args.n + 2)]
        print("%5d members: %8d bytes  min %7.1f ms  p50 %7.1f ms" % (
            size, len(metadata.canonical(doc)), min(samples),
            statistics.median(samples)), flush=True)


if __name__ == "__main__":
    main()

"""Cross-project matrix: every route and verb, with another project's IDs.

Project gamma ("alpha" below: the victim, a project the gabbi files do
not use) owns a group (with a member, a policy, a consistency group), an
operation and a tenant mapping on site B, every text of which carries a
marker; they are removed afterwards. Bob, a member of project beta,
calls every route of
``ROUTE_DECLARATIONS`` against them: through his own project's URL and
through alpha's, with alpha's IDs (and names) in the path and in bodies,
pushed documents and signed internal calls included. Expected: 0 leaks
(no response carries the marker) and 0 writes (alpha's rows unchanged).
A route added to the API without a case here fails the test.
"""
import datetime
import hashlib
import json
import os
import uuid

import pytest
import sqlalchemy as sa

from protector.api import handler
from protector.db import models
from protector.db import metadata
from tests.functional.engine import fixtures

pytestmark = pytest.mark.keystone
MARK = "ALPHA-SECRET"


def _seed(pair, alpha):
    """Alpha's rows on site B, marked."""
    rows = fixtures.Rows(pair.b.db_url)
    ids = pair.site_ids["b"]
    tag = uuid.uuid4().hex[:6]
    pg = rows.group(alpha, ids["site-a"], ids["site-b"],
                    name="alpha-pg-%s" % tag)
    now = datetime.datetime.utcnow()
    with rows.session() as s, s.begin():
        s.execute(sa.update(models.ProtectionGroup).where(
            models.ProtectionGroup.id == pg).values(
            description=MARK + " description"))
        s.execute(sa.update(models.Member).where(
            models.Member.protection_group_id == pg).values(
            instance_name=MARK + "-vm"))
        s.add(models.ConsistencyGroup(
            id=str(uuid.uuid4()), protection_group_id=pg,
            name=MARK + "-cg", volume_type_id=str(uuid.uuid4()),
            status="available", created_at=now))
        s.execute(sa.update(models.ReplicationPolicy).where(
            models.ReplicationPolicy.protection_group_id == pg).values(
            pure_pg_name=MARK + "-array-pg"))
        mapping = str(uuid.uuid4())
        s.add(models.TenantMapping(
            id=mapping, local_tenant=alpha, remote_site_id=ids["site-a"],
            remote_tenant="alpha-remote", description=MARK + " mapping",
            created_at=now))
    op = fixtures.queue(rows, pg, "failover", {"note": MARK},
                        project=alpha, source=ids["site-a"],
                        target=ids["site-b"], hold=False)
    with rows.session() as s, s.begin():
        s.execute(sa.update(models.Operation).where(
            models.Operation.id == op).values(
            status="failed", error_message=MARK + " error",
            protection_group_name=MARK + "-pg"))
    with rows.session() as s:
        member = s.scalars(sa.select(models.Member.id).where(
            models.Member.protection_group_id == pg)).first()
    return {"pg": pg, "pg_name": "alpha-pg-%s" % tag,
            "member": member, "op": op, "mapping": mapping, "rows": rows}


def _unseed(alpha):
    rows = alpha["rows"]
    with rows.session() as s, s.begin():
        s.execute(sa.delete(models.TenantMapping).where(
            models.TenantMapping.id == alpha["mapping"]))
        s.execute(sa.delete(models.OperationStep).where(
            models.OperationStep.operation_id == alpha["op"]))
        s.execute(sa.delete(models.Operation).where(
            models.Operation.id == alpha["op"]))
        s.execute(sa.delete(models.ProtectionGroup).where(
            models.ProtectionGroup.id == alpha["pg"]))


def _digest(rows):
    h = hashlib.sha256()
    with rows.engine.connect() as conn:
        for table in sorted(sa.inspect(conn).get_table_names()):
            if table in ("peer_nonces", "metadata_sync", "trusts",
                         "services", "alembic_version"):
                continue
            for row in sorted(repr(tuple(r)) for r in conn.execute(
                    sa.text("SELECT * FROM %s" % table))):
                h.update(row.encode())
    return h.hexdigest()


def _document(alpha):
    doc = {"id": alpha["pg"], "name": "taken", "description": "taken",
           "status": "failed_over", "status_reason": None,
           "replication_type": "async",
           "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
           "volume_type_name": None, "remote_volume_type_id": None,
           "failover_count": 9, "last_failover_at": None,
           "primary_site": "site-a", "secondary_site": "site-b",
           "current_primary_site": "site-b", "consistency_group": None,
           "members": [{"id": alpha["member"],
                        "instance_id": str(uuid.uuid4()),
                        "instance_name": "taken", "status": "protected",
                        "instance_config": {}, "current_site": "site-a",
                        "current_instance_id": None, "volumes": []}],
           "policy": None}
    return {"metadata": {"version": 99, "checksum": metadata.checksum(doc),
                         "document": doc}}


def _bodies(alpha, alpha_project):
    policy = {"primary_fa_url": "https://a.example",
              "secondary_fa_url": "https://b.example",
              "primary_fa_api_token": "x", "secondary_fa_api_token": "y",
              "pure_pg_name": "taken", "replication_interval": 300,
              "rpo_minutes": 15}
    return {
        ("/protection-groups", "POST"): None,  # creates in beta: see below
        ("/protection-groups/{pg}", "PUT"): {"protection_group": {
            "description": "taken"}},
        ("/protection-groups/{pg}/sync-force", "POST"): {},
        ("/protection-groups/{pg}/members", "POST"): {"member": {
            "instance_id": str(uuid.uuid4())}},
        ("/protection-groups/{pg}/members/{member_id}", "PUT"): {
            "member": {"priority": 1}},
        ("/protection-groups/{pg}/policy", "PUT"): {"policy": policy},
        ("/protection-groups/{pg}/action", "POST"): {"failover": {
            "type": "unplanned"}},
        ("/protection-groups/{pg}/preflight", "POST"): {"test_failover": {}},
        ("/operations/{operation_id}/action", "POST"): {"rollback": {}},
        ("/tenant-mappings", "POST"): {"tenant_mapping": {
            "local_tenant": alpha_project, "remote_site_id": "site-a",
            "remote_tenant": "taken"}},
        ("/internal/protection-groups/{pg}/metadata", "PUT"):
            _document(alpha),
        ("/internal/protection-groups/{pg}/sub-operations", "POST"): {
            "vacate_site": {"parent_operation_id": str(uuid.uuid4())}},
        ("/internal/tenant-mappings", "POST"): {"tenant_mapping": {
            "id": alpha["mapping"], "local_tenant": alpha_project,
            "remote_site_id": "site-a", "remote_tenant": "taken"}},
        ("/internal/site-keys/{site}", "PUT"): {"site_key": {
            "key_id": str(uuid.uuid4()), "secret": "s" * 43}},
        ("/sites", "POST"): {"site": {"name": "taken", "site_type":
                                      "primary", "auth_url":
                                      "http://x.example/v3"}},
        ("/sites/{site_id}/pair", "POST"): {},
        ("/sites/{site_id}/validate", "POST"): {},
    }


def _paths(route, alpha):
    """The route with alpha's identifiers (by ID, and by name where the
    API takes names)."""
    values = {"pg": [alpha["pg"], alpha["pg_name"]],
              "member_id": [alpha["member"]],
              "operation_id": [alpha["op"]],
              "mapping_id": [alpha["mapping"]],
              "site_id": ["site-a"], "site": ["site-a"]}
    paths = [route]
    for name, options in values.items():
        if "{%s}" % name in route:
            paths = [p.replace("{%s}" % name, v) for p in paths
                     for v in options]
    return paths


def test_another_project_reads_and_writes_nothing(pair, request):
    env = pair.keystone.env
    victim = env["GAMMA_ID"]
    alpha = _seed(pair, victim)
    request.addfinalizer(lambda: _unseed(alpha))
    before = _digest(alpha["rows"])
    bodies = _bodies(alpha, victim)
    bob = env["BOB_TOKEN"]
    leaks, writes, errors, calls, statuses = [], [], [], 0, {}
    for full, methods in handler.ROUTE_DECLARATIONS.items():
        if not full.startswith("/v1/{tenant_id}"):
            continue
        route = full[len("/v1/{tenant_id}"):]
        for method in methods:
            body = bodies.get((route, method), {} if method in (
                "POST", "PUT") else None)
            if (route, method) == ("/protection-groups", "POST"):
                continue  # a create in bob's own project is his right
            for project in (env["BETA_ID"], victim):
                for path in _paths(route, alpha):
                    signed = route.startswith("/internal/") and \
                        "site-keys" not in route
                    call = pair.signed if signed else pair.request
                    status, data = call("b", method, path, body, token=bob,
                                        project=project)
                    calls += 1
                    statuses[status] = statuses.get(status, 0) + 1
                    if status >= 500:
                        errors.append((method, path, status, data))
                    text = json.dumps(data)
                    # The group's name is data too, unless the caller
                    # sent it (an error may name what it did not find).
                    if MARK in text or (alpha["pg_name"] in text and
                                        alpha["pg_name"] not in path):
                        leaks.append((method, path, project, status,
                                      text[:200]))
                    if status < 400 and method != "GET":
                        writes.append((method, path, project, status))
    after = _digest(alpha["rows"])
    print("\n[cross-project] %d calls, statuses %s, %d leaks, %d writes" % (
        calls, dict(sorted(statuses.items())), len(leaks), len(writes)))
    assert leaks == []
    assert writes == []
    assert before == after, "alpha's rows changed"
    assert errors == []
    # Every route was called (a new route needs a case above).
    assert calls >= 2 * sum(len(m) for p, m in
                            handler.ROUTE_DECLARATIONS.items()
                            if p.startswith("/v1/")) - 2

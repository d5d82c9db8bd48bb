"""The number of SQL statements of list, show and sync does not grow with
the number of groups or members (no query per row).

A list of 1,000 groups used to read each group's consistency group,
member count, policy, sync record and latest operation one group at a
time (six statements per group), a group's member list and its synced
document read each member's volumes one member at a time, and a received
push deleted and re-inserted every member's volumes. These tests count
the statements at two sizes; the figures are in doc/benchmarks.md. They
use the in-process database of the engine tests (``engine_db``).
"""
import contextlib
import copy
import datetime
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from protector import context
from protector.db import api as db_api
from protector.db import members as members_db
from protector.db import models
from protector.db import protection_groups as pg_db
from protector import exception
from tests.functional.engine import fixtures

CTX = context.get_admin_context()


@contextlib.contextmanager
def counted():
    """Yields a list that ends up holding the statements run inside."""
    statements = []

    def count(conn, cursor, statement, parameters, *args):
        statements.append(statement)
        count.parameters[statement] = parameters
    count.parameters = {}
    counted.parameters = count.parameters
    engine = db_api.get_engine()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _sites(rows):
    return (rows.site("qc-a", "http://qc-a/v3"),
            rows.site("qc-b", "http://qc-b/v3"))


def _project(rows, groups, members=2):
    """A new project with ``groups`` groups, each with a consistency
    group, a sync record and two top-level operations (the newer one must
    win); returns (project, group ids, {group id: newer operation id})."""
    project = "qc-" + uuid.uuid4().hex[:12]
    primary, secondary = _sites(rows)
    ids = [rows.group(project, primary, secondary, members=members)
           for _ in range(groups)]
    with rows.session() as s, s.begin():
        for pg_id in ids:
            s.add(models.MetadataSync(
                id=str(uuid.uuid4()), protection_group_id=pg_id,
                peer_site_id=secondary, status="SYNCED", remote_version=1))
            s.add(models.ConsistencyGroup(
                id="cg-" + pg_id[:30], protection_group_id=pg_id,
                name="cg", volume_type_id="vt", status="active"))
    newer = {}
    for pg_id in ids:
        for age in (1, 2):  # the newer one is made first
            op_id = fixtures.queue(rows, pg_id, "test_failover",
                                   project=project, hold=False)
            newer.setdefault(pg_id, op_id)
            with rows.session() as s, s.begin():
                s.execute(sa.update(models.Operation).where(
                    models.Operation.id == op_id).values(
                    status="completed", created_at=fixtures._now() -
                    datetime.timedelta(minutes=age)))
    return project, ids, newer


def test_list_of_groups_is_a_fixed_number_of_statements(engine_db):
    few, _, _ = _project(engine_db, 2)
    many, _, _ = _project(engine_db, 9)
    counts = []
    for project in (few, many):
        with counted() as statements:
            groups = pg_db.list_all(CTX, project)
            pg_db.latest_operations(CTX, groups)
        counts.append(len(statements))
    assert len(groups) == 9
    assert counts[0] == counts[1], counts


def test_a_page_of_groups_is_read_in_index_order(engine_db):
    """The list's ORDER BY (created_at, id) within a project is an index
    (migration 0004), not a sort of all the project's groups."""
    project, _, _ = _project(engine_db, 3)
    with counted() as statements:
        pg_db.list_all(CTX, project, limit=2)
    query = next(s for s in statements if "FROM protection_groups" in s
                 and "ORDER BY" in s)
    with db_api.get_engine().connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + query, counted.parameters[query]))
    assert "TEMP B-TREE" not in plan, plan
    assert "project_id_created_at_id" in plan, plan


def test_batched_group_reads_match_the_one_by_one_reads(engine_db):
    project, ids, newer = _project(engine_db, 3)
    # One group held by an operation: that one is its latest, whatever
    # the dates.
    held = fixtures.queue(engine_db, ids[0], "failover", project=project)
    groups = pg_db.list_all(CTX, project)
    latest = pg_db.latest_operations(CTX, groups)
    for group in groups:
        one = pg_db.get(CTX, project, group["id"])
        assert group == one
        assert latest[group["id"]] == pg_db.latest_operation(CTX, one)
        assert group["member_count"] == 2 and group["has_policy"]
        assert group["sync"]["status"] == "SYNCED"
        assert group["sync"]["peer_site"] == "qc-b"
        assert group["consistency_group_id"] == "cg-" + group["id"][:30]
    assert latest[ids[0]]["id"] == held
    for pg_id in ids[1:]:
        assert latest[pg_id]["id"] == newer[pg_id]
        assert latest[pg_id]["status"] == "completed"
        steps = latest[pg_id]["steps"]
        assert steps and all(s["status"] == "pending" for s in steps)


def test_members_and_the_synced_document_are_a_fixed_number_of_statements(
        engine_db):
    counts = []
    for size in (2, 12):
        _, (pg_id,), _ = _project(engine_db, 1, members=size)
        with counted() as statements:
            listed = members_db.list_all(CTX, pg_id)
        with orm.Session(db_api.get_engine()) as session, \
                counted() as doc_statements:
            docs = members_db.documents(session, pg_id, {})
        counts.append((len(statements), len(doc_statements)))
        assert len(listed) == len(docs) == size
        assert all(len(m["volumes"]) == 1 for m in listed)
        assert all(len(d["volumes"]) == 1 for d in docs)
    assert counts[0] == counts[1], counts


def _apply(pg_id, project, docs, sites):
    """The statements that write (INSERT, UPDATE, DELETE) and the number
    of all statements."""
    with orm.Session(db_api.get_engine()) as session, session.begin(), \
            counted() as statements:
        members_db.replace_from_documents(session, project, pg_id, docs,
                                          sites)
    return [s for s in statements if s.split()[0].upper() in (
        "INSERT", "UPDATE", "DELETE")], len(statements)


def _documents(pg_id, names):
    with orm.Session(db_api.get_engine()) as session:
        return members_db.documents(session, pg_id, names)


def test_a_received_push_writes_only_what_changed(engine_db):
    primary, _ = _sites(engine_db)
    names, ids = {primary: "qc-a"}, {"qc-a": primary}
    counts = []
    for size in (3, 15):
        project, (pg_id,), _ = _project(engine_db, 1, members=size)
        docs = _documents(pg_id, names)
        # The same document again writes nothing (once the fixture's
        # unsorted instance_config JSON is stored as an add stores it).
        _apply(pg_id, project, copy.deepcopy(docs), ids)
        assert _apply(pg_id, project, copy.deepcopy(docs), ids)[0] == []
        assert _documents(pg_id, names) == docs
        # One member added, one renamed, one's volume changed, one gone.
        changed = copy.deepcopy(docs)
        added = dict(copy.deepcopy(changed[0]), id=str(uuid.uuid4()),
                     instance_id=str(uuid.uuid4()))
        added["volumes"][0]["volume_id"] = str(uuid.uuid4())
        changed[1]["instance_name"] = "renamed"
        changed[2]["volumes"][0]["size_gb"] = 20
        del changed[0]
        changed.append(added)
        writes, count = _apply(pg_id, project, changed, ids)
        counts.append(count)
        # The gone member and its volumes, the renamed member, the
        # changed volume set and the new member with its volume.
        assert len(writes) <= 7, writes
        assert _documents(pg_id, names) == sorted(changed,
                                                  key=lambda d: d["id"])
    assert counts[0] == counts[1], counts


def test_a_push_may_not_take_over_another_groups_member(engine_db):
    primary, _ = _sites(engine_db)
    names, ids = {primary: "qc-a"}, {"qc-a": primary}
    project, (pg_id, other), _ = _project(engine_db, 2)
    docs = _documents(pg_id, names) + _documents(other, names)[:1]
    with pytest.raises(exception.SyncForeignReference) as caught:
        _apply(pg_id, project, docs, ids)
    assert docs[-1]["id"] in caught.value.message
    assert len(_documents(other, names)) == 2
    assert len(_documents(pg_id, names)) == 2


def test_members_move_in_a_transaction_per_chunk_not_per_member(
        engine_db, monkeypatch):
    """update_protection_group records where every member now runs: one
    write transaction per ``MOVE_CHUNK`` members (at 5,000 members, one
    per member took 11 s of the engine's time)."""
    from protector.engine.tasks import database_tasks
    monkeypatch.setattr(database_tasks, "MOVE_CHUNK", 4)
    real = members_db.set_locations
    calls = []

    def counting(ctx, moves):
        calls.append(len(moves))
        return real(ctx, moves)
    monkeypatch.setattr(members_db, "set_locations", counting)
    _, (pg_id,), _ = _project(engine_db, 1, members=9)
    members = members_db.list_all(CTX, pg_id)
    servers = {m["id"]: "new-" + m["id"] for m in members[:8]}
    copies = {v["volume_id"]: "copy-" + v["volume_id"]
              for m in members for v in m["volumes"]}
    store = {"operation": {"id": str(uuid.uuid4()),
                           "protection_group_id": pg_id},
             "inputs": {"servers": servers, "volumes": copies}}
    _, target = _sites(engine_db)
    database_tasks._members_moved(CTX, store, target)
    assert calls == [4, 4, 1]
    for member in members_db.list_all(CTX, pg_id):
        assert member["current_site_id"] == target
        # A member whose server the run did not rebuild keeps its own.
        assert member["current_instance_id"] == servers.get(
            member["id"], next(m for m in members
                               if m["id"] == member["id"])[
                "current_instance_id"])
        assert member["volumes"] and all(
            v["current_volume_id"] == "copy-" + v["volume_id"]
            for v in member["volumes"])

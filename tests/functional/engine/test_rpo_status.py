"""The cached RPO state (engine/rpo_status.py, db/rpo_status.py) and the
list of protection groups that shows it (microversion 1.5).

In process, against the engine tests' database (``engine_db``) and the
mock storage driver, whose replication lag is the age of the group's
newest snapshot in its array file: a snapshot written here sets it. The
API is the real WSGI application (``noauth2``), called in process so that
its SQL statements can be counted.
"""
import datetime
import json
import sqlite3
import uuid

from oslo_config import cfg
import pytest
import webob

from protector.api import deploy
from protector import context
from protector.db import models
from protector.db import protection_groups as pg_db
from protector.db import rpo_status as rpo_db
from protector.engine import manager
from protector.engine import rpo_status
from protector import storage
from protector.storage import mock as mock_storage
from protector.storage import rpo
from tests.functional.engine import test_query_counts as qc

CTX = context.get_admin_context()
V14 = "protector 1.4"
V15 = "protector 1.5"
RPO_FIELDS = {"rpo_status", "rpo_detail", "replication_lag_seconds",
              "rpo_checked_at"}


@pytest.fixture
def mock_arrays(engine_db):
    cfg.CONF.set_override("use_mock_storage", True)
    try:
        yield
    finally:
        cfg.CONF.clear_override("use_mock_storage")


def _snapshot(pg_id, age_seconds):
    """A replicated snapshot of ``pg_id`` taken ``age_seconds`` ago."""
    storage.get_driver({}, {"id": pg_id}, {"id": "x"})  # makes the file
    path = "%s/arrays.sqlite" % mock_storage.state_dir()
    taken = mock_storage._now() - datetime.timedelta(seconds=age_seconds)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO snapshots VALUES (?,?,?,?,?,?,?)",
                   (str(uuid.uuid4()), pg_id, "x", "snap", None,
                    taken.isoformat(), json.dumps([])))


def _project(engine_db, **groups):
    """A new project with the named groups: {name: (policy, status)}."""
    project = "rpo-" + uuid.uuid4().hex[:12]
    primary, secondary = qc._sites(engine_db)
    ids = {name: engine_db.group(project, primary, secondary, name=name,
                                 members=0, policy=policy, status=status)
           for name, (policy, status) in groups.items()}
    return project, ids


def _cached(engine_db, pg_id):
    with engine_db.session() as s:
        row = s.get(models.GroupRpoStatus, pg_id)
        return None if row is None else {
            c.name: getattr(row, c.name)
            for c in models.GroupRpoStatus.__table__.columns}


def test_the_check_caches_each_groups_rpo_state(engine_db, mock_arrays,
                                                 monkeypatch):
    _, ids = _project(engine_db, fresh=(True, "active"),
                      late=(True, "failed_over"), odd=(True, "active"),
                      empty=(True, "active"), nopolicy=(False, "active"),
                      going=(True, "deleting"))
    _snapshot(ids["fresh"], 60)
    _snapshot(ids["late"], 20 * 60)  # the fixture's RPO is 15 min
    _snapshot(ids["odd"], 60)
    real = mock_storage.MockStorageDriver.replication_lag

    def lag(driver):
        if driver.group["id"] == ids["odd"]:
            raise RuntimeError("array on fire")
        return real(driver)
    monkeypatch.setattr(mock_storage.MockStorageDriver, "replication_lag",
                        lag)

    written = manager.Engine(cfg.CONF).check_rpo()

    assert {k: written.get(v) for k, v in ids.items()} == {
        "fresh": "ok", "late": "breached", "odd": "unknown",
        "empty": "unknown", "nopolicy": None, "going": None}
    fresh = _cached(engine_db, ids["fresh"])
    assert fresh["rpo_status"] == "ok" and fresh["rpo_minutes"] == 15
    assert 60 <= fresh["replication_lag_seconds"] < 120
    assert "within the RPO of 15 min" in fresh["rpo_detail"]
    assert fresh["checked_at"] is not None
    late = _cached(engine_db, ids["late"])
    assert late["rpo_status"] == "breached"
    assert late["replication_lag_seconds"] >= 20 * 60
    assert "exceeds the RPO" in late["rpo_detail"]
    odd = _cached(engine_db, ids["odd"])
    assert (odd["rpo_status"], odd["replication_lag_seconds"]) == \
        ("unknown", None)
    assert "RuntimeError" in odd["rpo_detail"]
    assert _cached(engine_db, ids["empty"])["rpo_detail"] == \
        "no complete replicated snapshot yet"
    assert _cached(engine_db, ids["nopolicy"]) is None
    assert _cached(engine_db, ids["going"]) is None
    # A check does not touch the group itself.
    assert engine_db.group_row(ids["fresh"])["updated_at"] is None

    # The next round updates the rows in place (breached -> ok).
    _snapshot(ids["late"], 0)
    written = rpo_status.run(CTX)
    assert written[ids["late"]] == "ok" and written[ids["fresh"]] == "ok"
    late = _cached(engine_db, ids["late"])
    assert late["replication_lag_seconds"] < 60
    assert late["checked_at"] >= fresh["checked_at"]


def test_one_failing_group_does_not_stop_the_others(engine_db, mock_arrays,
                                                    monkeypatch):
    """Even a check that raises past rpo.status's own guard."""
    _, ids = _project(engine_db, broken=(True, "active"),
                      fine=(True, "active"))
    _snapshot(ids["fine"], 30)
    real = rpo.status

    def status(group, policy, conf=cfg.CONF):
        if group["id"] == ids["broken"]:
            raise KeyError("secondary_site_id")
        return real(group, policy, conf)
    monkeypatch.setattr(rpo, "status", status)

    written = rpo_status.run(CTX)

    assert written[ids["fine"]] == "ok"
    assert written[ids["broken"]] == "unknown"
    broken = _cached(engine_db, ids["broken"])
    assert broken["rpo_detail"] == "RPO check failed: KeyError"
    assert broken["rpo_minutes"] == 15


def test_a_group_deleted_meanwhile_is_not_recorded(engine_db):
    _, ids = _project(engine_db, gone=(True, "active"),
                      going=(True, "deleting"))
    result = {"rpo_status": "ok", "replication_lag_seconds": 1.6,
              "rpo_minutes": 15, "rpo_detail": "fine"}
    assert rpo_db.record(CTX, ids["gone"], result)
    assert _cached(engine_db, ids["gone"])["replication_lag_seconds"] == 2
    # Through the service's engine: SQLite enforces foreign keys there.
    pg_db.delete(CTX, ids["gone"])
    # The row went with the group (ON DELETE CASCADE) ...
    assert _cached(engine_db, ids["gone"]) is None
    # ... and is not made again for it, nor for one being deleted.
    assert not rpo_db.record(CTX, ids["gone"], result)
    assert not rpo_db.record(CTX, ids["going"], result)
    assert _cached(engine_db, ids["gone"]) is None
    assert _cached(engine_db, ids["going"]) is None


def test_the_loop_survives_a_failed_check(engine_db, monkeypatch):
    engine = manager.Engine(cfg.CONF)
    calls = []

    def check_rpo():
        calls.append(1)
        if len(calls) == 2:
            engine._stop.set()
        raise RuntimeError("database is down")
    monkeypatch.setattr(engine, "check_rpo", check_rpo)
    cfg.CONF.set_override("rpo_check_interval", 0, group="engine")
    try:
        engine._rpo_check_loop()
    finally:
        cfg.CONF.clear_override("rpo_check_interval", group="engine")
    assert len(calls) == 2


def test_the_option_is_registered_with_its_default(engine_db):
    assert cfg.CONF.engine.rpo_check_interval == 60


# -- the API ------------------------------------------------------------------

@pytest.fixture
def app(engine_db):
    cfg.CONF.set_override("auth_strategy", "noauth2", group="api")
    try:
        yield deploy.deploy(cfg.CONF)
    finally:
        cfg.CONF.clear_override("auth_strategy", group="api")


def _get(app, project, path, version):
    req = webob.Request.blank("/v1/%s%s" % (project, path), headers={
        "X-Auth-Token": "u1:%s" % project,
        "OpenStack-API-Version": version})
    resp = req.get_response(app)
    assert resp.status_int == 200, resp.text
    return resp.json


def _list(app, project, version):
    return {g["name"]: g for g in _get(app, project, "/protection-groups",
                                       version)["protection_groups"]}


def test_the_list_shows_the_cached_state_from_1_5(engine_db, app):
    project, ids = _project(engine_db, fresh=(True, "active"),
                            late=(True, "active"),
                            unchecked=(True, "active"),
                            nopolicy=(False, "active"))
    rpo_db.record(CTX, ids["fresh"], {
        "rpo_status": "ok", "replication_lag_seconds": 61,
        "rpo_minutes": 15,
        "rpo_detail": "replication lag 61s within the RPO of 15 min"})
    rpo_db.record(CTX, ids["late"], {
        "rpo_status": "breached", "replication_lag_seconds": 1234,
        "rpo_minutes": 15,
        "rpo_detail": "replication lag 1234s exceeds the RPO of 15 min"})
    # A row left from a policy since deleted is not shown.
    rpo_db.record(CTX, ids["nopolicy"], {"rpo_status": "ok"})

    groups = _list(app, project, V15)

    fresh, late = groups["fresh"], groups["late"]
    assert (fresh["rpo_status"], fresh["replication_lag_seconds"]) == \
        ("ok", 61)
    assert fresh["rpo_checked_at"].endswith("Z")
    assert fresh["rpo_detail"] == \
        "replication lag 61s within the RPO of 15 min"
    assert (late["rpo_status"], late["replication_lag_seconds"]) == \
        ("breached", 1234)
    assert {k: groups["unchecked"][k] for k in RPO_FIELDS} == {
        "rpo_status": "unknown", "rpo_detail": "not checked yet",
        "replication_lag_seconds": None, "rpo_checked_at": None}
    assert groups["nopolicy"]["rpo_status"] == "unknown"
    assert groups["nopolicy"]["rpo_detail"] == "no replication policy"
    # Below 1.5 the list has none of them.
    for group in _list(app, project, V14).values():
        assert not RPO_FIELDS & set(group), group


def test_the_list_reads_the_cache_in_one_statement(engine_db, app):
    counts = []
    for size in (2, 9):
        project, ids = _project(engine_db, **{
            "g%d" % i: (True, "active") for i in range(size)})
        for pg_id in list(ids.values())[1:]:
            rpo_db.record(CTX, pg_id, {"rpo_status": "ok",
                                       "replication_lag_seconds": 5})
        with qc.counted() as statements:
            groups = _list(app, project, V15)
        assert len(groups) == size
        assert groups["g0"]["rpo_status"] == "unknown"
        assert groups["g1"]["rpo_status"] == "ok"
        cache = [s for s in statements if "group_rpo_status" in s]
        assert len(cache) == 1, cache
        counts.append(len(statements))
        # Below 1.5 the cache is not read at all.
        with qc.counted() as statements:
            _list(app, project, V14)
        assert not [s for s in statements if "group_rpo_status" in s]
    assert counts[0] == counts[1], counts


def test_show_computes_live_and_refreshes_the_cache(engine_db, app,
                                                    mock_arrays):
    project, ids = _project(engine_db, web=(True, "active"))
    _snapshot(ids["web"], 20 * 60)
    rpo_db.record(CTX, ids["web"], {"rpo_status": "ok",
                                    "replication_lag_seconds": 5})

    shown = _get(app, project, "/protection-groups/" + ids["web"],
                 V15)["protection_group"]

    assert shown["rpo_status"] == "breached"
    assert shown["rpo_checked_at"].endswith("Z")
    assert _list(app, project, V15)["web"]["rpo_status"] == "breached"
    shown = _get(app, project, "/protection-groups/" + ids["web"],
                 V14)["protection_group"]
    assert shown["rpo_status"] == "breached"
    assert "rpo_checked_at" not in shown

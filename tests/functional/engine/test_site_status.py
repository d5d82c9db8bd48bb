"""The engine keeps the sites' status current (engine/site_status.py), in
process against a real database, the session's real Keystone and small
HTTP stubs for the peers' versions documents.

The real engine process doing it at start (SQLite and MariaDB) is in
test_engine_service.py.
"""
import datetime

from oslo_config import cfg
import pytest
import sqlalchemy as sa

from protector.cloud import probe
from protector import context
from protector.db import models
from protector.db import site_status as status_db
from protector.engine import manager
from protector.engine import site_status
from protector_lab import keystone as ks_mod
from tests.functional import stubpeer

pytestmark = pytest.mark.keystone
CTX = context.get_admin_context()
PREFIX = site_status.REASON_PREFIX
LONG_AGO = datetime.datetime(2020, 1, 1)


@pytest.fixture(scope="module")
def peers():
    servers = {"compatible": stubpeer.DocServer(
                   stubpeer.versions("1.1", "1.2")).start(),
               "newer": stubpeer.DocServer(
                   stubpeer.versions("2.0", "2.3")).start()}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def sites(engine_db):
    """Adds sites (status, reason as given), removed afterwards. The
    database is shared with the other in-process tests, whose sites a
    check looks at too."""
    added = []

    def add(name, auth_url, protector_url=None, status="active",
            reason=None):
        site_id = engine_db.site(name, auth_url, protector_url)
        added.append(site_id)
        with engine_db.session() as s, s.begin():
            s.execute(sa.update(models.Site).where(
                models.Site.id == site_id).values(
                status=status, status_reason=reason,
                updated_at=LONG_AGO))
        return site_id
    yield add
    with engine_db.session() as s, s.begin():
        s.execute(sa.delete(models.Site).where(models.Site.id.in_(added)))


def _row(engine_db, site_id):
    with engine_db.session() as s:
        row = s.get(models.Site, site_id)
        return {"status": row.status, "reason": row.status_reason,
                "checked": row.last_checked_at, "updated": row.updated_at}


def test_check_sets_each_sites_status(engine_db, sites, keystone, peers):
    ks = keystone.auth_url
    fine = sites("st-fine", ks, peers["compatible"].url)
    no_url = sites("st-no-url", ks)
    dead_ks = sites("st-dead-ks", keystone.env["DEAD_AUTH_URL"],
                    peers["compatible"].url)
    dead_api = sites("st-dead-api", ks,
                     "http://127.0.0.1:%d" % ks_mod.free_port())
    newer = sites("st-newer", ks, peers["newer"].url)

    written = manager.Engine(cfg.CONF).check_sites()

    mine = {k: v for k, v in written.items() if k.startswith("st-")}
    assert mine == {"st-fine": "active", "st-no-url": "active",
                    "st-dead-ks": "unreachable",
                    "st-dead-api": "unreachable", "st-newer": "error"}
    row = _row(engine_db, fine)
    assert row["status"] == "active" and row["reason"] is None
    assert row["checked"] is not None
    # A check changes nothing about the site itself.
    assert row["updated"] == LONG_AGO
    row = _row(engine_db, no_url)
    assert row["status"] == "active"
    assert row["reason"].startswith(PREFIX + "Reachable (Keystone); "
                                    "protector-api not checked")
    row = _row(engine_db, dead_ks)
    assert row["status"] == "unreachable"
    assert row["reason"].startswith(PREFIX + "Keystone unreachable")
    row = _row(engine_db, dead_api)
    assert row["status"] == "unreachable"
    assert row["reason"].startswith(PREFIX + "protector-api unreachable")
    row = _row(engine_db, newer)
    assert row["status"] == "error"
    assert "version incompatible" in row["reason"]


def test_recovery_clears_the_checks_own_errors_only(engine_db, sites,
                                                    keystone, peers):
    ks, url = keystone.auth_url, peers["compatible"].url
    back = sites("st-back", ks, url, "unreachable",
                 PREFIX + "Keystone unreachable: refused")
    # An unreachable site found by 'site validate' is back as well.
    validated_down = sites("st-validated-down", ks, url, "unreachable",
                           "keystone: UNREACHABLE: refused")
    fixed = sites("st-fixed", ks, url, "error",
                  PREFIX + "Reachable, version incompatible: ...")
    # 'site validate' saw Cinder fail: beyond what this check looks at.
    cinder = sites("st-cinder", ks, url, "error", "cinder: HTTP 503")

    written = site_status.run(CTX)

    for site_id in (back, validated_down, fixed):
        row = _row(engine_db, site_id)
        assert (row["status"], row["reason"]) == ("active", None)
    row = _row(engine_db, cinder)
    assert (row["status"], row["reason"]) == ("error", "cinder: HTTP 503")
    assert row["checked"] is None
    assert "st-cinder" not in written


def test_a_validate_that_ends_meanwhile_wins(engine_db, sites, keystone):
    site_id = sites("st-raced", keystone.auth_url)
    # The check saw (active, None); a validate wrote 'error' since.
    with engine_db.session() as s, s.begin():
        s.execute(sa.update(models.Site).where(models.Site.id == site_id)
                  .values(status="error", status_reason="nova: HTTP 500"))
    assert not status_db.record(CTX, site_id, ("active", None),
                                "unreachable", PREFIX + "x")
    row = _row(engine_db, site_id)
    assert (row["status"], row["reason"]) == ("error", "nova: HTTP 500")
    assert not status_db.record(CTX, "no-such-site", ("active", None),
                                "active", None)


def test_one_failing_site_does_not_stop_the_others(engine_db, sites,
                                                   keystone, monkeypatch):
    odd = sites("st-odd", keystone.auth_url)
    fine = sites("st-fine-2", keystone.auth_url)
    real = probe.check

    def check(site, token=None, timeout=None):
        if site["id"] == odd:
            raise RuntimeError("boom")
        return real(site, token, timeout)
    monkeypatch.setattr(probe, "check", check)

    written = site_status.run(CTX)
    assert written["st-fine-2"] == "active" and "st-odd" not in written
    assert _row(engine_db, odd)["checked"] is None
    assert _row(engine_db, fine)["checked"] is not None


def test_the_loop_survives_a_failed_check(engine_db, monkeypatch):
    """A database outage during a check is logged; the loop goes on."""
    engine = manager.Engine(cfg.CONF)
    calls = []

    def check_sites():
        calls.append(1)
        if len(calls) == 2:
            engine._stop.set()
        raise RuntimeError("database is down")
    monkeypatch.setattr(engine, "check_sites", check_sites)
    cfg.CONF.set_override("site_check_interval", 0, group="engine")
    try:
        engine._site_check_loop()
    finally:
        cfg.CONF.clear_override("site_check_interval", group="engine")
    assert len(calls) == 2

"""The engine's reconcile of groups left 'creating'/'deleting' (in process,
real database, a fake Cinder group driver).

The end-to-end cases (a real protector-api on each side, mock Cinder) are
in tests/functional/test_group_lifecycle.py; these cover the engine entry
point (at start, then every lifecycle_stale_after seconds), a failed
Cinder delete that is retried, and finding this site without
``[DEFAULT] site_name``.
"""
import datetime
import uuid

from oslo_config import cfg
import pytest

from protector import context
from protector.db import models
from protector.db import protection_groups as pg_db
from protector.engine import manager
from protector.engine import reconcile
from protector import exception
from protector.pgroups import groups

CTX = context.get_admin_context()


def _old(hours=1):
    return datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None) - datetime.timedelta(hours=hours)


class FakeGroups:
    def __init__(self):
        self.deleted = []
        self.fail = None

    def delete_group(self, group_id):
        if self.fail:
            raise self.fail
        self.deleted.append(group_id)


@pytest.fixture
def cinder(engine_db, monkeypatch):
    fake = FakeGroups()
    seen = []

    def driver(ctx, site, project_id):
        seen.append((site["name"], project_id))
        return fake
    monkeypatch.setattr(reconcile, "driver", driver)
    fake.sites = seen
    return fake


@pytest.fixture
def sites(engine_db):
    tag = uuid.uuid4().hex[:6]
    a = engine_db.site("rec-a-" + tag, "http://127.0.0.1:1/v3")
    b = engine_db.site("rec-b-" + tag, "http://127.0.0.1:1/v3")
    cfg.CONF.set_override("site_name", "rec-b-" + tag)
    yield a, b
    cfg.CONF.clear_override("site_name")


def _group(engine_db, sites, status, reason=None, updated=None,
           version=1):
    a, b = sites
    pg_id = engine_db.group("p", a, b, name="rec-" + uuid.uuid4().hex[:8],
                            members=0, policy=False)
    engine_db.set_group(pg_id, status=status, status_reason=reason,
                        updated_at=updated or _old(),
                        metadata_version=version)
    with engine_db.session() as s, s.begin():
        s.add(models.ConsistencyGroup(
            id=str(uuid.uuid4()), protection_group_id=pg_id, name="cg",
            volume_type_id=str(uuid.uuid4()), primary_cg_id="cg-a-" + pg_id,
            secondary_cg_id="cg-b-" + pg_id, status="active"))
    return pg_id


def _exists(engine_db, pg_id):
    with engine_db.session() as s:
        return s.get(models.ProtectionGroup, pg_id) is not None


def test_engine_reconciles_at_start_then_every_interval(engine_db, sites,
                                                        cinder):
    creating = _group(engine_db, sites, "creating", version=0)
    undo = _group(engine_db, sites, "deleting", groups.DELETE_STARTED)
    finish = _group(engine_db, sites, "deleting", groups.PEER_NOTIFIED)
    young = _group(engine_db, sites, "deleting", groups.PEER_NOTIFIED,
                   updated=_old(hours=0))
    engine = manager.Engine(cfg.CONF)
    done = engine.reconcile_groups()
    assert done[creating] == "error"
    assert done[undo] == "active"
    assert done[finish] == "deleted"
    assert young not in done

    row = engine_db.group_row(creating)
    assert row["status"] == "error"
    assert "create was interrupted" in row["status_reason"]
    assert "cg-a-%s, cg-b-%s" % (creating, creating) in row["status_reason"]
    row = engine_db.group_row(undo)
    assert row["status"] == "active"
    assert "delete was interrupted" in row["status_reason"]
    assert not _exists(engine_db, finish)
    # This site is site B (site_name): its own group, through the trust
    # of the group's project.
    assert cinder.deleted == ["cg-b-" + finish]
    assert cinder.sites == [(cfg.CONF.site_name, "p")]
    assert engine_db.group_row(young)["status"] == "deleting"

    # Not again before lifecycle_stale_after has passed.
    engine_db.set_group(young, updated_at=_old())
    assert engine.reconcile_groups() is None
    assert engine.reconcile_groups(force=True) == {young: "deleted"}


def test_failed_cinder_delete_is_retried(engine_db, sites, cinder):
    pg_id = _group(engine_db, sites, "deleting", groups.PEER_NOTIFIED)
    cinder.fail = exception.SiteUnreachable(site="rec-b", reason="down")
    assert reconcile.run(CTX, 60)[pg_id] == "retry"
    row = engine_db.group_row(pg_id)
    assert row["status"] == "deleting"
    assert row["status_reason"].startswith(groups.PEER_NOTIFIED)
    assert "cg-b-%s" % pg_id in row["status_reason"]
    assert "tries again" in row["status_reason"]
    # Fresh again (just changed): left alone until it is stale.
    assert pg_id not in reconcile.run(CTX, 60)
    cinder.fail = None
    engine_db.set_group(pg_id, updated_at=_old())
    assert reconcile.run(CTX, 60)[pg_id] == "deleted"
    assert not _exists(engine_db, pg_id)


def test_this_site_from_the_sync_peer_without_site_name(engine_db, sites,
                                                        cinder):
    a, b = sites
    cfg.CONF.clear_override("site_name")
    pg_id = _group(engine_db, sites, "deleting", groups.PEER_NOTIFIED)
    pg_db.record_sync(CTX, pg_id, b, "SYNCED", remote_version=1)
    engine_db.set_group(pg_id, updated_at=_old())
    assert reconcile.run(CTX, 60)[pg_id] == "deleted"
    # The peer is B, so this site is A.
    assert cinder.deleted == ["cg-a-" + pg_id]


def test_two_engines_never_both_act(engine_db, sites, cinder):
    pg_id = _group(engine_db, sites, "deleting", groups.PEER_NOTIFIED)
    stale = pg_db.stale_lifecycle(CTX, _old(hours=0))
    pg = [g for g in stale if g["id"] == pg_id][0]
    assert reconcile._finish_delete(CTX, pg, 60, "engine-1") == "deleted"
    # The second engine read the same row before the first acted.
    assert reconcile._finish_delete(CTX, pg, 60, "engine-2") == \
        "changed meanwhile"
    assert cinder.deleted == ["cg-b-" + pg_id]

"""Migrations walk on SQLite and MariaDB, and match the models.

The walk applies every revision one at a time on an empty database; the
sync test asks alembic to compare the migrated schema with the models and
fails on any difference (a model change without a migration, or the reverse).
"""
import contextlib

from alembic import autogenerate
from alembic import migration as alembic_migration
import pytest
import sqlalchemy as sa

from protector.db import migration
from protector.db import models
from tests import conftest as top
from tests import services


@contextlib.contextmanager
def sqlite_engine(tmp_path):
    engine = sa.create_engine("sqlite:///%s/m.sqlite" % tmp_path)
    yield engine
    engine.dispose()


@contextlib.contextmanager
def mariadb_engine(tmp_path):
    if not services.mysql_available():
        top.require_or_skip("MariaDB is not reachable")
    with services.mysql_database("protector_mig") as url:
        engine = sa.create_engine(url)
        yield engine
        engine.dispose()


BACKENDS = [
    pytest.param(sqlite_engine, id="sqlite"),
    pytest.param(mariadb_engine, id="mariadb", marks=pytest.mark.mariadb),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_walk_migrations(tmp_path, backend):
    with backend(tmp_path) as engine:
        assert migration.version(engine) is None
        for revision in migration.revisions():
            migration.upgrade(revision, engine=engine)
            assert migration.version(engine) == revision
        assert migration.version(engine) == migration.head()
        # Running it again is a no-op, not an error.
        migration.upgrade("head", engine=engine)
        tables = set(sa.inspect(engine).get_table_names())
        assert set(models.Base.metadata.tables) <= tables


def _compare(engine):
    with engine.connect() as conn:
        ctx = alembic_migration.MigrationContext.configure(
            conn, opts={"compare_type": True,
                        "compare_server_default": True})
        return autogenerate.compare_metadata(ctx, models.Base.metadata)


@pytest.mark.parametrize("backend", BACKENDS)
def test_models_match_migrations(tmp_path, backend):
    with backend(tmp_path) as engine:
        migration.upgrade("head", engine=engine)
        diff = _compare(engine)
        assert diff == [], "models and migrations differ: %s" % diff


def test_sync_test_catches_a_missing_migration(tmp_path):
    """The comparison is real: a column only in the models is reported."""
    with sqlite_engine(tmp_path) as engine:
        migration.upgrade("head", engine=engine)
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE sites DROP COLUMN "
                                 "region_name"))
        diff = _compare(engine)
        assert any(d[0] == "add_column" and d[3].name == "region_name"
                   for d in diff), diff


@pytest.mark.parametrize("backend", BACKENDS)
def test_0003_gives_existing_rows_the_default_tiers(tmp_path, backend):
    """Members of before boot tiers land in the middle tier (3), groups
    get no delay: a recovery runs as it did (one tier)."""
    with backend(tmp_path) as engine:
        migration.upgrade("0002", engine=engine)
        now = "2026-12-01 00:00:00"
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO sites (id, name, site_type, auth_url, status, "
                "created_at) VALUES ('s1', 'site-a', 'primary', "
                "'http://a/v3', 'active', :now)"), {"now": now})
            conn.execute(sa.text(
                "INSERT INTO protection_groups (id, project_id, name, "
                "status, replication_type, primary_site_id, "
                "secondary_site_id, current_primary_site_id, "
                "volume_type_id, failover_count, metadata_version, "
                "created_at) VALUES ('pg1', 'p', 'pg', 'active', 'async', "
                "'s1', 's1', 's1', 'vt', 0, 1, :now)"), {"now": now})
            for member in ("m1", "m2"):
                conn.execute(sa.text(
                    "INSERT INTO members (id, protection_group_id, "
                    "project_id, instance_id, status, created_at) VALUES "
                    "(:id, 'pg1', 'p', :id, 'protected', :now)"),
                    {"id": member, "now": now})
        migration.upgrade("0003", engine=engine)
        assert migration.version(engine) == "0003"
        with engine.connect() as conn:
            assert conn.execute(sa.text(
                "SELECT id, priority FROM members ORDER BY id")).all() == [
                ("m1", 3), ("m2", 3)]
            assert conn.execute(sa.text(
                "SELECT tier_delay FROM protection_groups")).scalar() == 0
            # A row written without them (an older writer) gets them too.
            conn.execute(sa.text(
                "INSERT INTO members (id, protection_group_id, project_id, "
                "instance_id, status, created_at) VALUES ('m3', 'pg1', 'p', "
                "'m3', 'protected', :now)"), {"now": now})
            assert conn.execute(sa.text(
                "SELECT priority FROM members WHERE id = 'm3'")).scalar() \
                == 3

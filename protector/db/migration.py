"""Schema migrations (alembic) behind ``protector-manage db sync/version``."""
import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

from protector.db import api as db_api

_MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def _alembic_config(connection=None):
    cfg = alembic_config.Config()
    cfg.set_main_option("script_location", _MIGRATIONS_DIR)
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(revision="head", engine=None):
    """Bring the schema to ``revision`` (default: the newest)."""
    engine = engine or db_api.get_engine()
    with engine.begin() as connection:
        alembic_command.upgrade(_alembic_config(connection), revision)


def version(engine=None):
    """The revision the database is at, or None before the first sync."""
    engine = engine or db_api.get_engine()
    with engine.connect() as connection:
        ctx = alembic_migration.MigrationContext.configure(connection)
        return ctx.get_current_revision()


def head():
    """The newest revision this code knows."""
    script = alembic_script.ScriptDirectory.from_config(_alembic_config())
    return script.get_current_head()


def revisions():
    """All revisions, oldest first."""
    script = alembic_script.ScriptDirectory.from_config(_alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]

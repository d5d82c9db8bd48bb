"""In-process engine fixtures: one SQLite database behind the enginefacade.

The enginefacade is process-global, so the in-process tests share one
database file; every test makes its own groups and operations.
"""
from oslo_config import cfg
import pytest

from protector.common import config
from protector.db import api as db_api
from protector.db import models
from tests.functional.engine import fixtures


@pytest.fixture(scope="session")
def engine_db(tmp_path_factory):
    work = tmp_path_factory.mktemp("engine-inproc")
    url = "sqlite:///%s/protector.sqlite" % work
    config.register_all(cfg.CONF)
    cfg.CONF([], project="protector")
    cfg.CONF.set_override("connection", url, group="database")
    cfg.CONF.set_override("state_path", str(work))
    db_api.configure(cfg.CONF)
    models.Base.metadata.create_all(db_api.get_engine())
    rows = fixtures.Rows(url)
    rows.work = str(work)
    return rows

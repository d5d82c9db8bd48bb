"""SQLite enforces foreign keys like MariaDB: deleting a group cascades."""
from oslo_config import cfg
from oslo_db import options as db_options
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import migration


def test_deleting_a_group_cascades_to_its_children_on_sqlite(tmp_path):
    conf = cfg.ConfigOpts()
    db_options.set_defaults(
        conf, connection="sqlite:///%s/fk.sqlite" % tmp_path)
    conf([])
    facade = enginefacade.transaction_context()
    facade.configure(**db_api.facade_options(conf))
    engine = facade.writer.get_engine()
    migration.upgrade("head", engine=engine)
    with engine.begin() as c:
        c.execute(sa.text(
            "INSERT INTO sites (id, name, site_type, auth_url, status, "
            "created_at) VALUES ('s1', 'a', 'primary', 'http://a', "
            "'active', CURRENT_TIMESTAMP)"))
        c.execute(sa.text(
            "INSERT INTO protection_groups (id, project_id, name, status, "
            "replication_type, primary_site_id, secondary_site_id, "
            "current_primary_site_id, volume_type_id, failover_count, "
            "metadata_version, created_at) VALUES ('pg1', 'p', 'n', "
            "'active', 'async', 's1', 's1', 's1', 'vt', 0, 1, "
            "CURRENT_TIMESTAMP)"))
        c.execute(sa.text(
            "INSERT INTO replication_policies (id, protection_group_id, "
            "created_at) VALUES ('rp1', 'pg1', CURRENT_TIMESTAMP)"))
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM protection_groups WHERE id='pg1'"))
        left = c.execute(sa.text(
            "SELECT count(*) FROM replication_policies")).scalar()
    assert left == 0
    engine.dispose()

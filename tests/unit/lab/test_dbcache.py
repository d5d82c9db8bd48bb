"""The lab's cache of migrated databases, against the machine's MariaDB
(``mysql``/``mysqldump`` clients, as the lab uses them)."""
import os

import pymysql
import pytest

from protector_lab import dbcache
from tests import services

pytestmark = pytest.mark.mariadb


def _connect(url, autocommit=False):
    return pymysql.connect(host=services.MYSQL_HOST,
                           user=services.MYSQL_USER,
                           password=services.MYSQL_PASSWORD,
                           database=_db(url), autocommit=autocommit)


def _tables(url):
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            tables = sorted(r[0] for r in cur.fetchall())
            rows = {}
            for t in tables:
                cur.execute("SELECT * FROM `%s`" % t)
                rows[t] = list(cur.fetchall())
        return rows
    finally:
        conn.close()


def _migration(url, calls):
    def run():
        calls.append(_db(url))
        conn = _connect(url, autocommit=True)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE alembic_version (v VARCHAR(32))")
            cur.execute("INSERT INTO alembic_version VALUES ('head1')")
        conn.close()
    return run


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PROTECTOR_LAB_CACHE", str(tmp_path))
    monkeypatch.delenv("PROTECTOR_LAB_DB_CACHE", raising=False)
    return tmp_path


def _db(url):
    return url.rsplit("/", 1)[1].split("?")[0]


def test_second_site_loads_what_the_first_migrated(cache):
    venv = str(cache / "venvs" / "svc-abc123")
    calls = []
    with services.mysql_database("lab_dbcache") as one, \
            services.mysql_database("lab_dbcache") as two:
        assert dbcache.migrate(venv, {"svc": _db(one)},
                               _migration(one, calls)) == "migrated"
        assert os.path.exists(cache / "dbdumps" / "svc-abc123" / "svc.sql")
        assert dbcache.migrate(venv, {"svc": _db(two)},
                               _migration(two, calls)) == "loaded"
        assert calls == [_db(one)]
        assert _tables(two) == _tables(one) == {
            "alembic_version": [("head1",)]}


def test_other_service_version_migrates_again(cache):
    calls = []
    with services.mysql_database("lab_dbcache") as one, \
            services.mysql_database("lab_dbcache") as two:
        dbcache.migrate(str(cache / "svc-v1"), {"svc": _db(one)},
                        _migration(one, calls))
        dbcache.migrate(str(cache / "svc-v2"), {"svc": _db(two)},
                        _migration(two, calls))
        assert calls == [_db(one), _db(two)]


def test_bad_dump_is_dropped_and_the_migration_runs(cache):
    venv = str(cache / "svc-v1")
    dump = cache / "dbdumps" / "svc-v1" / "svc.sql"
    dump.parent.mkdir(parents=True)
    dump.write_text("CREATE TABLE t (x INT);\nTHIS IS NOT SQL;\n")
    calls = []
    with services.mysql_database("lab_dbcache") as one:
        assert dbcache.migrate(venv, {"svc": _db(one)},
                               _migration(one, calls)) == "migrated"
        # The half-loaded table went with the bad dump.
        assert _tables(one) == {"alembic_version": [("head1",)]}
        assert calls == [_db(one)]
    assert "NOT SQL" not in dump.read_text()


def test_partial_pair_migrates_both(cache):
    venv = str(cache / "nova-v1")
    calls = []
    with services.mysql_database("lab_dbcache") as a, \
            services.mysql_database("lab_dbcache") as b:
        # Only the first of the pair was ever dumped.
        dbcache.migrate(venv, {"cell0": _db(a)}, _migration(a, calls))
        with services.mysql_database("lab_dbcache") as a2, \
                services.mysql_database("lab_dbcache") as b2:
            both = {"cell0": _db(a2), "cell1": _db(b2)}

            def run():
                _migration(a2, calls)()
                _migration(b2, calls)()
            assert dbcache.migrate(venv, both, run) == "migrated"
            assert _tables(a2) == {"alembic_version": [("head1",)]}
        del b


def test_disabled_cache_always_migrates(cache, monkeypatch):
    monkeypatch.setenv("PROTECTOR_LAB_DB_CACHE", "0")
    calls = []
    with services.mysql_database("lab_dbcache") as one:
        dbcache.migrate(str(cache / "v"), {"svc": _db(one)},
                        _migration(one, calls))
        dbcache.migrate(str(cache / "v"), {"svc": _db(one)},
                        lambda: calls.append("again"))
    assert calls == [_db(one), "again"]
    assert not (cache / "dbdumps").exists()


def test_both_sites_dump_at_once(cache):
    """The two sites are threads of one process and migrate the same
    service together: both dumps must succeed and leave one whole file."""
    import concurrent.futures
    venv = str(cache / "svc-v1")
    with services.mysql_database("lab_dbcache") as a, \
            services.mysql_database("lab_dbcache") as b:
        calls = []
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            futs = [ex.submit(dbcache.migrate, venv, {"svc": _db(u)},
                              _migration(u, calls)) for u in (a, b)]
            assert [f.result() for f in futs] == ["migrated", "migrated"]
        dumps = os.listdir(cache / "dbdumps" / "svc-v1")
        assert dumps == ["svc.sql"]


def _fill(url, value):
    conn = _connect(url, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE user (id VARCHAR(32))")
        cur.execute("INSERT INTO user VALUES (%s)", (value,))
    conn.close()


def test_prepared_database_comes_back_with_its_ids(cache):
    """Keystone's seeded identity: a second ``up`` of the same site gets
    the same rows and the IDs that were saved with them."""
    venv = str(cache / "ks-v1")
    recipe = {"site": "site-a", "users": ["demo"]}
    with services.mysql_database("lab_dbcache") as one, \
            services.mysql_database("lab_dbcache") as two:
        assert dbcache.load_prepared(venv, "ks", _db(one), recipe) is None
        _fill(one, "u-1")
        dbcache.save_prepared(venv, "ks", _db(one), recipe,
                              {"users": {"demo": "u-1"}})
        assert dbcache.load_prepared(venv, "ks", _db(two), recipe) == {
            "users": {"demo": "u-1"}}
        assert _tables(two) == _tables(one) == {"user": [("u-1",)]}


def test_prepared_database_of_another_recipe_is_not_loaded(cache):
    venv = str(cache / "ks-v1")
    with services.mysql_database("lab_dbcache") as one, \
            services.mysql_database("lab_dbcache") as two:
        _fill(one, "u-1")
        dbcache.save_prepared(venv, "ks", _db(one), {"site": "site-a"},
                              {"id": "u-1"})
        assert dbcache.load_prepared(venv, "ks", _db(two),
                                     {"site": "site-b"}) is None
        assert _tables(two) == {}


def test_prepared_dump_without_its_ids_is_made_again(cache):
    """A crash between the dump and its JSON leaves a dump whose IDs are
    unknown: it is never loaded, and the next save replaces it."""
    venv = str(cache / "ks-v1")
    recipe = {"site": "site-a"}
    with services.mysql_database("lab_dbcache") as one, \
            services.mysql_database("lab_dbcache") as two, \
            services.mysql_database("lab_dbcache") as three:
        _fill(one, "u-old")
        dbcache.save_prepared(venv, "ks", _db(one), recipe, {"id": "u-old"})
        [meta] = (cache / "dbdumps" / "ks-v1").glob("ks-*.json")
        meta.unlink()
        assert dbcache.load_prepared(venv, "ks", _db(two), recipe) is None
        _fill(two, "u-new")
        dbcache.save_prepared(venv, "ks", _db(two), recipe, {"id": "u-new"})
        assert dbcache.load_prepared(venv, "ks", _db(three), recipe) == {
            "id": "u-new"}
        assert _tables(three) == {"user": [("u-new",)]}


def test_prepared_bad_dump_leaves_the_database_empty(cache):
    venv = str(cache / "ks-v1")
    recipe = {"site": "site-a"}
    with services.mysql_database("lab_dbcache") as one, \
            services.mysql_database("lab_dbcache") as two:
        _fill(one, "u-1")
        dbcache.save_prepared(venv, "ks", _db(one), recipe, {"id": "u-1"})
        [sql] = (cache / "dbdumps" / "ks-v1").glob("ks-*.sql")
        sql.write_text("CREATE TABLE t (x INT);\nTHIS IS NOT SQL;\n")
        assert dbcache.load_prepared(venv, "ks", _db(two), recipe) is None
        assert _tables(two) == {}


def test_prepared_cache_off(cache, monkeypatch):
    monkeypatch.setenv("PROTECTOR_LAB_DB_CACHE", "0")
    with services.mysql_database("lab_dbcache") as one:
        _fill(one, "u-1")
        dbcache.save_prepared(str(cache / "v"), "ks", _db(one), {}, {})
        assert dbcache.load_prepared(str(cache / "v"), "ks", _db(one),
                                     {}) is None
    assert not (cache / "dbdumps").exists()

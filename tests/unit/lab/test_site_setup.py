"""What the lab writes itself instead of running keystone-manage and
nova-manage (lab/protector_lab/site.py, keystone.py). The lab tests prove
the services accept it; these pin the details."""
import contextlib
import os
import stat
import time
import types

from cryptography import fernet
import pymysql
import pytest

from protector_lab import infra
from protector_lab import keystone
from protector_lab import site as site_mod
from tests import services


def test_key_repository_like_fernet_setup(tmp_path):
    repo = tmp_path / "fernet-keys"
    keystone.write_key_repository(str(repo))
    assert sorted(os.listdir(repo)) == ["0", "1"]
    keys = {}
    for name in ("0", "1"):
        path = repo / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        keys[name] = path.read_bytes()
        # A valid Fernet key: Keystone loads it as one.
        token = fernet.Fernet(keys[name]).encrypt(b"x")
        assert fernet.Fernet(keys[name]).decrypt(token) == b"x"
    assert keys["0"] != keys["1"]
    # A second run keeps the keys (tokens already issued stay valid).
    keystone.write_key_repository(str(repo))
    assert {n: (repo / n).read_bytes() for n in ("0", "1")} == keys


# nova_api.cell_mappings as Nova's api_db migrations create it.
_CELL_MAPPINGS = """CREATE TABLE cell_mappings (
    created_at DATETIME, updated_at DATETIME,
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL, name VARCHAR(255),
    transport_url TEXT NOT NULL, database_connection TEXT NOT NULL,
    disabled TINYINT(1) DEFAULT 0,
    UNIQUE KEY uniq_cell_mappings0uuid (uuid))"""


@contextlib.contextmanager
def _nova_tables(*ddl):
    """A scratch MariaDB database holding the given Nova tables; yields
    (a connection to it, a site whose Nova databases are all that one,
    the lab's MariaDB client)."""
    with services.mysql_database("lab_nova") as url:
        name = url.rsplit("/", 1)[1].split("?")[0]
        conn = pymysql.connect(host=services.MYSQL_HOST,
                               user=services.MYSQL_USER,
                               password=services.MYSQL_PASSWORD,
                               database=name, autocommit=True)
        try:
            with conn.cursor() as cur:
                for statement in ddl:
                    cur.execute(statement)
            site = types.SimpleNamespace(
                db_name=lambda n: name,
                db_url=lambda n: "mysql+pymysql://u:p@h/%s" % n,
                transport_url="rabbit://u:p@h:5672/vhost")
            yield conn, site, infra.MariaDB(host=services.MYSQL_HOST,
                                            user=services.MYSQL_USER,
                                            password=services.MYSQL_PASSWORD)
        finally:
            conn.close()


@pytest.mark.mariadb
def test_cell_mappings_like_map_cell0_and_create_cell():
    with _nova_tables(_CELL_MAPPINGS) as (conn, site, db):
        site_mod.insert_cell_mappings(db, site)
        site_mod.insert_cell_mappings(db, site)   # idempotent
        with conn.cursor() as cur:
            cur.execute("SELECT uuid, name, transport_url, "
                        "database_connection, disabled, created_at "
                        "FROM cell_mappings ORDER BY id")
            rows = cur.fetchall()
    assert [r[:5] for r in rows] == [
        (site_mod.CELL0_UUID, "cell0", "none:///",
         "mysql+pymysql://u:p@h/nova_cell0", 0),
        (rows[1][0], "cell1", "rabbit://u:p@h:5672/vhost",
         "mysql+pymysql://u:p@h/nova", 0)]
    assert rows[1][0] != site_mod.CELL0_UUID
    assert all(r[5] is not None for r in rows)


# nova_api.host_mappings and (the columns used) the cell's compute_nodes,
# as Nova's migrations create them.
_HOST_MAPPINGS = """CREATE TABLE host_mappings (
    created_at DATETIME, updated_at DATETIME,
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    cell_id INT NOT NULL, host VARCHAR(255) NOT NULL,
    UNIQUE KEY uniq_host_mappings0host (host),
    FOREIGN KEY (cell_id) REFERENCES cell_mappings (id))"""
_COMPUTE_NODES = """CREATE TABLE compute_nodes (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, host VARCHAR(255),
    mapped INT DEFAULT 0, deleted INT DEFAULT 0)"""


@pytest.mark.mariadb
def test_compute_host_mapped_like_discover_hosts():
    """The host's mapping to cell1 and its node marked mapped (what
    nova-scheduler's discovery then skips); once, however often it runs
    or if the scheduler mapped it first; no other host touched."""
    with _nova_tables(_CELL_MAPPINGS, _HOST_MAPPINGS,
                      _COMPUTE_NODES) as (conn, site, db):
        with conn.cursor() as cur:
            cur.execute("INSERT INTO compute_nodes (host) VALUES "
                        "('site-x-compute'), ('other-compute')")
        site_mod.insert_cell_mappings(db, site)
        assert site_mod.compute_node_exists(db, site, "site-x-compute")
        assert not site_mod.compute_node_exists(db, site, "site-y")
        site_mod.map_compute_host(db, site, "site-x-compute")
        site_mod.map_compute_host(db, site, "site-x-compute")
        with conn.cursor() as cur:
            cur.execute("SELECT h.host, c.name, h.created_at FROM "
                        "host_mappings h JOIN cell_mappings c "
                        "ON c.id = h.cell_id")
            mappings = cur.fetchall()
            cur.execute("SELECT host, mapped FROM compute_nodes "
                        "ORDER BY host")
            nodes = cur.fetchall()
    assert [m[:2] for m in mappings] == [("site-x-compute", "cell1")]
    assert mappings[0][2] is not None
    assert nodes == (("other-compute", 0), ("site-x-compute", 1))


def test_identity_recipe_names_what_makes_the_seeded_keystone(tmp_path):
    """The cached seeded Keystone of one site or port layout must never be
    loaded for another: each differs in the dump cache's recipe."""
    from protector_lab import layout

    def recipe(name, offset):
        s = layout.Site(name, offset, str(tmp_path / name))
        return site_mod.identity_recipe(s, ["bootstrap", s.auth_url])
    a = recipe("site-a", 0)
    assert a == recipe("site-a", 0)
    assert a != recipe("site-b", 0)
    assert a != recipe("site-a", 100)
    assert a["users"]["nova"] == "nova-site-a"
    assert "def seed_identity" in a["seed"]


class _OrderedBuilder(site_mod.SiteBuilder):
    """build() with every step reduced to a record of when it ran: the
    start order is the point, not the services."""

    def __init__(self, identity_cached):
        self.specs = {"nova-compute": {}}
        self.site = types.SimpleNamespace(name="site-x")
        self._keystone_up = self._identity_ready = None
        self.identity_cached = identity_cached
        self.events = []

    def log(self, msg):
        pass

    def start(self, name):
        if name in site_mod.AFTER_KEYSTONE and self._keystone_up:
            self._keystone_up.wait()
        self.events.append("start " + name)

    def keystone(self):
        if self.identity_cached:
            self._identity_loaded()
            time.sleep(0.3)
            self.events.append("keystone up")
        else:
            self.events.append("keystone up")
            time.sleep(0.3)
            self.events.append("seeded")
            self._identity_loaded()

    def placement(self):
        self.start("placement")

    def nova_compute_start(self):
        self.start("nova-compute")

    def write_files(self):
        pass
    wait_port = wait_compute = seed_resources = wait_volume_backend = \
        nova_db = glance = neutron = cinder = protector = horizon = \
        lambda self, *args, **kwargs: None


def test_nova_waits_for_its_keystone_user_not_for_keystone():
    """A first ``up`` (nothing cached) seeds Keystone after it starts:
    nova-conductor started before its user exists gets a 401 and exits.
    With the seeded dump loaded, Nova starts without waiting for
    Keystone to answer."""
    cold = _OrderedBuilder(identity_cached=False)
    cold.build()
    assert cold.events.index("seeded") < \
        cold.events.index("start nova-conductor")
    warm = _OrderedBuilder(identity_cached=True)
    warm.build()
    assert warm.events.index("start nova-conductor") < \
        warm.events.index("keystone up")
    for builder in (cold, warm):
        assert builder.events[-1] == "start nova-compute"

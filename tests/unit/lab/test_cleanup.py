"""``down`` removes exactly what the lab created: inventory and processes.

MariaDB and RabbitMQ are replaced by in-memory fakes; processes are real
(``sleep``) so the pidfile handling is checked for real.
"""
import os
import subprocess
import sys
import time

import pytest

from protector_lab import infra
from protector_lab import lab as lab_mod
from protector_lab import layout
from protector_lab import procs


class FakeDB:
    def __init__(self, databases=(), users=()):
        self.dbs = set(databases)
        self.user_rows = set(users)
        self.log = []
        self.max_connections = 151

    def execute(self, *statements):
        for stmt in statements:
            self.log.append(stmt)
            words = stmt.split()
            if stmt.startswith("CREATE DATABASE"):
                self.dbs.add(words[5].strip("`"))
            elif stmt.startswith("DROP DATABASE"):
                self.dbs.discard(words[4].strip("`"))
            elif stmt.startswith("CREATE USER"):
                user = words[5].split("@")[0].strip("'")
                self.user_rows.add((user, "127.0.0.1"))
            elif stmt.startswith("DROP USER"):
                user, host = (p.strip("'") for p in words[4].split("@"))
                self.user_rows.discard((user, host))
            elif stmt == "SELECT @@GLOBAL.max_connections":
                return [(self.max_connections,)]
            elif stmt.startswith("SET GLOBAL max_connections = "):
                self.max_connections = int(words[-1])
        return []

    def databases(self, prefix=""):
        return sorted(d for d in self.dbs if d.startswith(prefix))

    def users(self, prefix=""):
        return sorted(u for u in self.user_rows if u[0].startswith(prefix))


class FakeMQ:
    def __init__(self, vhosts=("/",), users=("guest",)):
        self.vhost_set = set(vhosts)
        self.user_set = set(users)

    def run(self, *args, check=True):
        cmd, rest = args[0], args[1:]
        if cmd == "add_vhost":
            self.vhost_set.add(rest[0])
        elif cmd == "delete_vhost":
            self.vhost_set.discard(rest[0])
        elif cmd == "add_user":
            self.user_set.add(rest[0])
        elif cmd == "delete_user":
            self.user_set.discard(rest[0])

    def vhosts(self):
        return sorted(self.vhost_set)

    def users(self):
        return sorted(self.user_set)


@pytest.fixture
def fakes(monkeypatch):
    db = FakeDB(databases=["test", "mysql", "lab_other"],
                users=[("root", "127.0.0.1")])
    mq = FakeMQ(vhosts=["/", "lab_site_z"], users=["guest", "lab_site_z"])
    monkeypatch.setattr(infra, "MariaDB", lambda: db)
    monkeypatch.setattr(infra, "RabbitMQ", lambda: mq)
    return db, mq


def test_inventory_persists_and_forgets(tmp_path):
    inv = infra.Inventory(str(tmp_path / "inv.json"))
    assert inv.empty()
    inv.add("database", "lab_site_a_nova")
    inv.add("database", "lab_site_a_nova")
    inv.add("vhost", "lab_site_a")
    again = infra.Inventory(str(tmp_path / "inv.json"))
    assert again.load()["database"] == ["lab_site_a_nova"]
    again.remove("database", "lab_site_a_nova")
    again.remove("vhost", "lab_site_a")
    assert inv.empty()


def test_create_records_before_creating(tmp_path, fakes):
    db, mq = fakes
    site = layout.sites(str(tmp_path))[1]
    inv = infra.Inventory(str(tmp_path / "inventory.json"))
    infra.create_site_databases(db, inv, site)
    infra.create_site_messaging(mq, inv, site)
    data = inv.load()
    assert sorted(data["database"]) == sorted(
        site.db_name(n) for n in layout.DB_NAMES)
    assert set(data["database"]) <= db.dbs
    assert data["db_user"] == ["lab_site_b"]
    assert data["vhost"] == ["lab_site_b"] and "lab_site_b" in mq.vhost_set
    assert data["mq_user"] == ["lab_site_b"]


def test_create_refuses_databases_it_did_not_make(tmp_path, fakes):
    db, _mq = fakes
    db.dbs.add("lab_site_a_keystone")
    site = layout.sites(str(tmp_path))[0]
    inv = infra.Inventory(str(tmp_path / "inventory.json"))
    with pytest.raises(infra.InfraError, match="did not create"):
        infra.create_site_databases(db, inv, site)


def test_down_drops_only_what_the_lab_created(tmp_path, fakes):
    db, mq = fakes
    lab = lab_mod.Lab(str(tmp_path / "lab"), log=lambda m: None)
    for site in layout.sites(lab.state_dir):
        infra.create_site_databases(db, lab.inventory, site)
        infra.create_site_messaging(mq, lab.inventory, site)
    os.makedirs(os.path.join(lab.state_dir, "site-a", "run"))
    lab.down()
    assert db.dbs == {"test", "mysql", "lab_other"}
    assert db.user_rows == {("root", "127.0.0.1")}
    assert mq.vhost_set == {"/", "lab_site_z"}
    assert mq.user_set == {"guest", "lab_site_z"}
    assert not os.path.exists(lab.state_dir)


def test_down_purge_also_drops_unrecorded_lab_objects(tmp_path, fakes):
    db, mq = fakes
    db.dbs.add("lab_site_a_stale")
    lab = lab_mod.Lab(str(tmp_path / "lab"), log=lambda m: None)
    lab.down(purge=True)
    assert db.dbs == {"test", "mysql", "lab_other"}
    assert mq.vhost_set == {"/"}
    assert mq.user_set == {"guest"}


def _spawn(tmp_path, name="p", script="import time; time.sleep(60)"):
    pidfile = str(tmp_path / "run" / (name + ".pid"))
    pid = procs.start([sys.executable, "-c", script], pidfile,
                      str(tmp_path / "log" / (name + ".out")))
    return pid, pidfile


def test_process_started_tracked_and_stopped_with_its_children(tmp_path):
    # The child outlives a plain kill of its parent; stop() must get both.
    script = ("import subprocess, sys, time; "
              "subprocess.Popen([sys.executable, '-c', "
              "'import time; time.sleep(60)']); time.sleep(60)")
    pid, pidfile = _spawn(tmp_path, script=script)
    assert procs.running_pid(pidfile) == pid
    deadline = time.monotonic() + 10
    while len(procs._group_members(pid)) < 2:
        assert time.monotonic() < deadline, "child never started"
        time.sleep(0.05)
    assert procs.stop(pidfile, timeout=5) is True
    assert procs._group_members(pid) == []
    assert procs.running_pid(pidfile) is None
    assert not os.path.exists(pidfile)
    assert procs.stop(pidfile) is False


def test_recycled_pid_is_never_signalled(tmp_path):
    victim = subprocess.Popen([sys.executable, "-c",
                               "import time; time.sleep(60)"])
    try:
        pidfile = tmp_path / "run" / "old.pid"
        pidfile.parent.mkdir()
        # Same pid, different start time: a process the lab did not start.
        pidfile.write_text("%d 1\n" % victim.pid)
        assert procs.running_pid(str(pidfile)) is None
        assert procs.stop(str(pidfile)) is False
        assert victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


def test_port_clash_names_the_lab_of_another_checkout(tmp_path, fakes,
                                                      monkeypatch):
    monkeypatch.setenv("PROTECTOR_LAB_CACHE", str(tmp_path / "cache"))
    other = lab_mod.Lab(str(tmp_path / "other"), log=lambda m: None)
    os.makedirs(other.state_dir)
    other.save({"ready": True, "sites": {}})
    other._register(True)
    mine = lab_mod.Lab(str(tmp_path / "mine"), log=lambda m: None)
    assert mine.other_labs() == [other.state_dir]
    monkeypatch.setattr(infra, "port_open", lambda *a: True)
    with pytest.raises(lab_mod.LabError) as exc:
        mine.check_ports(layout.sites(mine.state_dir))
    assert "PROTECTOR_LAB_DIR=%s protector-lab down" % other.state_dir \
        in str(exc.value)
    other.down()
    assert mine.other_labs() == []


def test_max_connections_raised_for_the_lab_and_put_back(tmp_path, fakes):
    db, mq = fakes
    lab = lab_mod.Lab(str(tmp_path / "lab"), log=lambda m: None)
    infra.ensure_connections(db, lab.inventory, log=lambda m: None)
    assert db.max_connections == infra.MAX_CONNECTIONS
    # A second 'up' keeps the value found first, to put back.
    infra.ensure_connections(db, lab.inventory, log=lambda m: None)
    assert lab.inventory.load()["db_setting"] == ["max_connections=151"]
    os.makedirs(os.path.join(lab.state_dir, "site-a", "run"))
    lab.down()
    assert db.max_connections == 151
    assert lab.inventory.empty()


def test_max_connections_left_alone_when_high_enough(tmp_path, fakes):
    db, _mq = fakes
    db.max_connections = 1000
    inv = infra.Inventory(str(tmp_path / "inventory.json"))
    infra.ensure_connections(db, inv, log=lambda m: None)
    assert db.max_connections == 1000 and inv.empty()

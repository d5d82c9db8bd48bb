"""MariaDB and RabbitMQ: the machine's servers, the lab's own objects in them.

The lab never starts second copies of these servers. It uses the ones on
127.0.0.1:3306 (root, empty password) and 127.0.0.1:5672 (``rabbitmqctl``
as root), starting them with the machine's own start commands if they are
down. In them it creates per-site databases, a database user, a RabbitMQ
vhost and a RabbitMQ user, and records each one in the lab's inventory
*before* creating it, so ``down`` removes exactly what the lab made, even
after a crash half-way through ``up``.
"""
import json
import os
import shutil
import socket
import subprocess
import threading
import time

from protector_lab import layout


class InfraError(RuntimeError):
    pass


def port_open(host, port, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# The commands that start these servers on the project's machines
# (there is no systemd); see doc/lab.md.
START_COMMANDS = {
    "MariaDB": ["start-stop-daemon", "--start", "--oknodo", "--background",
                "--exec", "/usr/sbin/mariadbd"],
    "RabbitMQ": ["rabbitmq-server", "-detached"],
}


def ensure_server(name, address, log=print, wait=60):
    """Make sure ``name`` listens on ``address``; start it if it does not."""
    if port_open(*address):
        return False
    cmd = START_COMMANDS[name]
    if not shutil.which(cmd[0]):
        raise InfraError(
            "%s is not listening on %s:%d and %s is not installed. Install "
            "and start it (Debian: apt-get install %s), then run "
            "protector-lab up again." % (
                name, address[0], address[1], cmd[0],
                "mariadb-server" if name == "MariaDB" else "rabbitmq-server"))
    log("[lab] %s is not listening on %s:%d; starting it: %s" % (
        name, address[0], address[1], " ".join(cmd)))
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if port_open(*address):
            return True
        time.sleep(0.5)
    raise InfraError("%s did not come up on %s:%d within %d s after '%s'. "
                     "Start it by hand and rerun protector-lab up." % (
                         name, address[0], address[1], wait, " ".join(cmd)))


class Inventory:
    """What the lab created outside its state dir, persisted as JSON.

    Kinds: ``database``, ``db_user``, ``vhost``, ``mq_user``, and
    ``db_setting`` (``name=old value`` of a MariaDB global the lab raised).
    Entries are added before the object is created and removed after it is
    dropped (or the setting restored).
    """

    KINDS = ("database", "db_user", "vhost", "mq_user", "db_setting")

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()

    def load(self):
        try:
            with open(self.path) as f:
                data = json.load(f)
        except FileNotFoundError:
            data = {}
        return {k: list(data.get(k, [])) for k in self.KINDS}

    def _save(self, data):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def add(self, kind, name):
        with self._lock:
            data = self.load()
            if name not in data[kind]:
                data[kind].append(name)
                self._save(data)

    def remove(self, kind, name):
        with self._lock:
            data = self.load()
            if name in data[kind]:
                data[kind].remove(name)
                self._save(data)

    def empty(self):
        return not any(self.load().values())


class MariaDB:
    """Root connection to the machine's MariaDB (PyMySQL)."""

    def __init__(self, host=layout.MARIADB[0], port=layout.MARIADB[1],
                 user="root", password=""):
        self.args = dict(host=host, port=port, user=user, password=password)

    def execute(self, *statements):
        import pymysql
        conn = pymysql.connect(connect_timeout=10, autocommit=True,
                               **self.args)
        try:
            rows = []
            with conn.cursor() as cur:
                for stmt in statements:
                    cur.execute(stmt)
                    rows = list(cur.fetchall())
            return rows
        finally:
            conn.close()

    def execute_params(self, statement, params):
        """One statement with its values passed to the driver (quoted by
        PyMySQL, never pasted into the SQL); its rows."""
        import pymysql
        conn = pymysql.connect(connect_timeout=10, autocommit=True,
                               **self.args)
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                return list(cur.fetchall())
        finally:
            conn.close()

    def databases(self, prefix=""):
        rows = self.execute("SHOW DATABASES")
        return sorted(r[0] for r in rows if r[0].startswith(prefix))

    def users(self, prefix=""):
        rows = self.execute("SELECT User, Host FROM mysql.user")
        return sorted((u, h) for u, h in rows if u.startswith(prefix))


def _q(name):
    return "`%s`" % name.replace("`", "``")


def create_site_databases(db, inventory, site):
    """Databases and a user with rights on them; fail if one pre-exists."""
    existing = set(db.databases(site.db_prefix))
    ours = set(inventory.load()["database"])
    foreign = sorted(existing - ours)
    if foreign:
        raise InfraError(
            "MariaDB already has %s, which this lab (%s) did not create: "
            "another lab may be using it. Run 'protector-lab down --purge' "
            "to drop every lab_site_* object, or point PROTECTOR_LAB_DIR at "
            "the lab that made them." % (", ".join(foreign),
                                         os.path.dirname(inventory.path)))
    user = "'%s'@'127.0.0.1'" % site.db_user
    inventory.add("db_user", site.db_user)
    db.execute("CREATE USER IF NOT EXISTS %s IDENTIFIED BY '%s'" % (
        user, site.db_password))
    stmts = []
    for name in layout.DB_NAMES:
        full = site.db_name(name)
        inventory.add("database", full)
        stmts.append("CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb4"
                     % _q(full))
        stmts.append("GRANT ALL PRIVILEGES ON %s.* TO %s" % (_q(full), user))
    db.execute(*stmts)


# Two sites run about 25 processes that pool connections to one MariaDB
# (10 each at most, config.db): bursts of creates reach the server's
# default of 151, and then a Cinder or Nova worker cannot write a status
# (a volume stays 'creating'). DevStack configures its server with 1024.
MAX_CONNECTIONS = 500


def ensure_connections(db, inventory, log=print):
    """Raise MariaDB's max_connections to MAX_CONNECTIONS if it is lower,
    remembering the old value for ``restore_settings`` (at ``down``)."""
    (current,), = db.execute("SELECT @@GLOBAL.max_connections")
    if int(current) >= MAX_CONNECTIONS:
        return
    if not any(e.startswith("max_connections=")
               for e in inventory.load()["db_setting"]):
        inventory.add("db_setting", "max_connections=%d" % int(current))
    db.execute("SET GLOBAL max_connections = %d" % MAX_CONNECTIONS)
    log("[lab] MariaDB max_connections %d -> %d for the two sites' services "
        "(put back at 'down')" % (int(current), MAX_CONNECTIONS))


def restore_settings(db, inventory):
    """Put back the MariaDB globals ``ensure_connections`` raised."""
    for entry in inventory.load()["db_setting"]:
        name, _, value = entry.partition("=")
        if name == "max_connections" and value.isdigit():
            db.execute("SET GLOBAL max_connections = %d" % int(value))
        inventory.remove("db_setting", entry)


def drop_databases(db, inventory, names=None):
    names = inventory.load()["database"] if names is None else names
    for name in names:
        db.execute("DROP DATABASE IF EXISTS %s" % _q(name))
        inventory.remove("database", name)


def drop_db_users(db, inventory, names=None):
    names = inventory.load()["db_user"] if names is None else names
    for name in names:
        for user, host in db.users(name):
            if user == name:
                db.execute("DROP USER IF EXISTS '%s'@'%s'" % (user, host))
        inventory.remove("db_user", name)


class RabbitMQ:
    """``rabbitmqctl`` against the machine's RabbitMQ node."""

    def __init__(self, ctl="rabbitmqctl"):
        self.ctl = ctl

    def run(self, *args, check=True):
        if not shutil.which(self.ctl):
            raise InfraError("rabbitmqctl not found: the lab needs it (as "
                             "root) to create its vhosts and users.")
        result = subprocess.run([self.ctl, "-q"] + list(args),
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise InfraError("rabbitmqctl %s failed: %s" % (
                " ".join(args), (result.stderr or result.stdout).strip()))
        return result

    def vhosts(self):
        out = self.run("list_vhosts", "--no-table-headers", "name").stdout
        return sorted(v.strip() for v in out.splitlines() if v.strip())

    def users(self):
        out = self.run("list_users", "--no-table-headers").stdout
        return sorted(line.split()[0] for line in out.splitlines()
                      if line.strip())


def create_site_messaging(mq, inventory, site):
    inventory.add("vhost", site.rabbit_vhost)
    inventory.add("mq_user", site.rabbit_user)
    # Each rabbitmqctl call costs 1-2 s of Erlang start-up: ask only what
    # is needed.
    if site.rabbit_vhost not in mq.vhosts():
        mq.run("add_vhost", site.rabbit_vhost)
    if site.rabbit_user in mq.users():
        mq.run("change_password", site.rabbit_user, site.rabbit_password)
    else:
        mq.run("add_user", site.rabbit_user, site.rabbit_password)
    mq.run("set_permissions", "-p", site.rabbit_vhost, site.rabbit_user,
           ".*", ".*", ".*")


def drop_messaging(mq, inventory, vhosts=None, users=None):
    data = inventory.load()
    vhosts = data["vhost"] if vhosts is None else vhosts
    users = data["mq_user"] if users is None else users
    present_vhosts = set(mq.vhosts()) if vhosts else set()
    for vhost in vhosts:
        if vhost in present_vhosts:
            mq.run("delete_vhost", vhost)
        inventory.remove("vhost", vhost)
    present_users = set(mq.users()) if users else set()
    for user in users:
        if user in present_users:
            mq.run("delete_user", user)
        inventory.remove("mq_user", user)

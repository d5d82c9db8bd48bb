"""Throwaway databases and vhosts on the machine's MariaDB and RabbitMQ."""
import contextlib
import os
import shutil
import subprocess
import uuid

import pymysql

MYSQL_HOST = os.environ.get("PROTECTOR_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_USER = os.environ.get("PROTECTOR_TEST_MYSQL_USER", "root")
MYSQL_PASSWORD = os.environ.get("PROTECTOR_TEST_MYSQL_PASSWORD", "")
RABBIT_URL = "rabbit://guest:guest@127.0.0.1:5672/"


def wait_or_kill(proc, timeout=20):
    """Wait for a process told to stop; kill it after ``timeout`` s."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Stopping:
    """Servers told to stop whose exits are awaited together, at the end
    of the test session (``LATER``; tests/conftest.py): each protector-api
    (gunicorn) and Keystone (uWSGI) takes about 1 s to exit, and a test
    process's session ended with 6 to 8 of them one after the other
    (10-14 s on a loaded machine), besides one per module."""

    def __init__(self):
        self.procs = []

    def add(self, proc):
        if proc is not None:
            self.procs.append(proc)

    def wait(self):
        while self.procs:
            wait_or_kill(self.procs.pop())


LATER = Stopping()

_DEAD = []  # the sockets that hold dead_port()s, for the process's life


def dead_port():
    """A local port where nothing answers (connections are refused) and
    that no server of this process's tests can be given: bound, never
    listening. A port merely found free was later handed to another
    test's protector-api (bind to port 0), which then answered for the
    "dead" site."""
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _DEAD.append(sock)
    return sock.getsockname()[1]


def mysql_available():
    try:
        pymysql.connect(host=MYSQL_HOST, user=MYSQL_USER,
                        password=MYSQL_PASSWORD, connect_timeout=3).close()
        return True
    except pymysql.MySQLError:
        return False


@contextlib.contextmanager
def mysql_database(prefix="protector_test"):
    """Create an empty database; yield its SQLAlchemy URL; drop it."""
    name = "%s_%s" % (prefix, uuid.uuid4().hex[:10])
    conn = pymysql.connect(host=MYSQL_HOST, user=MYSQL_USER,
                           password=MYSQL_PASSWORD, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE `%s` CHARACTER SET utf8mb4" % name)
        yield "mysql+pymysql://%s:%s@%s/%s?charset=utf8mb4" % (
            MYSQL_USER, MYSQL_PASSWORD, MYSQL_HOST, name)
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS `%s`" % name)
        conn.close()


def rabbitmqctl():
    return shutil.which("rabbitmqctl") or (
        "/usr/sbin/rabbitmqctl" if os.path.exists("/usr/sbin/rabbitmqctl")
        else None)


def rabbit_available():
    import socket
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=3).close()
    except OSError:
        return False
    return rabbitmqctl() is not None


@contextlib.contextmanager
def rabbit_vhost(prefix="protector_test"):
    """Create a vhost for guest; yield its transport URL; delete it."""
    name = "%s_%s" % (prefix, uuid.uuid4().hex[:10])
    ctl = rabbitmqctl()
    subprocess.run([ctl, "add_vhost", name], check=True,
                   capture_output=True)
    try:
        subprocess.run([ctl, "set_permissions", "-p", name, "guest", ".*",
                        ".*", ".*"], check=True, capture_output=True)
        yield "rabbit://guest:guest@127.0.0.1:5672/%s" % name
    finally:
        subprocess.run([ctl, "delete_vhost", name], capture_output=True)

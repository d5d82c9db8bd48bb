"""Migrated service databases, cached per service version.

A warm ``up`` spent most of its CPU running the services' schema
migrations (Keystone, Nova's three databases, Placement, Neutron's long
chain, Cinder, Glance), twice, one set per site, on 2 cores. What they
produce depends only on the service's version, which is the venv's: the
venv directory's name is a hash of its pins. So the first ``up`` with a
venv dumps each freshly migrated database to
``<cache>/dbdumps/<venv>/<database>.sql`` (mysqldump, before any service
writes to it), and later ``up``s load that file instead of migrating.

Only what the migrations wrote is cached: bootstrap data, cell mappings,
users and anything else site-specific are still made per site. A dump
that fails to load is deleted and the migration runs as before.
``PROTECTOR_LAB_DB_CACHE=0`` turns the cache off.
"""
import os
import subprocess
import uuid

from protector_lab import layout
from protector_lab import venvs


def enabled():
    return os.environ.get("PROTECTOR_LAB_DB_CACHE", "1") != "0"


def _path(venv, name):
    return os.path.join(venvs.cache_dir(), "dbdumps",
                        os.path.basename(os.path.normpath(venv)),
                        name + ".sql")


def _client_args(tool):
    host, port = layout.MARIADB
    return [tool, "--host", host, "--port", str(port), "--user", "root"]


def load(venv, name, database):
    """Load the cached migrated ``name`` database of ``venv`` into
    ``database`` (empty). True if it was there and loaded."""
    if not enabled():
        return False
    path = _path(venv, name)
    if not os.path.exists(path):
        return False
    with open(path, "rb") as dump:
        result = subprocess.run(_client_args("mysql") + [database],
                                stdin=dump, capture_output=True)
    if result.returncode != 0:
        # A bad dump must not cost more than one migration: drop it.
        os.unlink(path)
        raise DumpError("loading %s into %s failed: %s" % (
            path, database, result.stderr.decode(errors="replace")[-1000:]))
    return True


def save(venv, name, database):
    """Dump the just-migrated ``database`` as ``name`` of ``venv``.
    Best effort: a failure only means the next ``up`` migrates again."""
    if not enabled():
        return
    path = _path(venv, name)
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Both sites (threads of one process) may dump the same service at
    # once: each writes its own file, the last rename wins, either is
    # whole.
    tmp = "%s.%s.tmp" % (path, uuid.uuid4().hex)
    try:
        with open(tmp, "wb") as out:
            result = subprocess.run(
                _client_args("mysqldump") + [
                    "--single-transaction", "--skip-comments",
                    "--skip-dump-date", "--no-tablespaces", "--triggers",
                    "--routines", database],
                stdout=out, stderr=subprocess.PIPE)
        if result.returncode == 0:
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class DumpError(RuntimeError):
    pass


def migrate(venv, names, run_migration):
    """Load the cached dumps of ``names`` ({name: database}) of ``venv``,
    or empty those databases, run ``run_migration()`` (which migrates them
    all) and save dumps of them."""
    # Databases holding loaded or half-loaded tables, which would make the
    # migration fail; one whose dump is missing is still empty.
    dirty = []
    for name, database in names.items():
        try:
            if not load(venv, name, database):
                break
        except DumpError:
            dirty.append(database)
            break
        dirty.append(database)
    else:
        return "loaded"
    for database in dirty:
        empty(database)
    run_migration()
    for name, database in names.items():
        save(venv, name, database)
    return "migrated"


def empty(database):
    from protector_lab import infra
    db = infra.MariaDB()
    q = "`%s`" % database.replace("`", "``")
    db.execute("DROP DATABASE IF EXISTS %s" % q,
               "CREATE DATABASE %s CHARACTER SET utf8mb4" % q)

"""Migrated service databases, cached per service version.

A warm ``up`` spent most of its CPU running the services' schema
migrations (Keystone, Nova's three databases, Placement, Neutron's long
chain, Cinder, Glance), twice, one set per site, on 2 cores. What they
produce depends only on the service's version, which is the venv's: the
venv directory's name is a hash of its pins. So the first ``up`` with a
venv dumps each freshly migrated database to
``<cache>/dbdumps/<venv>/<database>.sql`` (mysqldump, before any service
writes to it), and later ``up``s load that file instead of migrating.

Only what the migrations wrote is cached that way: cell mappings and
anything else site-specific are still made per site. A dump that fails to
load is deleted and the migration runs as before.

A database whose site-specific content is fully determined by a recipe
(Keystone's bootstrap and seeded identity: users with passwords derived
from the site's name, projects, roles, the catalog's URLs) is cached a
second way: ``load_prepared``/``save_prepared`` keep its dump under a hash
of the recipe, beside a JSON file of what the caller needs back (the IDs
it created). A change to the recipe is a new hash, so a stale dump is
never loaded. ``PROTECTOR_LAB_DB_CACHE=0`` turns both caches off.
"""
import concurrent.futures
import hashlib
import json
import os
import subprocess
import uuid

from protector_lab import layout
from protector_lab import venvs


def enabled():
    return os.environ.get("PROTECTOR_LAB_DB_CACHE", "1") != "0"


def _path(venv, name, ext=".sql"):
    return os.path.join(venvs.cache_dir(), "dbdumps",
                        os.path.basename(os.path.normpath(venv)),
                        name + ext)


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


def save(venv, name, database, replace=False):
    """Dump the just-migrated ``database`` as ``name`` of ``venv``.
    Best effort: a failure only means the next ``up`` migrates again."""
    if not enabled():
        return
    path = _path(venv, name)
    if os.path.exists(path) and not replace:
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


def _meta_path(venv, prepared):
    """The JSON file beside a prepared dump."""
    return _path(venv, prepared)[:-len(".sql")] + ".json"


def _prepared_name(name, recipe):
    digest = hashlib.sha256(json.dumps(
        recipe, sort_keys=True).encode()).hexdigest()[:16]
    return "%s-%s" % (name, digest)


def load_prepared(venv, name, database, recipe):
    """Load ``database`` (empty) as ``save_prepared`` dumped it for the
    same ``recipe``, and return the saved JSON value; None (database
    empty again) when there is no such dump or it does not load."""
    if not enabled():
        return None
    prepared = _prepared_name(name, recipe)
    meta = _meta_path(venv, prepared)
    try:
        with open(meta) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    try:
        if load(venv, prepared, database):
            return value
    except DumpError:
        empty(database)
    return None


def save_prepared(venv, name, database, recipe, value):
    """Dump ``database`` as made by ``recipe``, with ``value`` (JSON) to
    return on a later load. The JSON file is written after the dump, and
    a load needs both, so a half-saved pair is never used."""
    if not enabled():
        return
    prepared = _prepared_name(name, recipe)
    sql, meta = _path(venv, prepared), _meta_path(venv, prepared)
    if os.path.exists(meta) and os.path.exists(sql):
        return
    # Either file alone (a crash between the two, a dropped bad dump)
    # holds other IDs than ``value``: dump again rather than pair them.
    if os.path.exists(meta):
        os.unlink(meta)
    save(venv, prepared, database, replace=True)
    if not os.path.exists(sql):
        return
    tmp = "%s.%s.tmp" % (meta, uuid.uuid4().hex)
    with open(tmp, "w") as f:
        json.dump(value, f, sort_keys=True)
    os.replace(tmp, meta)


def migrate(venv, names, run_migration):
    """Load the cached dumps of ``names`` ({name: database}) of ``venv``,
    or empty those databases, run ``run_migration()`` (which migrates them
    all) and save dumps of them."""
    # Databases holding loaded or half-loaded tables, which would make the
    # migration fail; one whose dump is missing is still empty.
    # Loaded one per thread: each is mostly MariaDB creating tables
    # (Nova's cell0 and cell1 are 2 x 100), on the critical path of up.
    def one(item):
        name, database = item
        try:
            return database, load(venv, name, database)
        except DumpError:
            return database, None
    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        results = list(pool.map(one, names.items()))
    if all(loaded for _, loaded in results):
        return "loaded"
    dirty = [database for database, loaded in results if loaded is not False]
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

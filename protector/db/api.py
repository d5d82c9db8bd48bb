"""The one enginefacade of Protector.

Every database access goes through ``reader``/``writer`` so that connection
handling, transactions and deadlock retries are uniform.
"""
import contextlib
import functools
import threading

from oslo_db import api as oslo_db_api
from oslo_db import exception as oslo_db_exc
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa

context_manager = enginefacade.transaction_context()
_configured = False
_local = threading.local()
_immediate = set()
_immediate_lock = threading.Lock()


# How long a SQLite writer waits for the write lock before "database is
# locked": a change holds it across its synchronous push to the peer
# (up to [cloud] request_timeout per try), and concurrent changes of the
# embedded default should queue, not fail.
SQLITE_BUSY_MS = 120000


def _sqlite_pragmas(engine):
    """SQLite: WAL (readers never block a writer's commit, nor it them)
    and a long busy timeout, on every connection."""
    if engine.dialect.name != "sqlite":
        return

    def on_connect(dbapi_conn, record):
        cursor = dbapi_conn.cursor()
        try:
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=%d" % SQLITE_BUSY_MS)
        finally:
            cursor.close()
    sa.event.listen(engine, "connect", on_connect)


# Values per IN (...) of a batched read: under SQLite's oldest limit of
# 999 bound parameters, with room for the query's other parameters.
IN_CHUNK = 500


def chunks(values):
    """``values`` in lists of at most ``IN_CHUNK``, one per IN (...)."""
    values = list(values)
    for start in range(0, len(values), IN_CHUNK):
        yield values[start:start + IN_CHUNK]


def configure(conf):
    """Point the facade at ``[database]``; call once per process."""
    global _configured
    if _configured:
        return
    context_manager.configure(**facade_options(conf))
    context_manager.append_on_engine_create(_sqlite_pragmas)
    _configured = True


def is_busy(exc):
    """A write that could not get the database in time: MariaDB's
    deadlock/lock wait, SQLite's "database is locked"."""
    return isinstance(exc, oslo_db_exc.DBDeadlock) or (
        isinstance(exc, oslo_db_exc.DBError) and
        "database is locked" in str(exc))


def facade_options(conf):
    """enginefacade settings from ``[database]``.

    ``sqlite_fk`` enforces foreign keys (and ON DELETE CASCADE) on SQLite
    too, so the embedded default behaves like MariaDB.
    """
    return dict(conf.database.items(), sqlite_fk=True)


def get_engine():
    return context_manager.writer.get_engine()


def retry_on_deadlock(fn):
    """Retry a writer on deadlock (MariaDB/Galera); it must be idempotent.

    Only a transaction of its own can be retried: called inside another
    writer's transaction (e.g. a change pushed to the peer in the same
    transaction), the deadlock has already rolled that one back, so it
    propagates and the request answers 409 protector.database.busy
    (api/handler.py) instead of retrying into a dead session."""
    retrying = oslo_db_api.wrap_db_retry(
        max_retries=5, retry_on_deadlock=True, inc_retry_interval=True)(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if getattr(_local, "writing", False):
            return fn(*args, **kwargs)
        return retrying(*args, **kwargs)
    return wrapper


def _sqlite_write_lock(engine):
    """SQLite: begin write transactions with ``BEGIN IMMEDIATE``.

    oslo.db begins every SQLite transaction with a plain (deferred)
    ``BEGIN``, so a writer that reads first (``intend_resource``, any
    conditional update) holds a shared lock and then asks for the write
    lock. Two such writers at once (the engine's parallel instance
    threads, or the API and the engine) deadlock, and SQLite fails one at
    once with "database is locked" instead of letting it wait. Taking the
    write lock first makes the second writer wait (the busy timeout) and
    go on. Readers keep the plain BEGIN.
    """
    if engine.dialect.name != "sqlite" or id(engine) in _immediate:
        return
    with _immediate_lock:
        if id(engine) in _immediate:
            return
        _immediate.add(id(engine))
        # oslo.db's listener emits the plain BEGIN; ours replaces it (same
        # bookkeeping, IMMEDIATE for writers). Left alone if oslo.db
        # changed.
        theirs = [fn for fn in engine.dispatch.begin
                  if getattr(fn, "__name__", "") == "_sqlite_emit_begin"]
        if len(theirs) != 1:
            return

        def _begin(conn):
            if "in_transaction" not in conn.info:
                conn.execute(sa.text("BEGIN IMMEDIATE" if getattr(
                    _local, "writing", False) else "BEGIN"))
                conn.info["in_transaction"] = True
        sa.event.listen(engine, "begin", _begin)
        sa.event.remove(engine, "begin", theirs[0])


@contextlib.contextmanager
def transaction(context):
    """An outer writer transaction spanning several db calls (and, for a
    synced change, the push to the peer): the calls inside join it, and
    their deadlock retry stands aside (retry_on_deadlock)."""
    _sqlite_write_lock(get_engine())
    outer = getattr(_local, "writing", False)
    _local.writing = True
    try:
        with context_manager.writer.using(context) as session:
            yield session
    finally:
        _local.writing = outer


def _facade_user(kind):
    """Decorator for functions taking (context, ...): run in a transaction."""
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(context, *args, **kwargs):
            facade = getattr(context_manager, kind)
            if kind != "writer":
                with facade.using(context) as session:
                    return fn(context, session, *args, **kwargs)
            _sqlite_write_lock(get_engine())
            outer = getattr(_local, "writing", False)
            _local.writing = True
            try:
                with facade.using(context) as session:
                    return fn(context, session, *args, **kwargs)
            finally:
                _local.writing = outer
        return wrapper
    return decorator


read = _facade_user("reader")
write = _facade_user("writer")

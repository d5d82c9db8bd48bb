"""The one enginefacade of Protector.

Every database access goes through ``reader``/``writer`` so that connection
handling, transactions and deadlock retries are uniform.
"""
import functools

from oslo_db import api as oslo_db_api
from oslo_db.sqlalchemy import enginefacade

context_manager = enginefacade.transaction_context()
_configured = False


def configure(conf):
    """Point the facade at ``[database]``; call once per process."""
    global _configured
    if _configured:
        return
    context_manager.configure(**facade_options(conf))
    _configured = True


def facade_options(conf):
    """enginefacade settings from ``[database]``.

    ``sqlite_fk`` enforces foreign keys (and ON DELETE CASCADE) on SQLite
    too, so the embedded default behaves like MariaDB.
    """
    return dict(conf.database.items(), sqlite_fk=True)


def get_engine():
    return context_manager.writer.get_engine()


def retry_on_deadlock(fn):
    """Retry a writer on deadlock (MariaDB/Galera); it must be idempotent."""
    return oslo_db_api.wrap_db_retry(
        max_retries=5, retry_on_deadlock=True, inc_retry_interval=True)(fn)


def _facade_user(kind):
    """Decorator for functions taking (context, ...): run in a transaction."""
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(context, *args, **kwargs):
            facade = getattr(context_manager, kind)
            with facade.using(context) as session:
                return fn(context, session, *args, **kwargs)
        return wrapper
    return decorator


read = _facade_user("reader")
write = _facade_user("writer")

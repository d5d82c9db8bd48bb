"""Service heartbeats (the ``services`` table), read by the health API."""

from oslo_utils import timeutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models

SVC = models.Service


@db_api.retry_on_deadlock
@db_api.write
def heartbeat(context, session, host, binary, version=None):
    """Record that ``binary`` on ``host`` is alive now (upsert)."""
    now = timeutils.utcnow()
    result = session.execute(sa.update(SVC).where(
        SVC.host == host, SVC.binary == binary).values(
        last_seen_at=now, version=version, updated_at=now))
    if result.rowcount == 0:
        session.add(SVC(host=host, binary=binary, last_seen_at=now,
                        version=version, created_at=now))
        session.flush()


@db_api.read
def list_binary(context, session, binary):
    rows = session.scalars(sa.select(SVC).where(SVC.binary == binary)
                           .order_by(SVC.host))
    return [{"host": r.host, "binary": r.binary,
             "last_seen_at": r.last_seen_at, "version": r.version}
            for r in rows]


@db_api.write
def delete(context, session, host, binary):
    session.execute(sa.delete(SVC).where(SVC.host == host,
                                         SVC.binary == binary))

"""Database functions for Keystone trusts (one per site, project and user).

The engine reads them through ``find``; the API creates and replaces
them through ``protector.cloud.trusts``.
"""
from oslo_utils import uuidutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models

FIELDS = ("id", "site_id", "project_id", "user_id", "trust_id", "roles",
          "created_at", "updated_at")


def _to_dict(row):
    return {f: getattr(row, f) for f in FIELDS}


@db_api.read
def get(context, session, site_id, project_id, user_id):
    row = session.scalars(sa.select(models.Trust).where(
        models.Trust.site_id == site_id,
        models.Trust.project_id == project_id,
        models.Trust.user_id == user_id)).first()
    return _to_dict(row) if row else None


@db_api.read
def find(context, session, site_id, project_id, user_id=None):
    """The trust ID delegated on ``site_id`` by ``user_id`` (preferred) or
    any user of ``project_id``; None when there is none."""
    rows = list(session.scalars(sa.select(models.Trust).where(
        models.Trust.site_id == site_id,
        models.Trust.project_id == project_id).order_by(
        models.Trust.created_at)))
    for row in rows:
        if row.user_id == user_id:
            return row.trust_id
    return rows[0].trust_id if rows else None


@db_api.write
def create(context, session, values):
    """Store a trust. Raises ``DBDuplicateEntry`` when a concurrent request
    stored one for the same site, project and user first."""
    row = models.Trust(id=uuidutils.generate_uuid(), **values)
    session.add(row)
    session.flush()
    return _to_dict(row)


@db_api.write
def delete(context, session, row_id, trust_id):
    """Delete the row if it still holds ``trust_id``; True if it did."""
    result = session.execute(sa.delete(models.Trust).where(
        models.Trust.id == row_id, models.Trust.trust_id == trust_id))
    return result.rowcount > 0

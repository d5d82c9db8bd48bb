"""Database functions for replication policies (one per protection group).

Tokens arrive and leave here already encrypted (``common/crypto.py``); the
dicts returned carry ``*_fa_api_token_encrypted`` and never clear text.
"""
from oslo_utils import uuidutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models

RP = models.ReplicationPolicy
FIELDS = ("id", "protection_group_id", "primary_fa_url",
          "primary_fa_api_token_encrypted", "secondary_fa_url",
          "secondary_fa_api_token_encrypted", "pure_pg_name",
          "replication_interval", "rpo_minutes", "created_at", "updated_at")


def _to_dict(row):
    return {f: getattr(row, f) for f in FIELDS}


@db_api.read
def get(context, session, pg_id):
    row = session.scalars(sa.select(RP).where(
        RP.protection_group_id == pg_id)).first()
    return _to_dict(row) if row is not None else None


@db_api.retry_on_deadlock
@db_api.write
def put(context, session, pg_id, values):
    """Create or replace; returns (policy, created)."""
    row = session.scalars(sa.select(RP).where(
        RP.protection_group_id == pg_id).with_for_update()).first()
    created = row is None
    if created:
        row = RP(id=uuidutils.generate_uuid(), protection_group_id=pg_id)
        session.add(row)
    for key in FIELDS[2:9]:
        setattr(row, key, values.get(key))
    session.flush()
    return _to_dict(row), created

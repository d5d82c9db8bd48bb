"""Database functions for tenant mappings (project here <-> project there)."""
from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models
from protector import exception

TM = models.TenantMapping
FIELDS = ("id", "local_tenant", "remote_site_id", "remote_tenant",
          "description", "created_at", "updated_at")


def _to_dict(session, row):
    data = {f: getattr(row, f) for f in FIELDS}
    data["remote_site"] = session.scalar(
        sa.select(models.Site.name).where(
            models.Site.id == row.remote_site_id))
    return data


@db_api.write
def create(context, session, values):
    row = TM(id=values.pop("id", None) or uuidutils.generate_uuid(),
             **values)
    session.add(row)
    try:
        session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.TenantMappingExists(
            local_tenant=values["local_tenant"],
            site=values["remote_site_id"])
    return _to_dict(session, row)


@db_api.read
def list_all(context, session, local_tenant=None, limit=None):
    query = sa.select(TM).order_by(TM.created_at, TM.id)
    if local_tenant is not None:
        query = query.where(TM.local_tenant == local_tenant)
    if limit:
        query = query.limit(limit)
    return [_to_dict(session, r) for r in session.scalars(query)]


@db_api.read
def get(context, session, mapping_id, local_tenant=None):
    """A mapping by ID; with ``local_tenant``, only one of that project."""
    query = sa.select(TM).where(TM.id == mapping_id)
    if local_tenant is not None:
        query = query.where(TM.local_tenant == local_tenant)
    row = session.scalars(query).first() \
        if uuidutils.is_uuid_like(mapping_id) else None
    if row is None:
        raise exception.TenantMappingNotFound(mapping=mapping_id)
    return _to_dict(session, row)


@db_api.read
def remote_tenant(context, session, local_tenant, remote_site_id):
    """The mapped project on ``remote_site_id``, or None."""
    return session.scalar(sa.select(TM.remote_tenant).where(
        TM.local_tenant == local_tenant,
        TM.remote_site_id == remote_site_id))


@db_api.write
def delete(context, session, mapping_id):
    session.execute(sa.delete(TM).where(TM.id == mapping_id))

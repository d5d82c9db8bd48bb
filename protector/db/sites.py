"""Database functions for sites. They take and return plain dicts."""
import json

from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models
from protector import exception

FIELDS = ("id", "name", "description", "site_type", "auth_url",
          "region_name", "protector_url", "status", "status_reason",
          "last_checked_at", "created_at", "updated_at")


def _to_dict(row):
    data = {f: getattr(row, f) for f in FIELDS}
    data["capabilities"] = json.loads(row.capabilities) \
        if row.capabilities else {}
    return data


def _find(session, ident):
    query = sa.select(models.Site)
    row = None
    if uuidutils.is_uuid_like(ident):
        row = session.scalars(query.where(models.Site.id == ident)).first()
    if row is None:
        row = session.scalars(query.where(models.Site.name == ident)).first()
    if row is None:
        raise exception.SiteNotFound(site=ident)
    return row


def _check_id_free(session, site_id, name):
    """A caller-chosen ID (the peer site's, so both hold one ID): say
    which registration is in the way, before the insert fails."""
    by_name = session.scalars(sa.select(models.Site).where(
        models.Site.name == name)).first()
    if by_name is not None and by_name.id != site_id:
        raise exception.SiteIdMismatch(name=name, existing=by_name.id,
                                       id=site_id)
    if by_name is not None:
        raise exception.SiteNameExists(name=name)
    by_id = session.get(models.Site, site_id)
    if by_id is not None:
        raise exception.SiteIdExists(id=site_id)


@db_api.write
def create(context, session, values):
    """``values`` may hold ``id``; a new UUID otherwise."""
    values = dict(values)
    site_id = values.pop("id", None)
    if site_id:
        _check_id_free(session, site_id, values["name"])
    row = models.Site(id=site_id or uuidutils.generate_uuid(),
                      status="active", **values)
    session.add(row)
    try:
        session.flush()
    except db_exc.DBDuplicateEntry as exc:
        # A concurrent create got there first.
        if site_id and "name" not in (exc.columns or ()):
            raise exception.SiteIdExists(id=site_id)
        raise exception.SiteNameExists(name=values["name"])
    return _to_dict(row)


@db_api.read
def get(context, session, ident):
    """By UUID or by name."""
    return _to_dict(_find(session, ident))


@db_api.read
def list_all(context, session, filters=None, limit=None):
    query = sa.select(models.Site).order_by(models.Site.created_at,
                                            models.Site.id)
    for key, value in (filters or {}).items():
        query = query.where(getattr(models.Site, key) == value)
    if limit:
        query = query.limit(limit)
    return [_to_dict(r) for r in session.scalars(query)]


@db_api.write
def update(context, session, ident, values):
    row = _find(session, ident)
    for key, value in values.items():
        if key == "capabilities":
            value = json.dumps(value, sort_keys=True)
        setattr(row, key, value)
    session.flush()
    return _to_dict(row)


@db_api.write
def delete(context, session, ident):
    """Delete unless a protection group or tenant mapping refers to it."""
    row = _find(session, ident)
    pg = models.ProtectionGroup
    in_use = session.scalar(sa.select(sa.func.count()).select_from(pg).where(
        sa.or_(pg.primary_site_id == row.id, pg.secondary_site_id == row.id,
               pg.current_primary_site_id == row.id)))
    mappings = session.scalar(
        sa.select(sa.func.count()).select_from(models.TenantMapping).where(
            models.TenantMapping.remote_site_id == row.id))
    what = []
    if in_use:
        what.append("%d protection group(s)" % in_use)
    if mappings:
        what.append("%d tenant mapping(s)" % mappings)
    if what:
        raise exception.SiteInUse(site=row.name, what=" and ".join(what))
    session.execute(sa.delete(models.Trust).where(
        models.Trust.site_id == row.id))
    session.delete(row)

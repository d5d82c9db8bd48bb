"""Database functions for protection group members and their volumes.

Plain dicts in and out. ``instance_config`` is stored as JSON text and
returned parsed.
"""
import json

from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models
from protector import exception

M = models.Member
MV = models.MemberVolume

FIELDS = ("id", "protection_group_id", "project_id", "instance_id",
          "instance_name", "status", "current_site_id",
          "current_instance_id", "created_at", "updated_at")
VOLUME_FIELDS = ("volume_id", "volume_name", "size_gb", "volume_type_id",
                 "device", "boot_index", "bootable", "backend_ref",
                 "current_volume_id")


def _volumes(session, member_id):
    rows = session.scalars(sa.select(MV).where(MV.member_id == member_id)
                           .order_by(MV.boot_index.is_(None), MV.boot_index,
                                     MV.device, MV.volume_id))
    return [{f: getattr(r, f) for f in VOLUME_FIELDS} for r in rows]


def _to_dict(session, row):
    data = {f: getattr(row, f) for f in FIELDS}
    data["instance_config"] = json.loads(row.instance_config) \
        if row.instance_config else {}
    data["volumes"] = _volumes(session, row.id)
    return data


@db_api.write
def create(context, session, values, volumes):
    row = M(id=uuidutils.generate_uuid(), status="protected",
            instance_config=json.dumps(values.pop("instance_config", {}),
                                       sort_keys=True),
            **values)
    session.add(row)
    try:
        session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.MemberExists(instance=values["instance_id"],
                                     pg=values["protection_group_id"])
    for vol in volumes:
        session.add(MV(id=uuidutils.generate_uuid(), member_id=row.id,
                       **{f: vol.get(f) for f in VOLUME_FIELDS}))
    session.flush()
    return _to_dict(session, row)


@db_api.read
def list_all(context, session, pg_id):
    rows = session.scalars(sa.select(M).where(
        M.protection_group_id == pg_id).order_by(M.created_at, M.id))
    return [_to_dict(session, r) for r in rows]


@db_api.read
def get(context, session, pg_id, member_id):
    row = None
    if uuidutils.is_uuid_like(member_id):
        row = session.scalars(sa.select(M).where(
            M.protection_group_id == pg_id, M.id == member_id)).first()
    if row is None:
        raise exception.MemberNotFound(member=member_id, pg=pg_id)
    return _to_dict(session, row)


@db_api.write
def set_location(context, session, member_id, values, volumes=None):
    """Record where a member now runs; ``volumes`` maps volume_id to the
    current (target-site) volume id."""
    session.execute(sa.update(M).where(M.id == member_id).values(**values))
    for volume_id, current in (volumes or {}).items():
        session.execute(sa.update(MV).where(
            MV.member_id == member_id, MV.volume_id == volume_id).values(
            current_volume_id=current))


@db_api.write
def delete(context, session, member_id):
    session.execute(sa.delete(MV).where(MV.member_id == member_id))
    session.execute(sa.delete(M).where(M.id == member_id))


@db_api.read
def group_of_volumes(context, session, volume_ids):
    """{volume_id: protection_group_id} for volumes already protected."""
    if not volume_ids:
        return {}
    rows = session.execute(
        sa.select(MV.volume_id, M.protection_group_id).join(
            M, M.id == MV.member_id).where(MV.volume_id.in_(volume_ids)))
    return dict(rows.all())


def documents(session, pg_id, site_names):
    """The members part of a group's synced metadata document."""
    out = []
    rows = session.scalars(sa.select(M).where(
        M.protection_group_id == pg_id).order_by(M.id))
    for row in rows:
        out.append({
            "id": row.id,
            "instance_id": row.instance_id,
            "instance_name": row.instance_name,
            "status": row.status,
            "instance_config": json.loads(row.instance_config or "{}"),
            "current_site": site_names.get(row.current_site_id),
            "current_instance_id": row.current_instance_id,
            "volumes": sorted(_volumes(session, row.id),
                              key=lambda v: v["volume_id"]),
        })
    return out


def replace_from_documents(session, project_id, pg_id, docs, site_ids):
    """Make the members of ``pg_id`` exactly those of a pushed document."""
    wanted = {d["id"] for d in docs}
    for row in session.scalars(sa.select(M).where(
            M.protection_group_id == pg_id)):
        session.execute(sa.delete(MV).where(MV.member_id == row.id))
        if row.id not in wanted:
            session.delete(row)
    session.flush()
    for doc in docs:
        row = session.get(M, doc["id"])
        if row is not None and (row.protection_group_id != pg_id or
                                row.project_id != project_id):
            # A document may only write its own group's members: an ID
            # found elsewhere (another group, another project) is refused,
            # never taken over.
            raise exception.SyncForeignReference(pg=pg_id, kind="member",
                                                 ref=doc["id"])
        if row is None:
            row = M(id=doc["id"], protection_group_id=pg_id,
                    project_id=project_id)
            session.add(row)
        row.instance_id = doc["instance_id"]
        row.instance_name = doc.get("instance_name")
        row.status = doc.get("status") or "protected"
        row.instance_config = json.dumps(doc.get("instance_config") or {},
                                         sort_keys=True)
        row.current_site_id = site_ids.get(doc.get("current_site"))
        row.current_instance_id = doc.get("current_instance_id")
        session.flush()
        for vol in doc.get("volumes") or []:
            session.add(MV(id=uuidutils.generate_uuid(), member_id=row.id,
                           **{f: vol.get(f) for f in VOLUME_FIELDS}))
    session.flush()

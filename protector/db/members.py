"""Database functions for protection group members and their volumes.

Plain dicts in and out. ``instance_config`` is stored as JSON text and
returned parsed.

``priority`` is the member's boot tier (``MIN_PRIORITY`` to
``MAX_PRIORITY``, default ``DEFAULT_PRIORITY``). The synced document
carries it only when it is not the default, so the document (and its
checksum) of a group that uses no tiers is what it was before tiers
existed: a stored checksum stays valid across the upgrade, and a
document without it means the default.
"""
import json

from oslo_db import exception as db_exc
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models
from protector import exception

M = models.Member
MV = models.MemberVolume

FIELDS = ("id", "protection_group_id", "project_id", "instance_id",
          "instance_name", "status", "current_site_id",
          "current_instance_id", "priority", "created_at", "updated_at")
# Boot tiers: 1 starts first, 5 last (doc/engine.md "Boot tiers").
MIN_PRIORITY, MAX_PRIORITY, DEFAULT_PRIORITY = 1, 5, 3
VOLUME_FIELDS = ("volume_id", "volume_name", "size_gb", "volume_type_id",
                 "device", "boot_index", "bootable", "backend_ref",
                 "current_volume_id")


# Volumes in the order the API shows them: the boot volume first.
_VOLUME_ORDER = (MV.boot_index.is_(None), MV.boot_index, MV.device,
                 MV.volume_id)


def _volume_dict(row):
    return {f: getattr(row, f) for f in VOLUME_FIELDS}


def _volumes(session, member_id):
    rows = session.scalars(sa.select(MV).where(MV.member_id == member_id)
                           .order_by(*_VOLUME_ORDER))
    return [_volume_dict(r) for r in rows]


def _group_volumes(session, pg_id):
    """{member id: [volume rows]} of every member of ``pg_id``, in one
    statement: a group of 1,000 members is not 1,000 reads (list, the
    synced document, a received push)."""
    out = {}
    for row in session.scalars(
            sa.select(MV).join(M, M.id == MV.member_id).where(
                M.protection_group_id == pg_id).order_by(
                MV.member_id, *_VOLUME_ORDER)):
        out.setdefault(row.member_id, []).append(row)
    return out


def _to_dict(session, row, volumes=None):
    data = {f: getattr(row, f) for f in FIELDS}
    if data["priority"] is None:  # a row not flushed yet
        data["priority"] = DEFAULT_PRIORITY
    data["instance_config"] = json.loads(row.instance_config) \
        if row.instance_config else {}
    data["volumes"] = _volumes(session, row.id) if volumes is None else \
        [_volume_dict(v) for v in volumes]
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
        M.protection_group_id == pg_id).order_by(M.created_at, M.id)).all()
    volumes = _group_volumes(session, pg_id)
    return [_to_dict(session, r, volumes.get(r.id, [])) for r in rows]


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
def set_locations(context, session, moves):
    """Record where members now run, in one transaction: ``moves`` is
    ``[(member_id, values, volumes)]``, ``volumes`` mapping volume_id to
    the current (target-site) volume id. The values are absolute, so a
    re-run after a crash writes the same."""
    for member_id, values, volumes in moves:
        session.execute(sa.update(M).where(M.id == member_id).values(
            **values))
        for volume_id, current in (volumes or {}).items():
            session.execute(sa.update(MV).where(
                MV.member_id == member_id, MV.volume_id == volume_id).values(
                current_volume_id=current))


@db_api.write
def set_priority(context, session, member_id, priority):
    """Change a member's boot tier (the caller bumps the group's version
    in the same transaction)."""
    session.execute(sa.update(M).where(M.id == member_id).values(
        priority=priority, updated_at=timeutils.utcnow()))
    row = session.get(M, member_id)
    session.refresh(row)
    return _to_dict(session, row)


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
        M.protection_group_id == pg_id).order_by(M.id)).all()
    volumes = _group_volumes(session, pg_id)
    for row in rows:
        doc = {
            "id": row.id,
            "instance_id": row.instance_id,
            "instance_name": row.instance_name,
            "status": row.status,
            "instance_config": json.loads(row.instance_config or "{}"),
            "current_site": site_names.get(row.current_site_id),
            "current_instance_id": row.current_instance_id,
            "volumes": sorted((_volume_dict(v)
                               for v in volumes.get(row.id, [])),
                              key=lambda v: v["volume_id"]),
        }
        if row.priority not in (None, DEFAULT_PRIORITY):
            doc["priority"] = row.priority
        out.append(doc)
    return out


def _member_values(doc, site_ids):
    """The columns of a member row as a pushed document gives them."""
    return {
        "instance_id": doc["instance_id"],
        "instance_name": doc.get("instance_name"),
        "status": doc.get("status") or "protected",
        "instance_config": json.dumps(doc.get("instance_config") or {},
                                      sort_keys=True),
        "current_site_id": site_ids.get(doc.get("current_site")),
        "current_instance_id": doc.get("current_instance_id"),
        # Absent: the default (the sender leaves the default out).
        "priority": doc.get("priority") or DEFAULT_PRIORITY,
    }


def _volume_key(vol):
    return tuple(vol.get(f) for f in VOLUME_FIELDS)


def replace_from_documents(session, project_id, pg_id, docs, site_ids):
    """Make the members of ``pg_id`` exactly those of a pushed document.

    Only what differs is written: a push after one member was added
    inserts that member, not the whole group again (a change of a group of
    N members is then a fixed number of statements plus one UPDATE per
    member that really changed, not ~3N).
    """
    current = {r.id: r for r in session.scalars(sa.select(M).where(
        M.protection_group_id == pg_id))}
    volumes = _group_volumes(session, pg_id)
    wanted = {d["id"] for d in docs}
    gone = [m for m in current if m not in wanted]
    for start in range(0, len(gone), 500):
        chunk = gone[start:start + 500]
        session.execute(sa.delete(MV).where(MV.member_id.in_(chunk)))
        session.execute(sa.delete(M).where(M.id.in_(chunk)))
    for member_id in gone:
        session.expunge(current.pop(member_id))
    new = [d["id"] for d in docs if d["id"] not in current]
    for start in range(0, len(new), 500):
        taken = session.scalars(sa.select(M.id).where(
            M.id.in_(new[start:start + 500]))).first()
        if taken is not None:
            # A document may only write its own group's members: an ID
            # found elsewhere (another group, another project) is refused,
            # never taken over.
            raise exception.SyncForeignReference(pg=pg_id, kind="member",
                                                 ref=taken)
    _write(session, project_id, pg_id, docs, current, volumes, site_ids)


def apply_delta(session, project_id, pg_id, docs, removed, site_ids):
    """Write a pushed delta's members: remove those of ``removed`` and
    add or update those of ``docs``, reading and writing only them (a
    change of a group of N members is O(1) here, not O(N)). Every ID must
    be of this group or new: one of another group or project is refused,
    never taken over or deleted."""
    ids = [d["id"] for d in docs] + list(removed)
    if not ids:
        return
    current = {}
    for row in session.scalars(sa.select(M).where(M.id.in_(ids))):
        if row.protection_group_id != pg_id or row.project_id != project_id:
            raise exception.SyncForeignReference(pg=pg_id, kind="member",
                                                 ref=row.id)
        current[row.id] = row
    if removed:
        session.execute(sa.delete(MV).where(MV.member_id.in_(removed)))
        session.execute(sa.delete(M).where(
            M.id.in_(removed), M.protection_group_id == pg_id))
        for member_id in removed:
            if member_id in current:
                session.expunge(current.pop(member_id))
    volumes = {}
    for row in session.scalars(sa.select(MV).where(
            MV.member_id.in_(list(current)))):
        volumes.setdefault(row.member_id, []).append(row)
    _write(session, project_id, pg_id, docs, current, volumes, site_ids)


def _write(session, project_id, pg_id, docs, current, volumes, site_ids):
    """Insert or update the member rows of ``docs`` (``current``: the
    existing rows by ID, ``volumes``: their volume rows by member ID)."""
    refill = []
    for doc in docs:
        values = _member_values(doc, site_ids)
        row = current.get(doc["id"])
        if row is None:
            session.add(M(id=doc["id"], protection_group_id=pg_id,
                          project_id=project_id, **values))
            refill.append(doc)
            continue
        if row.project_id != project_id:
            raise exception.SyncForeignReference(pg=pg_id, kind="member",
                                                 ref=doc["id"])
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
        have = sorted(_volume_key(_volume_dict(v))
                      for v in volumes.get(row.id, []))
        if have != sorted(_volume_key(v) for v in doc.get("volumes") or []):
            session.execute(sa.delete(MV).where(MV.member_id == row.id))
            refill.append(doc)
    # The new member rows first (their volumes refer to them).
    _flush(session, pg_id)
    for doc in refill:
        for vol in doc.get("volumes") or []:
            session.add(MV(id=uuidutils.generate_uuid(), member_id=doc["id"],
                           **{f: vol.get(f) for f in VOLUME_FIELDS}))
    _flush(session, pg_id)


def _flush(session, pg_id):
    """A pushed member that repeats an instance of the group (or a volume
    of one member) is the sender's mistake: 400, not a database error."""
    try:
        session.flush()
    except db_exc.DBDuplicateEntry as exc:
        raise exception.Invalid(
            reason="the pushed members of protection group %s name the "
            "same %s twice (%s); each instance is in a group once and each "
            "volume in a member once" % (
                pg_id, "volume" if any("volume_id" in str(c) for c in
                                       exc.columns or ()) else "instance",
                ", ".join(map(str, exc.columns or ()))))

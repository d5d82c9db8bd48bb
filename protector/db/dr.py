"""What DR operations read and change of protection groups and members.

Plain dicts. These functions use the models directly (not the protection
group module) so the engine and the action API depend only on the tables.
"""
import datetime
import json

from oslo_utils import uuidutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models
from protector import exception

PG = models.ProtectionGroup
M = models.Member
MV = models.MemberVolume

GROUP_FIELDS = ("id", "project_id", "name", "status", "status_reason",
                "replication_type", "primary_site_id", "secondary_site_id",
                "current_primary_site_id", "volume_type_id",
                "volume_type_name", "remote_volume_type_id",
                "failover_count", "last_failover_at", "metadata_version",
                "current_operation_id", "active_test_operation_id")
VOLUME_FIELDS = ("volume_id", "volume_name", "size_gb", "volume_type_id",
                 "device", "boot_index", "bootable", "backend_ref",
                 "current_volume_id")


def _group(session, row):
    data = {f: getattr(row, f) for f in GROUP_FIELDS}
    data["member_count"] = session.scalar(
        sa.select(sa.func.count()).select_from(M).where(
            M.protection_group_id == row.id))
    data["has_policy"] = bool(session.scalar(
        sa.select(sa.func.count()).select_from(models.ReplicationPolicy)
        .where(models.ReplicationPolicy.protection_group_id == row.id)))
    return data


def _find(session, project_id, ident):
    query = sa.select(PG).where(PG.project_id == project_id)
    row = None
    if uuidutils.is_uuid_like(ident):
        row = session.scalars(query.where(PG.id == ident)).first()
    if row is None:
        row = session.scalars(query.where(PG.name == ident)).first()
    if row is None:
        raise exception.ProtectionGroupNotFound(pg=ident)
    return row


@db_api.read
def get_group(context, session, project_id, ident):
    """A group of ``project_id`` by UUID or name."""
    return _group(session, _find(session, project_id, ident))


@db_api.read
def get_group_by_id(context, session, pg_id):
    row = session.get(PG, pg_id)
    if row is None:
        raise exception.ProtectionGroupNotFound(pg=pg_id)
    return _group(session, row)


@db_api.read
def members(context, session, pg_id):
    out = []
    for row in session.scalars(sa.select(M).where(
            M.protection_group_id == pg_id).order_by(M.created_at, M.id)):
        volumes = session.scalars(sa.select(MV).where(
            MV.member_id == row.id).order_by(
            MV.boot_index.is_(None), MV.boot_index, MV.device,
            MV.volume_id))
        out.append({
            "id": row.id, "instance_id": row.instance_id,
            "instance_name": row.instance_name, "status": row.status,
            "current_site_id": row.current_site_id,
            "current_instance_id": row.current_instance_id,
            "instance_config": json.loads(row.instance_config)
            if row.instance_config else {},
            "volumes": [{f: getattr(v, f) for f in VOLUME_FIELDS}
                        for v in volumes]})
    return out


@db_api.write
def update_group(context, session, pg_id, values, expect=None):
    """Set ``values`` on the group; with ``expect`` ({column: value}) only
    if those still hold. Returns whether the row changed."""
    query = sa.update(PG).where(PG.id == pg_id)
    for key, value in (expect or {}).items():
        query = query.where(getattr(PG, key) == value)
    values = dict(values, updated_at=datetime.datetime.now(
        datetime.timezone.utc).replace(tzinfo=None))
    return session.execute(query.values(**values)).rowcount == 1


@db_api.write
def update_member(context, session, member_id, values, volumes=None):
    """Record where a member now runs; ``volumes`` maps volume_id to the
    current (target-site) volume id."""
    session.execute(sa.update(M).where(M.id == member_id).values(**values))
    for volume_id, current in (volumes or {}).items():
        session.execute(sa.update(MV).where(
            MV.member_id == member_id, MV.volume_id == volume_id).values(
            current_volume_id=current))


# -- recovery resources: what an operation made, recorded before making it --

RR = models.RecoveryResource
RR_FIELDS = ("id", "operation_id", "protection_group_id", "site_id",
             "resource_type", "logical_key", "resource_id", "status")


def _rr(row):
    data = {f: getattr(row, f) for f in RR_FIELDS}
    data["details"] = json.loads(row.details) if row.details else {}
    return data


@db_api.write
def intend_resource(context, session, op_id, pg_id, site_id, rtype, key,
                    details=None):
    """Record (once) that ``op_id`` is about to create a resource; return
    the record, which carries ``resource_id`` if a previous run made it."""
    row = session.scalars(sa.select(RR).where(
        RR.operation_id == op_id, RR.resource_type == rtype,
        RR.logical_key == key)).first()
    if row is None:
        row = RR(id=uuidutils.generate_uuid(), operation_id=op_id,
                 protection_group_id=pg_id, site_id=site_id,
                 resource_type=rtype, logical_key=key, status="creating",
                 details=json.dumps(details or {}, sort_keys=True))
        session.add(row)
        session.flush()
    return _rr(row)


@db_api.write
def record_resource(context, session, rr_id, resource_id, status="created",
                    details=None):
    values = {"resource_id": resource_id, "status": status}
    if details is not None:
        values["details"] = json.dumps(details, sort_keys=True)
    session.execute(sa.update(RR).where(RR.id == rr_id).values(**values))


@db_api.read
def resources(context, session, op_id=None, pg_id=None, rtype=None,
              exclude_status=None):
    query = sa.select(RR).order_by(RR.created_at, RR.id)
    if op_id:
        query = query.where(RR.operation_id == op_id)
    if pg_id:
        query = query.where(RR.protection_group_id == pg_id)
    if rtype:
        query = query.where(RR.resource_type == rtype)
    if exclude_status:
        query = query.where(RR.status != exclude_status)
    return [_rr(r) for r in session.scalars(query)]


@db_api.read
def find_trust(context, session, site_id, project_id, user_id=None):
    """The trust ID delegated on ``site_id`` by ``user_id`` (preferred) or
    any user of ``project_id``; None when there is none."""
    rows = session.scalars(sa.select(models.Trust).where(
        models.Trust.site_id == site_id,
        models.Trust.project_id == project_id).order_by(
        models.Trust.created_at))
    rows = list(rows)
    for row in rows:
        if row.user_id == user_id:
            return row.trust_id
    return rows[0].trust_id if rows else None


@db_api.write
def record_sync_state(context, session, pg_id, peer_site_id, status, error):
    """Tell sync-status the truth after an operation changed the group on
    this site only (the peer learns it from sync-force)."""
    row = session.scalars(sa.select(models.MetadataSync).where(
        models.MetadataSync.protection_group_id == pg_id)).first()
    if row is None:
        row = models.MetadataSync(id=uuidutils.generate_uuid(),
                                  protection_group_id=pg_id,
                                  peer_site_id=peer_site_id)
        session.add(row)
    row.status = status
    row.last_error = error
    row.last_attempt_at = datetime.datetime.now(
        datetime.timezone.utc).replace(tzinfo=None)
    session.flush()

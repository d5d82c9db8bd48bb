"""Database functions for protection groups and their consistency groups.

They take and return plain dicts. Groups are always looked up inside one
project (``project_id``): a group of another project is "not found", so
listing or guessing IDs reveals nothing across tenants. Callers that must
apply a change only if the peer accepts it open a writer transaction
around these calls (enginefacade joins it) and raise to roll back.
"""
import datetime
import json

from oslo_db import exception as db_exc
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from protector.common import times
from protector.db import api as db_api
from protector.db import metadata
from protector.db import models
from protector import exception

PG = models.ProtectionGroup
CG = models.ConsistencyGroup
SYNC = models.MetadataSync

FIELDS = ("id", "project_id", "name", "description", "status",
          "status_reason", "replication_type", "primary_site_id",
          "secondary_site_id", "current_primary_site_id", "volume_type_id",
          "volume_type_name", "remote_volume_type_id", "failover_count",
          "last_failover_at", "metadata_version", "metadata_checksum",
          "current_operation_id", "active_test_operation_id", "tier_delay",
          "created_at", "updated_at")
CG_FIELDS = ("id", "protection_group_id", "name", "volume_type_id",
             "volume_type_name", "backend_name", "group_type_id",
             "primary_cg_id", "secondary_cg_id", "status")
SYNC_FIELDS = ("peer_site_id", "remote_version", "status", "last_sync_at",
               "last_attempt_at", "last_duration_ms", "last_error")


def _site_names(session):
    return dict(session.execute(
        sa.select(models.Site.id, models.Site.name)).all())


def _by_group(session, query, column, ids):
    """Rows of ``query`` for the groups ``ids`` (``column`` IN ids), in a
    fixed number of statements whatever the number of groups."""
    out = []
    for chunk in db_api.chunks(ids):
        out.extend(session.execute(query.where(column.in_(chunk))).all())
    return out


def _to_dicts(session, rows, names=None):
    """The dicts of group ``rows``: their consistency group, member count,
    policy and sync record read for all of them at once (a list of 1,000
    groups is a handful of statements, not five per group)."""
    rows = list(rows)
    if not rows:
        return []
    names = names if names is not None else _site_names(session)
    ids = [r.id for r in rows]
    cgs = dict(_by_group(session, sa.select(CG.protection_group_id, CG.id),
                         CG.protection_group_id, ids))
    M = models.Member
    counts = dict(_by_group(
        session, sa.select(M.protection_group_id, sa.func.count())
        .group_by(M.protection_group_id), M.protection_group_id, ids))
    RP = models.ReplicationPolicy
    policies = {g for g, in _by_group(
        session, sa.select(RP.protection_group_id), RP.protection_group_id,
        ids)}
    syncs = {r[0]: r[1:] for r in _by_group(
        session, sa.select(SYNC.protection_group_id,
                           *(getattr(SYNC, f) for f in SYNC_FIELDS)),
        SYNC.protection_group_id, ids)}
    out = []
    for row in rows:
        data = {f: getattr(row, f) for f in FIELDS}
        for key in ("primary_site", "secondary_site",
                    "current_primary_site"):
            data[key] = names.get(data[key + "_id"])
        data["consistency_group_id"] = cgs.get(row.id)
        data["member_count"] = counts.get(row.id, 0)
        data["has_policy"] = row.id in policies
        sync = syncs.get(row.id)
        data["sync"] = dict(zip(SYNC_FIELDS, sync)) if sync else None
        if sync:
            data["sync"]["peer_site"] = names.get(data["sync"][
                "peer_site_id"])
        out.append(data)
    return out


def _to_dict(session, row, names=None):
    return _to_dicts(session, [row], names)[0]


def find_row(session, project_id, ident, lock=False):
    query = sa.select(PG).where(PG.project_id == project_id)
    if lock:
        query = query.with_for_update()
    row = None
    if uuidutils.is_uuid_like(ident):
        row = session.scalars(query.where(PG.id == ident)).first()
    if row is None:
        row = session.scalars(query.where(PG.name == ident)).first()
    if row is None:
        raise exception.ProtectionGroupNotFound(pg=ident)
    return row


@db_api.write
def create(context, session, values):
    row = PG(id=values.pop("id", None) or uuidutils.generate_uuid(),
             status="creating", failover_count=0, metadata_version=0,
             current_primary_site_id=values["primary_site_id"], **values)
    session.add(row)
    try:
        session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.ProtectionGroupNameExists(name=values["name"])
    return _to_dict(session, row)


@db_api.read
def get(context, session, project_id, ident):
    """By UUID or by name, within ``project_id``."""
    return _to_dict(session, find_row(session, project_id, ident))


@db_api.read
def get_by_id(context, session, pg_id):
    """By UUID in any project: for the engine and internal callers that
    already hold a group ID from a checked row."""
    row = session.get(PG, pg_id)
    if row is None:
        raise exception.ProtectionGroupNotFound(pg=pg_id)
    return _to_dict(session, row)


@db_api.read
def list_all(context, session, project_id, filters=None, limit=None,
             marker=None):
    """The project's groups oldest first; ``marker``: only those after
    that group of the project in this order (keyset paging on the
    ``(project_id, created_at, id)`` index)."""
    query = sa.select(PG).where(PG.project_id == project_id).order_by(
        PG.created_at, PG.id)
    for key, value in (filters or {}).items():
        query = query.where(getattr(PG, key) == value)
    if marker is not None:
        last = session.execute(sa.select(PG.created_at, PG.id).where(
            PG.project_id == project_id, PG.id == marker)).first()
        if last is None:
            raise exception.MarkerNotFound(marker=marker[:64],
                                        what="protection group")
        query = query.where(sa.or_(
            PG.created_at > last.created_at,
            sa.and_(PG.created_at == last.created_at, PG.id > last.id)))
    if limit:
        query = query.limit(limit)
    return _to_dicts(session, session.scalars(query))


@db_api.write
def update(context, session, project_id, ident, values):
    row = find_row(session, project_id, ident, lock=True)
    for key, value in values.items():
        setattr(row, key, value)
    try:
        session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.ProtectionGroupNameExists(name=values.get("name"))
    return _to_dict(session, row)


@db_api.write
def delete(context, session, pg_id):
    session.execute(sa.delete(PG).where(PG.id == pg_id))


@db_api.write
def set_consistency_group(context, session, pg_id, values):
    row = session.scalars(sa.select(CG).where(
        CG.protection_group_id == pg_id)).first()
    if row is None:
        row = CG(id=values.pop("id", None) or uuidutils.generate_uuid(),
                 protection_group_id=pg_id)
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    return {f: getattr(row, f) for f in CG_FIELDS}


@db_api.read
def get_consistency_group(context, session, pg_id):
    row = session.scalars(sa.select(CG).where(
        CG.protection_group_id == pg_id)).first()
    if row is None:
        return None
    data = {f: getattr(row, f) for f in CG_FIELDS}
    data["volume_count"] = session.scalar(
        sa.select(sa.func.count()).select_from(models.MemberVolume).join(
            models.Member,
            models.Member.id == models.MemberVolume.member_id).where(
            models.Member.protection_group_id == pg_id))
    return data


def _document(session, row):
    names = _site_names(session)
    doc = {f: getattr(row, f) for f in (
        "id", "name", "description", "status", "status_reason",
        "replication_type", "volume_type_id", "volume_type_name",
        "remote_volume_type_id", "failover_count")}
    doc["last_failover_at"] = times.isotime(row.last_failover_at)
    # Only when set: a group without a delay keeps the document (and the
    # checksum) it had before boot tiers existed (db/members.py).
    if row.tier_delay:
        doc["tier_delay"] = row.tier_delay
    for key in ("primary_site", "secondary_site", "current_primary_site"):
        doc[key] = names.get(getattr(row, key + "_id"))
    cg = session.scalars(sa.select(CG).where(
        CG.protection_group_id == row.id)).first()
    doc["consistency_group"] = {f: getattr(cg, f) for f in CG_FIELDS
                                if f != "protection_group_id"} \
        if cg else None
    from protector.db import members as members_db
    doc["members"] = members_db.documents(session, row.id, names)
    policy = session.scalars(sa.select(models.ReplicationPolicy).where(
        models.ReplicationPolicy.protection_group_id == row.id)).first()
    # Array tokens stay out: each site encrypts its own copy.
    doc["policy"] = {f: getattr(policy, f) for f in (
        "primary_fa_url", "secondary_fa_url", "pure_pg_name",
        "replication_interval", "rpo_minutes")} if policy else None
    return doc


# Conditions a change of the group must meet, checked in the same
# conditional UPDATE that takes the row (not only by a read before), so an
# operation claimed meanwhile (db/operations.py create) cannot slip in.
GUARDS = {
    # Delete, member add/remove: active, no operation, no test.
    "idle": lambda: (PG.status == "active",
                     PG.current_operation_id.is_(None),
                     PG.active_test_operation_id.is_(None)),
    # The end of a create: still 'creating' (the engine's reconcile may
    # have declared it interrupted meanwhile).
    "creating": lambda: (PG.status == "creating",),
    # Name/description: any status but the two lifecycle ones.
    "settled": lambda: (PG.status.notin_(("creating", "deleting")),),
    # A member's boot tier: as "settled", and no operation running (a
    # recovery reads the tiers when it starts them).
    "quiet": lambda: (PG.status.notin_(("creating", "deleting")),
                      PG.current_operation_id.is_(None)),
}
NEEDED = {"idle": "'active'", "creating": "'creating'",
          "settled": "other than 'creating' or 'deleting'",
          "quiet": "other than 'creating' or 'deleting'"}


def _raise_guard(session, pg_id, guard, action):
    """The 409 for a group that failed ``guard``: operation, test, status."""
    row = session.scalars(sa.select(PG).where(PG.id == pg_id)
                          .execution_options(populate_existing=True)).first()
    if row is None:
        raise exception.ProtectionGroupNotFound(pg=pg_id)
    if guard in ("idle", "quiet") and row.current_operation_id:
        op = session.get(models.Operation, row.current_operation_id)
        raise exception.GroupOperationRunning(
            pg=row.name, operation=row.current_operation_id,
            operation_type=op.operation_type if op else "unknown",
            status=op.status if op else "unknown", action=action)
    if guard == "idle" and row.active_test_operation_id:
        raise exception.GroupTestActive(
            pg=row.name, operation=row.active_test_operation_id,
            action=action)
    raise exception.ProtectionGroupBusy(pg=row.name, status=row.status,
                                        needed=NEEDED[guard])


def _take(session, pg_id, guard, action, values=None):
    """Conditional UPDATE of the group under ``guard``; 409 if it fails."""
    query = sa.update(PG).where(PG.id == pg_id, *GUARDS[guard]())
    result = session.execute(query.values(
        updated_at=timeutils.utcnow(), **(values or {})))
    if result.rowcount != 1:
        _raise_guard(session, pg_id, guard, action)


@db_api.read
def check_idle(context, session, pg_id, action):
    """409 now if an operation or a test holds the group (the early read;
    ``bump_version(when='idle')`` and ``begin_delete`` repeat it in their
    conditional write)."""
    row = session.get(PG, pg_id)
    if row is not None and (row.current_operation_id or
                            row.active_test_operation_id):
        _raise_guard(session, pg_id, "idle", action)


@db_api.read
def check_no_operation(context, session, pg_id, action):
    """409 now if an operation holds the group (the early read of the
    'quiet' guard, which ``bump_version(when='quiet')`` repeats)."""
    row = session.get(PG, pg_id)
    if row is not None and row.current_operation_id:
        _raise_guard(session, pg_id, "quiet", action)


@db_api.write
def begin_delete(context, session, project_id, pg_id, reason):
    """active -> deleting, only if idle and without members; committed by
    the caller before any remote call. Returns the group as taken."""
    query = sa.update(PG).where(
        PG.id == pg_id, PG.project_id == project_id, *GUARDS["idle"]()).where(
        ~sa.exists().where(models.Member.protection_group_id == pg_id))
    result = session.execute(query.values(
        status="deleting", status_reason=reason,
        updated_at=timeutils.utcnow()))
    if result.rowcount != 1:
        row = session.get(PG, pg_id)
        count = session.scalar(sa.select(sa.func.count()).select_from(
            models.Member).where(models.Member.protection_group_id == pg_id))
        if row is not None and count and not row.current_operation_id \
                and not row.active_test_operation_id:
            raise exception.ProtectionGroupInUse(pg=row.name, count=count)
        _raise_guard(session, pg_id, "idle", "delete it")
    row = session.scalars(sa.select(PG).where(PG.id == pg_id)
                          .execution_options(populate_existing=True)).one()
    return _to_dict(session, row)


@db_api.write
def set_values(context, session, pg_id, values, expect=None):
    """Set ``values`` on the group; with ``expect`` ({column: value}) only
    if those still hold. Returns whether the row changed."""
    query = sa.update(PG).where(PG.id == pg_id)
    for key, value in (expect or {}).items():
        query = query.where(getattr(PG, key) == value)
    values = dict(values)
    values.setdefault("updated_at", timeutils.utcnow())
    return session.execute(query.values(**values)).rowcount == 1


@db_api.read
def stale_lifecycle(context, session, before):
    """Groups left 'creating' or 'deleting' with no change since
    ``before`` (an API process stopped half way)."""
    query = sa.select(PG).where(
        PG.status.in_(("creating", "deleting")),
        sa.func.coalesce(PG.updated_at, PG.created_at) < before).order_by(
        PG.created_at)
    return _to_dicts(session, session.scalars(query))


def _operation_dicts(session, rows):
    """{operation id: the dict ``latest_operation`` returns}, the steps of
    all ``rows`` in one statement per chunk."""
    OS = models.OperationStep
    steps = {}
    for op_id, name, status in _by_group(
            session, sa.select(OS.operation_id, OS.name, OS.status)
            .order_by(OS.operation_id, OS.position), OS.operation_id,
            [r.id for r in rows]):
        steps.setdefault(op_id, []).append({"name": name, "status": status})
    return {row.id: {"id": row.id, "operation_type": row.operation_type,
                     "status": row.status, "error_code": row.error_code,
                     "error_message": row.error_message,
                     "parameters": json.loads(row.parameters)
                     if row.parameters else {},
                     "steps": steps.get(row.id, [])} for row in rows}


@db_api.read
def latest_operation(context, session, pg):
    """What ``next_action`` reads: the operation holding the group, else
    its newest top-level operation on this site (None if it never had
    one). Plain dict with its steps' names and statuses."""
    return _latest_operations(session, [pg]).get(pg["id"])


@db_api.read
def latest_operations(context, session, pgs):
    """``latest_operation`` of each group of ``pgs``: {group id: dict},
    in a fixed number of statements (the list of groups shows each one's
    ``next_action``)."""
    return _latest_operations(session, pgs)


def _latest_operations(session, pgs):
    OP = models.Operation
    held = {pg["current_operation_id"]: pg["id"] for pg in pgs
            if pg.get("current_operation_id")}
    found = {}
    for chunk in db_api.chunks(held):
        for row in session.scalars(sa.select(OP).where(OP.id.in_(chunk))):
            found[held[row.id]] = row
    rest = [pg["id"] for pg in pgs if pg["id"] not in found]
    if rest:
        # The newest top-level operation of each group: ROW_NUMBER over
        # the group's operations (SQLite >= 3.25, MariaDB >= 10.2).
        newest = sa.func.row_number().over(
            partition_by=OP.protection_group_id,
            order_by=(OP.created_at.desc(), OP.id.desc())).label("n")
        for chunk in db_api.chunks(rest):
            ranked = sa.select(OP.id, newest).where(
                OP.protection_group_id.in_(chunk),
                OP.parent_operation_id.is_(None)).subquery()
            for row in session.scalars(sa.select(OP).join(
                    ranked, ranked.c.id == OP.id).where(ranked.c.n == 1)):
                found[row.protection_group_id] = row
    ops = _operation_dicts(session, list(found.values()))
    return {pg_id: ops[row.id] for pg_id, row in found.items()}


@db_api.write
def bump_version(context, session, project_id, pg_id, values=None,
                 when=None, action="change it"):
    """Apply ``values``, bump the version, store the new checksum.

    ``when`` names a guard of ``GUARDS`` the group must meet (409
    otherwise, naming ``action``). Returns ``(group, version, checksum,
    document)``; the caller pushes the document to the peer inside the
    same transaction.
    """
    # The row lock is held until the caller's transaction ends, i.e.
    # across the synchronous push to the peer (up to [cloud]
    # request_timeout per try). That is what keeps a change "on both sites
    # or on neither" (doc/architecture.md 3): two changes of one group
    # must reach the peer in the order of their versions, and a second
    # change that read the row before the first committed would push a
    # document built on stale state with the same next version. On
    # MariaDB other groups are not blocked (a row lock); on SQLite, the
    # embedded default, the database's one write lock makes every writer
    # queue behind it (busy timeout, db/api.py). A change that cannot get
    # the lock in time answers 409 protector.database.busy.
    row = find_row(session, project_id, pg_id, lock=True)
    if when:
        _take(session, row.id, when, action)
        session.refresh(row)
    for key, value in (values or {}).items():
        setattr(row, key, value)
    row.updated_at = timeutils.utcnow()
    try:
        session.flush()
    except db_exc.DBDuplicateEntry:
        # A rename to a name the project already uses (the only unique
        # value a change sets).
        raise exception.ProtectionGroupNameExists(
            name=(values or {}).get("name"))
    doc = _document(session, row)
    row.metadata_version = (row.metadata_version or 0) + 1
    row.metadata_checksum = metadata.checksum(doc)
    session.flush()
    return (_to_dict(session, row), row.metadata_version,
            row.metadata_checksum, doc)


@db_api.read
def current_document(context, session, project_id, pg_id):
    row = find_row(session, project_id, pg_id)
    return (_to_dict(session, row), row.metadata_version,
            row.metadata_checksum, _document(session, row))


@db_api.write
def record_sync(context, session, pg_id, peer_site_id, status,
                remote_version=None, error=None, duration_ms=None):
    """Remember the outcome of a push (or a received push) for the peer."""
    if not session.scalar(sa.select(sa.func.count()).select_from(PG).where(
            PG.id == pg_id)):
        return
    row = session.scalars(sa.select(SYNC).where(
        SYNC.protection_group_id == pg_id)).first()
    if row is None:
        row = SYNC(id=uuidutils.generate_uuid(), protection_group_id=pg_id)
        session.add(row)
    now = timeutils.utcnow()
    row.peer_site_id = peer_site_id
    row.status = status
    row.last_attempt_at = now
    row.last_duration_ms = duration_ms
    if status == "SYNCED":
        row.remote_version = remote_version
        row.last_sync_at = now
        row.last_error = None
    else:
        row.last_error = error
    session.flush()


def _site_ids(session, document):
    by_name = {v: k for k, v in _site_names(session).items()}
    out = {}
    for key in ("primary_site", "secondary_site", "current_primary_site"):
        name = document.get(key)
        if name not in by_name:
            raise exception.SyncUnknownSite(site=name)
        out[key + "_id"] = by_name[name]
    return out, by_name


def _lock(session, project_id, pg_id):
    row = session.scalars(sa.select(PG).where(PG.id == pg_id)
                          .with_for_update()).first()
    if row is not None and row.project_id != project_id:
        # The same ID in another project: never overwrite across tenants.
        raise exception.ProtectionGroupNotFound(pg=pg_id)
    return row


@db_api.write
def apply_replica(context, session, project_id, version, checksum,
                  document):
    """Store a pushed document as this site's copy (same group ID).

    Refuses a version older than ours, or a different document at the same
    version (409, no silent rollback); the same document again is a no-op.
    Returns the stored group, or None when the push was a deletion.
    """
    pg_id = document["id"]
    row = _lock(session, project_id, pg_id)
    if row is not None:
        if version < row.metadata_version or (
                version == row.metadata_version and
                checksum != row.metadata_checksum):
            raise exception.SyncVersionConflict(
                version=version, pg=pg_id, local_version=row.metadata_version)
        if version == row.metadata_version:
            return None if document.get("deleted") else \
                _to_dict(session, row)
    if document.get("deleted"):
        if row is not None:
            session.delete(row)
            session.flush()
        return None
    row, by_name = _store_group(session, row, project_id, version, checksum,
                                document)
    from protector.db import members as members_db
    members_db.replace_from_documents(session, project_id, pg_id,
                                      document.get("members") or [],
                                      by_name)
    session.flush()
    return _to_dict(session, row)


@db_api.write
def apply_delta(context, session, project_id, push):
    """Store a pushed delta (``push``: the body of a delta push, see
    ``pgroups/groups.py``) on ``base_version`` of this site's copy.

    Refused (409, nothing changed) unless this site holds exactly
    ``base_version`` of the group; the same push again is a no-op. The
    group's fields and the delta's members are written; the caller then
    stores the policy and checks the whole document (``check_document``).
    """
    group, version = push["group"], push["version"]
    row = _lock(session, project_id, group["id"])
    local = row.metadata_version if row is not None else None
    if row is not None and version == local and \
            push["checksum"] == row.metadata_checksum:
        return _to_dict(session, row)
    if local != push["base_version"]:
        raise exception.SyncDeltaBaseMismatch(
            pg=group["id"], base_version=push["base_version"],
            local_version=local if local is not None else "none")
    row, by_name = _store_group(session, row, project_id, version,
                                push["checksum"], group)
    from protector.db import members as members_db
    members_db.apply_delta(session, project_id, row.id, push["members"],
                           push["removed_members"], by_name)
    session.flush()
    return _to_dict(session, row)


@db_api.write
def check_document(context, session, pg_id, checksum):
    """400 unless the whole document of group ``pg_id`` as this site now
    holds it has ``checksum``: how a receiver knows a delta it applied
    (with the policy it carried, stored after the members) made the
    sender's document. The caller's transaction rolls it all back."""
    row = session.get(PG, pg_id)
    computed = metadata.checksum(_document(session, row))
    if computed != checksum:
        raise exception.SyncChecksumMismatch(checksum=checksum, pg=pg_id,
                                             computed=computed)


def _store_group(session, row, project_id, version, checksum, document):
    """Write a pushed document's own fields (all but the members) into
    ``row`` (a new row when None); returns (row, site IDs by name)."""
    pg_id = document["id"]
    sites, by_name = _site_ids(session, document)
    values = {k: document.get(k) for k in (
        "name", "description", "status", "status_reason",
        "replication_type", "volume_type_id", "volume_type_name",
        "remote_volume_type_id", "failover_count")}
    values["tier_delay"] = document.get("tier_delay") or 0
    values.update(sites)
    last = document.get("last_failover_at")
    try:
        values["last_failover_at"] = datetime.datetime.fromisoformat(
            last.rstrip("Z")) if last else None
    except ValueError:
        raise exception.Invalid(reason="metadata document last_failover_at: "
                                "%r is not a date and time" % last[:40])
    values.update(metadata_version=version, metadata_checksum=checksum)
    if row is None:
        row = PG(id=pg_id, project_id=project_id, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = timeutils.utcnow()
    try:
        session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.ProtectionGroupNameExists(name=values["name"])
    cg = document.get("consistency_group")
    if cg and cg.get("id"):
        other = session.get(CG, cg["id"])
        if other is not None and other.protection_group_id != pg_id:
            raise exception.SyncForeignReference(
                pg=pg_id, kind="consistency group", ref=cg["id"])
    session.execute(sa.delete(CG).where(CG.protection_group_id == pg_id))
    if cg:
        session.add(CG(protection_group_id=pg_id, **cg))
    return row, by_name

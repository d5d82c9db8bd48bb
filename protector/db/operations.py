"""Database functions for DR operations and their steps.

Plain dicts in and out. Two rules make operations safe with many API
workers and many engines:

* A group holds at most one operation: ``create`` takes the group with one
  conditional ``UPDATE protection_groups SET current_operation_id = :op
  WHERE current_operation_id IS NULL`` in the transaction that inserts the
  operation, so two racing requests cannot both win.
* An engine writes an operation only while it owns it: every engine-side
  write carries ``WHERE engine_host = :me``. An engine that lost its
  operation to another engine (it was presumed dead) finds zero rows
  updated and stops (``OperationLost``) instead of overwriting.
"""
import json

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa
from sqlalchemy import orm

from protector.db import api as db_api
from protector.db import models
from protector import exception

OP = models.Operation
STEP = models.OperationStep
PG = models.ProtectionGroup

FIELDS = ("id", "project_id", "user_id", "protection_group_id",
          "protection_group_name", "operation_type", "status",
          "source_site_id", "target_site_id", "progress", "error_code",
          "error_message", "parent_operation_id", "engine_host",
          "heartbeat_at", "started_at", "completed_at", "created_at",
          "updated_at")
STEP_FIELDS = ("name", "position", "status", "attempts", "error_message",
               "started_at", "completed_at")
ACTIVE = ("queued", "running")


class OperationLost(Exception):
    """This engine no longer owns the operation (another engine took it)."""


def _loads(text, default=None):
    return json.loads(text) if text else default


def _step_dict(row):
    data = {f: getattr(row, f) for f in STEP_FIELDS}
    data["result"] = _loads(row.result, {})
    return data


def _to_dict(session, row, with_steps=True):
    data = {f: getattr(row, f) for f in FIELDS}
    data["parameters"] = _loads(row.parameters, {})
    data["result"] = _loads(row.result, {})
    if with_steps:
        steps = session.scalars(sa.select(STEP).where(
            STEP.operation_id == row.id).order_by(STEP.position))
        data["steps"] = [_step_dict(s) for s in steps]
        running = [s["name"] for s in data["steps"]
                   if s["status"] == "running"]
        data["current_step"] = running[0] if running else None
    return data


# -- API side ----------------------------------------------------------------

@db_api.write
def create(context, session, pg_id, values, step_names, test=False):
    """Queue an operation on a group that has none in progress.

    ``test=True`` (test failover) also requires, and records, that no test
    is active. Raises OperationConflict / TestFailoverActive naming the
    holder when the group is taken.
    """
    op_id = uuidutils.generate_uuid()
    # Not a group being created or deleted (an action that read 'active'
    # just before a delete committed 'deleting' loses here).
    claim = sa.update(PG).where(PG.id == pg_id,
                                PG.current_operation_id.is_(None),
                                PG.status.notin_(("creating", "deleting")))
    new = {"current_operation_id": op_id}
    if test:
        claim = claim.where(PG.active_test_operation_id.is_(None))
        new["active_test_operation_id"] = op_id
    if session.execute(claim.values(**new)).rowcount != 1:
        _raise_busy(session, pg_id, test)
    now = timeutils.utcnow()
    row = OP(id=op_id, status="queued", progress=0, created_at=now,
             parameters=json.dumps(values.pop("parameters", {}),
                                   sort_keys=True), **values)
    session.add(row)
    for position, name in enumerate(step_names):
        session.add(STEP(id=uuidutils.generate_uuid(), operation_id=op_id,
                         name=name, position=position, status="pending",
                         attempts=0, created_at=now))
    session.flush()
    return _to_dict(session, row)


def _raise_busy(session, pg_id, test):
    pg = session.get(PG, pg_id)
    if pg is None:
        raise exception.ProtectionGroupNotFound(pg=pg_id)
    if pg.status in ("creating", "deleting"):
        raise exception.ProtectionGroupBusy(pg=pg.name, status=pg.status,
                                            needed="'active'")
    if pg.current_operation_id:
        op = session.get(OP, pg.current_operation_id)
        raise exception.OperationConflict(
            pg=pg.name, operation=pg.current_operation_id,
            operation_type=op.operation_type if op else "unknown",
            status=op.status if op else "unknown")
    raise exception.TestFailoverActive(pg=pg.name,
                                       operation=pg.active_test_operation_id)


@db_api.read
def get(context, session, project_id, op_id):
    row = session.scalars(sa.select(OP).where(
        OP.id == op_id, OP.project_id == project_id)).first()
    if row is None:
        raise exception.OperationNotFound(operation=op_id)
    return _to_dict(session, row)


@db_api.read
def list_all(context, session, project_id, filters=None, limit=None):
    query = sa.select(OP).where(OP.project_id == project_id).order_by(
        OP.created_at.desc(), OP.id)
    for key, value in (filters or {}).items():
        query = query.where(getattr(OP, key) == value)
    if limit:
        query = query.limit(limit)
    return [_to_dict(session, r) for r in session.scalars(query)]


@db_api.read
def latest_top_level(context, session, pg_id):
    """The group's newest operation on this site that is not a
    sub-operation (what retry and rollback may act on), or None."""
    row = session.scalars(sa.select(OP).where(
        OP.protection_group_id == pg_id,
        OP.parent_operation_id.is_(None)).order_by(
        OP.created_at.desc(), OP.id.desc()).limit(1)).first()
    return _to_dict(session, row) if row is not None else None


@db_api.write
def requeue(context, session, op_id, parameters=None, test=False):
    """Retry a failed operation: ``failed -> queued`` and claim its group,
    in one transaction (dr/recovery.py).

    The group is claimed like ``create`` does (``current_operation_id``
    NULL -> this operation; with ``test`` also ``active_test_operation_id``
    NULL or this operation -> this operation). The operation's error,
    end time and engine are cleared; its failed (or interrupted) steps
    become ``pending`` again, keeping their attempt counts; completed and
    skipped steps keep their results and are not re-run. ``parameters``
    replaces the stored parameters (a fresh peer credential). Raises
    OperationConflict / TestFailoverActive when the group is taken, and
    OperationNotRetryable when the operation is no longer ``failed``.
    """
    row = session.get(OP, op_id)
    if row is None:
        raise exception.OperationNotFound(operation=op_id)
    values = {"status": "queued", "error_code": None, "error_message": None,
              "completed_at": None, "engine_host": None,
              "heartbeat_at": None, "updated_at": timeutils.utcnow()}
    if parameters is not None:
        values["parameters"] = json.dumps(parameters, sort_keys=True)
    changed = session.execute(sa.update(OP).where(
        OP.id == op_id, OP.status == "failed").values(**values)).rowcount
    if changed != 1:
        raise exception.OperationNotRetryable(
            operation=op_id, reason="it is not failed (any more); see "
            "'openstack dr operation show %s'" % op_id)
    pg_id = row.protection_group_id
    if pg_id:
        claim = sa.update(PG).where(PG.id == pg_id,
                                    PG.current_operation_id.is_(None))
        new = {"current_operation_id": op_id}
        if test:
            claim = claim.where(sa.or_(
                PG.active_test_operation_id.is_(None),
                PG.active_test_operation_id == op_id))
            new["active_test_operation_id"] = op_id
        if session.execute(claim.values(**new)).rowcount != 1:
            _raise_busy(session, pg_id, test)
    session.execute(sa.update(STEP).where(
        STEP.operation_id == op_id,
        STEP.status.in_(("failed", "running"))).values(
        status="pending", error_message=None, started_at=None,
        completed_at=None, result=None, updated_at=timeutils.utcnow()))
    session.flush()
    session.expire_all()
    return _to_dict(session, session.get(OP, op_id))


@db_api.write
def update_result(context, session, op_id, values):
    """Merge ``values`` into an operation's ``result`` (any status; used
    to record on a failed operation which rollback undid it)."""
    row = session.get(OP, op_id)
    if row is None:
        raise exception.OperationNotFound(operation=op_id)
    result = _loads(row.result, {})
    result.update(values)
    row.result = json.dumps(result, sort_keys=True)
    session.flush()
    return result


# -- engine side -------------------------------------------------------------

@db_api.read
def get_by_id(context, session, op_id):
    row = session.get(OP, op_id)
    return _to_dict(session, row) if row is not None else None


@db_api.read
def queued(context, session, limit=50):
    """Queued operations, oldest first: (id, protection_group_id).

    Not those of a group that has an operation still running here (its
    engine may have let go of it after an error, to resume it later): one
    operation per group at a time holds even then, whatever the lock says.
    """
    running = orm.aliased(OP)
    busy = sa.select(running.id).where(
        running.protection_group_id == OP.protection_group_id,
        running.status == "running").exists()
    return [tuple(r) for r in session.execute(
        sa.select(OP.id, OP.protection_group_id).where(
            OP.status == "queued", ~busy).order_by(
            OP.created_at).limit(limit))]


@db_api.read
def orphans(context, session, host, stale_before):
    """Running operations whose engine is gone.

    Those of this engine's own name (it died and this is its restart) and
    those whose heartbeat is older than ``stale_before``. Returns (id,
    protection_group_id, engine_host, heartbeat_at) tuples.
    """
    return [tuple(r) for r in session.execute(
        sa.select(OP.id, OP.protection_group_id, OP.engine_host,
                  OP.heartbeat_at).where(
            OP.status == "running",
            sa.or_(OP.engine_host == host, OP.engine_host.is_(None),
                   OP.heartbeat_at.is_(None),
                   OP.heartbeat_at < stale_before)))]


@db_api.write
def claim(context, session, op_id, host):
    """queued -> running for ``host``; False if someone else was first."""
    now = timeutils.utcnow()
    result = session.execute(sa.update(OP).where(
        OP.id == op_id, OP.status == "queued").values(
        status="running", engine_host=host, heartbeat_at=now,
        started_at=now))
    return result.rowcount == 1


@db_api.write
def adopt(context, session, op_id, host, old_host, old_heartbeat):
    """Take a running operation over from a dead engine (compare-and-swap
    on the owner and heartbeat seen, so only one engine wins)."""
    query = sa.update(OP).where(OP.id == op_id, OP.status == "running")
    query = query.where(OP.engine_host.is_(None) if old_host is None
                        else OP.engine_host == old_host)
    query = query.where(OP.heartbeat_at.is_(None) if old_heartbeat is None
                        else OP.heartbeat_at == old_heartbeat)
    result = session.execute(query.values(engine_host=host,
                                          heartbeat_at=timeutils.utcnow()))
    return result.rowcount == 1


@db_api.write
def heartbeat(context, session, op_ids, host):
    """Refresh the heartbeat of the operations ``host`` runs; return the
    IDs it still owns."""
    if not op_ids:
        return []
    session.execute(sa.update(OP).where(
        OP.id.in_(op_ids), OP.engine_host == host,
        OP.status == "running").values(heartbeat_at=timeutils.utcnow()))
    return [r[0] for r in session.execute(sa.select(OP.id).where(
        OP.id.in_(op_ids), OP.engine_host == host, OP.status == "running"))]


def _owned(session, op_id, host):
    row = session.scalars(sa.select(OP).where(
        OP.id == op_id, OP.engine_host == host,
        OP.status == "running")).first()
    if row is None:
        raise OperationLost(op_id)
    return row


@db_api.write
def update_owned(context, session, op_id, host, values):
    row = _owned(session, op_id, host)
    for key, value in values.items():
        if key in ("result", "parameters"):
            value = json.dumps(value, sort_keys=True)
        setattr(row, key, value)
    row.heartbeat_at = timeutils.utcnow()
    session.flush()


@db_api.write
def update_step(context, session, op_id, host, name, values):
    """Change one step of an operation this engine owns."""
    _owned(session, op_id, host)
    row = session.scalars(sa.select(STEP).where(
        STEP.operation_id == op_id, STEP.name == name)).first()
    if row is None:
        raise exception.ProtectorException(
            "operation %s has no step %s" % (op_id, name))
    for key, value in values.items():
        if key == "result":
            value = json.dumps(value, sort_keys=True)
        elif key == "attempts" and value == "+1":
            value = (row.attempts or 0) + 1
        setattr(row, key, value)
    row.updated_at = timeutils.utcnow()
    session.flush()
    return _step_dict(row)


@db_api.write
def finish(context, session, op_id, host, status, error_code=None,
           error_message=None, keep_test=False):
    """Complete or fail an operation and release its group."""
    row = _owned(session, op_id, host)
    row.status = status
    row.completed_at = timeutils.utcnow()
    row.error_code = error_code
    row.error_message = error_message
    if status == "completed":
        row.progress = 100
    if row.protection_group_id:
        session.execute(sa.update(PG).where(
            PG.id == row.protection_group_id,
            PG.current_operation_id == op_id).values(
            current_operation_id=None))
        if not keep_test:
            session.execute(sa.update(PG).where(
                PG.id == row.protection_group_id,
                PG.active_test_operation_id == op_id).values(
                active_test_operation_id=None))
    session.flush()

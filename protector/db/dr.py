"""Recovery resources: what a DR operation made, recorded before making it.

Plain dicts. Groups, members and trusts are read and changed through their
own modules (``protection_groups``, ``members``, ``trusts``).
"""
import json

from oslo_utils import uuidutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models

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
    the record, which carries ``resource_id`` if a previous run made it,
    and ``new`` (True) if this call recorded it."""
    return _intend(session, op_id, pg_id, site_id, rtype,
                   [(key, details)])[key]


@db_api.write
def intend_resources(context, session, op_id, pg_id, site_id, rtype,
                     items):
    """``intend_resource`` of many resources in one transaction (a write
    per item is a commit per item: on SQLite they queue one behind the
    other). ``items``: ``[(logical key, details)]``; returns {logical
    key: record}."""
    return _intend(session, op_id, pg_id, site_id, rtype, items)


def _intend(session, op_id, pg_id, site_id, rtype, items):
    keys = [key for key, _ in items]
    found = {}
    for chunk in db_api.chunks(keys):
        for row in session.scalars(sa.select(RR).where(
                RR.operation_id == op_id, RR.resource_type == rtype,
                RR.logical_key.in_(chunk))):
            found[row.logical_key] = row
    new = []
    for key, details in items:
        if key not in found:
            new.append(key)
            found[key] = RR(id=uuidutils.generate_uuid(),
                            operation_id=op_id, protection_group_id=pg_id,
                            site_id=site_id, resource_type=rtype,
                            logical_key=key, status="creating",
                            details=json.dumps(details or {},
                                               sort_keys=True))
            session.add(found[key])
    session.flush()
    out = {key: _rr(found[key]) for key in keys}
    for key in new:
        # Recorded just now: nothing can have been made for it yet, so
        # the caller need not look for a copy a lost answer made.
        out[key]["new"] = True
    return out


@db_api.write
def record_resources(context, session, records):
    """``record_resource`` of many in one transaction: ``records`` is
    ``[(record id, resource id, status, details or None)]``."""
    for rr_id, resource_id, status, details in records:
        _record(session, rr_id, resource_id, status, details)


@db_api.write
def record_resource(context, session, rr_id, resource_id, status="created",
                    details=None):
    _record(session, rr_id, resource_id, status, details)


def _record(session, rr_id, resource_id, status, details):
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

"""The cached RPO state of protection groups (table ``group_rpo_status``).

protector-engine's periodic RPO check (``engine/rpo_status.py``) and
``protection-group show`` write the result of ``storage/rpo.status``
here; the list of groups reads it for a page at once (microversion 1.5),
since it cannot ask the arrays per row.

Apart from ``db/protection_groups.py`` because a check changes nothing
about the group itself: it never takes the group's row nor changes its
``updated_at``.
"""
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models
from protector.db import protection_groups as pg_db

RPO = models.GroupRpoStatus
PG = models.ProtectionGroup
RP = models.ReplicationPolicy
FIELDS = ("rpo_status", "replication_lag_seconds", "rpo_minutes",
          "rpo_detail", "checked_at")
# Groups the check leaves alone: being made or removed (their arrays may
# not be set up, or no longer be).
SKIPPED = ("creating", "deleting")


@db_api.read
def targets(context, session):
    """[(group, policy row)] of every group of this site's database, in
    any project, that has a replication policy and is neither being
    created nor deleted: what the periodic check probes. Groups as
    ``protection_groups.get`` gives them, policies as
    ``replication_policies.get`` (tokens encrypted); a fixed number of
    statements whatever the number of groups."""
    from protector.db import replication_policies as policy_db
    # The join brings each group's policy with it: one statement.
    pairs = list(session.execute(
        sa.select(PG, RP).join(RP, RP.protection_group_id == PG.id)
        .where(PG.status.notin_(SKIPPED)).order_by(PG.created_at, PG.id)))
    if not pairs:
        return []
    policies = {pg.id: policy_db._to_dict(rp) for pg, rp in pairs}
    groups = pg_db._to_dicts(session, [pg for pg, _ in pairs])
    return [(g, policies[g["id"]]) for g in groups]


@db_api.read
def get_many(context, session, pg_ids):
    """{group id: cached check} of the groups ``pg_ids`` that have one
    (dicts of ``FIELDS``): one statement for a page of up to
    ``db_api.IN_CHUNK`` groups."""
    out = {}
    for chunk in db_api.chunks(pg_ids):
        for row in session.execute(sa.select(
                RPO.protection_group_id,
                *(getattr(RPO, f) for f in FIELDS)).where(
                RPO.protection_group_id.in_(chunk))):
            out[row[0]] = dict(zip(FIELDS, row[1:]))
    return out


@db_api.retry_on_deadlock
@db_api.write
def _record(context, session, pg_id, values):
    result = session.execute(
        sa.update(RPO).where(RPO.protection_group_id == pg_id)
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount:
        return True
    # First check of the group: insert, only if the group still exists
    # and is not being deleted (no error for one deleted meanwhile).
    columns = ["protection_group_id"] + list(values)
    source = sa.select(
        PG.id, *(sa.literal(values[k], type_=getattr(RPO, k).type)
                 for k in values)).where(
        PG.id == pg_id, PG.status != "deleting")
    result = session.execute(sa.insert(RPO).from_select(columns, source))
    return result.rowcount > 0


def record(context, pg_id, result, checked_at=None):
    """Store ``result`` (``storage/rpo.status``'s dict) as the group's
    latest check, at ``checked_at`` (now). Returns whether a row was
    written (False for a group deleted meanwhile, or being deleted)."""
    values = {k: result.get(k) for k in FIELDS[:-1]}
    lag = values["replication_lag_seconds"]
    if lag is not None:  # a driver may give fractions of a second
        values["replication_lag_seconds"] = int(round(lag))
    values["checked_at"] = checked_at or timeutils.utcnow()
    try:
        return _record(context, pg_id, values)
    except db_exc.DBDuplicateEntry:
        # Another engine inserted the group's first row at the same
        # moment: it exists now, so this is an update.
        return _record(context, pg_id, values)

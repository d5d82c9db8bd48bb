"""Set up a protection group's array replication when it is configured.

Called once a replication policy is stored and after a member is added,
so that the arrays replicate on the policy's schedule from then on, not
only from the first DR operation (an unplanned failover needs snapshots
replicated *before* the disaster). Best effort: the policy or member
stands; a failure is logged and shows as replication lag in 'policy show'
and health, and every DR operation ensures the replication again before
it relies on it (``storage.ensure_group_replication``).
"""
from oslo_log import log as logging

from protector.db import dr as dr_db
from protector.engine import tasks
from protector import exception
from protector import storage

LOG = logging.getLogger(__name__)


def replicate(ctx, pg, policy=None):
    """``policy`` with clear-text tokens (else the stored one)."""
    policy = policy or tasks.policy(ctx, pg["id"])
    if policy is None:
        return None
    try:
        return storage.ensure_group_replication(
            pg, policy, tasks.member_volumes(dr_db.members(ctx, pg["id"])))
    except exception.ProtectorException as exc:
        LOG.warning("Array replication of protection group %s is not set "
                    "up yet: %s", pg["name"], exc.message)
        return None

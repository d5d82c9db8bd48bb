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

from protector.common import crypto
from protector.db import members as members_db
from protector.db import replication_policies as policy_db
from protector import exception
from protector.pgroups import capture
from protector import storage

LOG = logging.getLogger(__name__)


def policy(ctx, pg_id):
    """The group's replication policy with its tokens decrypted (what
    the storage driver logs in with), or None."""
    row = policy_db.get(ctx, pg_id)
    if row is None:
        return None
    out = {k: v for k, v in row.items() if not k.endswith("_encrypted")}
    for side in ("primary", "secondary"):
        enc = row[side + "_fa_api_token_encrypted"]
        out[side + "_fa_api_token"] = crypto.decrypt(enc) if enc else None
    return out


def replicate(ctx, pg, values=None):
    """``values``: the policy with clear-text tokens (else the stored
    one)."""
    values = values or policy(ctx, pg["id"])
    if values is None:
        return None
    try:
        return storage.ensure_group_replication(
            pg, values,
            capture.member_volumes(members_db.list_all(ctx, pg["id"])))
    except exception.ProtectorException as exc:
        LOG.warning("Array replication of protection group %s is not set "
                    "up yet: %s", pg["name"], exc.message)
        return None

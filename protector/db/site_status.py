"""The engine's periodic site check writes its result (engine/site_status.py).

Apart from ``db/sites.py`` because it is a compare-and-swap on what the
check saw, not an update of the site's definition.
"""

from oslo_utils import timeutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models

SITE = models.Site


@db_api.retry_on_deadlock
@db_api.write
def record(context, session, site_id, seen, status, reason):
    """Set status, status_reason and last_checked_at unless the row's
    (status, status_reason) is no longer ``seen``: a ``site validate``
    that ended meanwhile is newer than this check. ``updated_at`` is left
    as it was: a check changes nothing about the site itself. Returns
    whether the row was written (False also for a deleted site)."""
    old_status, old_reason = seen
    same_reason = SITE.status_reason.is_(None) if old_reason is None \
        else SITE.status_reason == old_reason
    result = session.execute(
        sa.update(SITE)
        .where(SITE.id == site_id, SITE.status == old_status, same_reason)
        .values(status=status, status_reason=reason,
                last_checked_at=timeutils.utcnow(), updated_at=SITE.updated_at)
        .execution_options(synchronize_session=False))
    return result.rowcount > 0

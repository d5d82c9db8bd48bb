"""Per-protection-group locks through tooz ([coordination] backend_url).

The lock is what makes "one operation per group at a time" hold across
engines and hosts: an engine runs an operation only while it holds the
group's lock. With the file backend the OS drops the lock of a killed
process at once; with Redis (or etcd) the lock expires when its holder
stops heartbeating, so a dead engine never blocks a group for good.
"""
import os

from oslo_log import log as logging
from tooz import coordination

LOG = logging.getLogger(__name__)


def _prepare(url):
    if url.startswith("file://"):
        os.makedirs(url[len("file://"):], exist_ok=True)
    return url


class GroupLocks:
    def __init__(self, backend_url, member_id):
        self.coordinator = coordination.get_coordinator(
            _prepare(backend_url), member_id.encode())

    def start(self):
        # start_heart: the backend's own keep-alive of held locks (Redis).
        self.coordinator.start(start_heart=True)

    def stop(self):
        try:
            self.coordinator.stop()
        except Exception:  # stopping must not fail the shutdown
            LOG.exception("Stopping the coordinator failed")

    def try_acquire(self, pg_id):
        """The group's lock if free now, else None (never blocks)."""
        lock = self.coordinator.get_lock(
            ("protector-pg-%s" % pg_id).encode())
        if lock.acquire(blocking=False):
            return lock
        return None

"""protector-engine's main loop: find work, own it, run it, resume it.

Threads (no eventlet): a poll loop, a heartbeat loop, an optional RPC
server whose ``wake`` cast only interrupts the poll loop's sleep, and a
thread pool running operations (``[engine] max_operations``).

Finding work, every ``[engine] poll_interval`` seconds or on ``wake``:

1. orphans first - operations ``running`` under this engine's own name
   (this is its restart) or with a heartbeat older than ``[engine]
   stale_after``: take the group lock, adopt with a compare-and-swap on
   (owner, heartbeat), resume;
2. then queued operations, oldest first: take the group lock, claim with
   ``UPDATE ... WHERE status = 'queued'``, run.

The group lock is held for the whole run, so two engines never run two
operations of one group, whatever the database says.

The poll loop also reconciles, at its first look and then every ``[engine]
lifecycle_stale_after`` seconds, protection groups that protector-api left
``creating`` or ``deleting`` (``engine/reconcile.py``).

A site-check loop keeps every site's status current, at start and then
every ``[engine] site_check_interval`` seconds (``engine/site_status.py``).
An RPO-check loop keeps every protection group's cached RPO state (what
the list shows) current, at start and then every ``[engine]
rpo_check_interval`` seconds (``engine/rpo_status.py``).
A cleanly stopped engine removes its row from the services table, so that
the health report says at once that it is not running.
"""
import datetime
import threading
import time
from concurrent import futures

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_utils import timeutils

from protector import context as protector_context
from protector.db import operations as ops_db
from protector.db import services as services_db
from protector.engine import locks
from protector.engine import reconcile
from protector.engine import rpo_status
from protector.engine import runner
from protector.engine import site_status
from protector import rpc
from protector import version

LOG = logging.getLogger(__name__)
BINARY = "protector-engine"
# Runs of an operation in a row after unexpected errors, before the engine
# lets go of it (another poll, or another engine, resumes it later).
RUN_ATTEMPTS = 5
RUN_RETRY_DELAY = 1.0


class WakeEndpoint:
    """RPC API of the engine (see engine/rpcapi.py)."""

    target = messaging.Target(version="1.0")

    def __init__(self, engine):
        self.engine = engine

    def wake(self, ctxt, operation_id):
        LOG.debug("Woken for operation %s", operation_id)
        self.engine.wake()


class Engine:
    def __init__(self, conf):
        self.conf = conf
        self.host = conf.engine.host
        self.ctx = protector_context.get_admin_context()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._running = {}  # operation id -> group id
        self._lock = threading.Lock()
        self._threads = []
        self._rpc_server = None
        self._reconciled_at = None  # monotonic time of the last reconcile
        self.pool = futures.ThreadPoolExecutor(
            max_workers=conf.engine.max_operations,
            thread_name_prefix="operation")
        self.locks = locks.GroupLocks(conf.coordination.backend_url,
                                      self.host)

    # -- lifecycle -----------------------------------------------------------

    def start(self):
        self.locks.start()
        self._beat()
        transport = rpc.get_transport(self.conf)
        if transport is not None:
            self._rpc_server = rpc.get_server(transport, self.host,
                                              [WakeEndpoint(self)])
            self._rpc_server.start()
            LOG.info("Listening for wake-ups on topic %s", rpc.TOPIC_ENGINE)
        else:
            LOG.info("No [DEFAULT] transport_url: finding work by polling "
                     "every %ss", self.conf.engine.poll_interval)
        for target, name in ((self._poll_loop, "poll"),
                             (self._heartbeat_loop, "heartbeat")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.conf.engine.site_check_interval:
            # Not joined at stop: a check may wait for its timeouts, and
            # nothing it does needs finishing (one UPDATE per site).
            threading.Thread(target=self._site_check_loop, name="sites",
                             daemon=True).start()
        if self.conf.engine.rpo_check_interval:
            # Not joined at stop either: a probe may wait for an array's
            # timeout, and a check cut short is only one round less.
            threading.Thread(target=self._rpo_check_loop, name="rpo",
                             daemon=True).start()
        LOG.info("protector-engine %s started", self.host)

    def stop(self):
        """Stop taking work; let running steps end; leave the operations
        'running' for the next start (same host) to resume."""
        LOG.info("protector-engine %s stopping", self.host)
        self._stop.set()
        self._wake.set()
        if self._rpc_server is not None:
            self._rpc_server.stop()
            self._rpc_server.wait()
        self.pool.shutdown(wait=True)
        for thread in self._threads:
            thread.join(timeout=30)
        try:
            services_db.delete(self.ctx, self.host, BINARY)
        except Exception:  # the row then goes stale; health still tells
            LOG.exception("Removing this engine from the services table "
                          "failed")
        self.locks.stop()
        rpc.cleanup()

    def wait(self):
        while not self._stop.wait(1):
            pass

    def wake(self):
        self._wake.set()

    # -- loops ---------------------------------------------------------------

    def _beat(self):
        services_db.heartbeat(self.ctx, self.host, BINARY,
                              version.version_string)

    def _heartbeat_loop(self):
        while not self._stop.wait(self.conf.engine.heartbeat_interval):
            try:
                self._beat()
                with self._lock:
                    mine = list(self._running)
                ops_db.heartbeat(self.ctx, mine, self.host)
            except Exception:  # a DB hiccup must not end the heartbeat
                LOG.exception("Heartbeat failed")

    def _poll_loop(self):
        first = True
        while not self._stop.is_set():
            try:
                self.poll_once()
                if first:
                    LOG.info("Initial look for queued and abandoned "
                             "operations done")
                    first = False
            except Exception:  # keep polling through DB outages
                LOG.exception("Looking for work failed")
            self._wake.wait(self.conf.engine.poll_interval)
            self._wake.clear()

    def check_sites(self):
        """Bring every site's status up to date (engine/site_status.py)."""
        written = site_status.run(self.ctx)
        LOG.debug("Checked sites: %s", written)
        return written

    def _every(self, check, interval, what):
        """Run ``check`` now, then every ``interval()`` seconds until the
        engine stops; a failed round is logged and the next one runs."""
        while not self._stop.is_set():
            try:
                check()
            except Exception:  # e.g. the database is down: try again later
                LOG.exception("Checking %s failed", what)
            self._stop.wait(interval())

    def _site_check_loop(self):
        self._every(self.check_sites,
                    lambda: self.conf.engine.site_check_interval,
                    "the sites")

    def check_rpo(self):
        """Bring every group's cached RPO state up to date
        (engine/rpo_status.py)."""
        written = rpo_status.run(self.ctx)
        LOG.debug("Checked the RPO of %d protection group(s)", len(written))
        return written

    def _rpo_check_loop(self):
        self._every(self.check_rpo,
                    lambda: self.conf.engine.rpo_check_interval,
                    "the protection groups' RPO")

    def reconcile_groups(self, force=False):
        """Finish or undo stale group creates/deletes (at start, then
        every lifecycle_stale_after seconds)."""
        every = self.conf.engine.lifecycle_stale_after
        now = time.monotonic()
        if not force and self._reconciled_at is not None and \
                now - self._reconciled_at < every:
            return None
        self._reconciled_at = now
        done = reconcile.run(self.ctx, every, host=self.host)
        if done:
            LOG.info("Reconciled protection groups left creating/deleting: "
                     "%s", ", ".join("%s -> %s" % i for i in done.items()))
        return done

    def poll_once(self):
        try:
            self.reconcile_groups()
        except Exception:  # operations must still be found
            LOG.exception("Reconciling protection groups failed")
        stale_before = timeutils.utcnow() - datetime.timedelta(
            seconds=self.conf.engine.stale_after)
        for op_id, pg_id, owner, beat in ops_db.orphans(
                self.ctx, self.host, stale_before):
            self._try(op_id, pg_id, lambda op_id=op_id, owner=owner,
                      beat=beat: ops_db.adopt(self.ctx, op_id, self.host,
                                              owner, beat), "resuming")
        for op_id, pg_id in ops_db.queued(self.ctx):
            self._try(op_id, pg_id, lambda op_id=op_id: ops_db.claim(
                self.ctx, op_id, self.host), "starting")

    def _try(self, op_id, pg_id, take, what):
        if self._stop.is_set():
            return
        with self._lock:
            if op_id in self._running or pg_id in self._running.values() \
                    or len(self._running) >= self.conf.engine.max_operations:
                return
        lock = self.locks.try_acquire(pg_id or op_id)
        if lock is None:
            return
        try:
            taken = take()
        except Exception:
            lock.release()
            raise
        if not taken:
            lock.release()
            return
        LOG.info("%s operation %s of group %s", what.capitalize(), op_id,
                 pg_id)
        with self._lock:
            self._running[op_id] = pg_id
        self.pool.submit(self._run, op_id, lock)

    def _run(self, op_id, lock):
        try:
            for attempt in range(1, RUN_ATTEMPTS + 1):
                try:
                    runner.run_operation(self.ctx, op_id, self.host,
                                         should_stop=self._stop.is_set)
                    break
                except Exception:
                    # A database hiccup (e.g. "database is locked") must
                    # not hand the group to another engine half way: keep
                    # the lock and resume from the recorded steps.
                    if attempt == RUN_ATTEMPTS or self._stop.is_set():
                        LOG.exception("Operation %s stopped on an "
                                      "unexpected error; it will be "
                                      "resumed", op_id)
                        break
                    LOG.exception("Operation %s stopped on an unexpected "
                                  "error (attempt %d of %d); resuming it",
                                  op_id, attempt, RUN_ATTEMPTS)
                    self._stop.wait(RUN_RETRY_DELAY * attempt)
        finally:
            with self._lock:
                self._running.pop(op_id, None)
            try:
                lock.release()
            except Exception:
                LOG.exception("Releasing the lock of %s failed", op_id)
            # More work may be queued behind this operation's group.
            self._wake.set()

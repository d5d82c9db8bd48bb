"""The real protector-engine process on SQLite and MariaDB.

Test-cleanup operations need no cloud when the test made nothing, so they
run to completion here; ``PROTECTOR_ENGINE_FAULTS`` makes a step sleep so
that a test can SIGKILL the engine in the middle of it. All waits have
generous deadlines; nothing asserts durations.
"""
import uuid

import pytest
import sqlalchemy as sa

from protector.db import migration
from protector.db import models
from tests import conftest as top
from tests import services
from tests.functional.engine import fixtures
from tests.functional.engine import process

pytestmark = pytest.mark.keystone
CLEANUP_STEPS = ("validate_sites", "delete_test_instances",
                 "delete_test_networks", "delete_test_volumes",
                 "update_protection_group")


class Env:
    def __init__(self, workdir, db_url, keystone):
        self.workdir = str(workdir)
        self.db_url = db_url
        # The schema in this process (protector-manage's own tests are in
        # test_service.py): a subprocess cost 1 s of each test's setup.
        self.rows = fixtures.Rows(db_url)
        migration.upgrade(engine=self.rows.engine)
        self.a = self.rows.site("eng-a", keystone.auth_url)
        self.b = self.rows.site("eng-b", keystone.auth_url)
        self.engines = []

    def engine(self, host=None, **kw):
        eng = process.EngineProcess(
            self.workdir, self.db_url, host or "eng-" + uuid.uuid4().hex[:6],
            **kw)
        self.engines.append(eng)
        return eng.start()

    def test_cleanup(self, hold=True, pg_id=None):
        """A group with an (empty) active test, and its cleanup queued."""
        pg_id = pg_id or self.rows.group("p", self.a, self.b)
        test_id = str(uuid.uuid4())
        self.rows.set_group(pg_id, active_test_operation_id=test_id)
        op_id = fixtures.queue(
            self.rows, pg_id, "test_cleanup",
            {"test_operation_id": test_id}, source=self.a, target=self.b,
            hold=hold)
        return pg_id, op_id

    def op(self, op_id):
        return self.rows.operation(op_id)

    def done(self, op_id):
        op = self.op(op_id)
        return op if op["status"] in ("completed", "failed") else None

    def stop(self):
        for eng in self.engines:
            eng.stop()


@pytest.fixture(params=["sqlite", pytest.param("mariadb",
                                               marks=pytest.mark.mariadb)])
def env(request, keystone, tmp_path):
    if request.param == "sqlite":
        environment = Env(tmp_path, "sqlite:///%s/p.sqlite" % tmp_path,
                          keystone)
        yield environment
        environment.stop()
        return
    if not services.mysql_available():
        top.require_or_skip("MariaDB is not reachable")
    with services.mysql_database("protector_eng") as url:
        environment = Env(tmp_path, url, keystone)
        yield environment
        environment.stop()


def test_polling_engine_runs_a_queued_operation(env):
    eng = env.engine()
    pg_id, op_id = env.test_cleanup()
    op = process.wait_for(lambda: env.done(op_id), "the operation",
                          procs=[eng])
    assert op["status"] == "completed", op
    assert op["engine_host"] == eng.host
    assert op["progress"] == 100
    assert [s["attempts"] for s in op["steps"].values()] == [1] * 5
    assert op["steps"]["delete_test_volumes"]["status"] == "skipped"
    group = env.rows.group_row(pg_id)
    assert group["current_operation_id"] is None
    assert group["active_test_operation_id"] is None
    with env.rows.session() as s:
        hosts = s.scalars(sa.select(models.Service.host).where(
            models.Service.binary == "protector-engine")).all()
    assert eng.host in hosts


@pytest.mark.parametrize("step", CLEANUP_STEPS)
def test_sigkill_mid_step_then_restart_finishes_without_repeats(env, step):
    eng = env.engine(host="crashy", faults={"sleep_in": {step: 600}})
    _, op_id = env.test_cleanup()
    process.wait_for(
        lambda: env.op(op_id)["steps"][step]["status"] == "running",
        "step %s to start" % step, procs=[eng])
    eng.kill()
    # The same engine (same host name) starting again resumes at once.
    again = env.engine(host="crashy")
    op = process.wait_for(lambda: env.done(op_id), "the resumed operation",
                          procs=[again])
    assert op["status"] == "completed", op
    for name, state in op["steps"].items():
        # Completed steps never ran again; the interrupted one ran twice.
        expected = 2 if name == step else 1
        assert state["attempts"] == expected, (name, op["steps"])


def test_another_engine_adopts_a_stale_operation(env):
    eng = env.engine(host="dead-one",
                     faults={"sleep_in": {"delete_test_networks": 600}})
    _, op_id = env.test_cleanup()
    process.wait_for(lambda: env.op(op_id)["steps"][
        "delete_test_networks"]["status"] == "running", "the step",
        procs=[eng])
    eng.kill()
    other = env.engine(host="survivor", stale_after=3)
    op = process.wait_for(lambda: env.done(op_id), "the adopted operation",
                          procs=[other])
    assert op["status"] == "completed"
    assert op["engine_host"] == "survivor"
    assert op["steps"]["validate_sites"]["attempts"] == 1
    assert op["steps"]["delete_test_networks"]["attempts"] == 2


@pytest.fixture
def sqlite_env(keystone, tmp_path):
    environment = Env(tmp_path, "sqlite:///%s/p.sqlite" % tmp_path,
                      keystone)
    yield environment
    environment.stop()


@pytest.mark.rabbitmq
def test_wake_cast_starts_work_without_waiting_for_a_poll(sqlite_env):
    if not services.rabbit_available():
        top.require_or_skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    from oslo_config import cfg
    import oslo_messaging as messaging
    from oslo_messaging import conffixture

    from protector import context
    from protector.engine import rpcapi
    from protector import rpc
    with services.rabbit_vhost() as url:
        # Polling once an hour: only the cast can start the operation.
        eng = sqlite_env.engine(transport_url=url, poll_interval=3600)
        process.wait_for(
            lambda: "Listening for wake-ups" in eng.log(),
            "the engine's RPC server", procs=[eng])
        # Let the engine's first (startup) poll pass before queueing.
        process.wait_for(lambda: "Initial look for queued" in eng.log(),
                         "the first poll", procs=[eng])
        _, op_id = sqlite_env.test_cleanup()
        conf = cfg.ConfigOpts()
        conffixture.ConfFixture(conf).setUp()
        rpc.register_opts(conf)
        conf([], project="protector")
        transport = messaging.get_rpc_transport(conf, url=url)
        try:
            assert rpcapi.EngineAPI(transport).wake(
                context.RequestContext(project_id="p"), op_id)
            op = process.wait_for(lambda: sqlite_env.done(op_id),
                                  "the woken operation", procs=[eng])
        finally:
            transport.cleanup()
    assert op["status"] == "completed"


@pytest.mark.parametrize("backend", ["file", "redis"])
def test_two_engines_never_run_two_operations_of_one_group(sqlite_env,
                                                           backend):
    if backend == "redis":
        import socket
        try:
            socket.create_connection(("127.0.0.1", 6379), timeout=3).close()
        except OSError:
            top.require_or_skip("Redis is not reachable on 127.0.0.1:6379")
        lock_url = "redis://127.0.0.1:6379?namespace=protector-%s" % \
            uuid.uuid4().hex[:8]
    else:
        lock_url = "file://%s/shared-locks" % sqlite_env.workdir
    # Bypass the API's one-operation-per-group rule (hold=False) so that
    # only the tooz lock keeps the operations of the group apart.
    pg_id = sqlite_env.rows.group("p", sqlite_env.a, sqlite_env.b)
    op_ids = []
    for _ in range(4):
        op_ids.append(sqlite_env.test_cleanup(hold=False, pg_id=pg_id)[1])
    faults = {"sleep_in": {"delete_test_instances": 1}}
    engines = [sqlite_env.engine(lock_url=lock_url, faults=faults)
               for _ in range(2)]
    ops = process.wait_for(
        lambda: all(sqlite_env.done(o) for o in op_ids) and
        [sqlite_env.op(o) for o in op_ids], "all four operations",
        procs=engines)
    spans = sorted((o["started_at"], o["completed_at"]) for o in ops)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert end <= start, "two operations of one group overlapped"


def test_engine_checks_the_sites_at_start(env, keystone):
    """[engine] site_check_interval: the first check runs at start."""
    dead = env.rows.site("eng-dead-" + uuid.uuid4().hex[:6],
                         keystone.env["DEAD_AUTH_URL"])
    eng = env.engine()

    def site_row():
        with env.rows.session() as s:
            row = s.get(models.Site, dead)
            return row if row.status != "active" else None
    row = process.wait_for(site_row, "the site check", procs=[eng])
    assert row.status == "unreachable"
    assert row.status_reason.startswith(
        "protector-engine check: Keystone unreachable")
    assert row.last_checked_at is not None


def test_stopped_engine_leaves_the_services_table(env):
    """So that health says at once that it is not running."""
    eng = env.engine()

    def hosts():
        with env.rows.session() as s:
            return s.scalars(sa.select(models.Service.host).where(
                models.Service.binary == "protector-engine")).all()
    process.wait_for(lambda: eng.host in hosts(), "the heartbeat",
                     procs=[eng])
    eng.stop()
    assert eng.proc.returncode == 0, eng.log()[-2000:]
    assert eng.host not in hosts()

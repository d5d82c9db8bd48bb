"""Issue 11's fault-injection matrix, in process (no lab).

The real engine (flows, tasks, runner, mock storage driver, source-site
sub-operations, retry and rollback of ``dr/recovery.py``) runs against two
fake clouds (``twosite.py``) and the real database. First the clean runs:
planned and unplanned failover, failback, test failover. Then, for every
step of a failover, failback and test failover that changes a cloud, each
fault kind is injected into that step's cloud call:

* ``http_413``: Cinder's over-limit answer (HttpException 413),
* ``http_500``: an internal server error (HttpException 500),
* ``timeout``: ResourceTimeout from the step's ``wait_for_*`` (the
  resource exists but is not ready; keystoneauth ConnectTimeout where the
  step has no wait),
* ``lost_response``: the call took effect, its answer was lost
  (ConnectTimeout): the case that makes duplicates if a re-run does not
  find what the first run made.

For each case the operation must fail in that step, the group must say so
(``error`` for a failover/failback, unchanged for a test), and from the
same starting point (built twice):

* **retry**: fault cleared, ``recovery.retry`` then the engine: it
  completes, with exactly one server per member and one volume copy per
  source volume (no duplicates);
* **rollback** (before the point of no return): ``recovery.rollback``
  then the engine: it completes, the source VMs run again, nothing the
  operation made is left on the target, the group is back to its
  previous status. After the point of no return (a failback's retire
  and vacate steps) the refusal is checked in the retry branch, before
  the retry (a refused rollback changes nothing).

Before the matrix: a quota that became short after the request is caught
by the engine's preflight (validate_sites) before anything changes, and
parallel instance threads work on SQLite.

"Workloads down" counts members with no ACTIVE instance on either site
right after the failure. The table of outcomes is printed at the end of
the session (terminal summary).
"""
import collections
import os

import pytest

from protector import exception
from tests.functional.engine import twosite

MEMBERS = 2
VOLUMES = 2


@pytest.fixture
def make(engine_db, monkeypatch):
    made = []

    def build(**kw):
        kw.setdefault("members", MEMBERS)
        kw.setdefault("volumes", VOLUMES)
        h = twosite.TwoSite(engine_db, monkeypatch, **kw)
        made.append(h)
        return h
    yield build
    for h in made:
        h.close()


def _servers(inv, op_id=None, status=None, test=False):
    return [s for s in inv["servers"]
            if (op_id is None or s["operation"] == op_id) and
            (status is None or s["status"] == status) and
            s["name"].endswith("-drtest") == test]


def _copies(inv, op_id):
    return [v for v in inv["volumes"] if v["operation"] == op_id]


def _source_volumes(h):
    return sorted(v["volume_id"] for m in h.members() for v in m["volumes"])


def check_failed_over(h, op_id, planned=True):
    """The workload runs on B (one ACTIVE copy per member, one volume copy
    per source volume); A's originals are shut down (planned) or
    untouched (unplanned)."""
    grp = h.group()
    assert grp["status"] == "failed_over", grp
    assert grp["current_primary_site_id"] == h.site_ids["b"]
    assert grp["current_operation_id"] is None
    inv = h.inventory()
    built = _servers(inv["b"], op_id)
    assert sorted(s["member"] for s in built) == sorted(h.member_ids)
    assert all(s["status"] == "ACTIVE" for s in built), built
    assert len(inv["b"]["servers"]) == MEMBERS
    copies = _copies(inv["b"], op_id)
    assert sorted(v["copy_of"] for v in copies) == _source_volumes(h)
    assert all(v["status"] == "in-use" for v in copies)
    originals = inv["a"]["servers"]
    assert len(originals) == MEMBERS
    want = "SHUTOFF" if planned else "ACTIVE"
    assert [s["status"] for s in originals] == [want] * MEMBERS
    for member in h.members():
        assert member["current_site_id"] == h.site_ids["b"]
        assert member["current_instance_id"] in {s["id"] for s in built}
    assert h.duplicates() == {"servers": 0, "volumes": 0, "networks": 0}


def check_failed_back(h, op_id):
    """The workload runs on A again (new copies), A's originals are
    retired (deleted, volumes unmanaged), B is vacated."""
    grp = h.group()
    assert grp["status"] == "active", grp
    assert grp["current_primary_site_id"] == h.site_ids["a"]
    inv = h.inventory()
    built = _servers(inv["a"], op_id)
    assert sorted(s["member"] for s in built) == sorted(h.member_ids)
    assert all(s["status"] == "ACTIVE" for s in built), built
    assert len(inv["a"]["servers"]) == MEMBERS  # originals retired
    copies = _copies(inv["a"], op_id)
    assert sorted(v["copy_of"] for v in copies) == _source_volumes(h)
    assert sorted(inv["a"]["volumes"], key=lambda v: v["id"]) == sorted(
        copies, key=lambda v: v["id"])
    assert sorted(inv["a"]["unmanaged"]) == _source_volumes(h)
    assert inv["b"]["servers"] == [] and inv["b"]["volumes"] == []
    assert len(inv["b"]["unmanaged"]) == MEMBERS * VOLUMES
    assert h.duplicates() == {"servers": 0, "volumes": 0, "networks": 0}


def check_test_active(h, op_id, previous="active"):
    grp = h.group()
    assert grp["status"] == previous
    assert grp["active_test_operation_id"] == op_id
    assert grp["current_operation_id"] is None
    inv = h.inventory()
    drills = _servers(inv["b"], op_id, test=True)
    assert sorted(s["member"] for s in drills) == sorted(h.member_ids)
    assert all(s["status"] == "ACTIVE" for s in drills)
    copies = _copies(inv["b"], op_id)
    assert sorted(v["copy_of"] for v in copies) == _source_volumes(h)
    assert len(inv["b"]["networks"]) == 1
    assert len(inv["b"]["subnets"]) == 1
    # The workload is untouched.
    assert [s["status"] for s in inv["a"]["servers"]] == \
        ["ACTIVE"] * MEMBERS
    assert h.duplicates() == {"servers": 0, "volumes": 0, "networks": 0}


# -- 1. clean runs ----------------------------------------------------------

def test_planned_failover(make):
    h = make()
    op_id, status = h.do("failover")
    assert status == "completed", h.operation(op_id)["error_message"]
    check_failed_over(h, op_id)
    # The source half ran on site A as its own operation.
    assert [kind for kind, _ in h.sub_runs] == ["prepare_failover"]
    assert h.a.calls["compute.stop_server"] == MEMBERS
    assert h.b.calls.get("compute.stop_server", 0) == 0
    assert h.pushes and h.pushes[-1][0] == "twosite-a"
    # validate_sites ran the preflight against site B's cloud (quotas,
    # mappings, volume type, peer, trust): all ok but the RPO (a new
    # group has no replicated snapshot yet: a warning).
    steps = {s["name"]: s for s in h.operation(op_id)["steps"]}
    checks = steps["validate_sites"]["result"]["preflight"]
    assert {c["check"] for c in checks} >= {
        "quota_volumes", "quota_instances", "peer_site", "trust"}
    assert [c["check"] for c in checks if c["result"] != "ok"] == ["rpo"]
    # The source-site credential the request made is deleted at the end.
    assert [c["deleted"] for c in h.credentials.values()] == [True]


def test_quota_short_after_queueing_fails_before_any_change(make):
    """Cinder would answer 413 half-way through the copies; the
    engine's preflight (validate_sites) sees the quota first: the
    failover fails before the source is shut down, the group is as it
    was, and a retry once the quota is raised completes."""
    h = make()
    op_id = h.start("failover")
    h.b.quotas["block_storage"]["volumes"] = 3  # 4 member volumes
    assert h.run(op_id) == "failed"
    op = h.operation(op_id)
    assert op["error_code"] == "protector.precondition.quota_exceeded"
    assert h.step_status(op_id)["validate_sites"] == "failed"
    assert h.group()["status"] == "active"
    assert h.workloads_down() == []
    assert h.a.calls.get("compute.stop_server", 0) == 0
    assert h.b.calls.get("block_storage.create_volume", 0) == 0
    h.b.quotas["block_storage"]["volumes"] = 50
    from protector.dr import recovery
    recovery.retry(h.req(), op_id)
    assert h.run(op_id) == "completed"
    check_failed_over(h, op_id)


def test_unplanned_failover_with_the_source_down(make):
    h = make()
    h.a.down = True
    op_id, status = h.do("failover", type="unplanned")
    assert status == "completed", h.operation(op_id)["error_message"]
    h.a.down = False
    check_failed_over(h, op_id, planned=False)
    assert h.sub_runs == [] and h.pushes == []


def test_failback_after_a_failover(make):
    h = make()
    first, status = h.do("failover")
    assert status == "completed"
    op_id, status = h.do("failback")
    assert status == "completed", h.operation(op_id)["error_message"]
    check_failed_back(h, op_id)
    assert [kind for kind, _ in h.sub_runs] == [
        "prepare_failover", "prepare_failover", "vacate_site"]
    assert h.group()["failover_count"] == 1


def test_test_failover(make):
    h = make()
    op_id, status = h.do("test_failover", auto_network=True)
    assert status == "completed", h.operation(op_id)["error_message"]
    check_test_active(h, op_id)
    assert h.sub_runs == []


def test_parallel_instance_threads_on_sqlite(make):
    """The steps that work on instances in parallel threads record a
    resource in each thread (shutdown_instances, recreate_instances): on
    SQLite two such write transactions used to deadlock and fail at once
    with "database is locked" (db/api.py now begins writers with BEGIN
    IMMEDIATE). Four members, four threads, planned failover and back."""
    h = make(width=4, members=4)
    for kind in ("failover", "failback"):
        op_id, status = h.do(kind)
        assert status == "completed", h.operation(op_id)["error_message"]
    assert h.group()["status"] == "active"


# -- 2. the matrix -----------------------------------------------------------

# (operation, step, site of the faulted cloud, the call for HTTP errors
# and lost answers, the call for timeouts)
STEPS = [
    ("failover", "snapshot_consistency_group", "source",
     "compute.stop_server", "compute.wait_for_server"),
    ("failover", "recreate_instances", "target",
     "block_storage.create_volume", "block_storage.create_volume"),
    ("failover", "recreate_instances", "target",
     "block_storage.wait_for_status", "block_storage.wait_for_status"),
    ("failover", "recreate_instances", "target",
     "compute.create_server", "compute.wait_for_server"),
    ("failback", "snapshot_consistency_group", "source",
     "compute.stop_server", "compute.wait_for_server"),
    ("failback", "recreate_instances", "target",
     "block_storage.create_volume", "block_storage.create_volume"),
    ("failback", "recreate_instances", "target",
     "block_storage.wait_for_status", "block_storage.wait_for_status"),
    ("failback", "recreate_instances", "target",
     "compute.create_server", "compute.wait_for_server"),
    ("failback", "retire_previous_instances", "target",
     "compute.delete_server", "compute.wait_for_delete"),
    ("failback", "unmanage_source_volumes", "source",
     "block_storage.unmanage_volume", "block_storage.wait_for_status"),
    ("test_failover", "recreate_instances", "target",
     "block_storage.create_volume", "block_storage.create_volume"),
    ("test_failover", "create_test_network", "target",
     "network.create_network", "network.create_network"),
    ("test_failover", "create_test_network", "target",
     "network.create_subnet", "network.create_subnet"),
    ("test_failover", "recreate_instances", "target",
     "block_storage.wait_for_status", "block_storage.wait_for_status"),
    ("test_failover", "recreate_instances", "target",
     "compute.create_server", "compute.wait_for_server"),
]
CASES = [(op, step, where, timeout_call if fault == "timeout" else call,
          fault)
         for op, step, where, call, timeout_call in STEPS
         for fault in twosite.FAULTS]
# The step and, where a step has several faulted calls, which one. The
# recreate asks for each VM's volume copies and waits for them (the
# promote step only checks that they can be made: a pipeline per VM)
# before it boots the VM.
LABELS = {("create_test_network", "network.create_subnet"):
          "create_test_network(subnet)",
          ("recreate_instances", "block_storage.create_volume"):
          "recreate_instances(copy)",
          ("recreate_instances", "block_storage.wait_for_status"):
          "recreate_instances(copies)"}
IDS = ["%s-%s-%s" % (op, LABELS.get((step, call), step), fault)
       for op, step, where, call, fault in CASES]
# Failback steps after which a rollback is refused (dr/recovery.py):
# test_retry checks the refusal; test_rollback runs the others.
NO_RETURN = {"failback": ("retire_previous_instances",
                          "unmanage_source_volumes")}
ROLLBACK_CASES = [c for c in CASES if c[1] not in NO_RETURN.get(c[0], ())]
ROLLBACK_IDS = [i for c, i in zip(CASES, IDS)
                if c[1] not in NO_RETURN.get(c[0], ())]

RESULTS = collections.OrderedDict()


def _table():
    """The matrix as lines of text."""
    head = ("operation", "step", "fault", "error code", "group",
            "down", "retry", "dup", "rollback", "left")
    rows = [head]
    for (op, step, fault), r in RESULTS.items():
        rows.append((op, step, fault, r.get("error", "?"),
                     r.get("group", "?"), str(r.get("down", "?")),
                     r.get("retry", "-"), r.get("dup", "-"),
                     r.get("rollback", "-"), r.get("left", "-")))
    widths = [max(len(str(row[i])) for row in rows)
              for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths))
             for row in rows]
    count = collections.Counter()
    for r in RESULTS.values():
        count["retry " + r.get("retry", "-").split(" ")[0]] += 1
        count["rollback " + r.get("rollback", "-").split(" ")[0]] += 1
        count["down after failure"] += bool(r.get("down"))
        count["cases with duplicates"] += r.get("dup", "0") not in (
            "0", "-")
    lines.append("totals: " + ", ".join(
        "%s=%d" % kv for kv in sorted(count.items())))
    lines.append(
        "group: its status right after the failure; down: members "
        "with no ACTIVE instance on either site right after it; dup: "
        "extra servers/volume copies/networks after the retry; left: "
        "what the failed operation made that is still on the target "
        "after the rollback")
    return lines


class _Summary:
    """Prints the matrix at the end of the session (a run in one
    process; under pytest-xdist the worker's summary is not shown, and
    the file written at the end of the module has it)."""

    def pytest_terminal_summary(self, terminalreporter):
        if not RESULTS:
            return
        terminalreporter.section("issue 11 fault matrix (%d cases)" %
                                 len(RESULTS))
        for line in _table():
            terminalreporter.write_line(line)


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    plugin = _Summary()
    request.config.pluginmanager.register(plugin, "fault-matrix-summary")
    yield
    # Left registered: the terminal summary runs after the module.
    junit = request.config.getoption("xmlpath", None)
    if RESULTS and junit:
        # Beside the junit XML: test-results/ of make test.
        with open(os.path.join(os.path.dirname(junit) or ".",
                               "fault-matrix.txt"), "w") as out:
            out.write("\n".join(_table()) + "\n")


def _key(op, step, call, fault):
    return (op, LABELS.get((step, call), step), fault)


def _record(key, **values):
    RESULTS.setdefault(key, {}).update(values)


def _scenario(make, op, step, where, call, fault):
    """Build the starting point, inject, run: (harness, failed op id)."""
    key = _key(op, step, call, fault)
    h = make()
    args = {"auto_network": True} if op == "test_failover" else {}
    if op == "failback":
        _, status = h.do("failover")
        assert status == "completed"
    previous = h.group()["status"]
    op_site = "b" if op in ("failover", "test_failover") else "a"
    role = {"target": op_site, "source": "a" if op_site == "b" else "b"}
    cloud = h.clouds[role[where]]
    cloud.fail(call, fault)
    op_id, status = h.do(op, **args)
    assert cloud.fault_hits() == 1, "the fault was not reached"
    cloud.clear_faults()
    failed = h.operation(op_id)
    assert status == "failed", failed
    steps = {s["name"]: s["status"] for s in failed["steps"]}
    assert steps[step] == "failed", steps
    grp = h.group()
    if op == "test_failover":
        assert grp["status"] == previous, grp
    else:
        # Every faulted step comes after the planned source shutdown.
        assert grp["status"] == "error", grp
    assert grp["current_operation_id"] is None
    down = h.workloads_down()
    _record(key, group=grp["status"], down=len(down),
            error=failed["error_code"])
    return h, op_id, previous


def _dups(h):
    d = h.duplicates()
    return "0" if not any(d.values()) else ",".join(
        "%s=%d" % kv for kv in sorted(d.items()) if kv[1])


@pytest.mark.parametrize("op,step,where,call,fault", CASES, ids=IDS)
def test_retry(make, op, step, where, call, fault):
    from protector.dr import recovery
    key = _key(op, step, call, fault)
    h, op_id, previous = _scenario(make, op, step, where, call, fault)
    if step in NO_RETURN.get(op, ()):
        # Past the point of no return only a retry goes on: the refused
        # rollback changes nothing, so it is checked from this same
        # starting point.
        with pytest.raises(exception.RollbackImpossible) as err:
            recovery.rollback(h.req(), op_id)
        _record(key, rollback="refused (no return)", left="-")
        assert err.value.code == "protector.precondition.rollback_impossible"
        assert "retry" in err.value.message
    try:
        queued = recovery.retry(h.req(), op_id)
    except exception.ProtectorException as exc:
        _record(key, retry="refused (%s)" % exc.code)
        raise
    assert queued["id"] == op_id and queued["status"] == "queued"
    status = h.run(op_id)
    done = h.operation(op_id)
    _record(key, retry=status if status == "completed" else
            "%s (%s)" % (status, done["error_code"]), dup=_dups(h))
    assert status == "completed", done["error_message"]
    # The failed step ran twice, the completed ones once.
    attempts = {s["name"]: s["attempts"] for s in done["steps"]}
    assert attempts[step] == 2, attempts
    assert all(n == 1 for name, n in attempts.items()
               if name != step), attempts
    if op == "failover":
        check_failed_over(h, op_id)
    elif op == "failback":
        check_failed_back(h, op_id)
    else:
        check_test_active(h, op_id, previous)


def _check_rolled_back(h, op, op_id, previous):
    grp = h.group()
    assert grp["status"] == previous, grp
    assert grp["current_operation_id"] is None
    inv = h.inventory()
    op_site = "b" if op in ("failover", "test_failover") else "a"
    source = "a" if op_site == "b" else "b"
    left = h.made_by(op_id)[op_site]
    assert left == [], left
    # The workload runs where it ran before, once per member.
    running = h.running()
    for member, where in running.items():
        assert [site for site, _ in where] == [source], running
    if op == "test_failover":
        assert grp["active_test_operation_id"] is None
        assert inv["b"]["networks"] == [] and inv["b"]["subnets"] == []
    else:
        assert grp["current_primary_site_id"] == h.site_ids[source]
        # What the planned shutdown stopped was started on the source
        # site by a sub-operation there.
        assert "restore_source" in [kind for kind, _ in h.sub_runs]
    assert h.duplicates() == {"servers": 0, "volumes": 0, "networks": 0}


@pytest.mark.parametrize("op,step,where,call,fault", ROLLBACK_CASES,
                         ids=ROLLBACK_IDS)
def test_rollback(make, op, step, where, call, fault):
    from protector.dr import recovery
    key = _key(op, step, call, fault)
    h, op_id, previous = _scenario(make, op, step, where, call, fault)
    try:
        new = recovery.rollback(h.req(), op_id)
    except exception.ProtectorException as exc:
        _record(key, rollback="refused (%s)" % exc.code)
        raise
    status = h.run(new["id"])
    done = h.operation(new["id"])
    op_site = "b" if op in ("failover", "test_failover") else "a"
    left = h.made_by(op_id)[op_site]
    _record(key, rollback=status if status == "completed" else
            "%s (%s: %s)" % (status, done["error_code"],
                             done["error_message"][:60]),
            left=str(len(left)))
    assert status == "completed", done["error_message"]
    _check_rolled_back(h, op, op_id, previous)

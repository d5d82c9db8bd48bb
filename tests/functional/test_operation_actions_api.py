"""``POST /v1/{t}/operations/{id}/action`` (retry, rollback) over HTTP.

The real protector-api (its own SQLite/MariaDB, the test Keystone) of
``test_operations_api``; failed operations are inserted straight into its
database. No engine runs: a retried operation stays queued, a rollback is
queued (the engine tests run them, tests/functional/engine/
test_retry_rollback.py).
"""
import os
import uuid

import pytest
import sqlalchemy as sa

from protector.db import models
from tests.functional.engine import fixtures
from tests.functional.engine import process
# The servers and seeded groups of the operations API tests.
from tests.functional.test_operations_api import mariadb_ops_api  # noqa
from tests.functional.test_operations_api import ops_api  # noqa
from tests.functional.test_operations_api import sqlite_ops_api  # noqa
from tests.functional.test_operations_api import stub_peer  # noqa
from tests.functional.test_service import call

pytestmark = pytest.mark.keystone


@pytest.fixture
def seed(ops_api, keystone):  # noqa: F811
    rows = ops_api.rows
    a = rows.site("ops-site-a", keystone.auth_url)
    b = rows.site("ops-site-b", keystone.auth_url)
    alpha = keystone.env["ALPHA_ID"]

    def failed(kind="failover", steps=None, project=alpha, params=None,
               status="failed", misplaced=False):
        """A group with one failed operation of ``kind`` (this site, ops-
        site-a, is its target); ``steps``: step -> status. ``misplaced``:
        the group runs here and the operation targets ops-site-b, as one
        accepted at the wrong site's API before that was refused."""
        source, target = (a, b) if misplaced else (b, a)
        pg_id = rows.group(project, source, target,
                           name="rr-%s" % uuid.uuid4().hex[:8])
        params = dict(params or {"type": "unplanned",
                                 "previous_status": "active"})
        op_id = fixtures.queue(rows, pg_id, kind, params, project=project,
                               source=source, target=target, hold=False)
        with rows.session() as s, s.begin():
            s.execute(sa.update(models.Operation).where(
                models.Operation.id == op_id).values(
                status=status, error_code="protector.storage.error",
                error_message="Step x failed: boom"))
            for name, st in (steps or {"validate_sites": "failed"}).items():
                s.execute(sa.update(models.OperationStep).where(
                    models.OperationStep.operation_id == op_id,
                    models.OperationStep.name == name).values(status=st))
        return pg_id, op_id

    def post(op_id, body, token=None, project=alpha, raw=None):
        url = "%s/v1/%s/operations/%s/action" % (ops_api.url, project, op_id)
        return call("POST", url, token or keystone.env["ALICE_TOKEN"], body,
                    raw=raw)

    ops_api.failed, ops_api.post = failed, post
    return ops_api


def _code(data):
    return data["errors"][0]["code"]


def test_retry_requeues_the_same_operation(seed):
    pg_id, op_id = seed.failed()
    status, data = seed.post(op_id, {"retry": {}})
    assert status == 202, data
    op = data["operation"]
    assert op["id"] == op_id and op["status"] == "queued"
    assert op["error_message"] is None and op["steps_failed"] == []
    assert seed.rows.group_row(pg_id)["current_operation_id"] == op_id
    # Queued now, not failed: a second retry is refused.
    status, data = seed.post(op_id, {"retry": None})
    assert status == 412 and _code(data) == \
        "protector.precondition.not_retryable"
    assert "queued" in data["errors"][0]["detail"]


def test_retry_of_a_busy_group_is_409(seed):
    pg_id, op_id = seed.failed()
    seed.rows.set_group(pg_id, current_operation_id=str(uuid.uuid4()))
    status, data = seed.post(op_id, {"retry": {}})
    assert status == 409 and _code(data) == "protector.operation.conflict"
    assert seed.rows.operation(op_id)["status"] == "failed"


def test_rollback_queues_a_new_operation(seed):
    pg_id, op_id = seed.failed(steps={"validate_sites": "completed",
                                      "promote_volumes": "failed"})
    status, data = seed.post(op_id, {"rollback": {}})
    assert status == 202, data
    rb = data["operation"]
    assert rb["id"] != op_id and rb["operation_type"] == "rollback"
    assert rb["status"] == "queued" and rb["progress"] == 0
    assert seed.rows.group_row(pg_id)["current_operation_id"] == rb["id"]
    row = seed.rows.operation(rb["id"])
    assert list(row["steps"]) == [
        "validate_sites", "delete_recovered_instances",
        "delete_recovered_networks", "delete_recovered_volumes",
        "restore_replication", "restart_source_instances",
        "update_protection_group"]
    # The failed one stays failed and is no longer the group's newest.
    assert seed.rows.operation(op_id)["status"] == "failed"
    seed.rows.set_group(pg_id, current_operation_id=None)
    status, data = seed.post(op_id, {"retry": {}})
    assert status == 412 and rb["id"] in data["errors"][0]["detail"]


@pytest.mark.parametrize("action,verb", [("retry", "retried"),
                                         ("rollback", "rolled back")])
def test_an_operation_queued_at_the_wrong_site_is_not_requeued(
        seed, stub_peer, action, verb):  # noqa: F811
    """An operation whose target is the other site (accepted here before
    the wrong site refused actions) cannot run here: 409
    protector.operation.wrong_site naming that site; nothing changes."""
    pg_id, op_id = seed.failed(misplaced=True)
    before = seed.rows.group_row(pg_id)
    status, data = seed.post(op_id, {action: {}})
    assert status == 409, data
    assert _code(data) == "protector.operation.wrong_site"
    detail = data["errors"][0]["detail"]
    assert "runs on the engine of its target site ops-site-b" in detail
    assert "is not %s here" % verb in detail, detail
    assert "protector-api of site ops-site-b (%s)" % stub_peer.url in detail
    assert seed.rows.operation(op_id)["status"] == "failed"
    assert seed.rows.group_row(pg_id) == before
    with seed.rows.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(
            models.Operation).where(
            models.Operation.protection_group_id == pg_id)) == 1


def test_rollback_after_the_point_of_no_return_is_412(seed):
    _, op_id = seed.failed(steps={"update_protection_group": "failed"})
    status, data = seed.post(op_id, {"rollback": {}})
    assert status == 412
    assert _code(data) == "protector.precondition.rollback_impossible"
    assert "openstack dr operation retry %s" % op_id in \
        data["errors"][0]["detail"]


def test_rollback_of_a_test_cleanup_is_412(seed):
    _, op_id = seed.failed(kind="test_cleanup", params={
        "test_operation_id": str(uuid.uuid4())})
    status, data = seed.post(op_id, {"rollback": {}})
    assert status == 412
    assert _code(data) == "protector.precondition.not_rollbackable"


@pytest.mark.parametrize("body,code", [
    ({}, "protector.operation.invalid_action"),
    ({"retry": {}, "rollback": {}}, "protector.operation.invalid_action"),
    ({"reboot": {}}, "protector.operation.invalid_action"),
    ({"retry": {"force": True}}, "protector.request.invalid"),
    ({"rollback": []}, "protector.request.invalid"),
    ([], "protector.request.invalid"),
])
def test_malformed_bodies_are_400(seed, body, code):
    _, op_id = seed.failed()
    status, data = seed.post(op_id, body)
    assert status == 400 and _code(data) == code, data
    assert seed.rows.operation(op_id)["status"] == "failed"


def test_not_json_is_400(seed):
    _, op_id = seed.failed()
    status, data = seed.post(op_id, None, raw=b"{retry")
    assert status == 400 and _code(data) == "protector.request.invalid"


def test_unknown_and_other_projects_operations_are_404(seed, keystone):
    status, data = seed.post(str(uuid.uuid4()), {"retry": {}})
    assert status == 404 and _code(data) == "protector.operation.not_found"
    # An operation of project beta, asked for through alpha's URL.
    _, theirs = seed.failed(project=keystone.env["BETA_ID"])
    for body in ({"retry": {}}, {"rollback": {}}):
        status, data = seed.post(theirs, body)
        assert status == 404, data
        assert _code(data) == "protector.operation.not_found"
    assert seed.rows.operation(theirs)["status"] == "failed"


def test_another_projects_user_is_403(seed, keystone):
    _, op_id = seed.failed()
    status, _ = seed.post(op_id, {"retry": {}},
                          token=keystone.env["BOB_TOKEN"])
    assert status == 403


def test_get_is_405(seed, keystone):
    _, op_id = seed.failed()
    url = "%s/v1/%s/operations/%s/action" % (
        seed.url, keystone.env["ALPHA_ID"], op_id)
    status, data = call("GET", url, keystone.env["ALICE_TOKEN"])
    assert status == 405


@pytest.mark.parametrize("action,kind,sleep_step", [
    ("retry", "test_cleanup", "delete_test_networks"),
    ("rollback", "test_failover", "update_protection_group"),
])
def test_engine_killed_mid_retry_or_rollback_resumes(seed, action, kind,
                                                     sleep_step):
    """A retry and a rollback are operations like any other: the real
    protector-engine SIGKILLed in the middle of one resumes it at its
    restart and finishes it (the interrupted step runs twice, the others
    once; steps the failed run completed never again)."""
    test_id = str(uuid.uuid4())
    params = {"test_operation_id": test_id} if kind == "test_cleanup" \
        else {"network_mapping": {"net-web": "net-web"}}
    pg_id, op_id = seed.failed(kind=kind, params=params, steps={
        "validate_sites": "completed", "delete_test_instances": "failed",
        "snapshot_consistency_group": "failed"})
    seed.rows.set_group(pg_id, active_test_operation_id=test_id
                        if kind == "test_cleanup" else op_id)
    status, data = seed.post(op_id, {action: {}})
    assert status == 202, data
    run_id = data["operation"]["id"]
    workdir = os.path.join(seed.workdir, "kill-%s" % action)
    host = "crashy-%s" % uuid.uuid4().hex[:6]
    eng = process.EngineProcess(workdir, seed.db_url, host,
                                faults={"sleep_in": {sleep_step: 600}})
    again = process.EngineProcess(workdir, seed.db_url, host)
    try:
        eng.start()
        process.wait_for(
            lambda: seed.rows.operation(run_id)["steps"][sleep_step][
                "status"] == "running", "%s to reach %s" % (action,
                                                           sleep_step),
            procs=[eng])
        eng.kill()
        # The same engine (same host name) restarting resumes it at once.
        again.start()
        op = process.wait_for(
            lambda: seed.rows.operation(run_id) if seed.rows.operation(
                run_id)["status"] in ("completed", "failed") else None,
            "the resumed %s" % action, procs=[again])
    finally:
        eng.stop()
        again.stop()
    assert op["status"] == "completed", op
    attempts = {name: s["attempts"] for name, s in op["steps"].items()}
    assert attempts[sleep_step] == 2, attempts
    if action == "retry":
        # validate_sites completed before the failure: not run again.
        assert attempts["validate_sites"] == 0, attempts
        assert attempts["delete_test_instances"] == 1, attempts
    else:
        assert attempts["validate_sites"] == 1, attempts
        assert seed.rows.operation(op_id)["status"] == "failed"
    group = seed.rows.group_row(pg_id)
    assert group["current_operation_id"] is None
    assert group["active_test_operation_id"] is None

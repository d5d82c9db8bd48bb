"""Group lifecycle across two real protector-api servers (``pair``).

Delete passes through a committed ``deleting`` (seen by the peer's side
while the deletion is pushed), goes back to ``active`` when the peer is
unreachable, and is refused with 409 while an operation runs or a test is
active; member add/remove likewise, with nothing changed on either site.
``next_action`` shows what to run next. The engine's reconcile (run as a
separate process on site A's configuration, as protector-engine would)
finishes or undoes groups left ``creating``/``deleting``, and the delete of
the ``error`` group an interrupted create leaves removes what it made.
"""
import datetime
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid

import pytest
import sqlalchemy as sa

from protector.db import models
from protector.volume_groups import mock as mock_cinder
from tests.functional.engine import fixtures

pytestmark = pytest.mark.keystone

PEER_NOTIFIED = "deleting: peer notified"
DELETE_STARTED = "deleting: telling the peer site"


def _alice(pair):
    env = pair.keystone.env
    return {"token": env["ALICE_TOKEN"], "project": env["ALPHA_ID"]}


def _req(pair, server, method, path, body=None):
    return pair.request(server, method, path, body, **_alice(pair))


def _create(pair, name):
    ids = pair.site_ids["a"]
    status, body = _req(pair, "a", "POST", "/protection-groups", {
        "protection_group": {
            "name": name, "replication_type": "async",
            "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}})
    assert status == 201, body
    return body["protection_group"]


def _show(pair, server, pg_id):
    status, body = _req(pair, server, "GET", "/protection-groups/" + pg_id)
    return body["protection_group"] if status == 200 else status


def _versions(pair, pg_id):
    return {s: (_show(pair, s, pg_id)["metadata_version"],
                _show(pair, s, pg_id)["member_count"]) for s in "ab"}


def _mock_groups(server):
    path = os.path.join(server.workdir, "mock_storage", "cinder.sqlite")
    if not os.path.exists(path):
        return set()
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM groups")}


def _cg_ids(pair, pg_id):
    _, body = _req(pair, "a", "GET",
                   "/protection-groups/%s/consistency-group" % pg_id)
    cg = body["consistency_group"]
    return {cg["primary_cg_id"], cg["secondary_cg_id"]}


def _old():
    return datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None) - datetime.timedelta(hours=1)


def _purge(server, pg_id):
    """Remove a group's rows straight from a site's database."""
    rows = fixtures.Rows(server.db_url)
    with rows.session() as s, s.begin():
        ops = [o for o in s.scalars(sa.select(models.Operation.id).where(
            models.Operation.protection_group_id == pg_id))]
        members = [m for m in s.scalars(sa.select(models.Member.id).where(
            models.Member.protection_group_id == pg_id))]
        for table in reversed(models.Base.metadata.sorted_tables):
            if table.name == "member_volumes" and members:
                s.execute(table.delete().where(
                    table.c.member_id.in_(members)))
            elif "operation_id" in table.c and ops:
                s.execute(table.delete().where(
                    table.c.operation_id.in_(ops)))
            if "protection_group_id" in table.c:
                s.execute(table.delete().where(
                    table.c.protection_group_id == pg_id))
        s.execute(sa.delete(models.ProtectionGroup).where(
            models.ProtectionGroup.id == pg_id))


class Watch:
    """Stands between site A and site B's protector-api: records site A's
    status of the group at the moment each push arrives, and answers 503
    (an unreachable peer) when ``fail`` is set."""

    def __init__(self, pair):
        self.seen = []
        self.fail = False
        watch, rows_a, target = self, fixtures.Rows(pair.a.db_url), pair.b.url

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                doc = ((json.loads(data) if data else {}).get(
                    "metadata") or {}).get("document") or {}
                if doc.get("id"):
                    try:
                        status = rows_a.group_row(doc["id"])["status"]
                    except Exception:
                        status = None
                    watch.seen.append(("deletion" if doc.get("deleted")
                                       else "document", status))
                if watch.fail:
                    self._send(503, json.dumps({"errors": [{
                        "code": "x", "detail": "down"}]}).encode())
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower()
                           in ("x-auth-token", "openstack-api-version",
                               "x-protector-peer-signature",
                               "content-type")}
                req = urllib.request.Request(target + self.path, data=data,
                                             method=self.command,
                                             headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=60) as resp:
                        self._send(resp.status, resp.read())
                except urllib.error.HTTPError as exc:
                    self._send(exc.code, exc.read())

            def _send(self, code, payload):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()


def _peer_url(server, url):
    rows = fixtures.Rows(server.db_url)
    with rows.session() as s, s.begin():
        s.execute(sa.update(models.Site).where(
            models.Site.name == "site-b").values(protector_url=url))


@pytest.fixture
def watch(pair):
    """Site A pushes to site B through a Watch."""
    w = Watch(pair)
    _peer_url(pair.a, w.url)
    try:
        yield w
    finally:
        _peer_url(pair.a, pair.b.url)
        w.server.shutdown()
        w.server.server_close()


def _hold(pair, pg_id):
    """A running failover of the group on site A (as the API records it)."""
    return fixtures.queue(fixtures.Rows(pair.a.db_url), pg_id, "failover",
                          project=pair.keystone.env["ALPHA_ID"])


def _set(pair, pg_id, **values):
    fixtures.Rows(pair.a.db_url).set_group(pg_id, **values)


def _error(body):
    return body["errors"][0]


def test_delete_is_refused_while_busy_then_passes_through_deleting(
        pair, watch, made):
    pg = _create(pair, "lc-delete")
    made.append(pg["id"])
    path = "/protection-groups/" + pg["id"]
    assert pg["next_action"] is None
    # Create pushes while its row is still 'creating' (committed).
    assert watch.seen == [("document", "creating")]
    del watch.seen[:]
    before, cgs = _versions(pair, pg["id"]), _cg_ids(pair, pg["id"])

    op_id = _hold(pair, pg["id"])
    status, body = _req(pair, "a", "DELETE", path)
    assert status == 409, body
    assert _error(body)["code"] == "protector.operation.conflict"
    assert op_id in _error(body)["detail"]
    shown = _show(pair, "a", pg["id"])
    assert shown["status"] == "active"
    assert shown["next_action"] == (
        "Wait for operation %s (failover, queued): openstack dr operation "
        "show %s --wait" % (op_id, op_id))
    _, body = _req(pair, "a", "GET", "/protection-groups?name=lc-delete")
    assert body["protection_groups"][0]["next_action"] == \
        shown["next_action"]

    # The operation failed without changing anything: retry is next.
    rows = fixtures.Rows(pair.a.db_url)
    with rows.session() as s, s.begin():
        s.execute(sa.update(models.Operation).where(
            models.Operation.id == op_id).values(status="failed"))
    _set(pair, pg["id"], current_operation_id=None,
         active_test_operation_id=str(uuid.uuid4()))
    status, body = _req(pair, "a", "DELETE", path)
    assert status == 409, body
    assert _error(body)["code"] == "protector.operation.test_active"
    assert "test-cleanup lc-delete" in _error(body)["detail"]

    _set(pair, pg["id"], active_test_operation_id=None)
    shown = _show(pair, "a", pg["id"])
    assert "'openstack dr operation retry %s'" % op_id in \
        shown["next_action"]
    # Nothing was changed on either site by the refused deletes.
    assert _versions(pair, pg["id"]) == before
    assert _show(pair, "a", pg["id"])["status"] == "active"
    assert cgs <= _mock_groups(pair.a)
    assert watch.seen == []

    status, body = _req(pair, "a", "DELETE", path)
    assert status == 204, body
    # Site A had committed 'deleting' before it told the peer.
    assert watch.seen == [("deletion", "deleting")]
    assert _show(pair, "a", pg["id"]) == 404
    assert _show(pair, "b", pg["id"]) == 404
    assert not cgs & _mock_groups(pair.a)


def _add_member(pair, pg_id):
    """The same member row on both sites (as a synced member add makes)."""
    member_id, instance = str(uuid.uuid4()), str(uuid.uuid4())
    for key, server in (("a", pair.a), ("b", pair.b)):
        rows = fixtures.Rows(server.db_url)
        site_a = pair.site_ids[key]["site-a"]
        with rows.session() as s, s.begin():
            s.add(models.Member(
                id=member_id, protection_group_id=pg_id,
                project_id=pair.keystone.env["ALPHA_ID"],
                instance_id=instance, instance_name="vm-1",
                status="protected", instance_config="{}",
                current_site_id=site_a,
                created_at=datetime.datetime.now(datetime.timezone.utc)
                .replace(tzinfo=None)))
    return member_id


def test_member_add_and_remove_are_refused_while_busy(pair, made):
    pg = _create(pair, "lc-members")
    made.append(pg["id"])
    path = "/protection-groups/%s/members" % pg["id"]
    member_id = _add_member(pair, pg["id"])
    before = _versions(pair, pg["id"])
    assert before == {"a": (1, 1), "b": (1, 1)}
    add = {"member": {"instance_id": str(uuid.uuid4())}}

    op_id = _hold(pair, pg["id"])
    status, body = _req(pair, "a", "POST", path, add)
    assert status == 409, body
    assert _error(body)["code"] == "protector.operation.conflict"
    assert "add a member" in _error(body)["detail"]
    status, body = _req(pair, "a", "DELETE", path + "/" + member_id)
    assert status == 409, body
    assert _error(body)["code"] == "protector.operation.conflict"
    assert op_id in _error(body)["detail"]

    _set(pair, pg["id"], current_operation_id=None,
         active_test_operation_id=str(uuid.uuid4()))
    status, body = _req(pair, "a", "POST", path, add)
    assert status == 409, body
    assert _error(body)["code"] == "protector.operation.test_active"
    status, body = _req(pair, "a", "DELETE", path + "/" + member_id)
    assert status == 409, body
    assert _error(body)["code"] == "protector.operation.test_active"
    assert "remove a member" in _error(body)["detail"]

    assert _versions(pair, pg["id"]) == before
    for server in "ab":
        _, body = _req(pair, server, "GET", path)
        assert [m["id"] for m in body["members"]] == [member_id]


def test_peer_unreachable_delete_returns_to_active(pair, watch, made):
    pg = _create(pair, "lc-unreachable")
    made.append(pg["id"])
    path = "/protection-groups/" + pg["id"]
    before, cgs = _versions(pair, pg["id"]), _cg_ids(pair, pg["id"])
    del watch.seen[:]
    watch.fail = True
    status, body = _req(pair, "a", "DELETE", path)
    assert status == 503, body
    assert _error(body)["code"] == "protector.peer.unreachable"
    assert watch.seen == [("deletion", "deleting")]
    shown = _show(pair, "a", pg["id"])
    assert shown["status"] == "active"
    assert shown["status_reason"] is None
    assert _versions(pair, pg["id"]) == before
    assert cgs <= _mock_groups(pair.a)
    _, body = _req(pair, "a", "GET", path + "/sync-status")
    assert body["sync_status"]["remote_status"] == "UNREACHABLE"

    watch.fail = False
    status, body = _req(pair, "a", "DELETE", path)
    assert status == 204, body
    assert _show(pair, "b", pg["id"]) == 404


RECONCILE = """
import json, sys
from oslo_config import cfg
from protector.common import config
from protector import context
from protector.db import api as db_api
from protector.engine import reconcile
conf = config.parse_args(["--config-file", sys.argv[1]], conf=cfg.CONF)
db_api.configure(conf)
print(json.dumps(reconcile.run(context.get_admin_context(),
                               int(sys.argv[2]))))
"""


def _reconcile(server, stale_after=60):
    """What protector-engine on ``server``'s site does at start."""
    out = subprocess.run([sys.executable, "-c", RECONCILE, server.conf_file,
                          str(stale_after)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _interrupted_create(pair, name):
    """What a create leaves when its API process stops after making both
    Cinder groups: a 'creating' row (never pushed) naming them."""
    pg_id, ids = str(uuid.uuid4()), pair.site_ids["a"]
    groups = {}
    path = os.path.join(pair.a.workdir, "mock_storage", "cinder.sqlite")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(mock_cinder._SCHEMA)
        for site in ("site-a", "site-b"):
            groups[site] = str(uuid.uuid4())
            conn.execute("INSERT INTO groups VALUES (?, ?, ?, ?, ?)",
                         (groups[site], site, "pg-%s-cg" % name,
                          os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
                          "available"))
    rows = fixtures.Rows(pair.a.db_url)
    with rows.session() as s, s.begin():
        s.add(models.ProtectionGroup(
            id=pg_id, project_id=pair.keystone.env["ALPHA_ID"], name=name,
            status="creating", replication_type="async",
            primary_site_id=ids["site-a"], secondary_site_id=ids["site-b"],
            current_primary_site_id=ids["site-a"],
            volume_type_id=os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
            volume_type_name="replicated-async", failover_count=0,
            metadata_version=0, created_at=_old()))
        s.flush()
        s.add(models.ConsistencyGroup(
            id=str(uuid.uuid4()), protection_group_id=pg_id,
            name="pg-%s-cg" % name,
            volume_type_id=os.environ["MOCK_TYPE_REPLICATED_ASYNC"],
            primary_cg_id=groups["site-a"],
            secondary_cg_id=groups["site-b"], status="creating",
            created_at=_old()))
    return pg_id, set(groups.values())


def test_engine_reconciles_interrupted_creates_and_deletes(pair, made):
    created, create_cgs = _interrupted_create(pair, "lc-rec-create")
    made.append(created)
    fresh, _ = _interrupted_create(pair, "lc-rec-fresh")
    made.append(fresh)
    _set(pair, fresh, updated_at=datetime.datetime.now(
        datetime.timezone.utc).replace(tzinfo=None))

    finished = _create(pair, "lc-rec-finish")
    made.append(finished["id"])
    finish_cgs = _cg_ids(pair, finished["id"])
    _, body = _req(pair, "a", "GET", "/protection-groups/%s/"
                   "consistency-group" % finished["id"])
    local_cg = body["consistency_group"]["primary_cg_id"]
    # The peer accepted the deletion, then site A's API process stopped.
    _purge(pair.b, finished["id"])
    _set(pair, finished["id"], status="deleting",
         status_reason=PEER_NOTIFIED, updated_at=_old())

    undone = _create(pair, "lc-rec-undo")
    made.append(undone["id"])
    # Stopped before the peer was told.
    _set(pair, undone["id"], status="deleting",
         status_reason=DELETE_STARTED, updated_at=_old())

    done = _reconcile(pair.a)
    assert done == {created: "error", finished["id"]: "deleted",
                    undone["id"]: "active"}

    shown = _show(pair, "a", created)
    assert shown["status"] == "error"
    assert "create was interrupted" in shown["status_reason"]
    assert "openstack dr protection-group delete lc-rec-create" in \
        shown["status_reason"]
    assert "openstack dr protection-group delete lc-rec-create" in \
        shown["next_action"]
    # That delete removes what the create made (both sites' groups).
    status, body = _req(pair, "a", "DELETE", "/protection-groups/" + created)
    assert status == 204, body
    assert not create_cgs & _mock_groups(pair.a)

    assert _show(pair, "a", fresh)["status"] == "creating"
    assert "protector-engine" in _show(pair, "a", fresh)["next_action"]

    assert _show(pair, "a", finished["id"]) == 404
    mock_now = _mock_groups(pair.a)
    assert local_cg not in mock_now
    # The peer site's Cinder group is the peer's engine's cloud: left.
    assert finish_cgs - {local_cg} <= mock_now

    shown = _show(pair, "a", undone["id"])
    assert shown["status"] == "active"
    assert "delete was interrupted" in shown["status_reason"]
    assert _show(pair, "b", undone["id"])["status"] == "active"
    status, body = _req(pair, "a", "DELETE", "/protection-groups/" +
                        undone["id"])
    assert status == 204, body
    assert _show(pair, "b", undone["id"]) == 404

    # Nothing left to do: a second run changes nothing.
    assert _reconcile(pair.a) == {}

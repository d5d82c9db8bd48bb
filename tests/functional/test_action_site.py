"""A DR action goes to its target site's protector-api (doc/architecture.md
6), on two real sites: the ``pair`` servers (site-a, site-b, each told
which it is by ``[DEFAULT] site_name``, each site's ``protector_url`` the
other's). The same group is seeded in both sites' databases, running on
site-a with a DR test active: a failover, a test failover and the test
cleanup all run on site-b. Sent to site-a they are 409
``protector.operation.wrong_site`` naming site-b and its URL, with nothing
queued or changed there; site-b takes the cleanup.
"""
import uuid

import pytest

from tests.functional.engine import fixtures

pytestmark = pytest.mark.keystone

MAPPED = {"network_mapping": {"net-web": "net-b"},
          "flavor_mapping": {"m1.small": "m1.small"}}


@pytest.fixture
def group(pair):
    name = "where-%s" % uuid.uuid4().hex[:8]
    test_op = str(uuid.uuid4())
    for key in ("a", "b"):
        rows = fixtures.Rows(pair.servers[key].db_url)
        ids = pair.site_ids[key]
        pg = rows.group(pair.keystone.env["ALPHA_ID"], ids["site-a"],
                        ids["site-b"], name=name)
        rows.set_group(pg, active_test_operation_id=test_op)
    yield name
    # The pair is the session's: later tests (the pair gabbits) count the
    # groups of the project, so nothing of this one may stay.
    for key in ("a", "b"):
        _forget(fixtures.Rows(pair.servers[key].db_url), name)


def _forget(rows, name):
    """Delete the group called ``name`` and every row about it."""
    import sqlalchemy as sa

    from protector.db import models as m
    pg_ids = _ids(rows, name)
    if not pg_ids:
        return
    with rows.session() as s, s.begin():
        op_ids = list(s.scalars(sa.select(m.Operation.id).where(
            m.Operation.protection_group_id.in_(pg_ids))))
        member_ids = list(s.scalars(sa.select(m.Member.id).where(
            m.Member.protection_group_id.in_(pg_ids))))
        for model, column, ids in (
                (m.OperationStep, "operation_id", op_ids),
                (m.RecoveryResource, "operation_id", op_ids),
                (m.Operation, "id", op_ids),
                (m.MemberVolume, "member_id", member_ids),
                (m.Member, "id", member_ids),
                (m.ConsistencyGroup, "protection_group_id", pg_ids),
                (m.ReplicationPolicy, "protection_group_id", pg_ids),
                (m.MetadataSync, "protection_group_id", pg_ids),
                (m.GroupRpoStatus, "protection_group_id", pg_ids),
                (m.ProtectionGroup, "id", pg_ids)):
            if ids:
                s.execute(sa.delete(model).where(
                    getattr(model, column).in_(ids)))


def _post(pair, server, path, body):
    env = pair.keystone.env
    return pair.request(server, "POST", path, body,
                        token=env["ALICE_TOKEN"], project=env["ALPHA_ID"],
                        headers={"X-Protector-Peer-Token":
                                 env["ALICE_TOKEN"]})


def _operations(pair, server, name):
    env = pair.keystone.env
    status, data = pair.request(server, "GET", "/operations",
                                token=env["ALICE_TOKEN"],
                                project=env["ALPHA_ID"])
    assert status == 200, data
    return [op for op in data["operations"]
            if op["protection_group_name"] == name]


def test_the_source_site_refuses_and_the_target_site_accepts(pair, group):
    rows_a = fixtures.Rows(pair.a.db_url)
    before = [rows_a.group_row(pg) for pg in _ids(rows_a, group)]
    for path, body in (("action", {"failover": dict(MAPPED,
                                                    type="unplanned")}),
                       ("action", {"test_failover": {"auto_network": True}}),
                       ("preflight", {"failover": MAPPED}),
                       ("action", {"test_cleanup": {}})):
        kind = next(iter(body))
        status, data = _post(pair, "a", "/protection-groups/%s/%s" % (
            group, path), body)
        assert status == 409, (kind, data)
        error = data["errors"][0]
        assert error["code"] == "protector.operation.wrong_site"
        assert "must be sent to the protector-api of site site-b (%s)" % (
            pair.b.url) in error["detail"], error
        assert "a %s runs on" % kind in error["detail"]
    assert _operations(pair, "a", group) == []
    assert [rows_a.group_row(r["id"]) for r in before] == before
    # The target site takes it.
    status, data = _post(pair, "b", "/protection-groups/%s/action" % group,
                         {"test_cleanup": {}})
    assert status == 202, data
    op = data["operation"]
    assert op["operation_type"] == "test_cleanup"
    assert op["target_site_id"] == pair.site_ids["b"]["site-b"]
    assert [o["id"] for o in _operations(pair, "b", group)] == [op["id"]]
    assert _operations(pair, "a", group) == []


def _ids(rows, name):
    import sqlalchemy as sa

    from protector.db import models
    with rows.session() as s:
        return list(s.scalars(sa.select(models.ProtectionGroup.id).where(
            models.ProtectionGroup.name == name)))

"""Boot tiers against real Nova (doc/engine.md "Boot tiers").

Three tiny boot-from-volume VMs on site A; the CLI puts one in tier 1 and
two in tier 2 (``openstack dr member set --priority``) and the group's
``tier_delay`` to a few seconds. A test failover (the cheapest recovery:
nothing is shut down, test cleanup removes it all) must create the tier-2
copies on site B only after the tier-1 copy is ACTIVE and the delay has
passed, which Nova's own timestamps show: a server's ``created_at`` (to
the second) and ``launched_at`` (when it became ACTIVE). The operation's
``tiers`` (microversion 1.4) and ``operation show`` tell the same.
"""
import datetime
import json
import uuid

import pytest

from protector_lab import client as lab_client

pytestmark = pytest.mark.lab

V14 = "protector 1.4"
DELAY = 5
NETWORKS = {"network_mapping": {"net-a": "net-b"}}


def _time(text):
    """A Nova timestamp ("2026-12-06T02:03:04Z" or with microseconds,
    with or without the Z) as a naive UTC datetime."""
    return datetime.datetime.fromisoformat(text.rstrip("Z").split("+")[0])


@pytest.fixture
def tiered(lab, sites):
    a, b = sites["a"], sites["b"]
    prefix = "tier-%s" % uuid.uuid4().hex[:6]
    made = lab_client.make_vms(a.conn, prefix, 3, data_volumes=0)
    servers = [s.id for s, _ in made]
    pg = lab_client.make_group(a, b, sites["ids"], sites["volume_type"],
                               servers)
    yield {"pg": pg, "servers": servers, "prefix": prefix}
    # A drill the test left up (it failed midway) goes first.
    status, body = b.action(pg["id"], "test_cleanup")
    if status == 202:
        b.wait(body["operation"]["id"])
    lab_client.delete_group(a, pg["id"])
    for conn in (a.conn, b.conn):
        left = {s.id for s in conn.compute.servers()
                if s.name.startswith(prefix)}
        ids = left | (set(servers) if conn is a.conn else set())
        lab_client.delete_servers(conn, sorted(ids), with_volumes=True)


def test_test_failover_starts_tier_two_after_tier_one(lab, sites, tiered):
    a, b = sites["a"], sites["b"]
    pg, prefix = tiered["pg"], tiered["prefix"]
    a14 = lab_client.Protector(lab, "site-a", "site-b", version=V14)
    b14 = lab_client.Protector(lab, "site-b", "site-a", version=V14)
    status, body = a14.call("GET", "/protection-groups/%s/members" %
                            pg["id"])
    assert status == 200, body
    members = {m["instance_name"]: m for m in body["members"]}
    assert {m["priority"] for m in members.values()} == {3}
    tiers = {"%s-0" % prefix: 1, "%s-1" % prefix: 2, "%s-2" % prefix: 2}

    # Through the CLI: member set, protection-group set.
    for name, priority in tiers.items():
        result = lab_client.dr_cli(lab, [
            "member", "set", pg["name"], members[name]["id"],
            "--priority", str(priority), "-f", "json"])
        assert result.returncode == 0, (result.stdout, result.stderr)
        assert json.loads(result.stdout)["priority"] == priority
    result = lab_client.dr_cli(lab, [
        "protection-group", "set", pg["name"], "--tier-delay", str(DELAY),
        "-f", "json"])
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert json.loads(result.stdout)["tier_delay"] == DELAY
    # Synced: site B holds the same tiers.
    status, body = b14.call("GET", "/protection-groups/%s/members" %
                            pg["id"])
    assert {m["instance_name"]: m["priority"] for m in body["members"]} \
        == tiers

    status, body = b.action(pg["id"], "test_failover", NETWORKS)
    assert status == 202, body
    op = b14.wait(body["operation"]["id"])
    assert op["status"] == "completed", op

    # Nova's view of the copies on site B.
    copies = {}
    for server_id in op["result_data"]["recreate_instances"][
            "servers"].values():
        server = b.conn.compute.get_server(server_id)
        assert server.status == "ACTIVE"
        copies[server.name[:-len("-drtest")]] = server
    assert sorted(copies) == sorted(tiers)
    first = copies["%s-0" % prefix]
    up = _time(first.launched_at)
    for name in ("%s-1" % prefix, "%s-2" % prefix):
        created = _time(copies[name].created_at)
        # created_at is to the second: one second of slack, and the delay
        # makes the order plain (untiered, all three are created within
        # a second of each other, long before the first is ACTIVE).
        assert created >= up + datetime.timedelta(seconds=DELAY - 1), (
            name, copies[name].created_at, first.launched_at)
    assert _time(first.created_at) < up

    # The operation's own record, through the API and the CLI.
    recorded = op["tiers"]
    assert [(t["priority"], t["status"], t["delay_seconds"])
            for t in recorded] == [(1, "completed", 0),
                                   (2, "completed", DELAY)]
    assert [sorted(i["instance_name"] for i in t["instances"])
            for t in recorded] == [["%s-0" % prefix],
                                   ["%s-1" % prefix, "%s-2" % prefix]]
    assert recorded[1]["started_at"] >= recorded[0]["finished_at"]
    result = lab_client.dr_cli(lab, ["operation", "show", op["id"]])
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "tier 2 (priority 2, after a %d s delay): completed" % DELAY \
        in result.stdout, result.stdout

    status, body = b.action(pg["id"], "test_cleanup")
    assert status == 202, body
    assert b.wait(body["operation"]["id"])["status"] == "completed"
    # Site A's originals were not touched by the drill.
    for server_id in tiered["servers"]:
        assert a.conn.compute.get_server(server_id).status == "ACTIVE"

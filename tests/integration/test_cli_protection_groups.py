"""The real ``openstack`` CLI (python-protectorclient) against the lab.

``openstack --os-cloud site-a --secondary-cloud site-b dr protection-group
create`` / ``dr member add`` / ``protector protection-group sync-status``,
then a peer outage (exit 3, nothing changed) and the clean-up commands; the
consistency groups are checked in the real Cinder of both sites, and the
Keystone trust the create made in site A's Keystone is checked too.
"""
import json
import uuid

import pytest

from protector_lab import client as lab_client
from protector_lab.client import cli

pytestmark = pytest.mark.lab


def _trusts_of(conn, user_id):
    resp = conn.identity.get("/OS-TRUST/trusts?trustor_user_id=%s" %
                             user_id, raise_exc=False)
    assert resp.status_code == 200, resp.text
    return resp.json()["trusts"]


def test_cli_create_member_add_sync_status(lab, group_sites, server):
    a, b = group_sites["a"], group_sites["b"]
    name = "cli-%s" % uuid.uuid4().hex[:8]
    rc, pg, err = cli(lab, "dr", "protection-group", "create",
                      "--name", name, "--replication-type", "async",
                      "--primary-site", "site-a", "--secondary-site",
                      "site-b", "--volume-type", "replicated-async")
    assert rc == 0, err
    pg_id = pg["id"]
    try:
        assert pg["status"] == "active"
        assert pg["metadata_version"] == 1
        # The create made (or reused) the demo user's trust in site A's
        # Keystone, delegating member to the protector user.
        trusts = [t for t in _trusts_of(a.conn, a.conn.current_user_id)
                  if t["project_id"] == a.project]
        assert trusts and all(t["impersonation"] for t in trusts)

        rc, member, err = cli(lab, "dr", "member", "add", name,
                              "--instance-id", server["server"].id)
        assert rc == 0, err
        assert member["volumes_added"] == 2
        status, body = a.call("GET", "/protection-groups/%s/"
                              "consistency-group" % pg_id)
        assert status == 200, body
        cg = body["consistency_group"]
        assert cg["volume_count"] == 2
        assert lab_client.cinder_group(a.conn, cg["primary_cg_id"])
        assert lab_client.cinder_group(b.conn, cg["secondary_cg_id"])

        rc, sync, err = cli(lab, "protector", "protection-group",
                            "sync-status", name)
        assert rc == 0, err
        text = json.dumps(sync)
        assert '"SYNCED"' in text, sync
        versions = {str(v) for k, v in sync.items()
                    if "version" in k.lower() and v is not None}
        assert versions == {"2"}, sync

        # Peer protector-api down: the CLI exits 3 and nothing changes.
        lab.stop("site-b", "protector-api")
        try:
            rc, out, err = cli(lab, "dr", "protection-group", "set", name,
                               "--description", "changed")
            assert rc == 3, (rc, out, err)
            assert "unreachable" in (out + err).lower()
        finally:
            lab.start("site-b", "protector-api")
        status, body = b.call("GET", "/protection-groups/%s" % pg_id)
        assert status == 200, body
        assert body["protection_group"]["metadata_version"] == 2
        assert body["protection_group"]["description"] in (None, "")
        status, body = a.call("GET", "/protection-groups/%s" % pg_id)
        assert body["protection_group"]["metadata_version"] == 2

        rc, out, err = cli(lab, "dr", "member", "remove", name,
                           "--member-id", member["id"], fmt=False)
        assert rc == 0, err
        rc, out, err = cli(lab, "dr", "protection-group", "delete", name,
                           fmt=False)
        assert rc == 0, err
        pg_id = None
        lab_client.wait_group_gone(a.conn, cg["primary_cg_id"])
        lab_client.wait_group_gone(b.conn, cg["secondary_cg_id"])
        assert b.call("GET", "/protection-groups/%s" % pg["id"])[0] == 404
    finally:
        if pg_id:
            _, members = a.call("GET", "/protection-groups/%s/members" %
                                pg_id)
            for m in (members or {}).get("members", []):
                a.call("DELETE", "/protection-groups/%s/members/%s" %
                       (pg_id, m["id"]))
            a.call("DELETE", "/protection-groups/%s" % pg_id)

"""The delta form of the metadata push with two real protector-api servers
(``pair``): a member change pushes only that member and the group's own
fields on ``base_version``; the receiver applies it on that version only,
rebuilds the whole document and checks its checksum, so both sites end
with one version and one checksum. A refused delta changes nothing and
the sender then pushes the whole document; a group larger than
``[api] max_request_body_size`` still takes member changes.
"""
import copy
import datetime
import json
import uuid

import pytest
import sqlalchemy as sa

from protector.db import metadata
from protector.db import models
from tests.functional.engine import fixtures
from tests.functional import test_group_lifecycle as lc
from tests.functional import test_sync as ts

pytestmark = pytest.mark.keystone

V14 = {"OpenStack-API-Version": "protector 1.4"}


def _delta(pair, server, pg_id, base, group, members=(), removed=(),
           checksum=None, members_after=None, **extra):
    """A signed delta push to ``server``; the checksum is that of
    ``group`` with ``members_after`` unless given."""
    doc = dict(group, members=sorted(members_after or [],
                                     key=lambda m: m["id"]))
    body = {"metadata": dict({
        "version": base + 1, "base_version": base,
        "checksum": checksum or metadata.checksum(doc),
        "group": group, "members": list(members),
        "removed_members": list(removed)}, **extra)}
    return pair.signed(server, "PUT", "/internal/protection-groups/%s/"
                       "metadata" % pg_id, body, **ts._alice(pair))


def _state(pair, server, pg_id):
    """(version, checksum, member IDs) of the group on ``server``."""
    _, body = ts._get(pair, server, "/protection-groups/%s/sync-status?"
                      "remote=0" % pg_id)
    status = body["sync_status"]
    _, body = ts._get(pair, server, "/protection-groups/%s/members" % pg_id)
    return (status["local_version"], status["local_checksum"],
            sorted(m["id"] for m in body["members"]))


CONFLICTS = ("protector.sync.delta_base_mismatch",
             "protector.sync.foreign_reference")


def _refused(status, body, code, says=None):
    assert status == (409 if code in CONFLICTS else 400), body
    assert body["errors"][0]["code"] == code, body
    if says:
        assert says in body["errors"][0]["detail"], body


def test_receiver_applies_a_delta_on_its_version_only(pair, made):
    pg_id = str(uuid.uuid4())
    made.append(pg_id)
    group = ts._document(pg_id, "delta-" + pg_id[:8])
    del group["members"]
    one = ts._member(str(uuid.uuid4()), str(uuid.uuid4()), "vm-1")
    two = ts._member(str(uuid.uuid4()), str(uuid.uuid4()), "vm-2")
    status, body = ts._push(pair, "b", pg_id, 1, dict(group, members=[one]))
    assert status == 200, body

    # Added: the receiver rebuilds [one, two] and finds the checksum.
    status, body = _delta(pair, "b", pg_id, 1, group, members=[two],
                          members_after=[one, two])
    assert status == 200, body
    assert body["metadata"]["status"] == "stored"
    whole = dict(group, members=sorted([one, two], key=lambda m: m["id"]))
    assert _state(pair, "b", pg_id) == (
        2, metadata.checksum(whole), sorted([one["id"], two["id"]]))
    # The same push again is a no-op.
    status, body = _delta(pair, "b", pg_id, 1, group, members=[two],
                          members_after=[one, two])
    assert status == 200, body
    before = _state(pair, "b", pg_id)

    # Refused, changing nothing: another base version (409), a checksum
    # the rebuilt document does not have, a bad member, both forms.
    status, body = _delta(pair, "b", pg_id, 5, group, removed=[one["id"]])
    _refused(status, body, "protector.sync.delta_base_mismatch",
             says="holds version 2")
    status, body = _delta(pair, "b", pg_id, 2, group, removed=[one["id"]],
                          members_after=[one, two])
    _refused(status, body, "protector.sync.checksum_mismatch")
    bad = dict(two, priority=9)
    status, body = _delta(pair, "b", pg_id, 2, group, members=[bad],
                          members_after=[one, bad])
    _refused(status, body, "protector.request.invalid",
             says="metadata members/0 priority")
    bad = {k: v for k, v in two.items() if k != "instance_id"}
    status, body = _delta(pair, "b", pg_id, 2, group, members=[bad])
    _refused(status, body, "protector.request.invalid",
             says="'instance_id' is a required property")
    status, body = _delta(pair, "b", pg_id, 2, dict(group, members=[]))
    _refused(status, body, "protector.request.invalid",
             says="metadata group")
    status, body = _delta(pair, "b", pg_id, 2, group, members=[two],
                          removed=[two["id"]])
    _refused(status, body, "protector.request.invalid", says="once")
    twin = ts._member(str(uuid.uuid4()), one["instance_id"], "twin")
    status, body = _delta(pair, "b", pg_id, 2, group, members=[twin],
                          members_after=[one, two, twin])
    _refused(status, body, "protector.request.invalid",
             says="same instance twice")
    status, body = _delta(pair, "b", pg_id, 2, group,
                          document=dict(group, members=[]))
    _refused(status, body, "protector.request.invalid", says="not both")
    status, body = _delta(pair, "b", pg_id, 2, group,
                          members=[{"id": str(uuid.uuid4())}] * 101)
    _refused(status, body, "protector.request.invalid")
    assert _state(pair, "b", pg_id) == before

    # Removed.
    status, body = _delta(pair, "b", pg_id, 2, group, removed=[one["id"]],
                          members_after=[two])
    assert status == 200, body
    assert _state(pair, "b", pg_id)[::2] == (3, [two["id"]])


def test_a_delta_never_touches_another_groups_member(pair, made):
    """Every ID a delta names is of its own group and project: another
    project's member is neither rewritten nor removed (409)."""
    victim, mine = str(uuid.uuid4()), str(uuid.uuid4())
    made.extend([victim, mine])
    theirs = ts._member(str(uuid.uuid4()), str(uuid.uuid4()), "bob-vm")
    status, body = ts._push(pair, "b", victim, 1, ts._document(
        victim, "victim-" + victim[:8], members=[theirs]), **ts._bob(pair))
    assert status == 200, body
    group = ts._document(mine, "attacker-" + mine[:8])
    del group["members"]
    status, body = ts._push(pair, "b", mine, 1, dict(group, members=[]))
    assert status == 200, body

    stolen = dict(theirs, instance_name="stolen")
    status, body = _delta(pair, "b", mine, 1, group, members=[stolen],
                          members_after=[stolen])
    _refused(status, body, "protector.sync.foreign_reference")
    status, body = _delta(pair, "b", mine, 1, group,
                          removed=[theirs["id"]])
    _refused(status, body, "protector.sync.foreign_reference")

    _, body = pair.request("b", "GET", "/protection-groups/%s/members/%s" %
                           (victim, theirs["id"]), **ts._bob(pair))
    assert body["member"]["instance_name"] == "bob-vm", body
    assert _state(pair, "b", mine)[0] == 1


def _insert_members(pair, pg_id, count, pad):
    """The same ``count`` member rows on both sites (as synced adds make),
    each with ``pad`` bytes of instance_config."""
    ids = sorted(str(uuid.uuid4()) for _ in range(count))
    instances = {member_id: str(uuid.uuid4()) for member_id in ids}
    config = json.dumps({"pad": "x" * pad})
    for key, server in (("a", pair.a), ("b", pair.b)):
        rows = fixtures.Rows(server.db_url)
        with rows.session() as s, s.begin():
            for member_id in ids:
                s.add(models.Member(
                    id=member_id, protection_group_id=pg_id,
                    project_id=pair.keystone.env["ALPHA_ID"],
                    instance_id=instances[member_id], instance_name="vm",
                    status="protected", instance_config=config,
                    current_site_id=pair.site_ids[key]["site-a"],
                    created_at=datetime.datetime.now(
                        datetime.timezone.utc).replace(tzinfo=None)))
    return ids


def _same_on_both(pair, pg_id, version):
    a, b = _state(pair, "a", pg_id), _state(pair, "b", pg_id)
    assert a == b and a[0] == version, (a, b)
    _, body = ts._get(pair, "a", "/protection-groups/%s/sync-status" % pg_id)
    assert body["sync_status"]["in_sync"] is True, body
    return a


def test_a_group_larger_than_the_body_limit_takes_member_changes(pair, made):
    """6 members of 250 KB: the whole document (1.5 MB) is over the
    peer's 1 MiB [api] max_request_body_size, so before deltas every
    change failed with 409 protector.peer.rejected (HTTP 413)."""
    pg = lc._create(pair, "delta-big-" + uuid.uuid4().hex[:8])
    made.append(pg["id"])
    ids = _insert_members(pair, pg["id"], 6, 250000)
    path = "/protection-groups/%s/members/" % pg["id"]

    status, body = pair.request("a", "PUT", path + ids[0],
                                {"member": {"priority": 1}}, headers=V14,
                                **ts._alice(pair))
    assert status == 200, body
    _same_on_both(pair, pg["id"], 2)
    _, body = pair.request("b", "GET", path + ids[0], headers=V14,
                           **ts._alice(pair))
    assert body["member"]["priority"] == 1

    status, body = pair.request("a", "DELETE", path + ids[1],
                                **ts._alice(pair))
    assert status == 204, body
    assert _same_on_both(pair, pg["id"], 3)[2] == sorted(
        set(ids) - {ids[1]})

    # A change of the group's own fields is a delta too.
    status, body = pair.request("a", "PUT", "/protection-groups/" + pg["id"],
                                {"protection_group": {"description": "big"}},
                                **ts._alice(pair))
    assert status == 200, body
    _same_on_both(pair, pg["id"], 4)
    _, body = ts._get(pair, "b", "/protection-groups/" + pg["id"])
    assert body["protection_group"]["description"] == "big"


def test_a_refused_delta_falls_back_to_the_whole_document(pair, made):
    """The peer at another version refuses the delta (409); the sender
    pushes the whole document, which the peer takes: one change, both
    sites at one version and checksum."""
    pg = lc._create(pair, "delta-behind-" + uuid.uuid4().hex[:8])
    made.append(pg["id"])
    ids = _insert_members(pair, pg["id"], 2, 10)
    rows = fixtures.Rows(pair.b.db_url)
    with rows.session() as s, s.begin():
        # Site B missed a version (as after an outage and a direct edit).
        s.execute(sa.update(models.ProtectionGroup).where(
            models.ProtectionGroup.id == pg["id"]).values(
            metadata_version=0))
    status, body = pair.request(
        "a", "PUT", "/protection-groups/%s/members/%s" % (pg["id"], ids[0]),
        {"member": {"priority": 5}}, headers=V14, **ts._alice(pair))
    assert status == 200, body
    _same_on_both(pair, pg["id"], 2)
    # The delta was refused first: the sender's sync record is SYNCED.
    _, body = ts._get(pair, "a", "/protection-groups/%s/sync-status?"
                      "remote=0" % pg["id"])
    assert body["sync_status"]["remote_status"] == "SYNCED", body


def test_document_pushes_still_work_beside_deltas(pair, made):
    """A whole document after deltas (what sync-force and an older peer
    send) is taken as before."""
    pg_id = str(uuid.uuid4())
    made.append(pg_id)
    doc = ts._document(pg_id, "delta-doc-" + pg_id[:8])
    status, body = ts._push(pair, "b", pg_id, 1, doc)
    assert status == 200, body
    group = copy.deepcopy(doc)
    del group["members"]
    one = ts._member(str(uuid.uuid4()), str(uuid.uuid4()), "vm-1")
    status, body = _delta(pair, "b", pg_id, 1, group, members=[one],
                          members_after=[one])
    assert status == 200, body
    status, body = ts._push(pair, "b", pg_id, 3, dict(doc, members=[]))
    assert status == 200, body
    assert _state(pair, "b", pg_id)[::2] == (3, [])


def test_a_policy_change_is_taken_as_a_delta(pair, made):
    """A policy PUT pushes a delta whose group carries the new policy:
    the receiver stores it before checking the whole document (checked
    before, the stored policy was the old one and every policy delta
    fell back to the whole document)."""
    pg_id = str(uuid.uuid4())
    made.append(pg_id)
    group = ts._document(pg_id, "delta-policy-" + pg_id[:8])
    del group["members"]
    one = ts._member(str(uuid.uuid4()), str(uuid.uuid4()), "vm-1")
    status, body = ts._push(pair, "b", pg_id, 1, dict(group, members=[one]))
    assert status == 200, body
    policy = {"primary_fa_url": "https://fa-a.example",
              "secondary_fa_url": "https://fa-b.example",
              "pure_pg_name": "pg-delta", "replication_interval": 300,
              "rpo_minutes": 15}
    tokens = {"primary_fa_api_token": "tok-a",
              "secondary_fa_api_token": "tok-b"}
    status, body = _delta(pair, "b", pg_id, 1, dict(group, policy=policy),
                          members_after=[one], policy_tokens=tokens)
    assert status == 200, body
    assert _state(pair, "b", pg_id) == (
        2, metadata.checksum(dict(group, policy=policy, members=[one])),
        [one["id"]])
    _, body = ts._get(pair, "b", "/protection-groups/%s/policy" % pg_id)
    assert body["policy"]["pure_pg_name"] == "pg-delta"
    # A member change after it keeps the policy (no tokens pushed).
    two = ts._member(str(uuid.uuid4()), str(uuid.uuid4()), "vm-2")
    status, body = _delta(pair, "b", pg_id, 2, dict(group, policy=policy),
                          members=[two], members_after=[one, two])
    assert status == 200, body
    assert _state(pair, "b", pg_id)[0] == 3

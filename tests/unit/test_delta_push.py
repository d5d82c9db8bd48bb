"""The sending half of a delta push (``Peer.push_change``): the body
carries only the changed members, its size does not grow with the group,
and any refusal (a peer of the previous release answering 400 to the
form, another version) is answered with the whole document."""
import json

import jsonschema

from protector.api.schemas import protection_groups as pg_schema
from protector.db import metadata
from protector import exception
from protector.pgroups import peers

PG = "6b1c7a3e-0000-4000-8000-00000000aaaa"
# The push body as the previous release's receiver checked it: no delta
# keys (additionalProperties False) and a document required.
PREVIOUS_METADATA = {
    "type": "object",
    "properties": {"metadata": {
        "type": "object",
        "properties": {"version": {"type": "integer"},
                       "checksum": {"type": "string"},
                       "document": {"type": "object"},
                       "policy_tokens": {"type": "object"}},
        "required": ["version", "checksum", "document"],
        "additionalProperties": False}},
    "required": ["metadata"], "additionalProperties": False}


def member(n):
    return {"id": "6b1c7a3e-0000-4000-8000-%012d" % n,
            "instance_id": "i-%d" % n, "instance_name": "vm-%d" % n,
            "status": "protected", "current_site": "site-a",
            "current_instance_id": None,
            "instance_config": {"pad": "x" * 2000}, "volumes": []}


def document(count):
    return {"id": PG, "name": "web", "status": "active",
            "replication_type": "async", "primary_site": "site-a",
            "secondary_site": "site-b", "current_primary_site": "site-a",
            "volume_type_id": "t", "failover_count": 0, "policy": None,
            "consistency_group": None,
            "members": [member(n) for n in range(count)]}


class Recorder(peers.Peer):
    """A peer that records each body; ``schema`` is what it accepts,
    ``refuse`` the (status, code) it answers to a delta it accepts."""

    def __init__(self, schema=pg_schema.METADATA, refuse=None):
        super().__init__({"name": "site-b"}, "token", "project",
                         "http://peer")
        self.schema, self.refuse, self.bodies = schema, refuse, []

    def _request(self, method, path, body=None, signed=False,
                 headers=None):
        self.bodies.append(body)
        try:
            jsonschema.validate(body, self.schema)
        except jsonschema.ValidationError as exc:
            raise exception.PeerRejected(
                site="site-b", status=400,
                peer_code="protector.request.invalid", detail=exc.message)
        if self.refuse and "base_version" in body["metadata"]:
            raise exception.PeerRejected(site="site-b", status=self.refuse[0],
                                         peer_code=self.refuse[1],
                                         detail="refused")
        return None, 7


def push(peer, doc, changed=(), removed=()):
    return peer.push_change(PG, 5, metadata.checksum(doc), doc, changed,
                            removed)


def test_a_delta_carries_only_the_change_whatever_the_group_size():
    sizes = []
    for count in (10, 1000):
        doc = document(count)
        peer = Recorder()
        assert push(peer, doc, changed=[member(3)["id"]],
                    removed=[member(count + 1)["id"]]) == 7
        [body] = peer.bodies
        sent = body["metadata"]
        assert sent["base_version"] == 4 and sent["version"] == 5
        assert sent["members"] == [member(3)]
        assert sent["removed_members"] == [member(count + 1)["id"]]
        assert "members" not in sent["group"] and "document" not in sent
        assert sent["checksum"] == metadata.checksum(doc)
        sizes.append(len(json.dumps(body)))
    # The same change to a group 100 times as large: the same body.
    assert sizes[0] == sizes[1] < 3000


def test_a_peer_of_the_previous_release_gets_the_whole_document():
    doc = document(10)
    peer = Recorder(schema=PREVIOUS_METADATA)
    assert push(peer, doc, changed=[member(3)["id"]]) == 7
    delta, whole = peer.bodies
    assert "base_version" in delta["metadata"]
    assert whole == {"metadata": {"version": 5,
                                  "checksum": metadata.checksum(doc),
                                  "document": doc}}


def test_a_refused_delta_is_followed_by_the_whole_document():
    for refusal in ((409, "protector.sync.delta_base_mismatch"),
                    (400, "protector.sync.checksum_mismatch")):
        doc = document(2)
        peer = Recorder(refuse=refusal)
        push(peer, doc, removed=[member(9)["id"]])
        assert [sorted(b["metadata"]) for b in peer.bodies] == [
            ["base_version", "checksum", "group", "members",
             "removed_members", "version"],
            ["checksum", "document", "version"]]


def test_an_unreachable_peer_is_not_asked_twice():
    class Down(Recorder):
        def _request(self, *args, **kwargs):
            self.bodies.append(args)
            raise exception.PeerUnreachable(site="site-b", reason="down")

    peer = Down()
    try:
        push(peer, document(1))
    except exception.PeerUnreachable:
        pass
    else:
        raise AssertionError("the outage was not raised")
    assert len(peer.bodies) == 1

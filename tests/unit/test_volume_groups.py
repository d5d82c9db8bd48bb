"""The real-Cinder consistency-group driver's request shapes (a fake
Cinder endpoint that enforces Cinder's own schema limits)."""
import contextlib
import json
import types
import uuid

from protector.volume_groups import cinder


class FakeBlockStorage:
    """PUT /groups/{id} with Cinder's schema: add_volumes/remove_volumes
    are strings of at most 255 characters (cinder/api/schemas/groups.py)."""

    def __init__(self):
        self.members = set()
        self.puts = 0

    def put(self, url, json=None, microversion=None, raise_exc=True):
        self.puts += 1
        group = json["group"]
        for key in ("add_volumes", "remove_volumes"):
            value = group.get(key)
            if value is not None and len(value) > 255:
                return _resp(400, {"badRequest": {
                    "message": "Invalid input for field/attribute %s" % key}})
            for vol in (value or "").split(","):
                if vol:
                    (self.members.add if key == "add_volumes"
                     else self.members.discard)(vol)
        return _resp(202, None)

    def get(self, url, microversion=None, raise_exc=True):
        return _resp(200, {"group": {"id": url.rsplit("/", 1)[-1],
                                     "status": "available"}})


def _resp(status, body):
    text = json.dumps(body) if body is not None else ""
    return types.SimpleNamespace(status_code=status, text=text,
                                 content=text.encode(),
                                 json=lambda: body)


class FakeCloud:
    def __init__(self):
        self.conn = types.SimpleNamespace(block_storage=FakeBlockStorage())

    @contextlib.contextmanager
    def guard(self, service):
        yield


def test_many_volumes_go_in_batches_cinder_accepts():
    cloud = FakeCloud()
    groups = cinder.CinderGroups({"name": "site-a"}, cloud)
    vols = [str(uuid.uuid4()) for _ in range(20)]
    groups.add_volumes("g1", vols)
    api = cloud.conn.block_storage
    assert api.members == set(vols)
    assert api.puts == 4  # 6 + 6 + 6 + 2
    groups.remove_volumes("g1", vols[:13])
    assert api.members == set(vols[13:])

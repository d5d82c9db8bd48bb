"""The real-Cinder consistency-group driver's request shapes (a fake
Cinder endpoint that enforces Cinder's own schema limits)."""
import contextlib
import json
import types
import urllib.parse
import uuid

from protector import exception
from protector.volume_groups import cinder


class FakeBlockStorage:
    """PUT /groups/{id} with Cinder's schema: add_volumes/remove_volumes
    are strings of at most 255 characters (cinder/api/schemas/groups.py)."""

    def __init__(self):
        self.members = set()
        self.puts = 0
        self.gets = []
        # Cinder's osapi_max_limit, and whether its
        # resource_query_filters_file lets volumes be listed by group_id.
        self.max_limit = 1000
        self.group_filter = True
        # Apply the next N updates, then lose their answers (a timeout).
        self.lose_answers = 0

    def put(self, url, json=None, microversion=None, raise_exc=True):
        self.puts += 1
        group = json["group"]
        for key in ("add_volumes", "remove_volumes"):
            value = group.get(key)
            if value is not None and len(value) > 255:
                return _resp(400, {"badRequest": {
                    "message": "Invalid input for field/attribute %s" % key}})
            vols = [v for v in (value or "").split(",") if v]
            # Cinder refuses the whole update for one volume already in
            # the group (add) or not in it (remove).
            for vol in vols:
                if (vol in self.members) == (key == "add_volumes"):
                    return _resp(400, {"badRequest": {
                        "message": "Cannot add volume %s to group because "
                        "it is already in group" % vol}})
            for vol in vols:
                (self.members.add if key == "add_volumes"
                 else self.members.discard)(vol)
        if self.lose_answers:
            self.lose_answers -= 1
            raise exception.SiteUnreachable(site="site-a",
                                            reason="Block Storage: timed out")
        return _resp(202, None)

    def get(self, url, microversion=None, raise_exc=True):
        self.gets.append(url)
        path, _, query = url.partition("?")
        if path == "/volumes/detail":
            return self._list(urllib.parse.parse_qs(query))
        kind, ident = url.strip("/").split("/")
        if kind == "volumes":
            return _resp(200, {"volume": {
                "id": ident,
                "group_id": "g1" if ident in self.members else None}})
        return _resp(200, {"group": {"id": ident, "status": "available"}})

    def _list(self, query):
        """GET /volumes/detail?group_id=&limit=&marker= as Cinder pages
        it: at most min(limit, osapi_max_limit) of the group's volumes,
        and a next link when the page is full."""
        if not self.group_filter:
            return _resp(400, {"badRequest": {
                "message": "Invalid filters group_id are found in query "
                "options."}})
        inside = sorted(self.members) if query["group_id"] == ["g1"] else []
        if "marker" in query:
            inside = inside[inside.index(query["marker"][0]) + 1:]
        limit = min(int(query["limit"][0]), self.max_limit)
        body = {"volumes": [{"id": v, "group_id": "g1"}
                            for v in inside[:limit]]}
        if len(inside) >= limit:
            body["volumes_links"] = [{"rel": "next", "href": "..."}]
        return _resp(200, body)


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


def test_removals_and_additions_share_updates():
    """A failback's retirement swaps the retired volumes for the copies:
    one update takes up to six of each (Cinder applies both lists of an
    update), so 13 out and 8 in are three updates, not three and two."""
    cloud = FakeCloud()
    api = cloud.conn.block_storage
    groups = cinder.CinderGroups({"name": "site-a"}, cloud)
    old = [str(uuid.uuid4()) for _ in range(13)]
    new = [str(uuid.uuid4()) for _ in range(8)]
    groups.add_volumes("g1", old)
    api.puts = 0
    groups.update_volumes("g1", add=new, remove=old)
    assert api.members == set(new)
    assert api.puts == 3


def test_an_update_whose_answer_was_lost_is_not_sent_twice():
    """A timed-out add that Cinder applied anyway (or an earlier attempt
    that did) must not fail on Cinder's 'already in group': only what is
    still to do is sent."""
    cloud = FakeCloud()
    api = cloud.conn.block_storage
    groups = cinder.CinderGroups({"name": "site-a"}, cloud)
    vols = [str(uuid.uuid4()) for _ in range(3)]
    api.lose_answers = 1
    groups.add_volumes("g1", vols)
    assert api.members == set(vols) and api.puts == 1
    # Again, with one more: only the new one goes.
    more = vols + [str(uuid.uuid4())]
    groups.add_volumes("g1", more)
    assert api.members == set(more) and api.puts == 2
    api.lose_answers = 1
    groups.remove_volumes("g1", more[:2])
    groups.remove_volumes("g1", more[:2])
    assert api.members == set(more[2:]) and api.puts == 3


def test_volumes_in_group_are_listed_not_fetched_one_by_one():
    """One listing by group_id (per page of Cinder's max limit), however
    many volumes are asked about; the answer keeps the caller's order and
    leaves out those not in the group."""
    cloud = FakeCloud()
    api = cloud.conn.block_storage
    groups = cinder.CinderGroups({"name": "site-a"}, cloud)
    vols = [str(uuid.uuid4()) for _ in range(40)]
    api.members = set(vols[:30])
    asked = vols[25:] + vols[:5]
    assert groups.volumes_in_group("g1", asked) == vols[25:30] + vols[:5]
    assert len(api.gets) == 1 and api.gets[0].startswith("/volumes/detail?")
    assert groups.volumes_in_group("g1", []) == [] and len(api.gets) == 1
    # Cinder pages at its osapi_max_limit (here 12): 30 volumes, 3 pages.
    api.max_limit = 12
    api.gets.clear()
    assert sorted(groups.volumes_in_group("g1", vols)) == sorted(vols[:30])
    assert len(api.gets) == 3
    assert "marker=" in api.gets[1] and "marker=" in api.gets[2]


def test_volumes_in_group_without_the_group_filter_asks_per_volume():
    """A Cinder whose resource filters lack group_id answers the listing
    400: each volume is then read, as before."""
    cloud = FakeCloud()
    api = cloud.conn.block_storage
    api.group_filter = False
    groups = cinder.CinderGroups({"name": "site-a"}, cloud)
    vols = [str(uuid.uuid4()) for _ in range(4)]
    api.members = set(vols[:2])
    assert groups.volumes_in_group("g1", vols) == vols[:2]
    assert len(api.gets) == 1 + 4

"""The volume type of a new protection group on each of its two sites,
through the real API of two syncing sites (``pair``, SQLite and MariaDB).

Mock Cinder simulates only the consistency groups: the types are each
site's own, served by ``fakecinder`` (its table says which type each site
has). The sites may name them apart (doc/api-ref.md): the request may name the
secondary's type (``secondary_volume_type``); else the type of the same
name is used, or else the one replicated type there that matches.
"""
import os
import sqlite3

import pytest

from tests.functional import fakecinder

pytestmark = pytest.mark.keystone

ASYNC = fakecinder.export_types()["MOCK_TYPE_REPLICATED_ASYNC"]
SYNC = fakecinder.export_types()["MOCK_TYPE_REPLICATED_SYNC"]


def _dave(pair):
    env = pair.keystone.env
    return {"token": env["DAVE_TOKEN"], "project": env["GAMMA_ID"]}


def _req(pair, server, method, path, body=None):
    return pair.request(server, method, path, body, **_dave(pair))


def _create(pair, name, volume_type_id, replication_type="async",
            **extra):
    ids = pair.site_ids["a"]
    body = dict({"name": name, "replication_type": replication_type,
                 "primary_site_id": ids["site-a"],
                 "secondary_site_id": ids["site-b"],
                 "volume_type_id": volume_type_id}, **extra)
    return _req(pair, "a", "POST", "/protection-groups",
                {"protection_group": body})


def _mock_groups(pair):
    """{Cinder group ID: (site, volume type ID)} of the mock Cinder (site
    A's service makes the groups of both sites)."""
    path = os.path.join(pair.a.workdir, "mock_storage", "cinder.sqlite")
    if not os.path.exists(path):
        return {}
    with sqlite3.connect(path) as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT id, site, volume_type_id FROM groups")}


def _groups(pair, server):
    status, body = _req(pair, server, "GET", "/protection-groups")
    assert status == 200, body
    return {g["id"] for g in body["protection_groups"]}


@pytest.fixture
def made(pair):
    """Groups to delete (through the API, on both sites) afterwards."""
    ids = []
    yield ids
    for pg_id in ids:
        status, body = _req(pair, "a", "DELETE", "/protection-groups/" +
                            pg_id)
        assert status == 204, body


def _made(pair, made, status, body):
    assert status == 201, body
    pg = body["protection_group"]
    made.append(pg["id"])
    return pg


def _secondary_group_type(pair, pg_id):
    status, body = _req(pair, "a", "GET", "/protection-groups/%s/"
                        "consistency-group" % pg_id)
    assert status == 200, body
    return _mock_groups(pair)[body["consistency_group"]["secondary_cg_id"]]


def test_mock_cinder_uses_the_sites_own_volume_types(pair, made):
    """Item 12: with use_mock_cinder the types are the sites' real ones,
    not three fixed types the same on every site: silver-sync has
    another ID on each site, and the group records both."""
    pg = _made(pair, made, *_create(pair, "vt-silver", fakecinder.SILVER_A,
                                    "sync"))
    assert pg["volume_type_id"] == fakecinder.SILVER_A
    assert pg["volume_type_name"] == "silver-sync"
    assert pg["secondary_volume_type_id"] == fakecinder.SILVER_B
    assert _secondary_group_type(pair, pg["id"]) == ("site-b",
                                                     fakecinder.SILVER_B)


def test_the_secondary_type_of_the_same_name_comes_first(pair, made):
    # On site B replicated-ssd-b would match too; the name decides.
    pg = _made(pair, made, *_create(pair, "vt-by-name", ASYNC))
    assert pg["secondary_volume_type_id"] == ASYNC


def test_the_one_matching_type_of_another_name_is_used(pair, made):
    """Site B has no gold-sync: its one sync type on a comparable
    backend (replicated-sync; silver-sync is NVMe, gold-sync iSCSI) is."""
    pg = _made(pair, made, *_create(pair, "vt-gold", fakecinder.GOLD_SYNC_A,
                                    "sync"))
    assert pg["volume_type_name"] == "gold-sync"
    assert pg["secondary_volume_type_id"] == SYNC
    assert _secondary_group_type(pair, pg["id"]) == ("site-b", SYNC)
    # The peer's copy of the group holds the same types.
    status, body = _req(pair, "b", "GET", "/protection-groups/" + pg["id"])
    assert status == 200, body
    assert body["protection_group"]["secondary_volume_type_id"] == SYNC
    assert body["protection_group"]["volume_type_id"] == \
        fakecinder.GOLD_SYNC_A


def test_the_named_secondary_type_is_used(pair, made):
    """doc/api-ref.md's replicated-ssd, with the secondary's type named by name
    and by ID (a named type need not share the backend: the operator
    chose it)."""
    pg = _made(pair, made, *_create(
        pair, "vt-ssd", fakecinder.SSD_A,
        secondary_volume_type="replicated-ssd-b"))
    assert pg["volume_type_name"] == "replicated-ssd"
    assert pg["secondary_volume_type_id"] == fakecinder.SSD_B
    assert _secondary_group_type(pair, pg["id"]) == ("site-b",
                                                     fakecinder.SSD_B)
    pg = _made(pair, made, *_create(
        pair, "vt-ssd-fc", fakecinder.SSD_A,
        secondary_volume_type=fakecinder.FC_B))
    assert pg["secondary_volume_type_id"] == fakecinder.FC_B
    # Chosen at create, never changed after.
    status, body = _req(pair, "a", "PUT", "/protection-groups/" + pg["id"],
                        {"protection_group": {
                            "secondary_volume_type": "replicated-ssd-b"}})
    assert status == 400, body
    assert body["errors"][0]["code"] == \
        "protector.protection_group.immutable_field"


def _refused(pair, status, body, before, code):
    assert status == 400, body
    error = body["errors"][0]
    assert error["code"] == code, error
    # Nothing made on either site: no group, no Cinder group.
    assert (_groups(pair, "a"), _groups(pair, "b"), _mock_groups(pair)) == \
        before
    return error["detail"]


def test_several_matching_types_are_refused_naming_them(pair):
    """Site B has no replicated-ssd and two async types on a comparable
    backend: the operator must name one."""
    before = (_groups(pair, "a"), _groups(pair, "b"), _mock_groups(pair))
    status, body = _create(pair, "vt-ambiguous", fakecinder.SSD_A)
    detail = _refused(pair, status, body, before,
                      "protector.volume_type.ambiguous")
    for text in ("site-b", "replicated-ssd", "replicated-async (%s)" % ASYNC,
                 "replicated-ssd-b (%s)" % fakecinder.SSD_B,
                 "--secondary-volume-type"):
        assert text in detail, (text, detail)
    assert "replicated-fc-b" not in detail  # FC: not comparable


@pytest.mark.parametrize("named,rtype,code,text", [
    ("no-such-type", "async", "protector.volume_type.not_found",
     "no-such-type does not exist on site site-b"),
    # A type of the primary site only.
    (fakecinder.SSD_A, "async", "protector.volume_type.not_found",
     "does not exist on site site-b"),
    ("standard", "async", "protector.volume_type.not_replicated",
     "replication_enabled is not"),
    ("replicated-sync", "async", "protector.volume_type.not_replicated",
     "replication_type is 'sync', the group asks for 'async'"),
])
def test_a_bad_secondary_type_is_refused_and_changes_nothing(
        pair, named, rtype, code, text):
    before = (_groups(pair, "a"), _groups(pair, "b"), _mock_groups(pair))
    status, body = _create(pair, "vt-bad", fakecinder.SSD_A, rtype,
                           secondary_volume_type=named)
    detail = _refused(pair, status, body, before, code)
    assert text in detail, detail

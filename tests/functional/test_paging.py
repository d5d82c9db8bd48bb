"""The list of protection groups pages from microversion 1.6 on
(protector/api/paging.py, doc/api-ref.md "Paging"): ``limit`` and
``marker``, and a ``next`` link while a page is full. Following the links
gives every group once, in the unpaged order; a bad limit or marker is a
400 with a stable code; below 1.6 both are ignored, as before.

One real protector-api (site-a of ``pair``) on each database backend;
the groups are written into its database and removed after.
"""
import uuid

import pytest

from tests.functional.engine import fixtures
from tests.functional import test_action_site

pytestmark = pytest.mark.keystone

V15 = {"OpenStack-API-Version": "protector 1.5"}
V16 = {"OpenStack-API-Version": "protector 1.6"}
SEEDED = 5


@pytest.fixture
def seeded(pair):
    """SEEDED groups of the admin project (the pair's requests' project),
    named after one tag, two of them in error."""
    tag = "page-%s" % uuid.uuid4().hex[:8]
    rows = fixtures.Rows(pair.a.db_url)
    ids = pair.site_ids["a"]
    made = [rows.group(pair.keystone.env["ADMIN_PROJECT_ID"],
                       ids["site-a"], ids["site-b"],
                       name="%s-%d" % (tag, i),
                       status="error" if i in (1, 3) else "active")
            for i in range(SEEDED)]
    yield made
    for i in range(SEEDED):
        test_action_site._forget(rows, "%s-%d" % (tag, i))


def _get(pair, path, headers=V16):
    return pair.request("a", "GET", path, headers=headers)


def _ids(body):
    return [g["id"] for g in body["protection_groups"]]


def _follow(pair, path):
    """Every page from ``path`` on: [[ids of a page], ...] and the
    next links seen."""
    prefix = "/v1/%s" % pair.keystone.env["ADMIN_PROJECT_ID"]
    pages, hrefs = [], []
    while path:
        status, body = _get(pair, path)
        assert status == 200, body
        pages.append(_ids(body))
        links = body["protection_groups_links"]
        assert [link["rel"] for link in links] in ([], ["next"])
        path = None
        if links:
            hrefs.append(links[0]["href"])
            path = links[0]["href"].split(prefix, 1)[1]
        assert len(pages) < 50, "the links do not end"
    return pages, hrefs


def test_following_the_links_lists_every_group_once(pair, seeded):
    status, body = _get(pair, "/protection-groups")
    assert status == 200, body
    whole = _ids(body)
    assert set(seeded) <= set(whole)
    assert body["protection_groups_links"] == []  # fewer than max_limit
    for limit in (1, 2, len(whole)):
        pages, hrefs = _follow(pair, "/protection-groups?limit=%d" % limit)
        assert [i for page in pages for i in page] == whole
        assert all(len(page) == limit for page in pages[:-1])
        # A full last page has a link to an empty one.
        assert len(pages[-1]) < limit or pages[-1] == []
        assert all("limit=%d" % limit in href for href in hrefs)


def test_the_links_keep_the_filters(pair, seeded):
    pages, hrefs = _follow(pair, "/protection-groups?status=error&limit=1")
    errors = [i for page in pages for i in page]
    assert {seeded[1], seeded[3]} <= set(errors)
    _, body = _get(pair, "/protection-groups?status=error")
    assert errors == _ids(body)
    assert hrefs and all("status=error" in href for href in hrefs)


def test_a_marker_starts_after_that_group(pair, seeded):
    _, body = _get(pair, "/protection-groups")
    whole = _ids(body)
    at = whole.index(seeded[2])
    _, body = _get(pair, "/protection-groups?marker=%s&limit=2" % seeded[2])
    assert _ids(body) == whole[at + 1:at + 3]


def test_below_1_6_limit_and_marker_are_ignored(pair, seeded):
    _, whole = _get(pair, "/protection-groups", headers=V15)
    status, body = _get(pair, "/protection-groups?limit=1&marker=x",
                        headers=V15)
    assert status == 200, body
    assert _ids(body) == _ids(whole)
    assert "protection_groups_links" not in body


@pytest.mark.parametrize("query,code", [
    ("limit=0", "protector.request.invalid_limit"),
    ("limit=-3", "protector.request.invalid_limit"),
    ("limit=two", "protector.request.invalid_limit"),
    ("limit=1001", "protector.request.invalid_limit"),
    ("limit=1.5", "protector.request.invalid_limit"),
    # A fixed id: parametrize ids must be the same in every xdist worker.
    ("marker=6f1c3a52-0b9e-4d7a-9c1e-2f8b5d4a7e10",
     "protector.request.marker_not_found"),
    ("marker=" + "x" * 300, "protector.request.marker_not_found"),
])
def test_a_bad_limit_or_marker_is_refused(pair, seeded, query, code):
    status, body = _get(pair, "/protection-groups?" + query)
    assert status == 400, body
    error = body["errors"][0]
    assert error["code"] == code, error
    assert len(error["detail"]) < 400
    assert ("1 to 1000" in error["detail"]) == (code.endswith("limit"))


def test_another_projects_group_is_no_marker(pair, seeded):
    env = pair.keystone.env
    rows = fixtures.Rows(pair.a.db_url)
    ids = pair.site_ids["a"]
    name = "page-other-%s" % uuid.uuid4().hex[:8]
    other = rows.group(env["ALPHA_ID"], ids["site-a"], ids["site-b"],
                       name=name)
    try:
        status, body = _get(pair, "/protection-groups?marker=" + other)
        assert status == 400, body
        assert body["errors"][0]["code"] == \
            "protector.request.marker_not_found"
    finally:
        test_action_site._forget(rows, name)

"""The protector-api requests of the list and detail pages do not grow
with the number of rows (doc/dashboard.md "Performance").

protectorclient itself is faked here (not the API module's functions, as
the other view tests do), so any request the pages make, through any
function of ``api/protector.py``, is counted.
"""
import collections
from unittest import mock

from django.urls import reverse

from protector_dashboard.api import protector
from protector_dashboard.test import helpers
from protector_dashboard.test.test_data import protector_data

ROWS = 30


def _id(kind, i):
    return "%08x-0000-4000-8000-%012d" % (kind, i)


class CountingClient:
    """protectorclient's Client with ROWS groups, each with ROWS members
    and one operation; counts every method called."""

    def __init__(self):
        self.calls = collections.Counter()
        self.groups = [protector_data._group(
            id=_id(1, i), name="group-%d" % i, member_count=ROWS,
            status=("active", "failed_over", "error")[i % 3])
            for i in range(ROWS)]

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls[name] += 1
            return getattr(self, "_" + name)(*args, **kwargs)
        return call

    def _pg_list(self, **filters):
        return self.groups

    def _pg_show(self, pg):
        return dict(self.groups[0], rpo_status="ok")

    def _member_list(self, pg):
        return [{"id": _id(2, i), "protection_group_id": pg,
                 "instance_id": _id(3, i), "instance_name": "vm-%d" % i,
                 "status": "protected", "volume_count": 1,
                 "created_at": "2026-12-01T10:05:00Z"}
                for i in range(ROWS)]

    def _operation_list(self, **filters):
        return [{"id": _id(4, i), "protection_group_id": g["id"],
                 "protection_group_name": g["name"],
                 "operation_type": "failover",
                 "status": ("failed", "completed")[i % 2], "progress": 40,
                 "started_at": "2026-12-03T09:00:00Z"}
                for i, g in enumerate(self.groups)]


class RequestCountTests(helpers.TestCase):

    def setUp(self):
        super().setUp()
        self.fake = CountingClient()
        patcher = mock.patch.object(protector, "protectorclient",
                                    lambda request: self.fake)
        patcher.start()
        self.addCleanup(patcher.stop)

    def assertRequests(self, url, expected, **headers):
        res = self.client.get(url, **headers)
        self.assertEqual(200, res.status_code)
        self.assertEqual(expected, dict(self.fake.calls))
        return res

    def test_groups_list_one_request(self):
        res = self.assertRequests(
            reverse("horizon:project:protection_groups:index"),
            {"pg_list": 1})
        self.assertEqual(ROWS, len(res.context["table"].data))

    def test_operations_list_one_request(self):
        res = self.assertRequests(
            reverse("horizon:project:dr_operations:index"),
            {"operation_list": 1})
        self.assertEqual(ROWS, len(res.context["table"].data))

    def test_group_detail_one_request(self):
        self.assertRequests(
            reverse("horizon:project:protection_groups:detail",
                    args=(_id(1, 0),)), {"pg_show": 1})

    def test_members_tab_two_requests(self):
        url = reverse("horizon:project:protection_groups:detail",
                      args=(_id(1, 0),))
        res = self.assertRequests(
            url + "?tab=group_details__members",
            {"pg_show": 1, "member_list": 1},
            HTTP_X_REQUESTED_WITH="XMLHttpRequest")
        self.assertEqual(ROWS, res.content.decode().count("vm-"))

"""Server-side render time of the dashboard's list and detail pages, and
the protector-api requests each page makes (doc/dashboard.md
"Performance").

A benchmark that prints figures, not a test: it fails only when a page
does not answer 200. Run it in a venv with Horizon, protectorclient and
the dashboard (the lab's cached ``horizon`` venv, doc/dashboard.md
"Tests")::

    cd dashboard && <horizon venv>/bin/python tools/bench_render.py \\
        [--groups 100 --members 10 --operations 2 -n 20]

protector-api is faked at the protectorclient level: the per-request
``protectorclient(request)`` of ``api/protector.py`` returns an in-memory
client, so the dashboard's API module (wrapping, the operations merge)
runs as in production, and every client method call, one HTTP request in
production, is counted. The pages are rendered by Django's test client
with the unit tests' settings and signed-in user (Horizon's test
helpers), so the figures are the view, table, policy and template work,
without the network. Two things of the test settings are set as a
production Horizon has them (``openstack_dashboard/settings.py`` with
``DEBUG = False``), as they dominate the figures otherwise: the template
loaders are wrapped in Django's cached loader (the tests' settings parse
every template again at each include, once per table row), and the test
environment's template instrumentation (which copies every template's
context for assertions) is not installed. ``--test-templates`` keeps
both as the unit tests have them.

The request counts are taken at ``--groups`` and at a tenth of it: equal
counts show that no page asks the API once per row.
"""
import argparse
import collections
import copy
import io
import os
import statistics
import sys
import time
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
# The checkout's dashboard, not a copy installed in the venv.
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE",
                      "protector_dashboard.test.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import runner as test_runner  # noqa: E402
from django.test import utils as test_utils  # noqa: E402
from django.urls import reverse  # noqa: E402

from protector_dashboard.api import protector  # noqa: E402
from protector_dashboard.test import helpers  # noqa: E402
from protector_dashboard.test.test_data import protector_data  # noqa: E402

AJAX = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
STATUSES = ("active", "active", "active", "failed_over", "error")
OP_TYPES = ("failover", "test_failover", "test_cleanup", "failback")
OP_STATUSES = ("completed", "failed", "running", "completed")


def _uuid(kind, i):
    return "%08x-0000-4000-8000-%012d" % (kind, i)


def fake_cloud(groups, members, operations):
    """protector-api's answers (doc/api-ref.md shapes, as the unit tests'
    test data) for ``groups`` groups of ``members`` members each and
    ``operations`` operations per group."""
    pgs, pg_members, ops = [], {}, []
    for g in range(groups):
        gid = _uuid(1, g)
        status = STATUSES[g % len(STATUSES)]
        pgs.append(protector_data._group(
            id=gid, name="group-%03d" % g, status=status,
            member_count=members,
            remote_sync_status="SYNCED" if g % 4 else "OUT_OF_SYNC",
            next_action=("openstack dr failback group-%03d" % g
                         if status == "failed_over" else None)))
        pg_members[gid] = [{
            "id": _uuid(2, g * members + m), "protection_group_id": gid,
            "instance_id": _uuid(3, g * members + m),
            "instance_name": "vm-%03d-%02d" % (g, m),
            "status": "protected", "volumes_added": 2, "volume_count": 2,
            "volumes": [{"volume_id": _uuid(4, (g * members + m) * 2 + v),
                         "name": "vm-%03d-%02d-vol%d" % (g, m, v),
                         "size_gb": 10, "device": "/dev/vd" + "ab"[v],
                         "bootable": v == 0} for v in range(2)],
            "created_at": "2026-12-01T10:05:00Z"} for m in range(members)]
        for o in range(operations):
            k = g * operations + o
            status = OP_STATUSES[k % len(OP_STATUSES)]
            ops.append({
                "id": _uuid(5, k), "protection_group_id": gid,
                "protection_group_name": "group-%03d" % g,
                "operation_type": OP_TYPES[k % len(OP_TYPES)],
                "status": status,
                "source_site_id": protector_data.SITE_A,
                "target_site_id": protector_data.SITE_B,
                "progress": 100 if status == "completed" else 40,
                "current_step": "recreate_instances"
                if status == "running" else None,
                "started_at": "2026-12-%02dT09:00:00Z" % (1 + k % 28),
                "completed_at": None if status == "running"
                else "2026-12-%02dT09:05:00Z" % (1 + k % 28),
                "error_message": "recreate_instances: quota exceeded"
                if status == "failed" else None,
                "steps_completed": ["validate_sites"],
                "steps_failed": ["recreate_instances"]
                if status == "failed" else [],
                "result_data": {}, "steps": []})
    return pgs, pg_members, ops


class FakeClient:
    """protectorclient's Client on in-memory data; counts every call."""

    def __init__(self, pgs, members, ops):
        self._pgs = {pg["id"]: pg for pg in pgs}
        self._members, self._ops = members, ops
        self.calls = collections.Counter()

    def _count(self, name):
        self.calls[name] += 1

    def pg_list(self, **filters):
        self._count("pg_list")
        return [dict(pg) for pg in self._pgs.values()]

    def pg_show(self, pg):
        self._count("pg_show")
        # What show adds to the list's fields: the RPO state.
        return dict(self._pgs[pg], replication_lag_seconds=120,
                    rpo_status="ok", rpo_minutes=15,
                    rpo_detail="replication lag 120s within the RPO")

    def member_list(self, pg):
        self._count("member_list")
        return [dict(m) for m in self._members[pg]]

    def operation_list(self, **filters):
        self._count("operation_list")
        pg = filters.get("protection_group_id")
        return [dict(op) for op in self._ops
                if pg is None or op["protection_group_id"] == pg]

    def __getattr__(self, name):
        # Any other call is counted too, and fails the page: a benchmark
        # of a page that errors out measures nothing.
        self._count(name)
        raise AssertionError("unexpected protector-api call %s" % name)


def pages(group_id):
    detail = reverse("horizon:project:protection_groups:detail",
                     args=(group_id,))
    return (
        ("groups list", reverse("horizon:project:protection_groups:index"),
         {}),
        ("group detail (overview)", detail, {}),
        ("group members tab", detail + "?tab=group_details__members", AJAX),
        ("operations list", reverse("horizon:project:dr_operations:index"),
         {}),
    )


def measure(case, client, pages, iterations):
    """{page: (request counts of one render, [seconds per render])}."""
    results = {}
    for title, url, headers in pages:
        times, counts = [], None
        for _ in range(iterations):
            client.calls.clear()
            start = time.perf_counter()
            res = case.client.get(url, **headers)
            times.append(time.perf_counter() - start)
            if res.status_code != 200:
                raise AssertionError("%s: HTTP %s" % (url, res.status_code))
            if counts is None:
                counts = dict(client.calls)
            elif counts != dict(client.calls):
                raise AssertionError("%s: requests vary between renders: "
                                     "%s, %s" % (url, counts, client.calls))
        results[title] = (counts, times)
    return results


class Bench(helpers.TestCase):
    """Horizon's test case for its signed-in user and mocks; run once."""

    args = None
    report = None

    def runTest(self):
        args = self.args
        report = {}
        for groups in sorted({max(1, args.groups // 10), args.groups}):
            fake = FakeClient(*fake_cloud(groups, args.members,
                                          args.operations))
            iterations = args.iterations if groups == args.groups else 1
            with mock.patch.object(protector, "protectorclient",
                                   lambda request, fake=fake: fake):
                report[groups] = measure(
                    self, fake, pages(_uuid(1, 0)), iterations)
        Bench.report = report


def production_templates():
    """The test settings' TEMPLATES with production's loader caching and
    without template debugging."""
    templates = copy.deepcopy(settings.TEMPLATES)
    options = templates[0]["OPTIONS"]
    options["loaders"] = [("django.template.loaders.cached.Loader",
                           options["loaders"])]
    options["debug"] = False
    return templates


def _ms(seconds):
    return "%7.1f" % (seconds * 1000)


def _p95(times):
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def print_report(args, report):
    counts_of = {groups: {title: counts
                          for title, (counts, _) in results.items()}
                 for groups, results in report.items()}
    sizes = sorted(report)
    print("%d groups x %d members, %d operations per group, %d renders "
          "per page; load: %s" % (
              args.groups, args.members, args.operations, args.iterations,
              " ".join("%.2f" % x for x in os.getloadavg())))
    print("%-25s %7s %7s %7s   %s" % (
        "page", "p50 ms", "p95 ms", "max ms",
        "protector-api requests at " + " / ".join(
            "%d groups" % n for n in sizes)))
    for title, (_, times) in report[args.groups].items():
        requests = " / ".join(
            "%d (%s)" % (sum(counts_of[n][title].values()), ", ".join(
                "%s %d" % kv for kv in sorted(counts_of[n][title].items())))
            for n in sizes)
        print("%-25s %s %s %s   %s" % (
            title, _ms(statistics.median(times)), _ms(_p95(times)),
            _ms(max(times)), requests))
    grows = [title for title in counts_of[args.groups]
             if len({str(counts_of[n][title]) for n in sizes}) > 1]
    if grows:
        print("requests grow with the number of rows on: "
              + ", ".join(grows))
    return not grows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--members", type=int, default=10,
                        help="members per group")
    parser.add_argument("--operations", type=int, default=2,
                        help="operations per group")
    parser.add_argument("-n", "--iterations", type=int, default=20,
                        help="renders per page")
    parser.add_argument("--test-templates", action="store_true",
                        help="the unit tests' template settings (uncached, "
                             "instrumented) instead of production's")
    args = parser.parse_args()

    if args.test_templates:
        test_utils.setup_test_environment()
        production = test_utils.override_settings()
    else:
        production = test_utils.override_settings(
            TEMPLATES=production_templates(), ALLOWED_HOSTS=["testserver"])
    runner = test_runner.DiscoverRunner(verbosity=0)
    old_config = runner.setup_databases()
    output = io.StringIO()
    try:
        Bench.args = args
        with production:
            result = unittest.TextTestRunner(
                stream=output, verbosity=0).run(Bench())
    finally:
        runner.teardown_databases(old_config)
        if args.test_templates:
            test_utils.teardown_test_environment()
    if not result.wasSuccessful():
        sys.stderr.write(output.getvalue())
        return 1
    return 0 if print_report(args, Bench.report) else 1


if __name__ == "__main__":
    sys.exit(main())

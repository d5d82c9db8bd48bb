"""Fuzzing the real protector-api from its OpenAPI description.

schemathesis generates requests for every operation of
``doc/api/openapi.yaml`` (valid and invalid ones: bodies, path and query
values, the microversion header) and sends them to a real protector-api
with real Keystone tokens, on SQLite and on MariaDB; hypothesis also
generates pushed metadata documents for the internal push (signed, as
the peer sends them). A test fails on any 5xx, and on any refused
request (4xx) that changed the database (every table but the ones that
record attempts: nonces, sync attempts, trusts, service heartbeats).

Bounded: ``PROTECTOR_FUZZ_EXAMPLES`` examples per operation and mode
(default 4: about 400 requests per backend, pushes included); the
issue's run of over 10,000 requests is ``PROTECTOR_FUZZ_EXAMPLES=70``.
"""
import collections
import hashlib
import json
import os
import uuid

from hypothesis import errors
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
import sqlalchemy as sa

from protector.common import peer_auth
from protector.db import metadata
from tests import conftest as top
from tests import services
from tests.functional import apiserver
from tests.functional import conftest as fconf
from tests.functional.engine import fixtures
from tests.functional import stubpeer

pytestmark = pytest.mark.keystone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
SPEC = os.path.join(ROOT, "doc", "api", "openapi.yaml")
EXAMPLES = int(os.environ.get("PROTECTOR_FUZZ_EXAMPLES", "4"))
KEY = "8YkVn4lqk8b5cW0H6wz3m5tS0fDq2Jc4xQm3eGm0k2Q="
# 503s that report the state of a site, whatever the request: its
# Keystone or its peer down. (A service missing from a site's catalog is
# a 412, protector.site.service_missing: the registration is wrong.)
ENVIRONMENT = ('"protector.site.unreachable"', '"protector.peer.unreachable"')
# Tables that record attempts rather than state.
VOLATILE = {"peer_nonces", "metadata_sync", "trusts", "services",
            "alembic_version"}


class Target:
    """One protector-api (its own database), a stub peer, seeded rows."""

    def __init__(self, keystone, workdir, db_url):
        self.peer = stubpeer.StubPeer().start()
        self.server = apiserver.APIServer(
            workdir, db_url, authtoken=fconf.authtoken_for(keystone),
            workers=1,
            extra={"DEFAULT": {"use_mock_cinder": "True",
                               "use_mock_storage": "True",
                               "site_name": "fz-site-a"},
                   "storage": {"token_encryption_key": KEY},
                   "cloud": {"connect_retries": "0",
                             "request_timeout": "5"}})
        assert self.server.manage("db", "sync").returncode == 0
        self.server.start()
        self.rows = fixtures.Rows(db_url)
        self.a = self.rows.site("fz-site-a", keystone.auth_url)
        self.b = self.rows.site("fz-site-b", keystone.auth_url,
                                self.peer.url)
        self.secret = self.rows.pair(self.b, KEY)
        self.key_id = fixtures.Rows(db_url).site_key(self.b)["key_id"]
        env = keystone.env
        self.project, self.token = env["GAMMA_ID"], env["DAVE_TOKEN"]
        self.admin_project, self.admin_token = (env["ADMIN_PROJECT_ID"],
                                                env["ADMIN_TOKEN"])
        self.pg = self.rows.group(self.project, self.a, self.b,
                                  name="fuzz-pg")
        self.stats = collections.Counter()
        self.problems = []
        self.last = self.digest()

    def stop(self):
        self.server.stop()
        self.peer.stop()

    def digest(self):
        """A hash of every non-volatile table's rows."""
        h = hashlib.sha256()
        with self.rows.engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            for table in sorted(set(tables) - VOLATILE):
                rows = conn.execute(sa.text("SELECT * FROM %s" % table))
                for row in sorted(repr(tuple(r)) for r in rows):
                    h.update(row.encode())
        return h.hexdigest()

    def check(self, label, status, text):
        """Record a response; nothing else writes to the database while
        the fuzzer runs (no engine), so the state before a request is the
        state after the previous one."""
        before, self.last = self.last, self.digest()
        self.stats[status // 100] += 1
        if status == 503 and any(code in text for code in ENVIRONMENT):
            # A site or peer the test made unreachable: that answer is
            # about the site, not the input.
            self.stats["503 (site or peer unreachable)"] += 1
        elif status >= 500:
            self.problems.append((label, status, text[:300]))
        elif status >= 400 and self.last != before:
            self.problems.append((label, status, "a refused request "
                                  "changed the database: " + text[:200]))


def _target(request, keystone, tmp_path_factory, backend):
    work = str(tmp_path_factory.mktemp("fuzz-" + backend))
    if backend == "sqlite":
        target = Target(keystone, work, "sqlite:///%s/p.sqlite" % work)
        request.addfinalizer(target.stop)
        return target
    if not services.mysql_available():
        top.require_or_skip("MariaDB is not reachable")
    ctx = services.mysql_database("protector_fuzz")
    url = ctx.__enter__()
    target = Target(keystone, work, url)
    request.addfinalizer(lambda: (target.stop(), ctx.__exit__(None, None,
                                                              None)))
    return target


@pytest.fixture(scope="module", params=[
    "sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def target(request, keystone, tmp_path_factory):
    """One server per backend for both tests (each starts a fresh count;
    the database state carries over, which the checks allow for)."""
    made = _target(request, keystone, tmp_path_factory, request.param)
    return made


@pytest.fixture(autouse=True)
def _fresh_count(target):
    target.stats.clear()
    target.problems.clear()
    target.last = target.digest()


def _settings():
    return settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck),
                    derandomize=True)


def test_no_5xx_and_no_change_on_refusal_for_any_operation(target):
    schema = schemathesis.openapi.from_path(SPEC)
    session = requests.Session()
    ids = [str(uuid.uuid4()), target.pg, "fuzz-pg", "fz-site-b"]
    for result in schema.get_all_operations():
        op = result.ok()
        admin = op.path.startswith("/v1/{tenant_id}/sites")
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fixed = {"tenant_id": target.admin_project if admin
                     else target.project}
            token = target.admin_token if admin else target.token

            @_settings()
            @given(case=op.as_strategy(
                mode, path_parameters=fixed,
                headers={"X-Auth-Token": token}),
                known=st.sampled_from(ids))
            def run(case, known):
                # Now and then a real group or site instead of noise.
                for name in ("pg", "site", "site_id"):
                    if name in (case.path_parameters or {}) and \
                            known != ids[0]:
                        case.path_parameters[name] = known
                resp = case.call(base_url=target.server.url,
                                 session=session, timeout=60)
                target.check("%s %s %s" % (mode.value, op.method.upper(),
                                           op.path), resp.status_code,
                             resp.text)
            try:
                run()
            except errors.Unsatisfiable:
                # Nothing invalid to make (e.g. GET / has no input).
                target.stats["unsatisfiable"] += 1
    print("\n[fuzz] %s requests by class: %s" % (
        sum(v for k, v in target.stats.items() if k != "unsatisfiable"),
        dict(target.stats)))
    assert target.problems == [], "\n".join(repr(p) for p in target.problems)


# -- pushed metadata documents ------------------------------------------

_text = st.one_of(st.none(), st.text(max_size=300), st.integers(),
                  st.booleans(), st.lists(st.integers(), max_size=3))
_volume = st.fixed_dictionaries({
    "volume_id": st.one_of(st.uuids().map(str), _text),
    "size_gb": st.one_of(st.integers(min_value=-5, max_value=2 ** 64),
                         _text),
    "boot_index": st.one_of(st.integers(-2, 2 ** 40), _text),
    "bootable": st.one_of(st.booleans(), _text),
    "device": _text,
})
_member = st.fixed_dictionaries({
    "id": st.one_of(st.uuids().map(str), _text),
    "instance_id": st.one_of(st.uuids().map(str), _text),
    "instance_name": _text, "status": _text,
    "instance_config": st.one_of(st.dictionaries(st.text(max_size=5),
                                                 _text, max_size=3), _text),
    "current_site": _text,
    "volumes": st.one_of(st.lists(_volume, max_size=3), _text),
})
_document = st.fixed_dictionaries({
    "name": st.one_of(st.text(min_size=1, max_size=300), _text),
    "status": st.one_of(st.sampled_from(["active", "failed_over", "x"]),
                        _text),
    "replication_type": st.one_of(st.sampled_from(["async", "sync"]),
                                  _text),
    "primary_site": st.sampled_from(["fz-site-a", "fz-site-b", "zz"]),
    "secondary_site": st.sampled_from(["fz-site-b", "fz-site-a"]),
    "current_primary_site": st.sampled_from(["fz-site-a", "fz-site-b"]),
    "volume_type_id": st.one_of(st.uuids().map(str), _text),
    "failover_count": st.one_of(st.integers(-3, 2 ** 70), _text),
    "last_failover_at": _text,
    "consistency_group": st.one_of(st.none(), st.dictionaries(
        st.sampled_from(["id", "name", "status", "volume_type_id", "x"]),
        _text, max_size=4)),
    "members": st.one_of(st.lists(_member, max_size=3), _text),
    "policy": st.one_of(st.none(), st.dictionaries(
        st.sampled_from(["rpo_minutes", "replication_interval",
                         "primary_fa_url"]), _text, max_size=3)),
})


def test_pushed_documents_never_5xx_nor_half_stored(target):
    session = requests.Session()
    url = "%s/v1/%s/internal/protection-groups/%s/metadata" % (
        target.server.url, target.project, target.pg)
    path = "/v1/%s/internal/protection-groups/%s/metadata" % (
        target.project, target.pg)

    @settings(max_examples=EXAMPLES * 20, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), derandomize=True)
    @given(doc=_document, version=st.one_of(st.integers(-1, 2 ** 64),
                                            st.just(2)))
    def push(doc, version):
        doc = dict(doc, id=target.pg)
        body = json.dumps({"metadata": {
            "version": version, "checksum": metadata.checksum(doc),
            "document": doc}}).encode()
        headers = {"X-Auth-Token": target.token,
                   "Content-Type": "application/json",
                   peer_auth.HEADER: peer_auth.sign(
                       target.secret, target.key_id, "PUT", path, body,
                       target.token)}
        resp = session.put(url, data=body, headers=headers, timeout=60)
        target.check("push", resp.status_code, resp.text)
    push()
    print("\n[fuzz] %s pushes by class: %s" % (
        sum(target.stats.values()), dict(sorted(target.stats.items()))))
    assert target.problems == [], "\n".join(repr(p) for p in target.problems)

"""GET /health against a real Keystone and real protector-api servers
(SQLite and MariaDB): the site rows read each peer's versions document, at
its protector_url or at the 'protector' endpoint of its Keystone catalog;
the engine row reads the services table.

Peers are small HTTP stubs answering a fixed document
(``stubpeer.DocServer``). The catalog endpoint is registered in the
session's Keystone under a region of its own for this module and removed
afterwards, so no other test sees it.
"""
import datetime
import uuid

import pytest
import sqlalchemy as sa

from protector.db import models
from protector_lab import keystone as ks_mod
from tests import conftest as top
from tests import services
from tests.functional import apiserver
from tests.functional import conftest as fconf
from tests.functional.engine import fixtures
from tests.functional import stubpeer
from tests.functional.test_service import call

pytestmark = pytest.mark.keystone
COMPATIBLE = "Reachable, version compatible"


def _server(keystone, work, url):
    return apiserver.APIServer(
        work, url, authtoken=fconf.authtoken_for(keystone),
        extra={"cloud": {"connect_retries": "0", "request_timeout": "5"}})


@pytest.fixture(scope="module")
def sqlite_health_api(keystone, tmp_path_factory):
    work = str(tmp_path_factory.mktemp("health-sqlite"))
    server = _server(keystone, work, "sqlite:///%s/protector.sqlite" % work)
    yield server.start()
    server.stop(later=True)


@pytest.fixture(scope="module")
def mariadb_health_api(keystone, tmp_path_factory):
    if not services.mysql_available():
        top.require_or_skip("MariaDB is not reachable on %s:3306" %
                            services.MYSQL_HOST)
    work = str(tmp_path_factory.mktemp("health-maria"))
    with services.mysql_database() as url:
        server = _server(keystone, work, url)
        yield server.start()
        server.stop(later=True)


@pytest.fixture(params=["sqlite", pytest.param("mariadb",
                                               marks=pytest.mark.mariadb)])
def api(request):
    server = request.getfixturevalue(request.param + "_health_api")
    rows = fixtures.Rows(server.db_url)
    server.rows = rows
    yield server
    # Every test registers the sites (and engines) it looks at.
    with rows.session() as s, s.begin():
        s.execute(sa.delete(models.Site))
        s.execute(sa.delete(models.Service))


@pytest.fixture(scope="module")
def peers():
    docs = {"compatible": stubpeer.versions("1.1", "1.2"),
            "newer": stubpeer.versions("2.0", "2.3"),
            # Another service's answer, and a JSON list.
            "other": {"protection_group": {}},
            "list": [1, 2]}
    servers = {name: stubpeer.DocServer(doc).start()
               for name, doc in docs.items()}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="module")
def catalog(keystone, peers):
    """Region name under which the session's Keystone lists a 'protector'
    endpoint: the compatible stub, in the catalog form
    ``.../v1/%(project_id)s``."""
    admin, url = keystone.env["ADMIN_TOKEN"], keystone.auth_url
    region = "health-" + uuid.uuid4().hex[:8]
    assert call("POST", url + "/regions", admin,
                {"region": {"id": region}})[0] == 201
    status, data = call("POST", url + "/services", admin,
                        {"service": {"type": "protector",
                                     "name": "protector-" + region}})
    assert status == 201, data
    service_id = data["service"]["id"]
    status, data = call("POST", url + "/endpoints", admin, {"endpoint": {
        "service_id": service_id, "interface": "public", "region_id": region,
        "url": peers["compatible"].url + "/v1/%(project_id)s"}})
    assert status == 201, data
    yield region
    call("DELETE", url + "/endpoints/" + data["endpoint"]["id"], admin)
    call("DELETE", url + "/services/" + service_id, admin)
    call("DELETE", url + "/regions/" + region, admin)


def _site(api, name, auth_url, protector_url=None, region=None):
    api.rows.site(name, auth_url, protector_url)
    if region:
        with api.rows.session() as s, s.begin():
            s.execute(sa.update(models.Site).where(
                models.Site.name == name).values(region_name=region))


def _health(api, keystone, headers=None):
    status, data = call("GET", "%s/v1/%s/health" % (
        api.url, keystone.env["ALPHA_ID"]), keystone.env["ALICE_TOKEN"],
        headers=headers)
    assert status == 200, data
    return data["health"]


def _rows(health):
    return {c["component"]: (c["status"], c["detail"])
            for c in health["components"]}


def test_site_rows_read_the_peers_versions_document(api, keystone, peers):
    ks = keystone.auth_url
    _site(api, "h-ok", ks, peers["compatible"].url)
    # A protector_url in the catalog form works as well.
    _site(api, "h-ok-v1", ks, peers["compatible"].url + "/v1/some-project")
    _site(api, "h-newer", ks, peers["newer"].url)
    _site(api, "h-other", ks, peers["other"].url)
    _site(api, "h-list", ks, peers["list"].url)
    _site(api, "h-dead-api", ks,
          "http://127.0.0.1:%d" % ks_mod.free_port())
    _site(api, "h-dead-ks", keystone.env["DEAD_AUTH_URL"],
          peers["compatible"].url)
    health = _health(api, keystone)
    rows = _rows(health)
    assert rows["h-ok"] == ("ok", COMPATIBLE)
    assert rows["h-ok-v1"] == ("ok", COMPATIBLE)
    status, detail = rows["h-newer"]
    assert status == "error"
    assert detail == ("Reachable, version incompatible: its protector-api "
                      "supports protector 2.0 to 2.3; this site calls it "
                      "with protector 1.1")
    for name in ("h-other", "h-list"):
        status, detail = rows[name]
        assert status == "error", rows[name]
        assert "answered no Protector versions document" in detail
    status, detail = rows["h-dead-api"]
    assert status == "unreachable"
    assert detail.startswith("protector-api unreachable")
    status, detail = rows["h-dead-ks"]
    assert status == "unreachable"
    assert detail.startswith("Keystone unreachable")
    assert health["status"] == "degraded"


def test_site_without_protector_url_is_found_in_the_catalog(api, keystone,
                                                            peers, catalog):
    # These sites share the API's Keystone: the caller's token reads it.
    _site(api, "h-catalog", keystone.auth_url, region=catalog)
    _site(api, "h-no-endpoint", keystone.auth_url,
          region="nowhere-" + uuid.uuid4().hex[:6])
    before = peers["compatible"].gets
    rows = _rows(_health(api, keystone))
    assert rows["h-catalog"] == ("ok", COMPATIBLE)
    assert peers["compatible"].gets > before
    status, detail = rows["h-no-endpoint"]
    assert status == "error"
    assert "its catalog has no 'protector' endpoint" in detail
    assert "no protector_url is registered" in detail


def test_peer_catalog_is_read_with_the_peer_token(api, keystone, catalog):
    # Another name for the same Keystone: a site that is not this one's.
    peer_ks = keystone.auth_url.replace("127.0.0.1", "localhost")
    _site(api, "h-peer", peer_ks, region=catalog)

    status, detail = _rows(_health(api, keystone))["h-peer"]
    assert status == "unknown"
    assert "protector-api not checked" in detail
    assert "--secondary-cloud" in detail

    rows = _rows(_health(api, keystone, headers={
        "X-Protector-Peer-Token": keystone.env["BOB_TOKEN"]}))
    assert rows["h-peer"] == ("ok", COMPATIBLE)

    status, detail = _rows(_health(api, keystone, headers={
        "X-Protector-Peer-Token": "not-a-token"}))["h-peer"]
    assert status == "unknown"
    assert "Keystone refused the token for its catalog" in detail


def _beat(api, host, age):
    seen = datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None) - datetime.timedelta(seconds=age)
    with api.rows.session() as s, s.begin():
        s.add(models.Service(host=host, binary="protector-engine",
                             last_seen_at=seen, created_at=seen))


def _engine_row(api, keystone):
    return _rows(_health(api, keystone))["protector-engine"]


def test_engine_row_reads_running(api, keystone):
    assert _engine_row(api, keystone) == (
        "down", "Not running (no engine heartbeat recorded)")
    _beat(api, "engine-gone", 3600)
    status, detail = _engine_row(api, keystone)
    assert status == "down"
    assert detail.startswith("Not running (no heartbeat for ")
    assert detail.endswith("s; last: engine-gone)")
    _beat(api, "engine-1", 0)
    assert _engine_row(api, keystone) == ("ok", "Running")
    _beat(api, "engine-2", 0)
    assert _engine_row(api, keystone) == (
        "ok", "Running (2 engines: engine-1, engine-2)")

"""One registration, both sites (doc/cli.md, "Sites"): ``site create``/
``site delete`` with ``--secondary-cloud`` register and remove a site on
both sites under one ID.

Two real protector-api servers (their own databases, SQLite or MariaDB)
and the session's real Keystone; the CLI is the installed ``openstack``
binary with a clouds.yaml naming both sites (admin), each with a
``protector_endpoint_override``. Both servers share the one Keystone, so
each is told which site it is (``[DEFAULT] site_name``, as the two-site
fixture of conftest.py) and the sites are registered with their
``--protector-url``.

The servers live for the module: each test uses site names of its own,
except the documented walk-through (doc/deployment.md, "Two sites"), which
registers ``site-a`` and ``site-b``.
"""
import json
import os
import subprocess
import sys

import pytest

from protector_lab import keystone as ks_mod
from tests import conftest as top
from tests import services
from tests.functional import conftest as fconf

pytestmark = pytest.mark.keystone

OPENSTACK = os.path.join(os.path.dirname(sys.executable), "openstack")
V13 = {"OpenStack-API-Version": "protector 1.3"}


class Sites(fconf.SitePair):
    """Servers ``a`` and ``b`` with no site registered (the tests do it),
    and a clouds.yaml for the CLI."""

    def start(self, workdir):
        self.start_servers()
        self.clouds = os.path.join(workdir, "clouds.yaml")
        auth = {"username": "admin", "password": ks_mod.ADMIN_PASSWORD,
                "project_name": "admin", "user_domain_name": "Default",
                "project_domain_name": "Default"}
        dead = "http://127.0.0.1:%d" % services.dead_port()
        clouds = {
            "site-a": (self.keystone.auth_url, self.a.url),
            "site-b": (self.keystone.auth_url, self.b.url),
            # Keystone answers, its protector-api does not.
            "site-b-api-down": (self.keystone.auth_url, self.dead_url),
            # Nothing answers.
            "site-down": (dead + "/v3", self.dead_url),
        }
        with open(self.clouds, "w") as f:
            json.dump({"clouds": {
                name: {"auth": dict(auth, auth_url=auth_url),
                       "protector_endpoint_override": url}
                for name, (auth_url, url) in clouds.items()}}, f)
        return self

    def cli(self, *args, cloud="site-a", secondary="site-b"):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OS_", "PROTECTOR_"))}
        env.update({"OS_CLIENT_CONFIG_FILE": self.clouds, "COLUMNS": "200"})
        cmd = [OPENSTACK, "--os-cloud", cloud]
        if secondary:
            cmd += ["--secondary-cloud", secondary]
        return subprocess.run(cmd + list(args), capture_output=True,
                              text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)

    def sites(self, server, name=None):
        """{name: id} of the sites ``server`` holds."""
        status, body = self.request(server, "GET", "/sites" + (
            "?name=" + name if name else ""))
        assert status == 200, body
        return {s["name"]: s["id"] for s in body["sites"]}


@pytest.fixture(scope="module")
def sqlite_sites(keystone, tmp_path_factory):
    work = str(tmp_path_factory.mktemp("register-sqlite"))
    sites = Sites(keystone, work, (None, None))
    yield sites.start(work)
    sites.stop(later=True)


@pytest.fixture(scope="module")
def mariadb_sites(keystone, tmp_path_factory):
    if not services.mysql_available():
        top.require_or_skip("MariaDB is not reachable on %s:3306" %
                            services.MYSQL_HOST)
    work = str(tmp_path_factory.mktemp("register-maria"))
    with services.mysql_database() as url_a, \
            services.mysql_database() as url_b:
        sites = Sites(keystone, work, (url_a, url_b))
        yield sites.start(work)
        sites.stop(later=True)


@pytest.fixture(params=["sqlite", pytest.param("mariadb",
                                               marks=pytest.mark.mariadb)])
def sites(request):
    return request.getfixturevalue(request.param + "_sites")


def _site(name, **extra):
    return {"site": dict({"name": name, "site_type": "primary",
                          "auth_url": "http://%s-controller:5000/v3" % name},
                         **extra)}


def _created(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- the REST API ------------------------------------------------------------

def test_rest_the_peer_takes_the_id_this_site_gave(sites):
    status, body = sites.request("a", "POST", "/sites", _site("rest-one"))
    assert status == 201, body
    site_id = body["site"]["id"]
    status, body = sites.request("b", "POST", "/sites",
                                 _site("rest-one", id=site_id), headers=V13)
    assert status == 201, body
    assert body["site"]["id"] == site_id
    status, body = sites.request("b", "GET", "/sites/" + site_id)
    assert (status, body["site"]["name"]) == (200, "rest-one")
    # Registering on each site separately still works (new IDs).
    for server, headers in (("a", None), ("b", V13)):
        status, body = sites.request(server, "POST", "/sites",
                                     _site("rest-apart"), headers=headers)
        assert status == 201, body
    apart = [sites.sites(s, "rest-apart")["rest-apart"] for s in "ab"]
    assert apart[0] != apart[1]


def test_rest_a_name_held_under_another_id_is_409(sites):
    status, body = sites.request("b", "POST", "/sites", _site("rest-two"))
    assert status == 201, body
    held = body["site"]["id"]
    status, body = sites.request("a", "POST", "/sites", _site("rest-two"))
    assert status == 201, body
    other = body["site"]["id"]
    status, body = sites.request("b", "POST", "/sites",
                                 _site("rest-two", id=other), headers=V13)
    assert status == 409, body
    error = body["errors"][0]
    assert error["code"] == "protector.site.id_mismatch"
    assert held in error["detail"] and other in error["detail"]
    assert "delete it here" in error["detail"]
    assert sites.sites("b", "rest-two") == {"rest-two": held}
    status, body = sites.request("b", "GET", "/sites/" + other)
    assert status == 404, body


# -- the CLI -----------------------------------------------------------------
# On SQLite only: the CLI's two-site logic is the client's, the same
# whatever database the servers keep; what the servers do with each
# request is tested on both databases above. Each test starts
# ``openstack`` 4 to 11 times, about 3 s each on a 2-core machine.
ON_SQLITE = pytest.mark.parametrize("sites", ["sqlite"], indirect=True)


@ON_SQLITE
def test_cli_registers_both_sites_once_from_site_a(sites, keystone):
    # doc/deployment.md, "Two sites": both from site-a (plus --protector-url:
    # the two test sites share one Keystone).
    for name, kind, server in (("site-a", "primary", sites.a),
                               ("site-b", "secondary", sites.b)):
        site = _created(sites.cli(
            "dr", "site", "create", "--name", name, "--site-type", kind,
            "--auth-url", keystone.auth_url, "--region-name", "RegionOne",
            "--protector-url", server.url, "-f", "json"))
        assert site["name"] == name
    held = sites.sites("a", "site-a")
    held.update(sites.sites("a", "site-b"))
    assert set(held) == {"site-a", "site-b"}
    assert {n: sites.sites("b", n)[n] for n in held} == held

    # Pairing follows the registration (doc/deployment.md).
    result = sites.cli("dr", "site", "pair", "site-b")
    assert result.returncode == 0, result.stderr

    # doc/cli.md, "Sites": the ID read on site-b is used on site-a.
    result = sites.cli("protector", "site", "show", "site-b", "-f", "value",
                       "-c", "id", cloud="site-b", secondary=None)
    assert result.returncode == 0, result.stderr
    remote_site = result.stdout.strip()
    project = keystone.env["ADMIN_PROJECT_ID"]
    mapping = _created(sites.cli(
        "dr", "tenant", "mapping", "create", "--local-tenant", project,
        "--remote-site", remote_site, "--remote-tenant", project,
        "--description", "myproject tenant mapping", "-f", "json"))
    assert mapping["remote_site"] == "site-b"
    status, body = sites.request("b", "GET",
                                 "/tenant-mappings/" + mapping["id"])
    assert (status, body["tenant_mapping"]["remote_site"]) == (200, "site-a")

    # A site still in use is deleted on neither site.
    result = sites.cli("dr", "site", "delete", "site-b")
    assert result.returncode == 1
    assert "protector.site.in_use" in result.stderr
    for server in "ab":
        assert sites.sites(server, "site-b") == {"site-b": held["site-b"]}

    result = sites.cli("dr", "tenant", "mapping", "delete", mapping["id"])
    assert result.returncode == 0, result.stderr


@ON_SQLITE
def test_cli_a_conflict_on_site_b_leaves_site_a_unchanged(sites):
    result = sites.cli("dr", "site", "create", "--name", "cli-x",
                       "--site-type", "secondary", "--auth-url",
                       "http://x:5000/v3", cloud="site-b", secondary=None)
    assert result.returncode == 0, result.stderr
    held = sites.sites("b", "cli-x")

    result = sites.cli("dr", "site", "create", "--name", "cli-x",
                       "--site-type", "secondary", "--auth-url",
                       "http://x:5000/v3")
    assert result.returncode == 1, result.stdout
    assert "protector.site.id_mismatch" in result.stderr
    assert "HTTP 409" in result.stderr
    assert "removed again" in result.stderr
    assert result.stdout == ""
    assert sites.sites("a", "cli-x") == {}
    assert sites.sites("b", "cli-x") == held

    # Registering on each site separately keeps working, and a delete
    # with --secondary-cloud removes both (their IDs differ).
    result = sites.cli("dr", "site", "create", "--name", "cli-x",
                       "--site-type", "secondary", "--auth-url",
                       "http://x:5000/v3", secondary=None)
    assert result.returncode == 0, result.stderr
    assert sites.sites("a", "cli-x") != held
    result = sites.cli("dr", "site", "delete", "cli-x")
    assert result.returncode == 0, result.stderr
    assert sites.sites("a", "cli-x") == {} == sites.sites("b", "cli-x")


@ON_SQLITE
def test_cli_delete_with_secondary_cloud_deletes_on_both(sites):
    site = _created(sites.cli("dr", "site", "create", "--name", "cli-d",
                              "--site-type", "primary", "--auth-url",
                              "http://d:5000/v3", "-f", "json"))
    assert sites.sites("b", "cli-d") == {"cli-d": site["id"]}
    result = sites.cli("dr", "site", "delete", site["id"])
    assert result.returncode == 0, result.stderr
    assert sites.sites("a", "cli-d") == {} == sites.sites("b", "cli-d")
    # Without --secondary-cloud: this site only.
    _created(sites.cli("dr", "site", "create", "--name", "cli-d",
                       "--site-type", "primary", "--auth-url",
                       "http://d:5000/v3", "-f", "json"))
    result = sites.cli("dr", "site", "delete", "cli-d", secondary=None)
    assert result.returncode == 0, result.stderr
    assert sites.sites("a", "cli-d") == {}
    assert list(sites.sites("b", "cli-d")) == ["cli-d"]
    # Run again with --secondary-cloud, it finishes the job on site-b.
    result = sites.cli("dr", "site", "delete", "cli-d")
    assert result.returncode == 0, result.stderr
    assert sites.sites("b", "cli-d") == {}
    # Gone from both: 404 from this site, exit 1.
    result = sites.cli("dr", "site", "delete", "cli-d")
    assert result.returncode == 1
    assert "protector.site.not_found" in result.stderr


@ON_SQLITE
def test_cli_an_unreachable_secondary_leaves_site_a_unchanged(sites):
    args = ("dr", "site", "create", "--name", "cli-u", "--site-type",
            "primary", "--auth-url", "http://u:5000/v3")
    # Its Keystone is down: stopped before anything is sent.
    result = sites.cli(*args, secondary="site-down")
    assert result.returncode == 3, result.stderr
    assert sites.sites("a", "cli-u") == {}
    # Its protector-api is down: registered here, then removed again.
    result = sites.cli(*args, secondary="site-b-api-down")
    assert result.returncode == 3, result.stderr
    assert "removed again" in result.stderr
    assert sites.sites("a", "cli-u") == {}

"""Fixtures for functional tests: a real Keystone and the real protector-api.

One SQLite-backed Keystone runs for the whole session, with:

* ``admin`` (admin role on project ``admin``),
* ``alice`` (member of project ``alpha``), ``bob`` (member of ``beta``),
  ``carol`` (reader of ``alpha``),
* ``protector`` (admin on project ``service``): the service user
  keystonemiddleware validates tokens with.

Tokens and project IDs are exported as environment variables for the gabbi
files (``$ENVIRON['ALICE_TOKEN']``, ``$ENVIRON['ALPHA_ID']`` ...).
"""
import os

import pytest

from protector_lab import keystone as ks_mod
from tests import conftest as top
from tests import services
from tests.functional import apiserver

USERS = {
    # name: (project, role)
    "alice": ("alpha", "member"),
    "bob": ("beta", "member"),
    "carol": ("alpha", "reader"),
}


@pytest.fixture(scope="session")
def keystone(tmp_path_factory):
    ks = ks_mod.StandaloneKeystone(str(tmp_path_factory.mktemp("keystone")))
    ks.start()
    admin = ks.admin_token()
    projects = {name: ks.create_project(name, admin)
                for name in ("alpha", "beta", "service")}
    ks.create_user("protector", "protector-pw", projects["service"],
                   "admin", admin)
    for user, (project, role) in USERS.items():
        ks.create_user(user, user + "-pw", projects[project], role, admin)
    env = {"ADMIN_TOKEN": admin, "LONG_2000": "x" * 2000,
           "KEYSTONE_AUTH_URL": ks.auth_url,
           "DEAD_AUTH_URL": "http://127.0.0.1:%d/v3" % ks_mod.free_port()}
    for user, (project, _) in USERS.items():
        env[user.upper() + "_TOKEN"] = ks.token(user, user + "-pw",
                                                project)[0]
    for name, pid in projects.items():
        env[name.upper() + "_ID"] = pid
    env["ADMIN_PROJECT_ID"] = ks.token("admin", ks_mod.ADMIN_PASSWORD,
                                       "admin")[1]["project"]["id"]
    os.environ.update(env)
    ks.env = env
    ks.projects = projects
    yield ks
    ks.stop()


def authtoken_for(ks):
    return ks.authtoken_options("protector", "protector-pw")


@pytest.fixture(scope="session")
def sqlite_api(keystone, tmp_path_factory):
    work = str(tmp_path_factory.mktemp("api-sqlite"))
    server = apiserver.APIServer(
        work, "sqlite:///%s/protector.sqlite" % work,
        authtoken=authtoken_for(keystone))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mariadb_api(keystone, tmp_path_factory):
    if not services.mysql_available():
        top.require_or_skip("MariaDB is not reachable on %s:3306" %
                            services.MYSQL_HOST)
    work = str(tmp_path_factory.mktemp("api-mariadb"))
    with services.mysql_database() as url:
        server = apiserver.APIServer(work, url,
                                     authtoken=authtoken_for(keystone))
        server.start()
        yield server
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("mariadb",
                                               marks=pytest.mark.mariadb)])
def api(request):
    """The API on each database backend in turn."""
    return request.getfixturevalue(request.param + "_api")

"""Keystone trusts with the real test Keystone and real protector-api servers.

The first protection-group create of a user makes a trust in the site's
Keystone (trustor = the user, trustee = the protector service user,
impersonation, the held ``default_trust_roles``), stores it in ``trusts``
and reuses it; ``auth.trust_plugin`` turns it into a trust-scoped token
that acts as the user in the project; a trust deleted in Keystone is
replaced at the next use; a user holding none of the roles gets the
error doc/deployment.md ("Keystone trusts") documents.
"""
import json
import os
import urllib.error
import urllib.request

from keystoneauth1 import loading
from oslo_config import cfg
import pytest
import sqlalchemy as sa

from protector.cloud import auth
from protector.common import config
from tests.functional import apiserver
from tests.functional import conftest as fconf
from tests.functional import fakecinder

pytestmark = pytest.mark.keystone


def _alice(pair):
    env = pair.keystone.env
    return {"token": env["ALICE_TOKEN"], "project": env["ALPHA_ID"]}


def _create(pair, name, server="a"):
    ids = pair.site_ids[server]
    return pair.request(server, "POST", "/protection-groups", {
        "protection_group": {
            "name": name, "replication_type": "async",
            "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": os.environ["MOCK_TYPE_REPLICATED_ASYNC"]}},
        **_alice(pair))


def _delete(pair, pg_id, server="a"):
    status, body = pair.request(server, "DELETE",
                                "/protection-groups/%s" % pg_id,
                                **_alice(pair))
    assert status == 204, body


def _trusts(server, project_id):
    engine = sa.create_engine(server.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT site_id, project_id, user_id, trust_id, roles "
                "FROM trusts WHERE project_id = :p"), {"p": project_id})
            return [dict(r._mapping) for r in rows]
    finally:
        engine.dispose()


def _keystone(keystone, method, path, token):
    req = urllib.request.Request(keystone.auth_url + path, method=method,
                                 headers={"X-Auth-Token": token})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = resp.read()
            return resp.status, json.loads(data) if data else None
    except urllib.error.HTTPError as exc:
        return exc.code, None


def _user_id(keystone, name):
    token, body = keystone.token(name, name + "-pw", fconf.USERS[name][0])
    return body["user"]["id"]


def _alice_trust(pair):
    env = pair.keystone.env
    rows = [r for r in _trusts(pair.a, env["ALPHA_ID"])
            if r["user_id"] == _user_id(pair.keystone, "alice")]
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


def test_trust_created_once_and_reused(pair):
    ks, env = pair.keystone, pair.keystone.env
    status, body = _create(pair, "trust-first")
    assert status == 201, body
    first = body["protection_group"]["id"]
    row = _alice_trust(pair)
    assert row is not None
    assert row["site_id"] == pair.site_ids["a"]["site-a"]
    assert row["project_id"] == env["ALPHA_ID"]
    assert row["roles"] == "member"
    # Only site-a's server (the one asked) made a trust.
    assert not [r for r in _trusts(pair.b, env["ALPHA_ID"])
                if r["trust_id"] == row["trust_id"]]

    status, trust = _keystone(ks, "GET", "/OS-TRUST/trusts/%s" %
                              row["trust_id"], env["ALICE_TOKEN"])
    assert status == 200, trust
    trust = trust["trust"]
    assert trust["trustor_user_id"] == _user_id(ks, "alice")
    protector_token, protector = ks.token("protector", "protector-pw",
                                          "service")
    assert trust["trustee_user_id"] == protector["user"]["id"]
    assert trust["project_id"] == env["ALPHA_ID"]
    assert trust["impersonation"] is True
    assert [r["name"] for r in trust["roles"]] == ["member"]
    assert trust["expires_at"] is None

    status, body = _create(pair, "trust-second")
    assert status == 201, body
    second = body["protection_group"]["id"]
    again = _alice_trust(pair)
    assert again["trust_id"] == row["trust_id"]
    _delete(pair, second)
    _delete(pair, first)


@pytest.fixture
def service_user(keystone):
    """In-process: the protector service user as the API's
    [keystone_authtoken] has it (loaded by keystoneauth, cloud/auth.py)."""
    config.register_all(cfg.CONF)
    group = auth.SERVICE_USER_GROUP
    loading.register_auth_conf_options(cfg.CONF, group)
    cfg.CONF.register_opts(loading.get_auth_plugin_conf_options("password"),
                           group=group)
    values = {"auth_type": "password", "auth_url": keystone.auth_url,
              "username": "protector", "password": "protector-pw",
              "user_domain_name": "Default"}
    for key, value in values.items():
        cfg.CONF.set_override(key, value, group=group)
    yield
    for key in values:
        cfg.CONF.clear_override(key, group=group)


def test_trust_plugin_acts_as_the_user(pair, service_user):
    status, body = _create(pair, "trust-plugin")
    assert status == 201, body
    try:
        row = _alice_trust(pair)
        site = {"name": "site-a", "auth_url": pair.keystone.auth_url}
        sess = auth.base_session(auth.trust_plugin(site, row["trust_id"]))
        ref = sess.auth.get_access(sess)
        assert ref.trust_scoped and ref.trust_id == row["trust_id"]
        # Impersonation: the token is alice's, in project alpha.
        assert ref.user_id == _user_id(pair.keystone, "alice")
        assert ref.project_id == pair.keystone.env["ALPHA_ID"]
        assert "member" in ref.role_names
        assert "admin" not in ref.role_names
        # It works against the site's services: read a project resource.
        status, data = _keystone(pair.keystone, "GET", "/auth/projects",
                                 ref.auth_token)
        assert status == 200
        assert pair.keystone.env["ALPHA_ID"] in [
            p["id"] for p in data["projects"]]
    finally:
        _delete(pair, body["protection_group"]["id"])


def test_deleted_trust_is_recreated(pair):
    env = pair.keystone.env
    status, body = _create(pair, "trust-del-1")
    assert status == 201, body
    first = body["protection_group"]["id"]
    old = _alice_trust(pair)["trust_id"]
    status, _ = _keystone(pair.keystone, "DELETE",
                          "/OS-TRUST/trusts/%s" % old, env["ALICE_TOKEN"])
    assert status == 204
    status, body = _create(pair, "trust-del-2")
    assert status == 201, body
    new = _alice_trust(pair)["trust_id"]
    assert new != old
    status, trust = _keystone(pair.keystone, "GET",
                              "/OS-TRUST/trusts/%s" % new,
                              env["ALICE_TOKEN"])
    assert status == 200 and trust["trust"]["impersonation"] is True
    _delete(pair, body["protection_group"]["id"])
    _delete(pair, first)


@pytest.fixture(scope="module")
def odd_roles_api(keystone, tmp_path_factory):
    """A site-a server whose default_trust_roles no user holds (its
    sites' volume types: the fake Cinder's, as in ``SitePair``)."""
    fakecinder.for_keystone(keystone)
    work = str(tmp_path_factory.mktemp("trust-roles"))
    server = apiserver.APIServer(
        work, "sqlite:///%s/protector.sqlite" % work,
        authtoken=fconf.authtoken_for(keystone),
        extra={"DEFAULT": {"use_mock_cinder": "True",
                           "site_name": "site-a"},
               "cloud": {"connect_retries": "0", "interface": "internal"},
               "service_credentials": {
                   "default_trust_roles": "dr_operator,_member_"}})
    server.start()
    yield server
    server.stop(later=True)


def _call(server, method, path, token, project, body=None):
    req = urllib.request.Request(
        "%s/v1/%s%s" % (server.url, project, path), method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Auth-Token": token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            data = resp.read()
            return resp.status, json.loads(data) if data else None
    except urllib.error.HTTPError as exc:
        data = exc.read()
        return exc.code, json.loads(data) if data else None


def test_missing_role_gives_the_troubleshooting_error(keystone,
                                                      odd_roles_api):
    env = keystone.env
    admin = env["ADMIN_TOKEN"]
    ids = {}
    for name in ("site-a", "site-b"):
        status, body = _call(odd_roles_api, "POST", "/sites", admin,
                             env["ADMIN_PROJECT_ID"], {"site": {
                                 "name": name, "site_type": "primary",
                                 "auth_url": keystone.auth_url,
                                 "region_name": fconf.SitePair.REGIONS[
                                     name],
                                 "protector_url": odd_roles_api.url}})
        assert status == 201, body
        ids[name] = body["site"]["id"]
    # Paired (the key is never used: the trust fails first).
    from cryptography import fernet

    from tests.functional.engine import fixtures
    fixtures.Rows(odd_roles_api.db_url).pair(
        ids["site-b"], fernet.Fernet.generate_key().decode())
    type_id = fakecinder.export_types()["MOCK_TYPE_REPLICATED_ASYNC"]
    status, body = _call(
        odd_roles_api, "POST", "/protection-groups", env["ALICE_TOKEN"],
        env["ALPHA_ID"], {"protection_group": {
            "name": "no-role", "replication_type": "async",
            "primary_site_id": ids["site-a"],
            "secondary_site_id": ids["site-b"],
            "volume_type_id": type_id}})
    assert status == 400, body
    error = body["errors"][0]
    assert error["code"] == "protector.trust.role_missing"
    detail = error["detail"]
    for text in ("Could not create trust", "dr_operator, _member_",
                 "openstack role list", "default_trust_roles",
                 "protector.conf", env["ALPHA_ID"]):
        assert text in detail, (text, detail)
    # Nothing was made: no group, no trust.
    status, body = _call(odd_roles_api, "GET", "/protection-groups",
                         env["ALICE_TOKEN"], env["ALPHA_ID"])
    assert status == 200 and body["protection_groups"] == []
    assert _trusts(odd_roles_api, env["ALPHA_ID"]) == []

"""protector-api as a service: workers, body limits, referenced sites."""
import datetime
import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.keystone


def call(method, url, token=None, body=None, raw=None, headers=None):
    data = raw if raw is not None else (
        json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        text = exc.read().decode()
        return exc.code, json.loads(text) if text else None


def sites_url(api, keystone):
    return "%s/v1/%s/sites" % (api.url, keystone.env["ADMIN_PROJECT_ID"])


def test_runs_the_configured_number_of_workers(sqlite_api):
    pid = sqlite_api._proc.pid
    children = subprocess.run(["pgrep", "-P", str(pid)],
                              capture_output=True, text=True).stdout.split()
    assert len(children) == 2  # workers = 2 in the test config


def test_body_over_the_limit_is_413_and_creates_nothing(sqlite_api,
                                                        keystone):
    token = keystone.env["ADMIN_TOKEN"]
    body = {"site": {"name": "too-big", "site_type": "primary",
                     "auth_url": "http://a:5000/v3",
                     "description": "y" * (2 * 1024 * 1024)}}
    status, data = call("POST", sites_url(sqlite_api, keystone), token,
                        body)
    assert status == 413
    assert data["errors"][0]["code"] == "protector.request.too_large"
    status, data = call("GET", sites_url(sqlite_api, keystone) +
                        "?name=too-big", token)
    assert data["sites"] == []


def _insert_pg(db_path, project_id, site_id):
    engine = sa.create_engine("sqlite:///%s" % db_path)
    pg_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO protection_groups (id, project_id, name, status, "
            "replication_type, primary_site_id, secondary_site_id, "
            "current_primary_site_id, volume_type_id, failover_count, "
            "metadata_version, created_at) VALUES (:id, :p, 'pg-ref', "
            "'active', 'async', :s, :s, :s, :vt, 0, 1, :now)"),
            {"id": pg_id, "p": project_id, "s": site_id,
             "vt": str(uuid.uuid4()), "now": datetime.datetime.utcnow()})
    return engine, pg_id


def test_site_referenced_by_a_protection_group_cannot_be_deleted(
        sqlite_api, keystone):
    token = keystone.env["ADMIN_TOKEN"]
    url = sites_url(sqlite_api, keystone)
    status, data = call("POST", url, token, {"site": {
        "name": "referenced", "site_type": "primary",
        "auth_url": "http://a:5000/v3"}})
    assert status == 201
    site_id = data["site"]["id"]
    db_path = os.path.join(sqlite_api.workdir, "protector.sqlite")
    engine, pg_id = _insert_pg(db_path, keystone.env["ALPHA_ID"], site_id)

    status, data = call("DELETE", url + "/referenced", token)
    assert status == 409
    assert data["errors"][0]["code"] == "protector.site.in_use"
    assert "1 protection group" in data["errors"][0]["detail"]
    assert call("GET", url + "/referenced", token)[0] == 200

    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM protection_groups WHERE id=:id"),
                     {"id": pg_id})
    assert call("DELETE", url + "/referenced", token)[0] == 204


def test_policy_file_overrides_defaults(keystone, tmp_path):
    """[oslo_policy] policy_file: let members register sites."""
    from tests.functional import apiserver
    from tests.functional import conftest as fconf
    policy = tmp_path / "policy.yaml"
    policy.write_text('"protector:sites:create": "role:member"\n')
    server = apiserver.APIServer(
        str(tmp_path), "sqlite:///%s/p.sqlite" % tmp_path,
        authtoken=fconf.authtoken_for(keystone), workers=1,
        policy_file=str(policy))
    server.start()
    try:
        url = "%s/v1/%s/sites" % (server.url, keystone.env["ALPHA_ID"])
        body = {"site": {"name": "by-member", "site_type": "primary",
                         "auth_url": "http://a:5000/v3"}}
        assert call("POST", url, keystone.env["ALICE_TOKEN"], body)[0] == 201
        # Rules not overridden keep their defaults: delete is still admin.
        assert call("DELETE", url + "/by-member",
                    keystone.env["ALICE_TOKEN"])[0] == 403
    finally:
        server.stop()


def test_manage_db_version_and_sync(tmp_path):
    from tests.functional import apiserver
    server = apiserver.APIServer(str(tmp_path),
                                 "sqlite:///%s/v.sqlite" % tmp_path)
    before = server.manage("db", "version")
    assert before.returncode == 0 and "None" in before.stdout
    sync = server.manage("db", "sync")
    assert sync.returncode == 0, sync.stderr
    after = server.manage("db", "version")
    # The newest migration in the tree (a literal here went stale with
    # every new migration).
    from protector.db import migration
    assert after.stdout.strip() == migration.head()


def test_manage_reports_a_bad_database_url(tmp_path):
    from tests.functional import apiserver
    server = apiserver.APIServer(
        str(tmp_path), "mysql+pymysql://nobody:x@127.0.0.1:1/none",
        extra={"database": {"max_retries": "0"}})
    result = server.manage("db", "sync")
    assert result.returncode == 1
    assert "protector-manage:" in result.stderr


def test_readme_noauth2_config_never_answers_500(tmp_path):
    """D1: the README's "Running the API by hand" (auth_strategy =
    noauth2, no [keystone_authtoken]) answered 500 NoSuchOptError on
    group create, site validate, volume types and tenant mapping create.
    Without Keystone no site is known to be this one: each now says what
    to configure (4xx), and nothing was created."""
    from tests.functional import apiserver
    server = apiserver.APIServer(str(tmp_path),
                                 "sqlite:///%s/n.sqlite" % tmp_path,
                                 workers=1)
    assert server.manage("db", "sync").returncode == 0
    server.start()
    try:
        base = server.url + "/v1/admin"
        ids = []
        for name, url in (("site-a", "http://127.0.0.1:1/v3"),
                          ("site-b", "http://127.0.0.1:2/v3")):
            status, data = call("POST", base + "/sites", "admin:admin", {
                "site": {"name": name, "site_type": "primary",
                         "auth_url": url}})
            assert status == 201, data
            ids.append(data["site"]["id"])
        answers = [
            call("POST", base + "/protection-groups", "admin:admin", {
                "protection_group": {
                    "name": "pg", "replication_type": "async",
                    "primary_site_id": ids[0], "secondary_site_id": ids[1],
                    "volume_type_id": str(uuid.uuid4())}}),
            call("POST", base + "/sites/%s/validate" % ids[0],
                 "admin:admin"),
            call("GET", base + "/sites/%s/volume-types" % ids[0],
                 "admin:admin"),
            call("POST", base + "/tenant-mappings", "admin:admin", {
                "tenant_mapping": {"local_tenant": "admin",
                                   "remote_site_id": ids[1],
                                   "remote_tenant": "x"}}),
        ]
        for status, data in answers:
            assert 400 <= status < 500, (status, data)
            assert data["errors"][0]["code"].startswith("protector."), data
        assert call("GET", base + "/protection-groups",
                    "admin:admin")[1]["protection_groups"] == []
        assert "Traceback" not in open(server.log_file).read()
    finally:
        server.stop()


def test_inline_comment_names_the_option_and_file(tmp_path):
    """Issue 14 item 16: a sample line 'bind_port = 8788 # ...'
    (oslo.config has no inline comments) stops protector-manage and
    protector-api at start with a message naming the option, the file
    and the fix, not a traceback from a worker."""
    from tests.functional import apiserver
    conf = tmp_path / "protector.conf"
    conf.write_text(
        "[DEFAULT]\nstate_path = %s\n[api]\nbind_port = 8788          "
        "# Default API port. Both sites must expose this port.\n"
        "[database]\nconnection = sqlite:///%s/p.sqlite\n" % (tmp_path,
                                                             tmp_path))
    for binary, args in (("protector-manage", ["db", "version"]),
                         ("protector-api", [])):
        result = subprocess.run(
            [apiserver._bin(binary), "--config-file", str(conf)] + args,
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, (binary, result)
        assert "[api] bind_port" in result.stderr, result.stderr
        assert str(conf) in result.stderr
        assert "inline comments" in result.stderr
        assert "Traceback" not in result.stderr
    # A value that silently took the comment in is refused too.
    conf.write_text("[DEFAULT]\nsite_name = site-a   # this site\n")
    result = subprocess.run(
        [apiserver._bin("protector-manage"), "--config-file", str(conf),
         "db", "version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "[DEFAULT] site_name" in \
        result.stderr, result.stderr

"""Site validate and list-volume-types against the real lab clouds.

Sites are registered with site-a's protector-api through REST, using real
Keystone tokens: site-a with the caller's token, site-b with the peer token
(``X-Protector-Peer-Token``). Stopping site-a's Cinder shows up in validate.
"""
import subprocess

from keystoneauth1 import loading
from keystoneauth1 import session as ks_session
import pytest
import requests

from protector_lab.client import run_lab

pytestmark = pytest.mark.lab

HEADERS = {"OpenStack-API-Version": "protector 1.2"}


def token_of(creds):
    auth = loading.get_plugin_loader("password").load_from_options(**creds)
    sess = ks_session.Session(auth=auth)
    return sess.get_token(), sess.get_project_id()


@pytest.fixture(scope="module")
def registered(lab):
    token, project = token_of(lab.site_a.admin)
    base = "%s/v1/%s/sites" % (lab.site_a.protector_url, project)
    hdrs = dict(HEADERS, **{"X-Auth-Token": token})
    names = {s["name"] for s in requests.get(base, headers=hdrs).json()[
        "sites"]}
    created = []
    for s, kind in ((lab.site_a, "primary"), (lab.site_b, "secondary")):
        name = "it-" + s.name
        if name not in names:
            r = requests.post(base, headers=hdrs, json={"site": {
                "name": name, "site_type": kind, "auth_url": s.auth_url,
                "region_name": s.region}})
            assert r.status_code == 201, r.text
            created.append(name)
    peer_token, _ = token_of(lab.site_b.admin)
    yield base, hdrs, peer_token
    for name in created:
        requests.delete(base + "/" + name, headers=hdrs)


def test_validate_local_site(registered):
    base, hdrs, _ = registered
    r = requests.post(base + "/it-site-a/validate", headers=hdrs)
    assert r.status_code == 200, r.text
    report = r.json()["validation"]
    assert report["services"] == {"keystone": "OK", "nova": "OK",
                                  "cinder": "OK", "neutron": "OK"}
    assert report["status"] == "active"
    assert {"replicated-async", "replicated-sync"} <= set(
        report["replicated_volume_types"])
    assert report["capabilities"]["generic_groups"] is True
    site = requests.get(base + "/it-site-a", headers=hdrs).json()["site"]
    assert site["status"] == "active" and site["last_checked_at"]


def test_validate_peer_site_with_peer_token(registered):
    base, hdrs, peer_token = registered
    r = requests.post(base + "/it-site-b/validate", headers=dict(
        hdrs, **{"X-Protector-Peer-Token": peer_token}))
    assert r.status_code == 200, r.text
    assert r.json()["validation"]["status"] == "active"
    r = requests.post(base + "/it-site-b/validate", headers=hdrs)
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "protector.peer.token_required"


def test_list_volume_types(registered):
    base, hdrs, peer_token = registered
    for site, extra in (("it-site-a", {}),
                        ("it-site-b", {"X-Protector-Peer-Token":
                                       peer_token})):
        r = requests.get(base + "/%s/volume-types" % site,
                         headers=dict(hdrs, **extra))
        assert r.status_code == 200, r.text
        types = {t["name"]: t for t in r.json()["volume_types"]}
        assert types["replicated-async"]["replication_type"] == "async"
        assert types["replicated-sync"]["replication_type"] == "sync"


def test_validate_reports_a_stopped_cinder(registered):
    base, hdrs, _ = registered
    run_lab("stop", "site-a", "cinder")
    try:
        r = requests.post(base + "/it-site-a/validate", headers=hdrs)
        assert r.status_code == 200, r.text
        report = r.json()["validation"]
        assert report["services"]["cinder"].startswith("UNREACHABLE"), \
            report
        assert report["services"]["nova"] == "OK"
        assert report["status"] == "error"
        site = requests.get(base + "/it-site-a", headers=hdrs).json()["site"]
        assert site["status"] == "error"
        assert "cinder" in site["status_reason"]
    finally:
        run_lab("start", "site-a", "cinder")
    r = requests.post(base + "/it-site-a/validate", headers=hdrs)
    assert r.json()["validation"]["status"] == "active"


def test_validate_through_the_real_cli(lab, registered):
    env = {"OS_CLIENT_CONFIG_FILE": lab.clouds_yaml, "PATH": "/usr/bin"}
    import os
    import sys
    exe = os.path.join(os.path.dirname(sys.executable), "openstack")
    out = subprocess.run(
        [exe, "--os-cloud", lab.site_a.admin_cloud, "dr", "site",
         "validate", "it-site-a"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "Keystone: OK" in out.stdout
    assert "replicated-async" in out.stdout
    # doc/cli.md: with OS_CLOUD and OS_SECONDARY_CLOUD exported, the peer
    # site is validated (and its types listed) from site A's Protector.
    env = dict(env, OS_CLOUD=lab.site_a.admin_cloud,
               OS_SECONDARY_CLOUD=lab.site_b.admin_cloud)
    for args, expect in ((["site", "validate", "it-site-b"], "Keystone: OK"),
                         (["site", "list-volume-types", "it-site-b"],
                          "replicated-async")):
        out = subprocess.run([exe, "dr"] + args, capture_output=True,
                             text=True, env=env)
        assert out.returncode == 0, (args, out.stderr)
        assert expect in out.stdout, out.stdout

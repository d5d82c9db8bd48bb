"""Application credentials for a planned operation's source site, against
the real test Keystone (``cloud/peer_credentials.py``, ``engine/subops.py``).

A token for the source site lives an hour; the credential made with it
outlives it (until ``[engine] peer_credential_lifetime``), gives tokens of
the same user and project, keeps its secret only encrypted, and is deleted
when the operation ends.
"""
import datetime
import json
import urllib.error
import urllib.request

from cryptography import fernet
from oslo_config import cfg
from oslo_utils import timeutils
import pytest

from protector.cloud import auth
from protector.cloud import peer_credentials
from protector.common import config
from protector import caller
from protector.engine import subops
from protector import exception

pytestmark = pytest.mark.keystone


@pytest.fixture
def conf(keystone):
    config.register_all(cfg.CONF)
    cfg.CONF.set_override("token_encryption_key",
                          fernet.Fernet.generate_key().decode(), "storage")
    yield cfg.CONF
    cfg.CONF.clear_override("token_encryption_key", "storage")
    cfg.CONF.clear_override("peer_credential_lifetime", "engine")


def _site(keystone):
    return {"id": "site-b-id", "name": "site-b",
            "auth_url": keystone.auth_url}


def _app_creds(keystone, user_id):
    req = urllib.request.Request(
        "%s/users/%s/application_credentials" % (keystone.auth_url, user_id),
        headers={"X-Auth-Token": keystone.admin_token()})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())["application_credentials"]


def test_credential_outlives_the_token_and_is_deleted(conf, keystone,
                                                     monkeypatch):
    env = keystone.env
    site = _site(keystone)
    cfg.CONF.set_override("peer_credential_lifetime", 7200, "engine")
    kept = peer_credentials.create(site, env["ALICE_TOKEN"], "failover")

    # Only the encrypted secret is kept.
    assert set(kept) >= {"id", "user_id", "project_id", "secret_encrypted"}
    assert "secret" not in kept
    assert kept["project_id"] == env["ALPHA_ID"]
    listed = {c["id"]: c for c in _app_creds(keystone, kept["user_id"])}
    made = listed[kept["id"]]
    assert made["name"].startswith("protector-failover-")
    assert made["unrestricted"] is True
    expires = timeutils.parse_isotime(made["expires_at"]).replace(
        tzinfo=None)
    left = expires - timeutils.utcnow()
    assert datetime.timedelta(minutes=110) < left < datetime.timedelta(
        minutes=121)

    # Its tokens act as alice in project alpha, independently of the token
    # it was made with.
    token = peer_credentials.token(site, kept)
    assert token != env["ALICE_TOKEN"]
    ref = auth.token_plugin(site, token).auth_ref
    assert ref.user_id == kept["user_id"]
    assert ref.project_id == env["ALPHA_ID"]
    assert "member" in ref.role_names

    # The engine deletes it with a token of its own when the operation
    # ends; after that it gives no token.
    operation = {"id": "op-1", "source_site_id": site["id"],
                 "parameters": {subops.CREDENTIAL_KEY: kept}}
    monkeypatch.setattr(subops.sites_db, "get", lambda c, sid: site)
    assert subops.release_peer_credential(object(), operation) is True
    assert kept["id"] not in [c["id"] for c in _app_creds(
        keystone, kept["user_id"])]
    with pytest.raises(exception.PeerTokenInvalid):
        peer_credentials.token(site, kept)


def test_keep_peer_token_makes_a_credential(conf, keystone, monkeypatch):
    """The API side: a planned operation keeps a credential, not the
    token; an unplanned one keeps the token only (it never needs it)."""
    env = keystone.env
    site = _site(keystone)

    Req = caller.Caller(None, None, peer_token=env["ALICE_TOKEN"])

    monkeypatch.setattr(subops.tokens, "is_local", lambda s: False)
    args = {"type": "planned"}
    subops.keep_peer_token(Req, site, args, "failback")
    unplanned = {"type": "unplanned"}
    subops.keep_peer_token(Req, site, unplanned, "failover")
    kept = args[subops.CREDENTIAL_KEY]
    assert subops.TOKEN_KEY not in args
    assert env["ALICE_TOKEN"] not in json.dumps(args)
    assert subops.CREDENTIAL_KEY not in unplanned
    try:
        assert subops._token({"parameters": args}, site) != \
            env["ALICE_TOKEN"]
        # Polling reuses the credential's token instead of logging in
        # again each time.
        fresh = subops._token_source({"parameters": args}, site)
        assert fresh() == fresh()
    finally:
        peer_credentials.delete(site, kept)


def test_refused_credential_falls_back_to_the_token(conf, keystone,
                                                    monkeypatch):
    """Keystone refuses an application credential to a token made from a
    restricted one: the caller's token is kept instead (encrypted)."""
    env = keystone.env
    site = _site(keystone)
    # A restricted credential of alice, and a token from it.
    ref = auth.token_plugin(site, env["ALICE_TOKEN"]).auth_ref
    body = json.dumps({"application_credential": {
        "name": "restricted-for-test"}}).encode()
    req = urllib.request.Request(
        "%s/users/%s/application_credentials" % (keystone.auth_url,
                                                 ref.user_id),
        data=body, method="POST", headers={
            "X-Auth-Token": env["ALICE_TOKEN"],
            "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        cred = json.loads(resp.read())["application_credential"]
    restricted_token = auth.base_session(
        peer_credentials.v3.ApplicationCredential(
            auth_url=keystone.auth_url, application_credential_id=cred["id"],
            application_credential_secret=cred["secret"])).get_token()
    with pytest.raises(peer_credentials.CredentialRefused) as err:
        peer_credentials.create(site, restricted_token, "failover")
    assert "site-b" in err.value.message

    Req = caller.Caller(None, None, peer_token=restricted_token)

    monkeypatch.setattr(subops.tokens, "is_local", lambda s: False)
    args = {"type": "planned"}
    subops.keep_peer_token(Req, site, args, "failover")
    assert subops.CREDENTIAL_KEY not in args
    assert subops._token({"parameters": args}, site) == restricted_token
    try:
        urllib.request.urlopen(urllib.request.Request(
            "%s/users/%s/application_credentials/%s" % (
                keystone.auth_url, ref.user_id, cred["id"]),
            method="DELETE", headers={"X-Auth-Token": env["ALICE_TOKEN"]}))
    except urllib.error.HTTPError:
        pass

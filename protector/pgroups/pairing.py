"""Site pairing: the key two sites' Protectors sign internal calls with.

``POST /v1/{t}/sites/{site}/pair`` (admin; CLI ``openstack dr site pair
<site>`` with ``--secondary-cloud`` for that site) makes a fresh key on
this site and gives it to the peer's Protector with the admin's token for
the peer site (``PUT .../internal/site-keys/<this site's name>``, admin
there too); the peer stores it for this site, then this site stores it
for the peer. Running it again rotates the key: the old one stops
working on both sites (a call in flight signed with it fails, and the
operation that made it can be retried). Secrets are stored encrypted with
``[storage] token_encryption_key`` and never shown. Neither site learns
any password of the other (doc/architecture.md, rule 1).
"""
import time
import uuid

from oslo_config import cfg

from protector.cloud import sites
from protector.cloud import tokens
from protector.common import crypto
from protector.common import peer_auth
from protector.db import site_keys
from protector.db import sites as sites_db
from protector import exception
from protector.pgroups import peers

CONF = cfg.CONF


def serialize(key, site_name=None):
    data = {"key_id": key["key_id"],
            "created_at": _iso(key["updated_at"] or key["created_at"])}
    if site_name:
        data["site"] = site_name
    return data


def _iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _local_and_remote(ctx, remote):
    others = [s for s in sites_db.list_all(ctx) if s["id"] != remote["id"]]
    is_here = (remote["name"] == CONF.site_name) if CONF.site_name \
        else (tokens.is_local(remote) and not remote.get(
            "protector_url"))
    if is_here:
        raise exception.SitePairingInvalid(
            site=remote["name"], reason="it is this site; pair it with the "
            "other site instead")
    return sites.local_site(others)


def pair(caller, site_ident):
    """Make, hand over and store a new key for ``site_ident``."""
    ctx = caller.context
    remote = sites_db.get(ctx, site_ident)
    local = _local_and_remote(ctx, remote)
    key_id = str(uuid.uuid4())
    secret = peer_auth.new_secret()
    # Encrypt first: no key handed over that this site could not keep.
    encrypted = crypto.encrypt(secret)
    peer = peers.resolve(caller, caller.tenant_id, remote, signed=False)
    peer.install_key(local["name"], key_id, secret)
    key = site_keys.set_key(ctx, remote["id"], key_id, encrypted)
    return serialize(key, remote["name"])


def install(ctx, site_name, key_id, secret):
    """The peer's half: store the key for the site named ``site_name``
    (the caller's site, as this site registered it)."""
    site = sites_db.get(ctx, site_name)
    if CONF.site_name and site["name"] == CONF.site_name:
        raise exception.SitePairingInvalid(
            site=site_name, reason="that is this site's own name here; "
            "register the calling site under its own name on both sites")
    return site_keys.set_key(ctx, site["id"], key_id, crypto.encrypt(secret))


def verify(ctx, method, path, body, token, header, now=None):
    """The ``site_id`` of the peer that signed the request with its
    pairing key (``common/peer_auth.py``), or ``PeerAuthFailed``/
    ``PeerRequestReplayed``. Nothing is changed but the nonce record."""
    now = time.time() if now is None else now
    fields = peer_auth.parse(header, now)
    key = site_keys.by_key_id(ctx, fields[0])
    if key is None:
        raise exception.PeerAuthFailed(reason="unknown pairing key")
    peer_auth.check(key, fields, method, path, body, token)
    site_keys.remember_nonce(ctx, fields[2], key["key_id"],
                             peer_auth.nonce_expiry(fields, now))
    return key["site_id"]

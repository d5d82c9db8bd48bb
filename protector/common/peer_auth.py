"""Signed calls between the two sites' Protectors.

The peer-only endpoints (``/v1/{t}/internal/...``: the metadata push, the
source-site sub-operations, the tenant-mapping mirror) must come from the
peer site's Protector, not from any project member who sets a header. The
two sites share a *pairing key* per pair (``openstack dr site pair``; no
site ever holds the other's admin or service password). The caller signs
each request with it: HMAC-SHA256 over the method, the path with its query,
a timestamp, a random nonce, the body's SHA-256 and the SHA-256 of the
caller's token, so a signature is bound to one request of one user and
cannot be moved to another body, path or token. The receiver refuses an
unknown key, a bad signature, a request older (or newer) than ``[api]
peer_signature_max_age`` and a nonce it has seen (a replay). The user's
token still decides whose request it is (keystonemiddleware, policy, the
tenant check run as for any request).

Header: ``X-Protector-Peer-Signature: key_id=<uuid>, ts=<unix seconds>,
nonce=<32 hex>, sig=<64 hex>``.
"""
import datetime
import hashlib
import hmac
import re
import secrets
import time

from oslo_config import cfg

from protector.common import crypto
from protector import exception

CONF = cfg.CONF
HEADER = "X-Protector-Peer-Signature"
VERSION = "protector-peer-v1"
_FIELDS = re.compile(
    r"^key_id=([0-9a-fA-F-]{36}), ts=(\d{1,12}), nonce=([0-9a-f]{32}), "
    r"sig=([0-9a-f]{64})$")


def new_secret():
    """A fresh pairing secret (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def _digest(data):
    return hashlib.sha256(data or b"").hexdigest()


def signature(secret, key_id, ts, nonce, method, path, body, token):
    text = "\n".join((VERSION, key_id, str(ts), nonce, method.upper(), path,
                      _digest(body), _digest((token or "").encode())))
    return hmac.new(secret.encode(), text.encode(),
                    hashlib.sha256).hexdigest()


def sign(secret, key_id, method, path, body, token, now=None, nonce=None):
    """The header value for a request (``path`` with its query string, as
    the receiver's ``PATH_INFO`` + ``QUERY_STRING`` will read it)."""
    ts = int(now if now is not None else time.time())
    nonce = nonce or secrets.token_hex(16)
    sig = signature(secret, key_id, ts, nonce, method, path, body, token)
    return "key_id=%s, ts=%d, nonce=%s, sig=%s" % (key_id, ts, nonce, sig)


def headers(key, method, path, body, token):
    """``{HEADER: value}`` for a site key row (``db.site_keys``)."""
    return {HEADER: sign(crypto.decrypt(key["secret_encrypted"]),
                         key["key_id"], method, path, body, token)}


def _utc(ts):
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).replace(tzinfo=None)


def parse(header, now):
    """``(key_id, ts, nonce, sig)`` of a signature header dated within
    ``[api] peer_signature_max_age`` of ``now``, or ``PeerAuthFailed``.
    The key lookup and the nonce record are the database's
    (``pgroups/pairing.verify``): this module stays below it."""
    if not header:
        raise exception.PeerAuthFailed(reason="no %s header" % HEADER)
    match = _FIELDS.match(header.strip())
    if match is None:
        raise exception.PeerAuthFailed(reason="malformed %s header" % HEADER)
    key_id, ts, nonce, sig = match.groups()
    ts = int(ts)
    window = CONF.api.peer_signature_max_age
    if abs(now - ts) > window:
        raise exception.PeerAuthFailed(
            reason="the signature is dated %d s from this site's clock "
            "(at most %d s allowed; check both sites' NTP)" % (
                int(now - ts), window))
    return key_id.lower(), ts, nonce, sig


def check(key, fields, method, path, body, token):
    """``PeerAuthFailed`` unless ``fields`` (``parse``) sign the request
    with ``key`` (a ``db.site_keys`` row)."""
    _, ts, nonce, sig = fields
    expected = signature(crypto.decrypt(key["secret_encrypted"]),
                         key["key_id"], ts, nonce, method, path, body, token)
    if not hmac.compare_digest(expected, sig):
        raise exception.PeerAuthFailed(reason="bad signature")


def nonce_expiry(fields, now):
    """Until when the nonce is remembered: past both ends of the window
    the timestamp allows."""
    return _utc(max(now, fields[1]) + CONF.api.peer_signature_max_age)

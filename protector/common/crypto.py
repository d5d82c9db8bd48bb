"""Encryption at rest of secrets Protector must keep (FlashArray tokens).

Fernet (AES-128-CBC + HMAC-SHA256) with the key(s) of ``[storage]
token_encryption_key``. Protector never invents a key: without one,
``encrypt`` raises ``EncryptionUnconfigured`` and nothing is stored, so a
token is never written in clear text nor under a key the operator does
not hold (and could not restore after losing the host).
"""
from cryptography import fernet
from oslo_config import cfg

from protector import exception

MASK = "*** (masked)"


def _keys(conf):
    raw = conf.storage.token_encryption_key
    return [k.strip() for k in (raw or "").split(",") if k.strip()]


def _fernet(conf):
    keys = _keys(conf)
    if not keys:
        raise exception.EncryptionUnconfigured()
    try:
        return fernet.MultiFernet([fernet.Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise exception.EncryptionKeyInvalid(reason=str(exc))


def configured(conf=cfg.CONF):
    return bool(_keys(conf))


def encrypt(text, conf=cfg.CONF):
    if text is None:
        return None
    return _fernet(conf).encrypt(text.encode()).decode()


def decrypt(token, conf=cfg.CONF):
    if token is None:
        return None
    try:
        return _fernet(conf).decrypt(token.encode()).decode()
    except fernet.InvalidToken:
        raise exception.EncryptionKeyInvalid(
            reason="the stored token was encrypted with another key")

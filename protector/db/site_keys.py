"""Pairing keys shared with peer sites, and the nonces of signed peer
requests (``common/peer_auth.py``). Secrets stay encrypted here; callers
decrypt them only to sign or verify."""

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from protector.db import api as db_api
from protector.db import models
from protector import exception

SK = models.SiteKey
NONCE = models.PeerNonce


def _to_dict(row):
    return {"site_id": row.site_id, "key_id": row.key_id,
            "secret_encrypted": row.secret_encrypted,
            "created_at": row.created_at,
            "updated_at": row.updated_at}


@db_api.write
def set_key(context, session, site_id, key_id, secret_encrypted):
    """Make (or replace: a rotation) the key shared with ``site_id``."""
    row = session.scalars(sa.select(SK).where(SK.site_id == site_id)
                          .with_for_update()).first()
    if row is None:
        row = SK(site_id=site_id)
        session.add(row)
    else:
        row.updated_at = timeutils.utcnow()
    row.key_id = key_id
    row.secret_encrypted = secret_encrypted
    session.flush()
    return _to_dict(row)


@db_api.read
def for_site(context, session, site_id):
    """The key shared with ``site_id``, or None (not paired)."""
    row = session.scalars(sa.select(SK).where(SK.site_id == site_id)).first()
    return _to_dict(row) if row else None


@db_api.read
def by_key_id(context, session, key_id):
    row = session.scalars(sa.select(SK).where(SK.key_id == key_id)).first()
    return _to_dict(row) if row else None


@db_api.write
def remember_nonce(context, session, nonce, key_id, expires_at):
    """Record a nonce; ``PeerRequestReplayed`` if it was seen already.
    Expired nonces are dropped on the way: a replay of one of those is
    refused for its age instead."""
    session.execute(sa.delete(NONCE).where(
        NONCE.expires_at < timeutils.utcnow()))
    if session.get(NONCE, nonce) is not None:
        raise exception.PeerRequestReplayed()
    session.add(NONCE(nonce=nonce, key_id=key_id, expires_at=expires_at))
    try:
        session.flush()
    except db_exc.DBDuplicateEntry:
        # The same request twice at once: one of them is the replay.
        raise exception.PeerRequestReplayed()

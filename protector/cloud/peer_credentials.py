"""Application credentials that let an operation reach the peer site later.

A planned failover/failback needs the source site's protector-api during
the operation (its graceful shutdown sub-operation, the vacate step of a
failback, the metadata push at the end), long after the request that
queued it: its engine may resume it after a restart, or a large group may
simply take a while. The caller's token for that site
(``X-Protector-Peer-Token``) expires with Keystone's token lifetime (an
hour by default), so keeping it would make such an operation fail half
way. Instead, while the token is still fresh, the API uses it to create a
Keystone *application credential* for the caller in the source site's
Keystone (the only credential a user can delegate without an admin or a
cross-site trust relationship, doc/architecture.md):

* named ``protector-<operation kind>-<short id>``, described as made by
  Protector, scoped to the token's project with the token's roles;
* expiring after ``[engine] peer_credential_lifetime`` seconds, so one that
  is never deleted (an engine that never came back) stops working by
  itself;
* *unrestricted*, because the source site's protector-api may have to
  create the project's Keystone trust there with it (Keystone refuses
  trust and application-credential management to restricted ones), and so
  that the engine can delete it with itself when the operation ends;
* its secret kept only encrypted (``[storage] token_encryption_key``), and
  never shown by the API.

Keystone may refuse to create one (a token that is itself an application
credential's or a trust's, a policy that forbids it); the caller then
gets the old behaviour (the token is kept, encrypted) and a warning in the
log: the operation must then finish within the token's lifetime.
"""
import datetime
import uuid

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from openstack import exceptions as sdk_exc
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from protector.cloud import auth
from protector.cloud import identity
from protector.common import crypto
from protector import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_CONNECT_ERRORS = auth.CONNECT_ERRORS


class CredentialRefused(exception.ProtectorException):
    code = "protector.peer.credential_refused"
    msg_fmt = ("Keystone of site %(site)s did not create an application "
               "credential for the operation: %(reason)s")


def create(site, token, purpose):
    """Create the credential with ``token``; return what to keep (the
    secret encrypted). Raises ``CredentialRefused`` when Keystone says no.
    """
    caller = auth.token_plugin(site, token)
    auth_ref = caller.auth_ref
    expires = timeutils.utcnow() + datetime.timedelta(
        seconds=CONF.engine.peer_credential_lifetime)
    name = "protector-%s-%s" % (purpose, uuid.uuid4().hex[:12])
    try:
        with identity.keystone(site, caller) as ks:
            cred = ks.create_application_credential(
                auth_ref.user_id, name,
                description="Made by Protector for a %s of project %s; "
                "deleted when the operation ends, expires by itself "
                "otherwise" % (purpose, auth_ref.project_id),
                expires_at=expires.strftime("%Y-%m-%dT%H:%M:%S"),
                unrestricted=True)
    except sdk_exc.HttpException as exc:
        # Any refusal (403 for a trust's or an application credential's
        # token, a policy, a 5xx): the caller falls back to the token.
        raise CredentialRefused(site=site["name"],
                                reason=exc.details or exc.message)
    LOG.info("Application credential %s (%s) made in site %s for user %s, "
             "expires %s", cred.id, name, site["name"], auth_ref.user_id,
             cred.expires_at)
    return {"id": cred.id, "name": name, "user_id": auth_ref.user_id,
            "project_id": auth_ref.project_id,
            "expires_at": cred.expires_at,
            "secret_encrypted": crypto.encrypt(cred.secret)}


def plugin(site, kept):
    """A keystoneauth plugin for a kept credential (renews its token)."""
    return v3.ApplicationCredential(
        auth_url=auth.keystone_base(site) + "/v3",
        application_credential_id=kept["id"],
        application_credential_secret=crypto.decrypt(
            kept["secret_encrypted"]))


def session(site, kept):
    """A session authenticated by the kept credential. Its token is
    reused, and renewed only when it nears expiry: keep the session for
    repeated calls (polling) instead of logging in each time."""
    return auth.base_session(plugin(site, kept))


def token(site, kept, sess=None):
    """A current token from the kept credential (through ``sess``, a
    ``session(site, kept)``, when given)."""
    sess = sess or session(site, kept)
    try:
        return sess.get_token()
    except _CONNECT_ERRORS as exc:
        raise exception.SiteUnreachable(site=site["name"],
                                        reason="Keystone: %s" % exc)
    except (ks_exc.Unauthorized, ks_exc.NotFound) as exc:
        # Keystone answers 404 for a deleted credential, 401 for an
        # expired one or a wrong secret.
        raise exception.PeerTokenInvalid(
            site=site["name"], reason="the operation's application "
            "credential %s was refused (expired after [engine] "
            "peer_credential_lifetime, or deleted): %s" % (kept["id"], exc))


def delete(site, kept):
    """Delete the credential with a token of its own. Best effort: one
    that cannot be deleted now expires by itself; never raises."""
    try:
        sess = session(site, kept)
        token(site, kept, sess)  # its own errors say why it was refused
        with identity.keystone(site, sess.auth) as ks:
            # Already gone (404) is deleted.
            ks.delete_application_credential(kept["user_id"], kept["id"])
    except exception.ProtectorException as exc:
        reason = exc.message
    except sdk_exc.HttpException as exc:
        reason = exc.details or exc.message
    except ks_exc.ClientException as exc:
        reason = str(exc)
    else:
        reason = None
    if reason is not None:
        LOG.warning("Application credential %s in site %s not deleted "
                    "(%s); it expires at %s", kept["id"], site["name"],
                    reason, kept.get("expires_at"))
        return False
    LOG.info("Application credential %s in site %s deleted", kept["id"],
             site["name"])
    return True

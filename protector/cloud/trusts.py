"""Keystone trusts that let this site's engine act for a tenant user.

The first time a user asks this site's protector-api for something that
needs background work (a protection group, a member, a DR operation), the
API creates a trust in this site's own Keystone (architecture 1): trustor =
the caller (with the caller's token), trustee = this site's protector
service user (``[keystone_authtoken]``), project = the caller's project,
roles = those of ``[service_credentials] default_trust_roles`` the caller
holds there, impersonation on. The trust is stored in the ``trusts`` table
and reused; the engine gets a trust-scoped token for it with
``auth.trust_plugin`` (``db.trusts.find``). Each synchronous use checks
that Keystone still has the trust and replaces one that was deleted.
Keystone is called through openstacksdk's identity proxy
(``cloud/identity.py``).
"""
import threading

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging

from protector.cloud import auth
from protector.cloud import identity
from protector.cloud import sites
from protector.db import trusts as db
from protector import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_TRUSTEES = {}  # Keystone URL -> the protector service user's ID there
_LOCK = threading.Lock()
_CONNECT_ERRORS = auth.CONNECT_ERRORS


def is_this_site(site):
    """Whether ``site`` is the site this service runs on (its Keystone is
    the one trusts can be made in)."""
    try:
        return sites.local_site([site])["id"] == site["id"]
    except exception.LocalSiteUnknown:
        return False


def trustee_id(site):
    """The protector service user's ID in ``site``'s Keystone (logs in as
    it once per process)."""
    base = auth.keystone_base(site)
    with _LOCK:
        if base in _TRUSTEES:
            return _TRUSTEES[base]
    plugin = auth.service_plugin(site)
    try:
        user_id = auth.base_session(plugin).get_user_id()
    except _CONNECT_ERRORS as exc:
        raise exception.SiteUnreachable(site=site["name"],
                                        reason="Keystone: %s" % exc)
    except ks_exc.ClientException as exc:
        raise exception.TrustCreateFailed(
            site=site["name"], reason="the protector service user "
            "([keystone_authtoken]) could not log in (%s)" % exc)
    with _LOCK:
        _TRUSTEES[base] = user_id
    return user_id


def _still_valid(site, token, trust_id):
    """False only when Keystone says the trust is gone (a deleted or
    expired trust is a 404)."""
    try:
        # One Keystone call per check, as it is made on every action.
        with identity.keystone(site,
                               auth.bare_token_plugin(site, token)) as ks:
            ks.get_trust(trust_id)
    except sdk_exc.NotFoundException:
        return False
    except sdk_exc.HttpException as exc:
        LOG.warning("Could not check trust %s on site %s (HTTP %s: %s); "
                    "keeping it", trust_id, site["name"], exc.status_code,
                    exc.details or exc.message)
    return True


def _create(site, token, project_id, user_id):
    """Create the trust in Keystone; (trust ID, role names)."""
    wanted = list(CONF.service_credentials.default_trust_roles)
    listed = ", ".join(wanted) or "(none)"
    plugin = auth.token_plugin(site, token)
    auth_ref = plugin.auth_ref
    held = dict(zip(auth_ref.role_names or [], auth_ref.role_ids or []))
    roles = [name for name in wanted if name in held]
    if not roles:
        raise exception.TrustRoleMissing(
            site=site["name"], roles=listed, project=project_id,
            reason="the user holds none of the roles %s on project %s "
            "(it holds: %s)" % (listed, project_id,
                                ", ".join(sorted(held)) or "none"))
    trustee = trustee_id(site)
    try:
        with identity.keystone(site, plugin) as ks:
            trust = ks.create_trust(
                trustor_user_id=user_id, trustee_user_id=trustee,
                project_id=project_id, is_impersonation=True,
                roles=[{"id": held[name]} for name in roles])
    except sdk_exc.HttpException as exc:
        status = exc.status_code or 0
        detail = "HTTP %s: %s" % (status, exc.details or exc.message)
        if status in (403, 404) and "role" in detail.lower():
            raise exception.TrustRoleMissing(
                site=site["name"], roles=listed, project=project_id,
                reason=detail)
        if status >= 500:
            raise exception.SiteUnreachable(site=site["name"],
                                            reason="Keystone: %s" % detail)
        raise exception.TrustCreateFailed(site=site["name"], reason=detail)
    return trust.id, roles


def _delete_in_keystone(site, token, trust_id):
    try:
        with identity.keystone(site, auth.token_plugin(site, token)) as ks:
            ks.delete_trust(trust_id)
    except (exception.ProtectorException, sdk_exc.HttpException):
        LOG.warning("Could not delete surplus trust %s on site %s",
                    trust_id, site["name"])


def ensure(caller, site):
    """The trust ID of the caller (a ``caller.Caller``) on ``site`` (this
    site), created the first time; ``None`` when no trust can be made for
    this request."""
    ctx = caller.context
    if CONF.api.auth_strategy != "keystone" or not ctx.auth_token \
            or not ctx.user_id or not ctx.project_id:
        return None
    if ctx.project_id != caller.tenant_id:
        # An admin acting on another project: the engine uses a trust of
        # that project's own users.
        return None
    if not is_this_site(site):
        return None
    token, project, user = ctx.auth_token, ctx.project_id, ctx.user_id
    row = db.get(ctx, site["id"], project, user)
    if row is not None:
        if _still_valid(site, token, row["trust_id"]):
            return row["trust_id"]
        LOG.info("Trust %s of user %s on project %s is gone from the "
                 "Keystone of site %s; creating a new one", row["trust_id"],
                 user, project, site["name"])
        db.delete(ctx, row["id"], row["trust_id"])
    trust_id, roles = _create(site, token, project, user)
    try:
        db.create(ctx, {"site_id": site["id"], "project_id": project,
                        "user_id": user, "trust_id": trust_id,
                        "roles": ",".join(roles)})
    except db_exc.DBDuplicateEntry:
        # A concurrent request of the same user stored one first.
        _delete_in_keystone(site, token, trust_id)
        return db.get(ctx, site["id"], project, user)["trust_id"]
    LOG.info("Created trust %s (roles %s) of user %s on project %s in the "
             "Keystone of site %s", trust_id, ",".join(roles), user,
             project, site["name"])
    return trust_id

"""Preflight checks of what else an operation relies on
(``preflight/__init__.py``): the arrays (and the RPO, a warning), the
source site's protector-api for a planned failover/failback, and the
Keystone trust the engine acts with.

API side these run with the caller's tokens and create nothing (no trust,
no credential); engine side with the project's trust and the credential
the request kept (engine/subops.py).
"""
from oslo_config import cfg

from protector.cloud import auth
from protector.cloud import trusts
from protector.db import replication_policies as policy_db
from protector.db import trusts as trusts_db
from protector import exception
from protector.preflight import check_rows as rows
from protector import storage
from protector.storage import rpo

# Short names for the row vocabulary every check uses.
row, _message = rows.row, rows.message
OK, WARN, FAIL = rows.OK, rows.WARN, rows.FAIL


def check_storage(pc):
    """The arrays answer (one cheap login each); the recovery point's age
    against the RPO is a warning (an old point is still a point to
    recover from)."""
    if not pc.pg["has_policy"]:
        return []
    policy_row = policy_db.get(pc.ctx, pc.pg["id"])
    out = [_arrays(pc, policy_row)]
    state = rpo.status(pc.pg, policy_row)
    out.append(row("rpo", OK if state["rpo_status"] == "ok" else WARN,
                   state["rpo_detail"]))
    return out


def _arrays(pc, policy_row):
    try:
        driver = storage.get_driver(rpo._decrypted(policy_row), pc.pg,
                                    pc.target)
        state = driver.probe_arrays()
    except Exception as exc:
        # No driver for this policy: the operation's first storage step
        # would fail the same way.
        return row("storage", FAIL, "the storage driver cannot be used: "
                   "%s" % _message(exc))
    if state.get("target"):
        err = rows.ArraysUnreachable(
            which="target", reason=state["target"], fix="The copies are "
            "made on it: check that it is up and reachable from this host "
            "and that the replication policy's token works, then retry.")
        return row("storage", FAIL, err.message, err)
    if state.get("source"):
        if pc.planned:
            err = rows.ArraysUnreachable(
                which="source", reason=state["source"], fix="A planned %s "
                "replicates a final snapshot from it%s." % (
                    pc.kind, "; fix it, or use --type unplanned if that "
                    "site is lost" if pc.kind == "failover" else ""))
            return row("storage", FAIL, err.message, err)
        return row("storage", WARN, "the target array answers, the source "
                   "array does not (%s): the newest snapshot already "
                   "replicated is used" % state["source"])
    return row("storage", OK, "the target and source arrays answer (%s "
               "driver)" % driver.name)


def check_peer(pc):
    if not pc.planned:
        return []
    site = pc.source["name"]
    fix = "Fix it, or use --type unplanned if that site is lost" if \
        pc.kind == "failover" else "Fix it, then retry"
    if pc.peer is None:
        if not pc.engine:
            return [row("peer_site", WARN, "not checked: no token for site "
                        "%s (pass --secondary-cloud); a planned %s needs "
                        "it" % (site, pc.kind))]
        # The engine reaches the source only with what the request kept.
        err = rows.PeerUnreachable(
            reason="The operation kept no credential for site %s (its "
            "request carried no token for that site; the CLI sends one "
            "with --secondary-cloud), so the engine cannot reach its "
            "protector-api" % site, action=pc.kind, site=site,
            fix="Start the %s again with --secondary-cloud" % pc.kind +
            (", or with --type unplanned if that site is lost"
             if pc.kind == "failover" else ""))
        return [row("peer_site", FAIL, err.message, err)]
    try:
        pc.peer()._request("GET", "/protection-groups/%s" % pc.pg["id"])
    except exception.ProtectorException as exc:
        err = rows.PeerUnreachable(
            reason="The protector-api of source site %s does not answer "
            "for this group (%s)" % (site, exc.message), action=pc.kind,
            site=site, fix=fix)
        return [row("peer_site", FAIL, err.message, err)]
    if pc.peer_kept is False:
        return [row("peer_site", WARN, "the protector-api of %s answers for "
                    "the group, but this site keeps no credential for it "
                    "(it shares this site's Keystone, or [storage] "
                    "token_encryption_key is unset), so the engine cannot "
                    "reach it: the operation would fail in validate_sites"
                    % site)]
    return [row("peer_site", OK, "the protector-api of %s answers for the "
                "group" % site)]


def check_trust(pc):
    """Engine: the project's trust opens the target (what every later
    step uses). API: the caller's stored trust still works, or the
    caller's token can make one when the operation is queued
    (``trusts.ensure``); nothing is created here."""
    if not pc.engine:
        return [_api_trust(pc)]
    try:
        project = pc.cloud().project_id
    except Exception as exc:
        err = rows.TrustUnusable(reason=(
            "Site %s cannot be used with the project's trust: %s" % (
                pc.target["name"], _message(exc))))
        return [row("trust", FAIL, err.message, err)]
    return [row("trust", OK, "the project's trust works on site %s "
                "(project %s)" % (pc.target["name"], project))]


def _app_credential(auth_ref):
    try:
        return auth_ref.application_credential or {}
    except (KeyError, AttributeError):
        return {}


def _api_trust(pc):
    ctx, site, project = pc.ctx, pc.target, pc.pg["project_id"]
    name = site["name"]
    if cfg.CONF.api.auth_strategy != "keystone" or not ctx.auth_token:
        return row("trust", WARN, "not checked: this request has no "
                   "Keystone token (auth_strategy %s)" %
                   cfg.CONF.api.auth_strategy)
    if ctx.project_id != project:
        # An admin acting on another project: the engine uses a trust of
        # that project's own users (trusts.ensure makes none).
        stored = trusts_db.find(ctx, site["id"], project)
        if stored:
            return row("trust", OK, "the engine uses trust %s of a user of "
                       "project %s on site %s" % (stored, project, name))
        err = rows.TrustUnusable(reason=(
            "No user of project %s has a trust on site %s for the engine "
            "to act with, and your token (project %s) cannot make one for "
            "it; any request of a project user to this site's "
            "protector-api makes one" % (project, name, ctx.project_id)))
        return row("trust", FAIL, err.message, err)
    if not trusts.is_this_site(site):
        return row("trust", WARN, "not checked: site %s is not this site; "
                   "send the action to its protector-api, where the trust "
                   "is made" % name)
    stored = trusts_db.get(ctx, site["id"], project, ctx.user_id)
    if stored and trusts._still_valid(site, ctx.auth_token,
                                      stored["trust_id"]):
        return row("trust", OK, "trust %s works on site %s" % (
            stored["trust_id"], name))
    # None stored (or it is gone): can this token delegate one?
    auth_ref = auth.token_plugin(site, ctx.auth_token).auth_ref
    if _app_credential(auth_ref).get("restricted"):
        err = rows.TrustUnusable(reason=(
            "Your token comes from a restricted application credential, "
            "which Keystone does not let create the trust the engine acts "
            "with on site %s; run the action once with a password (or an "
            "unrestricted application credential)" % name))
        return row("trust", FAIL, err.message, err)
    wanted = list(cfg.CONF.service_credentials.default_trust_roles)
    held = set(auth_ref.role_names or [])
    roles = [r for r in wanted if r in held]
    if not roles:
        err = rows.TrustUnusable(reason=(
            "The engine's trust cannot be made on site %s: you hold none "
            "of the roles it delegates ([service_credentials] "
            "default_trust_roles = %s) on project %s (you hold: %s); get "
            "one of them ('openstack role assignment list --user <you> "
            "--project %s --names')" % (
                name, ", ".join(wanted) or "(none)", project,
                ", ".join(sorted(held)) or "none", project)))
        return row("trust", FAIL, err.message, err)
    return row("trust", OK, "%screated from your token on site %s when the "
               "operation is queued (delegating %s)" % (
                   "the stored trust is gone from Keystone; a new one is "
                   if stored else "", name, ", ".join(roles)))

"""Domain exceptions with stable error codes.

Each exception carries ``code`` (``protector.<resource>.<problem>``), a
message saying what was wrong and what to do, and a kind. The API layer maps
kinds to HTTP status codes; nothing below the API knows about HTTP. Codes are
part of the public API: never rename one once released.
"""


class ProtectorException(Exception):
    """Base class. ``msg_fmt`` is filled from the keyword arguments."""

    msg_fmt = "An unknown error occurred."
    code = "protector.internal_error"
    kind = "internal"

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            message = self.msg_fmt % kwargs
        self.message = message
        super().__init__(message)


# -- kinds -----------------------------------------------------------------

class Invalid(ProtectorException):
    kind = "invalid"  # 400
    code = "protector.request.invalid"
    msg_fmt = "The request is invalid: %(reason)s"


class NotAuthorized(ProtectorException):
    kind = "forbidden"  # 403
    code = "protector.policy.forbidden"
    msg_fmt = "Policy does not allow %(action)s to be performed."


class NotFound(ProtectorException):
    kind = "not_found"  # 404
    code = "protector.resource.not_found"
    msg_fmt = "Resource could not be found."


class Conflict(ProtectorException):
    kind = "conflict"  # 409
    code = "protector.resource.conflict"
    msg_fmt = "The request conflicts with the current state."


class PreconditionFailed(ProtectorException):
    kind = "precondition"  # 412
    code = "protector.precondition.failed"
    msg_fmt = "A precondition failed: %(reason)s"


class ServiceUnavailable(ProtectorException):
    kind = "unavailable"  # 503
    code = "protector.service.unavailable"
    msg_fmt = "The service is unavailable: %(reason)s"


# -- concrete errors ---------------------------------------------------------

class ProjectMismatch(NotAuthorized):
    code = "protector.auth.project_mismatch"
    msg_fmt = ("The token is scoped to project %(token_project)s but the URL "
               "names project %(url_project)s. Use a token for project "
               "%(url_project)s or the matching URL.")


class DatabaseBusy(Conflict):
    code = "protector.database.busy"
    msg_fmt = ("Another change is being written to this site's database "
               "and this one could not wait longer; it was not applied. "
               "Retry it.")


class SiteNotFound(NotFound):
    code = "protector.site.not_found"
    msg_fmt = ("Site %(site)s could not be found. List the registered sites "
               "with 'openstack dr site list'.")


class SiteNameExists(Conflict):
    code = "protector.site.duplicate_name"
    msg_fmt = ("A site named '%(name)s' already exists. Choose another name "
               "or delete the existing site first.")


class SiteIdMismatch(Conflict):
    code = "protector.site.id_mismatch"
    msg_fmt = ("Site '%(name)s' is already registered on this site under "
               "another ID (%(existing)s, not %(id)s), so the two sites "
               "cannot hold it under one ID. Either keep the separate "
               "registrations (register it on each site on its own, "
               "without --secondary-cloud), or delete it here ('openstack "
               "dr site delete %(name)s' against this site) and try "
               "again.")


class SiteIdExists(Conflict):
    code = "protector.site.duplicate_id"
    msg_fmt = ("A site with ID %(id)s is already registered on this site "
               "under another name. Register the new site under its own "
               "ID, or delete that site here first.")


class SiteInUse(Conflict):
    code = "protector.site.in_use"
    msg_fmt = ("Site %(site)s cannot be deleted: it is referenced by "
               "%(what)s. Delete those first.")


class SiteUnreachable(ServiceUnavailable):
    code = "protector.site.unreachable"
    msg_fmt = "Site %(site)s is unreachable: %(reason)s"


class PeerUnreachable(ServiceUnavailable):
    code = "protector.peer.unreachable"
    msg_fmt = ("The peer site %(site)s is unreachable (%(reason)s); nothing "
               "was changed on either site. Restore connectivity, check "
               "'sync-status', then retry.")


class InvalidLimit(Invalid):
    code = "protector.request.invalid_limit"
    msg_fmt = ("limit must be a whole number from 1 to %(max)d (this "
               "site's [api] max_limit); got '%(value)s'.")


class MarkerNotFound(Invalid):
    code = "protector.request.marker_not_found"
    msg_fmt = ("The marker %(marker)s is not a %(what)s of this project (it "
               "may have been deleted since the page that gave it): list "
               "again from the start, without a marker.")


class PeerTokenRequired(Invalid):
    code = "protector.peer.token_required"
    msg_fmt = ("This request needs a token for site %(site)s: send it in "
               "the X-Protector-Peer-Token header (the CLI does this with "
               "--secondary-cloud or OS_SECONDARY_CLOUD).")


class PeerTokenInvalid(Invalid):
    code = "protector.peer.token_invalid"
    msg_fmt = ("The token given for site %(site)s was refused by its "
               "Keystone (%(reason)s). Get a fresh token for that site.")


class PeerAuthFailed(NotAuthorized):
    code = "protector.peer.auth_failed"
    msg_fmt = ("This endpoint serves the peer site's Protector only, and "
               "the request is not signed by it: %(reason)s. Users call "
               "the public API; if the peer site made this call, pair the "
               "sites again ('openstack dr site pair <site>').")


class PeerRequestReplayed(NotAuthorized):
    code = "protector.peer.replayed"
    msg_fmt = ("This signed peer request was received before (same nonce); "
               "a replayed request is refused.")


class SiteNotPaired(PreconditionFailed):
    code = "protector.site.not_paired"
    msg_fmt = ("Site %(site)s is not paired with this site, so its "
               "Protector cannot be called: an admin pairs the two sites "
               "once with 'openstack dr site pair %(site)s' (with "
               "--secondary-cloud for that site), then retry.")


class SitePairingInvalid(Invalid):
    code = "protector.site.pairing_invalid"
    msg_fmt = "Site %(site)s cannot be paired: %(reason)s"


class CloudServiceError(ServiceUnavailable):
    code = "protector.site.service_error"
    msg_fmt = ("%(service)s of site %(site)s failed: %(reason)s")


class SiteServiceMissing(PreconditionFailed):
    """A service the request needs is not in the site's catalog: the
    site's registration (region, interface) or the catalog is wrong, not
    the service down, so retrying will not help (412, not 503)."""
    code = "protector.site.service_missing"
    msg_fmt = ("Site %(site)s has no %(service)s endpoint in its Keystone "
               "catalog (%(reason)s). Check the site's region "
               "('openstack dr site show %(site)s') and [cloud] interface "
               "against 'openstack endpoint list --service "
               "%(service_type)s' on that site.")


# -- protection groups, members, sync, tenant mappings (issue 4) -------------

class LocalSiteUnknown(Invalid):
    code = "protector.site.local_unknown"
    msg_fmt = ("Cannot tell which of the sites %(sites)s is this site: "
               "register this site with this service's Keystone auth_url, "
               "or set [DEFAULT] site_name in protector.conf.")


class SitesNotDistinct(Invalid):
    code = "protector.protection_group.same_site"
    msg_fmt = ("The primary and the secondary site are both %(site)s: a "
               "protection group needs two different sites.")


class ProtectionGroupNotFound(NotFound):
    code = "protector.protection_group.not_found"
    msg_fmt = ("Protection group %(pg)s could not be found in this project. "
               "List the groups with 'openstack protector protection-group "
               "list'.")


class ProtectionGroupNameExists(Conflict):
    code = "protector.protection_group.duplicate_name"
    msg_fmt = ("A protection group named '%(name)s' already exists in this "
               "project. Choose another name.")


class ProtectionGroupImmutable(Invalid):
    code = "protector.protection_group.immutable_field"
    msg_fmt = ("Field '%(field)s' cannot be changed after creation; only "
               "'name' and 'description' can be updated.")


class ProtectionGroupInUse(Conflict):
    code = "protector.protection_group.has_members"
    msg_fmt = ("Protection group %(pg)s still has %(count)d member(s): "
               "remove them with 'openstack protector protection-group "
               "member-remove' before deleting the group.")


class ProtectionGroupBusy(Conflict):
    code = "protector.protection_group.invalid_status"
    msg_fmt = ("Protection group %(pg)s is in status '%(status)s'; this "
               "needs status %(needed)s. Complete or fix the running "
               "operation first.")


class VolumeTypeNotFound(Invalid):
    code = "protector.volume_type.not_found"
    msg_fmt = ("Volume type %(volume_type)s does not exist on site "
               "%(site)s. Create a type there with the properties "
               "replication_enabled='<is> True' and "
               "replication_type='<in> %(replication_type)s', then run "
               "'openstack protector site validate %(site)s'.%(hint)s")


class VolumeTypeAmbiguous(Invalid):
    code = "protector.volume_type.ambiguous"
    msg_fmt = ("Site %(site)s has no volume type named %(volume_type)s, "
               "and several of its replicated types match it "
               "(replication_type '%(replication_type)s', a comparable "
               "backend): %(candidates)s. Name the one to use with "
               "--secondary-volume-type (REST: secondary_volume_type).")


class VolumeTypeNotReplicated(Invalid):
    code = "protector.volume_type.not_replicated"
    msg_fmt = ("Volume type %(volume_type)s on site %(site)s does not "
               "support replication: %(reason)s. Fix it with 'openstack "
               "volume type set %(volume_type)s --property "
               "replication_enabled='<is> True' --property "
               "replication_type='<in> %(replication_type)s'' on both "
               "sites.")


class ConsistencyGroupError(ServiceUnavailable):
    code = "protector.consistency_group.error"
    msg_fmt = ("The consistency group could not be %(action)s on site "
               "%(site)s: %(reason)s")


class MemberNotFound(NotFound):
    code = "protector.member.not_found"
    msg_fmt = ("Member %(member)s is not in protection group %(pg)s. List "
               "the members with 'openstack protector protection-group "
               "member-list %(pg)s'.")


class InstanceNotFound(NotFound):
    code = "protector.member.instance_not_found"
    msg_fmt = ("Instance %(instance)s was not found on site %(site)s "
               "(in this project). Check the ID with 'openstack server "
               "show %(instance)s'.")


class MemberExists(Conflict):
    code = "protector.member.duplicate"
    msg_fmt = ("Instance %(instance)s is already a member of protection "
               "group %(pg)s.")


class VolumeNotAttached(Invalid):
    code = "protector.member.volume_not_attached"
    msg_fmt = ("Volume %(volume)s is not attached to instance "
               "%(instance)s; volume_ids may only name volumes attached to "
               "the instance (see 'openstack server volume list "
               "%(instance)s').")


class NoVolumes(Invalid):
    code = "protector.member.no_volumes"
    msg_fmt = ("Instance %(instance)s has no attached volumes to protect; "
               "a member needs at least one Cinder volume of type "
               "%(volume_type)s.")


class VolumeTypeMismatch(ProtectorException):
    # doc/api-ref.md, "Members": a 400 whose code says a precondition
    # failed (CLI exit 5, doc/cli.md).
    kind = "invalid"
    code = "protector.precondition.volume_type_mismatch"
    msg_fmt = ("Volume %(volume)s of instance %(instance)s has volume type "
               "'%(actual)s' but protection group %(pg)s requires "
               "'%(expected)s'. All volumes of a member must use the "
               "group's volume type: retype it with 'openstack volume set "
               "--type %(expected)s --retype-policy on-demand %(volume)s' "
               "(or migrate it), then add the instance again.")


class VolumeInOtherGroup(Conflict):
    code = "protector.member.volume_in_use"
    msg_fmt = ("Volume %(volume)s already belongs to protection group "
               "%(pg)s; a volume can be protected by one group only.")


class SyncVersionConflict(Conflict):
    code = "protector.sync.version_conflict"
    msg_fmt = ("Metadata version %(version)s of protection group %(pg)s is "
               "older than (or differs at the same version from) this "
               "site's version %(local_version)s; refusing to roll back. "
               "Run 'sync-force' from the site holding the newest version.")


class SyncChecksumMismatch(Invalid):
    code = "protector.sync.checksum_mismatch"
    msg_fmt = ("The checksum %(checksum)s does not match the pushed "
               "metadata document of protection group %(pg)s (computed "
               "%(computed)s); the push was rejected.")


class SyncDeltaBaseMismatch(Conflict):
    code = "protector.sync.delta_base_mismatch"
    msg_fmt = ("The metadata delta of protection group %(pg)s applies to "
               "version %(base_version)s, but this site holds version "
               "%(local_version)s; the delta was refused and nothing "
               "changed. The sender pushes the whole document instead.")


class SyncForeignReference(Conflict):
    code = "protector.sync.foreign_reference"
    msg_fmt = ("The pushed metadata of protection group %(pg)s names "
               "%(kind)s %(ref)s, which belongs to another protection group "
               "on this site; the push was rejected and nothing changed. "
               "Each site keeps a group's members and consistency group "
               "under that group only.")


class SyncUnknownSite(Invalid):
    code = "protector.sync.unknown_site"
    msg_fmt = ("Site %(site)s named in the pushed metadata is not "
               "registered on this site. Register both sites, with the "
               "same names, on both sites.")


class PeerRejected(Conflict):
    code = "protector.peer.rejected"
    msg_fmt = ("The peer site %(site)s refused the change (HTTP %(status)s "
               "%(peer_code)s: %(detail)s); nothing was changed on either "
               "site.")


class TenantMappingNotFound(NotFound):
    code = "protector.tenant_mapping.not_found"
    msg_fmt = ("Tenant mapping %(mapping)s could not be found. List them "
               "with 'openstack dr tenant mapping list'.")


class TenantMappingExists(Conflict):
    code = "protector.tenant_mapping.duplicate"
    msg_fmt = ("Project %(local_tenant)s is already mapped for site "
               "%(site)s. Delete that mapping first.")


class TenantMappingSiteIsLocal(Invalid):
    code = "protector.tenant_mapping.local_site"
    msg_fmt = ("Site %(site)s is this site; a tenant mapping names the "
               "remote site.")


class TrustRoleMissing(Invalid):
    code = "protector.trust.role_missing"
    msg_fmt = ("Could not create trust on site %(site)s: %(reason)s. The "
               "roles delegated to the protector service are "
               "default_trust_roles = %(roles)s. Verify the roles exist "
               "with 'openstack role list' and that you hold one of them on "
               "project %(project)s ('openstack role assignment list --user "
               "<you> --project %(project)s --names'). If your Keystone "
               "names the member role differently, set default_trust_roles "
               "in the [service_credentials] section of protector.conf to "
               "the actual role names, then restart both protector "
               "services.")


class TrustCreateFailed(ServiceUnavailable):
    code = "protector.trust.create_failed"
    msg_fmt = ("Could not create trust in the Keystone of site %(site)s: "
               "%(reason)s. Check that the protector service user "
               "([keystone_authtoken] username) can log in, and its role "
               "assignment: 'openstack role assignment list --user protector "
               "--project service --names' (it needs admin in project "
               "service).")


# -- DR operations, replication policies, storage, engine (issue 5) ----------

class OperationNotFound(NotFound):
    code = "protector.operation.not_found"
    msg_fmt = ("Operation %(operation)s could not be found in this project. "
               "List operations with 'openstack dr operation list'.")


class OperationConflict(Conflict):
    code = "protector.operation.conflict"
    msg_fmt = ("Protection group %(pg)s already has operation %(operation)s "
               "(%(operation_type)s, %(status)s) in progress; wait for it "
               "to finish ('openstack dr operation show %(operation)s').")


class TestFailoverActive(Conflict):
    code = "protector.operation.test_active"
    msg_fmt = ("Protection group %(pg)s already has an active test failover "
               "(operation %(operation)s); run 'openstack dr test-cleanup "
               "%(pg)s' before starting another test.")


class GroupOperationRunning(OperationConflict):
    # Same stable code (CLI exit 4); the message is about changing the
    # group (delete, member add/remove), not about starting an action.
    msg_fmt = ("Protection group %(pg)s has operation %(operation)s "
               "(%(operation_type)s, %(status)s) in progress; wait for it "
               "to finish ('openstack dr operation show %(operation)s "
               "--wait') before you %(action)s. Nothing was changed.")


class GroupTestActive(TestFailoverActive):
    msg_fmt = ("Protection group %(pg)s has an active test failover "
               "(operation %(operation)s); run 'openstack dr test-cleanup "
               "%(pg)s' before you %(action)s. Nothing was changed.")


class WrongSite(Conflict):
    """A DR action (or its preflight) sent to the protector-api of the
    group's other site: it runs on its target site's engine (doc/
    architecture.md 6), with the caller's trust in that site's Keystone,
    so this site would queue an operation bound to fail.

    409, not 400: the body is valid and the same request is right at the
    other site; which site that is follows the group's state (its current
    primary, the site of its active test), as with the source site's
    refusal of a sub-operation while it is not the current primary (409
    ``protector.protection_group.invalid_status``). Not 412: nothing on
    the clouds needs fixing, only the request's address (CLI exit 1)."""
    code = "protector.operation.wrong_site"
    msg_fmt = ("%(request)s of protection group %(pg)s must be sent to the "
               "protector-api of site %(site)s%(url)s: a %(action)s runs on "
               "the engine of its target site, %(site)s, and this is site "
               "%(here)s. Nothing was changed or queued.")


class OperationWrongSite(WrongSite):
    # Same code: an operation queued on a site that is not its target
    # (accepted before WrongSite refused such actions) cannot run there.
    msg_fmt = ("Operation %(operation)s (%(action)s of protection group "
               "%(pg)s) runs on the engine of its target site %(site)s, but "
               "it was queued on this site (%(here)s), where it cannot run, "
               "so it is not %(verb)s here. Start the %(action)s again "
               "through the protector-api of site %(site)s%(url)s. Nothing "
               "was changed or queued.")


class ActionInvalid(Invalid):
    code = "protector.operation.invalid_action"
    msg_fmt = ("The action body must name exactly one of %(actions)s; got "
               "%(got)s.")


class PreconditionNoPolicy(PreconditionFailed):
    code = "protector.precondition.no_policy"
    msg_fmt = ("Protection group %(pg)s has no replication policy. Create "
               "one with 'openstack dr policy create %(pg)s ...' first.")


class PreconditionNoMembers(PreconditionFailed):
    code = "protector.precondition.no_members"
    msg_fmt = ("Protection group %(pg)s has no members, so there is nothing "
               "to %(action)s. Add instances with 'openstack dr member add "
               "%(pg)s --instance-id <uuid>'.")


class PreconditionTestActive(PreconditionFailed):
    code = "protector.precondition.test_active"
    msg_fmt = ("Protection group %(pg)s has an active test failover "
               "(operation %(operation)s). Run 'openstack dr test-cleanup "
               "%(pg)s' before a real %(action)s.")


class PreconditionNoTest(PreconditionFailed):
    code = "protector.precondition.no_active_test"
    msg_fmt = ("Protection group %(pg)s has no active test failover to "
               "clean up.")


class PreconditionStatus(PreconditionFailed):
    code = "protector.precondition.invalid_status"
    msg_fmt = ("Protection group %(pg)s is '%(status)s'; %(action)s needs "
               "status %(needed)s.")


class PreconditionUnmapped(PreconditionFailed):
    code = "protector.precondition.unmapped_%(what)s"
    msg_fmt = ("The %(what)s(s) %(names)s used by members of protection "
               "group %(pg)s have no mapping and no %(what)s of the same "
               "name exists on target site %(site)s. Pass "
               "--%(what)s-mapping <source>=<target> for each of them.")

    def __init__(self, message=None, **kwargs):
        super().__init__(message, **kwargs)
        self.code = self.code % kwargs


class PreconditionImageMissing(PreconditionFailed):
    code = "protector.precondition.image_missing"
    msg_fmt = ("Members %(members)s of protection group %(pg)s boot from an "
               "image, not a volume: their root disk is rebuilt from the "
               "image of the same name on target site %(site)s, and image(s) "
               "%(images)s are not there. Upload them to that site "
               "('openstack image create <name> ...') and retry.")


class PreconditionSiteUnreachable(PreconditionFailed):
    code = "protector.precondition.site_unreachable"
    msg_fmt = ("Target site %(site)s cannot be reached (%(reason)s), so "
               "the mappings cannot be checked and nothing was started.")


class PolicyNotFound(NotFound):
    code = "protector.policy.not_found"
    msg_fmt = ("Protection group %(pg)s has no replication policy. Create "
               "one with 'openstack dr policy create %(pg)s ...'.")


class EncryptionUnconfigured(ServiceUnavailable):
    code = "protector.policy.encryption_unconfigured"
    msg_fmt = ("This site cannot store FlashArray API tokens: [storage] "
               "token_encryption_key is not set in protector.conf. The "
               "operator must set it (see doc/deployment.md); the policy "
               "was not saved.")


class EncryptionKeyInvalid(ServiceUnavailable):
    code = "protector.policy.encryption_key_invalid"
    msg_fmt = ("[storage] token_encryption_key is not a valid Fernet key, "
               "or does not decrypt the stored tokens: %(reason)s")


class StorageError(ProtectorException):
    code = "protector.storage.error"
    msg_fmt = "Storage driver %(driver)s failed: %(reason)s"


class StorageDriverNotFound(ProtectorException):
    code = "protector.storage.driver_not_found"
    msg_fmt = ("Storage driver '%(driver)s' is not available (known: "
               "%(known)s). Check [storage] driver.")


class MockImageNotFound(StorageError):
    code = "protector.storage.mock_image_not_found"
    msg_fmt = ("Image '%(image)s' not found on target site %(site)s. Mock "
               "storage replicates volumes by creating them from the Glance "
               "image of the same name: upload the image to that site "
               "('openstack image create %(image)s ...') and retry.")


class SnapshotNotFound(StorageError):
    code = "protector.storage.no_snapshot"
    msg_fmt = ("No replicated snapshot of protection group %(pg)s exists "
               "on site %(site)s yet; wait for replication (or run a planned "
               "failover, which takes a final snapshot).")


class ArrayError(StorageError):
    """A FlashArray call failed; ``array`` names it (``name (address)``)."""
    code = "protector.storage.array_error"
    msg_fmt = "FlashArray %(array)s: %(call)s failed: %(reason)s"


class ArrayUnreachable(ArrayError):
    code = "protector.storage.array_unreachable"
    msg_fmt = ("FlashArray %(array)s is unreachable (%(reason)s). Check "
               "that the array is up and reachable from this host, then "
               "retry: the operation resumes where it stopped.")


class ArrayAuthFailed(ArrayError):
    code = "protector.storage.array_auth_failed"
    msg_fmt = ("FlashArray %(array)s refused the API token of the "
               "replication policy (%(reason)s). Update the policy with a "
               "valid token.")


class ArrayConnectionMissing(ArrayError):
    code = "protector.storage.array_connection_missing"
    msg_fmt = ("FlashArray %(array)s has no array connection to %(peer)s. "
               "Connect the arrays first (purearray connect, type "
               "%(needed)s).")


class ArrayConnectionWrongType(ArrayError):
    code = "protector.storage.array_connection_type"
    msg_fmt = ("FlashArray %(array)s: the array connection to %(peer)s "
               "%(reason)s; protection group replication type %(rtype)s "
               "needs %(needed)s.")


class ReplicationTimeout(ArrayError):
    code = "protector.storage.replication_timeout"
    msg_fmt = ("FlashArray %(array)s: snapshot %(snapshot)s did not finish "
               "replicating within %(timeout)s s (progress %(progress)s). "
               "Check the replication link, then retry.")


class ReplicationNotReady(ArrayError):
    code = "protector.storage.replication_not_ready"
    msg_fmt = "FlashArray %(array)s: %(reason)s"


class PolicyArrayInvalid(Invalid):
    code = "protector.policy.array_invalid"
    msg_fmt = ("The replication policy was not saved: %(side)s array "
               "%(url)s: %(reason)s")


class ImageNotCaptured(ProtectorException):
    code = "protector.operation.image_not_captured"
    msg_fmt = ("Instance %(instance)s boots from an image, but the image's "
               "name was not recorded when it became a member (it was added "
               "by an older Protector, or its image was deleted): remove and "
               "add the member again, then retry.")


class TargetImageMissing(ProtectorException):
    code = "protector.operation.image_missing"
    msg_fmt = ("Image '%(image)s' not found on target site %(site)s: "
               "instance %(instance)s boots from it, so its root disk is "
               "rebuilt from the image of the same name there. Upload it to "
               "that site and retry.")


class StepInterrupted(ProtectorException):
    code = "protector.operation.step_interrupted"
    msg_fmt = ("Step %(step)s was interrupted (the engine running it "
               "stopped) and is forward-only: re-running it could act "
               "twice. Check the protection group's resources on both "
               "sites, then retry the operation ('openstack dr operation "
               "retry <operation-id>', which re-runs the step) or roll it "
               "back ('openstack dr operation rollback <operation-id>').")


# -- retry and rollback of a failed operation (issue 11) ---------------------

class OperationNotRetryable(PreconditionFailed):
    code = "protector.precondition.not_retryable"
    msg_fmt = "Operation %(operation)s cannot be retried: %(reason)s"


class OperationNotRollbackable(PreconditionFailed):
    code = "protector.precondition.not_rollbackable"
    msg_fmt = "Operation %(operation)s cannot be rolled back: %(reason)s"


class RollbackImpossible(PreconditionFailed):
    code = "protector.precondition.rollback_impossible"
    msg_fmt = ("Operation %(operation)s (%(operation_type)s) cannot be "
               "rolled back: %(reason)s. Retry it instead: openstack dr "
               "operation retry %(operation)s")


class TrustNotFound(ProtectorException):
    code = "protector.trust.not_found"
    msg_fmt = ("No Keystone trust of project %(project)s on site %(site)s "
               "lets the engine act for it. Any request of a project user "
               "to this site's protector-api creates one.")

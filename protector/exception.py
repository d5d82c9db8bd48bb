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


class SiteNotFound(NotFound):
    code = "protector.site.not_found"
    msg_fmt = ("Site %(site)s could not be found. List the registered sites "
               "with 'openstack dr site list'.")


class SiteNameExists(Conflict):
    code = "protector.site.duplicate_name"
    msg_fmt = ("A site named '%(name)s' already exists. Choose another name "
               "or delete the existing site first.")


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


class PeerTokenRequired(Invalid):
    code = "protector.peer.token_required"
    msg_fmt = ("This request needs a token for site %(site)s: send it in "
               "the X-Protector-Peer-Token header (the CLI does this with "
               "--secondary-cloud or OS_SECONDARY_CLOUD).")


class PeerTokenInvalid(Invalid):
    code = "protector.peer.token_invalid"
    msg_fmt = ("The token given for site %(site)s was refused by its "
               "Keystone (%(reason)s). Get a fresh token for that site.")


class CloudServiceError(ServiceUnavailable):
    code = "protector.site.service_error"
    msg_fmt = ("%(service)s of site %(site)s failed: %(reason)s")

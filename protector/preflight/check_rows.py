"""A preflight row, and the refusals the checks carry (preflight/__init__.py).

A row is ``{"check", "result", "detail"}`` plus, for a failure, the
``error`` that refuses the operation (``preflight.failure``; never shown).
The checks whose refusal has no older precondition code raise these (all
412); the others reuse the long-standing exceptions of
``protector/exception.py``.
"""
from protector import exception

OK, WARN, FAIL = "ok", "warn", "fail"


def row(check, result, detail, error=None):
    out = {"check": check, "result": result, "detail": detail}
    if error is not None:
        out["error"] = error  # not serialised; what start() raises
    return out


def message(exc):
    return getattr(exc, "message", None) or "%s: %s" % (
        type(exc).__name__, exc)


class PreflightFailed(exception.PreconditionFailed):
    code = "protector.precondition.preflight_failed"
    msg_fmt = "The preflight of %(action)s of group %(pg)s failed: %(failed)s"


class VolumeTypeUnusable(exception.PreconditionFailed):
    code = "protector.precondition.volume_type"
    msg_fmt = "%(reason)s"


class NoVolumeService(exception.PreconditionFailed):
    code = "protector.precondition.no_volume_service"
    msg_fmt = ("No cinder-volume service is up on site %(site)s to make the "
               "volumes in; start one ('openstack volume service list' "
               "shows them), then retry.")


class MockImageMissing(exception.PreconditionFailed):
    code = "protector.precondition.image_missing"
    msg_fmt = ("Mock storage mode makes the bootable copies from image(s) "
               "%(images)s, which site %(site)s does not have; upload them "
               "there ('openstack image create <name> ...') or set [storage] "
               "mock_image_name.")


class ImageNotCaptured(exception.PreconditionFailed):
    code = "protector.precondition.image_not_captured"
    msg_fmt = ("Members %(members)s boot from an image whose name was not "
               "recorded when they became members (added by an older "
               "Protector, or the image was deleted), so they cannot be "
               "rebuilt; remove and add them again, then retry.")


class ArraysUnreachable(exception.PreconditionFailed):
    code = "protector.precondition.array_unreachable"
    msg_fmt = ("The storage driver cannot reach the %(which)s array: "
               "%(reason)s. %(fix)s")


class PeerUnreachable(exception.PreconditionFailed):
    code = "protector.precondition.peer_unreachable"
    msg_fmt = ("%(reason)s; a planned %(action)s shuts the workload down on "
               "source site %(site)s first. %(fix)s.")


class TrustUnusable(exception.PreconditionFailed):
    code = "protector.precondition.trust_unusable"
    msg_fmt = "%(reason)s"

"""Cinder's real Pure iSCSI driver, for the lab's ``pure`` profile.

``LabPureISCSIDriver`` is ``cinder.volume.drivers.pure.PureISCSIDriver``
with only the data path replaced, which the lab cannot have (no iSCSI, no
qemu-img, no sudo on this machine): copying an image into a volume and a
volume into an image. Everything else - setup, replication to the peer
array, volumes, snapshots, groups, manage/unmanage, attach (hosts and
connections on the array), failover - is the real driver talking to the
site's simulated FlashArray over HTTPS through py-pure-client.

One fix on top: Cinder's manage flow (cinder 29) leaves a managed volume's
``service_uuid`` NULL while ``shared_targets`` stays True (only
``create_volume`` sets both), and Nova's attach then fails in os-brick's
``guard_connection`` (``'NoneType' object has no attribute 'replace'``).
``manage_existing`` fills in the service's uuid, as ``create_volume``
would have.
"""
from oslo_log import log as logging

from cinder.volume.drivers import pure

LOG = logging.getLogger(__name__)


class LabPureISCSIDriver(pure.PureISCSIDriver):

    def manage_existing(self, volume, existing_ref):
        update = super().manage_existing(volume, existing_ref) or {}
        try:
            from cinder import context
            from cinder import objects
            service = objects.Service.get_by_args(
                context.get_admin_context(), self.host, "cinder-volume")
            update["service_uuid"] = service.uuid
        except Exception as exc:  # the manage itself worked
            LOG.warning("lab: no service_uuid for managed volume %s: %s",
                        volume.id, exc)
        return update

    def clone_image(self, context, volume, image_location, image_meta,
                    image_service):
        """Volume from image: the array volume is made by the real driver;
        the image bytes are not copied (nothing reads them in the lab).
        Returning ``True`` tells Cinder the volume is done, so it neither
        downloads the image nor runs qemu-img; Cinder still marks the
        volume bootable and records the image metadata."""
        update = self.create_volume(volume) or {}
        LOG.info("lab: volume %s made from image %s on the array without "
                 "copying its bytes", volume.id, image_meta.get("id"))
        return update, True

    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             disable_sparse=False):
        LOG.info("lab: not copying image %s into volume %s", image_id,
                 volume.id)

    def copy_volume_to_image(self, context, volume, image_service,
                             image_meta):
        LOG.info("lab: not copying volume %s into image %s", volume.id,
                 image_meta.get("id"))

"""Cinder volume driver for the lab: stores no data, keeps a tiny inventory.

Loaded by cinder-volume through its ``volume_driver`` option, like any
backend. It subclasses the fake driver that the cinder wheel ships
(``cinder.tests.fake_driver.FakeLoggingVolumeDriver``, which needs the
``fixtures`` package) and fixes what that one lacks for DR tests:

* the backend reports the configured ``volume_backend_name`` (the shipped
  one always says ``fake``) and the capabilities that the lab's volume and
  group types ask for: ``replication_enabled``, ``replication_type`` (async
  and sync) and ``consistent_group_snapshot_enabled``;
* generic volume groups, including consistent group snapshots and groups
  from a source, are handled by the backend (nothing to store);
* manage/unmanage: an unmanaged volume is remembered in a small JSON file
  (``lab_state_file``) and listed by ``get_manageable_volumes`` so it can be
  managed back, which is what a failback does;
* volume from image: the backend "clones" the image, so Cinder neither
  downloads it nor runs qemu-img through privsep/sudo.
"""
import json
import os
import threading

from oslo_config import cfg
from oslo_log import log as logging

from cinder.objects import fields
from cinder.tests import fake_driver
from cinder.volume import volume_utils

LOG = logging.getLogger(__name__)

lab_opts = [
    cfg.StrOpt("lab_state_file",
               help="JSON file where the lab driver remembers the volumes "
                    "it holds outside Cinder (unmanaged ones)."),
]

_LOCK = threading.Lock()


class LabVolumeDriver(fake_driver.FakeLoggingVolumeDriver):
    VERSION = "1.0.0"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.configuration:
            self.configuration.append_config_values(lab_opts)
            self.backend_name = (
                self.configuration.safe_get("volume_backend_name") or
                self.backend_name)

    # ---- inventory of volumes the backend holds outside Cinder ---------
    def _state_file(self):
        path = self.configuration.safe_get("lab_state_file") if \
            self.configuration else None
        return path or os.path.join(
            cfg.CONF.state_path, "lab-backend-%s.json" % self.backend_name)

    def _load(self):
        try:
            with open(self._state_file()) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            return {"unmanaged": {}}

    def _save(self, state):
        path = self._state_file()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=1, sort_keys=True)
        os.replace(tmp, path)

    # ---- stats -----------------------------------------------------------
    def _update_volume_stats(self):
        super()._update_volume_stats()
        self._stats["volume_backend_name"] = self.backend_name
        pool = self._stats["pools"][0]
        pool.update({
            "pool_name": self.backend_name,
            "reserved_percentage": 0,
            "replication_enabled": True,
            "replication_type": ["async", "sync"],
            "replication_count": 1,
            "group_replication_enabled": True,
            "consistent_group_snapshot_enabled": True,
            "consistent_group_replication_enabled": True,
            "multiattach": True,
            "thin_provisioning_support": True,
        })

    # ---- manage / unmanage ------------------------------------------------
    def manage_existing_get_size(self, volume, existing_ref):
        name = (existing_ref or {}).get("source-name")
        with _LOCK:
            known = self._load()["unmanaged"].get(name)
        if known:
            return int(known["size"])
        # Unknown names are accepted (the lab backend has no real volumes
        # to check against); 'size' in the reference overrides 1 GiB.
        return int((existing_ref or {}).get("size", 1))

    def manage_existing(self, volume, existing_ref):
        name = (existing_ref or {}).get("source-name")
        with _LOCK:
            state = self._load()
            if state["unmanaged"].pop(name, None) is not None:
                self._save(state)
        LOG.info("lab backend: managed %s as volume %s", name, volume.id)
        return None

    def unmanage(self, volume):
        with _LOCK:
            state = self._load()
            state["unmanaged"][volume.name] = {
                "size": volume.size, "former_id": volume.id,
                "display_name": volume.display_name}
            self._save(state)
        LOG.info("lab backend: unmanaged volume %s (%s)", volume.id,
                 volume.name)

    def get_manageable_volumes(self, cinder_volumes, marker, limit, offset,
                               sort_keys, sort_dirs):
        with _LOCK:
            unmanaged = self._load()["unmanaged"]
        entries = []
        for name, info in sorted(unmanaged.items()):
            entries.append({
                "reference": {"source-name": name},
                "size": int(info["size"]),
                "safe_to_manage": True,
                "reason_not_safe": None,
                "cinder_id": None,
                "extra_info": {"former_id": info.get("former_id"),
                               "former_name": info.get("display_name")},
            })
        for vol in cinder_volumes:
            entries.append({
                "reference": {"source-name": vol.name},
                "size": vol.size,
                "safe_to_manage": False,
                "reason_not_safe": "already managed",
                "cinder_id": vol.id,
                "extra_info": None,
            })
        return volume_utils.paginate_entries_list(
            entries, marker, limit, offset, sort_keys, sort_dirs)

    def retype(self, context, volume, new_type, diff, host):
        return True

    # ---- volume from / to image ------------------------------------------
    def clone_image(self, context, volume, image_location, image_meta,
                    image_service):
        return {}, True

    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             disable_sparse=False):
        pass

    def copy_volume_to_image(self, context, volume, image_service,
                             image_meta):
        pass

    # ---- generic groups (consistent group snapshots included) ------------
    def create_group(self, context, group):
        update = {"status": fields.GroupStatus.AVAILABLE}
        if group.is_replicated:
            update["replication_status"] = fields.ReplicationStatus.DISABLED
        return update

    def delete_group(self, context, group, volumes):
        return ({"status": fields.GroupStatus.DELETED},
                [{"id": v.id, "status": "deleted"} for v in volumes])

    def update_group(self, context, group, add_volumes=None,
                     remove_volumes=None):
        return None, None, None

    def create_group_from_src(self, context, group, volumes,
                              group_snapshot=None, snapshots=None,
                              source_group=None, source_vols=None):
        return ({"status": fields.GroupStatus.AVAILABLE},
                [{"id": v.id, "status": "available"} for v in volumes])

    def create_group_snapshot(self, context, group_snapshot, snapshots):
        return ({"status": fields.GroupSnapshotStatus.AVAILABLE},
                [{"id": s.id, "status": fields.SnapshotStatus.AVAILABLE}
                 for s in snapshots])

    def delete_group_snapshot(self, context, group_snapshot, snapshots):
        return ({"status": fields.GroupSnapshotStatus.DELETED},
                [{"id": s.id, "status": fields.SnapshotStatus.DELETED}
                 for s in snapshots])

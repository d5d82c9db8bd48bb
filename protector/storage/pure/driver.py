"""``PureStorageDriver``: DR operations on Pure Storage FlashArrays.

One instance serves one protection group on one site: ``self.site`` is
where the operation makes volumes (the target of a failover, a test or a
failback). The policy's primary array belongs to the group's primary site,
its secondary array to the secondary site. Replication runs from the array
of the group's *current* primary site to the other one.

* async groups: protection group ``pure_pg_name`` (``pgroups.py``);
* sync groups: ActiveCluster pod ``pure_pg_name`` (``pods.py``).

Failures are typed (``protector.storage.array_*``, naming the array), so a
step fails cleanly and, being idempotent, can be resumed.
"""
import datetime
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging

from protector.common import times
from protector import exception
from protector.storage import base
from protector.storage.pure import client as pure_client
from protector.storage.pure import copies as pure_copies
from protector.storage.pure import names
from protector.storage.pure import pgroups
from protector.storage.pure import pods

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
get = pure_client.get


def _iso(ms):
    if ms is None:
        return None
    return times.isotime(datetime.datetime.fromtimestamp(
        ms / 1000.0, datetime.timezone.utc).replace(tzinfo=None))


class PureStorageDriver(base.StorageDriver):
    name = "pure"

    def __init__(self, policy, group, site, cloud_factory=None, conf=CONF,
                 sleep=time.sleep):
        super().__init__(policy, group, site, cloud_factory)
        policy = policy or {}
        self.conf = conf
        self.sleep = sleep
        self.pg = policy.get("pure_pg_name")
        if not self.pg:
            raise exception.StorageError(
                driver=self.name, reason="the replication policy names no "
                "pure_pg_name")
        self.sync = (group or {}).get("replication_type") == "sync"
        # promote_volumes runs on several threads of one rebuild at once
        # (engine/tasks/storage_tasks.CopyRequests); one client per array,
        # logged in once, its calls one at a time (they are quick; Cinder's
        # manage of each copy, the slow part, runs outside the driver).
        self._copying = threading.Lock()
        self.arrays = {
            side: pure_client.Array(policy.get(side + "_fa_url"),
                                    policy.get(side + "_fa_api_token"),
                                    side, conf=conf)
            for side in ("primary", "secondary")}

    def quick(self):
        """Probe mode for status reads: no retries, a short timeout."""
        for array in self.arrays.values():
            array.probe = True

    def probe_arrays(self):
        """One login (GET /arrays) per array, in probe mode."""
        self.quick()
        out = {}
        for role, array in (("target", self.local), ("source", self.peer)):
            try:
                array.login()
                out[role] = None
            except exception.ProtectorException as exc:
                out[role] = exc.message
        return out

    # -- which array is which ------------------------------------------

    def _side(self, site_id):
        if site_id == self.group.get("primary_site_id"):
            return "primary"
        if site_id == self.group.get("secondary_site_id"):
            return "secondary"
        raise exception.StorageError(
            driver=self.name, reason="site %s is neither site of protection "
            "group %s" % (site_id, self.group.get("name")))

    @staticmethod
    def _other(side):
        return "secondary" if side == "primary" else "primary"

    @property
    def local(self):
        """The array of the site this driver acts on."""
        return self.arrays[self._side(self.site["id"])]

    @property
    def peer(self):
        return self.arrays[self._other(self._side(self.site["id"]))]

    def direction(self):
        """``(source, target)`` arrays of the current replication."""
        side = self._side(self.group.get("current_primary_site_id") or
                          self.group.get("primary_site_id"))
        return self.arrays[side], self.arrays[self._other(side)]

    def name_of(self, other, seen_from):
        """``other``'s array name, asked of ``seen_from`` if ``other`` is
        down (an unplanned failover must not need the lost array)."""
        conns = seen_from.items("get_array_connections")
        for conn in conns:
            if get(conn, "management_address") == other.target:
                return conn.name
        try:
            return other.name
        except exception.ArrayUnreachable:
            if len(conns) == 1:
                return conns[0].name
            remote = [p.name.split(":")[0] for p in seen_from.items(
                "get_protection_groups") if p.name.endswith(":" + self.pg)]
            if len(remote) == 1:
                return remote[0]
            raise

    # -- replication -----------------------------------------------------

    def ensure_replication(self, volumes):
        src, dst = self.direction()
        out = self._ensure(src, dst, volumes)
        if not self.sync:
            # After a failback the former direction's group (on ``dst``)
            # must not replicate stale volumes back over the new ones.
            out["stopped_old_direction"] = pgroups.disable_schedule(
                dst, self.pg)
        return out

    def _ensure(self, src, dst, volumes):
        if self.sync:
            return pods.ensure_pod(src, dst, self.pg, volumes)
        return pgroups.ensure_pg(
            src, dst, self.pg, volumes,
            self.policy.get("replication_interval") or 3600,
            self.policy.get("rpo_minutes"))

    def create_replicated_snapshot(self, volumes, key):
        """replicate_now in the current direction (the group's current
        primary array to the other one), waited for; the snapshot as the
        target array holds it.

        Called on either site: by the target's engine (test failover) or
        by the source's engine (``final_snapshot`` of a planned
        failover/failback, after the graceful shutdown). Either way the
        returned ``snapshot_ref``s name the target array's volume
        snapshots (``<src>:<pg>.<suffix>.<vol>``), which the target's
        ``promote_volumes`` copies. The group is ensured first (members
        added since the last change are in the snapshot)."""
        src, dst = self.direction()
        if self.sync:
            # Synchronous: the target array already holds every write.
            return self._pod_snapshot(dst, volumes)
        self._ensure(src, dst, volumes)
        suffix = names.snapshot_suffix(key)
        pgroups.replicate_now(
            src, dst, self.pg, suffix,
            self.conf.storage.pure_replication_timeout,
            self.conf.storage.pure_poll_interval, self.sleep)
        return self._snapshot(dst, src.name, volumes,
                              "%s.%s" % (self.pg, suffix))

    def latest_replicated_snapshot(self, volumes):
        local = self.local
        if self.sync:
            return self._pod_snapshot(local, volumes)
        src_name = self.name_of(self.peer, local)
        return self._snapshot(local, src_name, volumes)

    def _site_id_of(self, array):
        """The site whose array ``array`` is."""
        side = "primary" if array is self.arrays["primary"] else "secondary"
        return self.group.get(side + "_site_id") or self.site["id"]

    def _pod_snapshot(self, array, volumes):
        mapping, status = pods.serving_volumes(array, self.pg, volumes)
        vols = [dict(v, backend_ref=mapping[v["volume_id"]],
                     snapshot_ref=mapping[v["volume_id"]])
                for v in volumes]
        now = array.now_ms()
        return {"id": "pod:%s" % self.pg, "name": self.pg,
                "site": self._site_id_of(array), "created_at": _iso(now),
                "kind": "pod", "array": array.name, "pod_arrays": status,
                "volumes": vols}

    def _snapshot(self, dst, src_name, volumes, only=None):
        done = pgroups.completed_snapshots(dst, src_name, self.pg)
        if only:
            done = [d for d in done if d.name == "%s:%s" % (src_name, only)]
        if not done:
            raise exception.SnapshotNotFound(pg=self.pg,
                                             site=self.site.get("name"))
        newest = done[0]
        snap_vols = pgroups.snapshot_volumes(dst, newest.name)
        out, missing = [], []
        for vol in volumes:
            vs = pgroups.match_volume(vol, snap_vols)
            if vs is None:
                missing.append(vol["volume_id"])
                continue
            out.append(dict(vol, backend_ref=vs.split(".")[-1],
                            snapshot_ref=vs))
        if missing:
            raise exception.ReplicationNotReady(
                array=dst.display, reason="snapshot %s does not hold "
                "volume(s) %s (added to the group after it was taken?); "
                "wait for the next replication or take one now" % (
                    newest.name, ", ".join(missing)))
        rows = dst.items_or_none("get_protection_group_snapshots",
                                 names=[newest.name])
        created = get(rows[0], "created") if rows else None
        return {"id": get(newest, "id", newest.name), "name": newest.name,
                "site": self._site_id_of(dst), "kind": "pgroup_snapshot",
                "array": dst.name,
                "created_at": _iso(created or get(newest, "started")),
                "completed_at": _iso(get(newest, "completed")),
                "volumes": out}

    def replication_lag(self):
        """Seconds since the newest complete replicated snapshot on the
        target array (async), 0 for a pod online on both arrays (sync),
        None when nothing was replicated yet or a pod member is down."""
        src, dst = self.direction()
        if self.sync:
            row = pods.pod_row(dst, self.pg)
            if row is None:
                return None
            status = pods.member_status(row)
            if len(status) > 1 and all(s == "online"
                                       for s in status.values()):
                return 0
            return None
        done = pgroups.completed_snapshots(dst, self.name_of(src, dst),
                                           self.pg)
        if not done:
            return None
        return max(0, int((dst.now_ms() - get(done[0], "completed")) / 1000))

    def reverse_replication(self, volumes=None):
        """Failback: replicate from the peer (where the workload runs since
        the failover) back to this site's array, and resync before the
        cut-over: the old direction's schedule stops, the peer's group is
        set up with the volumes it serves now, and one snapshot is
        replicated now and waited for.

        Safe to run again (a retry of a failback whose reverse_replication
        failed or was interrupted): the direction comes from the sites
        (peer -> this array), not from the arrays' current state, every
        call looks before it creates, and a second run only replicates
        one more resync snapshot."""
        src, dst = self.peer, self.local
        if volumes is None:
            raise exception.StorageError(
                driver=self.name, reason="reverse replication needs the "
                "group's member volumes")
        out = {"source_array": src.name, "target_array": dst.name}
        if self.sync:
            out.update(self._ensure(src, dst, volumes))
            # Resynced once this array is back online in the pod.
            status = out.get("pod_arrays", {})
            if status.get(dst.name) != "online":
                raise exception.ReplicationNotReady(
                    array=dst.display, reason="pod %s is not resynced to "
                    "this array yet (%s); retry the failback later" % (
                        self.pg, status.get(dst.name)))
            return out
        out["stopped_old_direction"] = pgroups.disable_schedule(dst, self.pg)
        out.update(self._ensure(src, dst, volumes))
        suffix = names.snapshot_suffix("resync-%s-%s" % (
            self.group.get("id"), int(time.time())))
        item = pgroups.replicate_now(
            src, dst, self.pg, suffix,
            self.conf.storage.pure_replication_timeout,
            self.conf.storage.pure_poll_interval, self.sleep)
        out["resync_snapshot"] = item.name
        return out

    @classmethod
    def restore_refusal(cls, group):
        if (group or {}).get("replication_type") == "sync":
            return None
        return ("the failback's reverse_replication stopped the original "
                "direction's replication schedule and set up the peer's "
                "protection group with the volumes the workload runs on; "
                "which of those settings existed before is not recorded, "
                "so putting them back could stop the replication that "
                "protects the running workload, or start replicating the "
                "stale original volumes again")

    def restore_replication(self, volumes=None):
        """Sync (ActiveCluster): nothing to undo. The reversal only made
        sure the pod is stretched over both arrays again with the
        workload's volumes, which is the pod's normal state whichever
        array the workload runs from. Async: refused up front
        (``restore_refusal``); raising here guards against a direct call.
        """
        if not self.sync:
            raise exception.StorageError(
                driver=self.name, reason=self.restore_refusal(self.group))
        return {"pure_pg_name": self.pg, "replication_type": "sync",
                "unchanged": "the pod stays stretched over both arrays"}

    # -- copies on this site -------------------------------------------------

    def find_copy(self, key, source_volume_id, purpose="failover"):
        """The array copy by its Protector name (it has it until Cinder's
        manage renames it; a managed one was recorded by the engine)."""
        name = names.copy_name(key, source_volume_id, purpose)
        rows = self.local.items_or_none("get_volumes", names=[name])
        if not rows or pure_client.get(rows[0], "destroyed", False):
            return None
        return {"source_volume_id": source_volume_id, "backend_ref": name,
                "array": self.local.name}

    def check_promote(self, snapshot):
        """The target array answers and takes the token: the copies are
        asked for per VM during the rebuild."""
        self.local.login()

    def promote_volumes(self, snapshot, key, purpose="failover",
                        fresh=frozenset()):
        with self._copying:
            return self._copy(snapshot, key, purpose)

    def _copy(self, snapshot, key, purpose):
        local = self.local
        out = []
        for vol in snapshot["volumes"]:
            name = names.copy_name(key, vol["volume_id"], purpose)
            pure_copies.make_copy(local, vol["snapshot_ref"], name)
            # Cinder's Pure driver manages by ``source-name`` (cinder
            # 29: manage_existing/_validate_manage_existing_ref).
            out.append({"source_volume_id": vol["volume_id"],
                        "backend_ref": name, "array": local.name,
                        "manage_ref": {"source-name": name}})
        return out

    def delete_copies(self, copies):
        """Remove only Protector's copies: the Cinder volume if one was
        made (Cinder's manage renames the array volume, and deleting the
        Cinder volume removes it), then the array volume if still there."""
        local = self.local
        deleted = []
        for copy in copies:
            vol_id = copy.get("cinder_volume_id")
            if vol_id and self.cloud is not None:
                self._delete_cinder(vol_id)
            ref = copy.get("backend_ref")
            if ref:
                pure_copies.delete_copy(local, ref)
            deleted.append(ref or vol_id)
        return deleted

    def _delete_cinder(self, vol_id):
        from openstack import exceptions as sdk_exc
        with self.cloud.guard("block-storage"):
            try:
                self.cloud.conn.block_storage.delete_volume(
                    vol_id, ignore_missing=True)
            except sdk_exc.HttpException as exc:
                raise exception.StorageError(driver=self.name,
                                             reason=str(exc))

"""Array work through the storage driver (``protector/storage``).

Volumes made on the target are recorded as ``RecoveryResource`` rows
(type ``volume``) *before* they are made, keyed by source volume, so a
re-run reuses them and test cleanup deletes exactly those.
"""
from concurrent import futures

from openstack.block_storage.v3 import volume as sdk_volume
from openstack import exceptions as sdk_exc
from oslo_config import cfg
from oslo_log import log as logging

from protector.db import dr as dr_db
from protector.db import members as members_db
from protector.engine import flows
from protector.engine import subops
from protector.engine import tasks
from protector.engine.tasks import capacity
from protector import exception
from protector.pgroups import capture
from protector.storage import copies

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _volumes(ctx, store):
    return capture.member_volumes(members_db.list_all(
        ctx, tasks.op(store)["protection_group_id"]))


def snapshot_consistency_group(ctx, store):
    """The crash-consistent point the target is rebuilt from.

    Planned: graceful shutdown on the source, then a final replicated
    snapshot. Unplanned and test failover: the newest snapshot already
    replicated to the target (nothing on the source is touched).
    """
    operation = tasks.op(store)
    kind = operation["operation_type"]
    planned = kind in ("failover", "failback") and \
        tasks.params(store).get("type", "planned") == "planned"
    if planned:
        # The graceful shutdown and final replication run on the source
        # site as a sub-operation through its protector-api (architecture 1,
        # dr/subops.py); a resumed step re-attaches to the same one.
        sub_id, result = subops.run_on_source(ctx, operation,
                                              "prepare_failover")
        final = result.get("final_snapshot") or {}
        return {"snapshot": final["snapshot"], "mode": "final_replicated",
                "sub_operation_id": sub_id,
                "shutdown": result.get("shutdown_instances")}
    driver = tasks.driver(ctx, store)
    volumes = _volumes(ctx, store)
    if kind == "test_failover":
        # A drill: the group's replication is (re)checked - every member
        # volume in the array group, schedule, target - and a snapshot is
        # replicated now, so the drill sees the current members and data.
        # Replication itself is left as it was. A source array that cannot
        # be reached (a drill of a real outage) falls back to the newest
        # snapshot already on this site.
        try:
            ensured = driver.ensure_replication(volumes)
            snap = driver.create_replicated_snapshot(
                volumes, "test:%s" % operation["id"])
            return {"snapshot": snap, "mode": "replicated_now",
                    "replication": ensured}
        except exception.ArrayUnreachable as exc:
            snap = driver.latest_replicated_snapshot(volumes)
            return {"snapshot": snap, "mode": "latest_replicated",
                    "replicate_now_failed": exc.message}
    snap = driver.latest_replicated_snapshot(volumes)
    return {"snapshot": snap, "mode": "latest_replicated"}


def _manage_ref(copy):
    """Cinder's manage reference for an array copy: what the storage
    driver says (``manage_ref``), else ``{"source-name": backend_ref}``,
    the key Cinder's drivers read (Pure's ``manage_existing`` requires
    ``source-name``; so does the lab's driver)."""
    return copy.get("manage_ref") or {"source-name": copy["backend_ref"]}


def _up_volume_hosts(conn):
    return [s.host for s in conn.block_storage.services(
        binary="cinder-volume") if s.state == "up"]


def _manage_host(cloud, copy):
    """``host@backend#pool`` of an up cinder-volume service to manage
    into. Listing services needs an admin context in Cinder's database
    layer whatever its policy says, so where the tenant's trust may not
    (a member role), the engine asks with its own service user."""
    hosts = []
    try:
        hosts = _up_volume_hosts(cloud.conn)
    except sdk_exc.ForbiddenException:
        try:
            service = capacity.service_cloud(cloud)
            with service.guard("block-storage"):
                hosts = _up_volume_hosts(service.conn)
        except (sdk_exc.HttpException, exception.ProtectorException) as exc:
            raise exception.StorageError(
                driver="cinder", reason="cannot list the cinder-volume "
                "services to manage %s into (neither the tenant's trust "
                "nor Protector's service user may): %s" % (
                    copy["backend_ref"], exc))
    if not hosts:
        raise exception.StorageError(
            driver="cinder", reason="no cinder-volume service is up to "
            "manage %s into" % copy["backend_ref"])
    return hosts[0] + "#" + hosts[0].split("@")[-1]


def _manage(cloud, grp, copy, source, operation_id, purpose):
    """Bring an array volume into Cinder (its Cinder policy:
    doc/deployment.md),
    named, described and tagged like its source volume (storage/copies).

    A bootable source makes a bootable copy (Nova refuses to boot from a
    volume Cinder does not mark bootable). Drivers that already made a
    Cinder volume return its ID instead.
    """
    conn = cloud.conn
    attrs = copies.attributes(source, operation_id)
    bootable = bool(source.get("bootable") or source.get("boot_index") == 0)
    key = attrs["metadata"][copies.COPY_KEY]
    with cloud.guard("block-storage"):
        vol = copies.find(conn, attrs["name"], key, skip_error=False,
                          legacy_name="protector-%s-%s" % (
                              purpose, source["volume_id"]))
        if vol is not None:
            if bootable and not vol.is_bootable:
                conn.block_storage.set_volume_bootable_status(vol, True)
            return vol.id
        host = _manage_host(cloud, copy)
        try:
            vol = conn.block_storage.manage_volume(
                host=host, ref=_manage_ref(copy),
                volume_type=copies.volume_type(grp, cloud.site["id"]),
                bootable=bootable,
                **attrs)
        except sdk_exc.HttpException as exc:
            raise exception.StorageError(driver="cinder",
                                         reason="manage failed: %s" % exc)
    return vol.id


def _sources(ctx, store, snap):
    """Each snapshot volume with what its copy keeps of the source (name,
    description, metadata), from this site's members: a snapshot taken
    by a peer of an older version does not carry them."""
    known = {v["volume_id"]: v for v in _volumes(ctx, store)}
    out = []
    for vol in snap["volumes"]:
        member_vol = known.get(vol["volume_id"], {})
        out.append(dict(vol, **{k: member_vol.get(k, vol.get(k)) for k in (
            "volume_name", "description", "metadata")}))
    return out


def _promote(ctx, store, purpose, vols, cloud, driver, grp=None):
    """Ask for a copy of each of ``vols`` (snapshot volumes with their
    sources: ``_sources``) and record it; the copies are made ready in
    Cinder while the rebuild runs (``wait_copies``). Recorded before any
    is made, in one transaction."""
    operation = tasks.op(store)
    grp = grp or tasks.group(ctx, store)
    intended = dr_db.intend_resources(
        ctx, operation["id"], grp["id"], operation["target_site_id"],
        "volume", [("volume:%s" % vol["volume_id"],
                    {"purpose": purpose, "member_id": vol.get("member_id")})
                   for vol in vols])
    records = {vol["volume_id"]: intended["volume:%s" % vol["volume_id"]]
               for vol in vols}
    snap = flows.read(store, "snapshot")
    made = driver.promote_volumes(
        dict(snap, volumes=vols), operation["id"], purpose=purpose,
        fresh=frozenset(v for v, rec in records.items() if rec.get("new")))
    sources = {vol["volume_id"]: vol for vol in vols}
    mapping = {}
    for copy in made:
        vol_id = copy.get("cinder_volume_id") or _manage(
            cloud, grp, copy, sources[copy["source_volume_id"]],
            operation["id"], purpose)
        rec = records[copy["source_volume_id"]]
        dr_db.record_resource(ctx, rec["id"], vol_id, details=dict(
            rec["details"], backend_ref=copy["backend_ref"],
            cinder_volume_id=vol_id))
        mapping[copy["source_volume_id"]] = vol_id
    return mapping


def _check(ctx, store):
    """The promote step: what would stop any copy from being made is
    checked now (the driver's ``check_promote``: mock storage, the image
    of each boot volume), before the rebuild asks for each VM's copies
    (``CopyRequests``). Returns each snapshot volume with no copy yet:
    ``copy_mapping`` gives the copies once made."""
    snap = flows.read(store, "snapshot")
    tasks.driver(ctx, store).check_promote(snap)
    return {"volumes": {vol["volume_id"]: None for vol in snap["volumes"]},
            "snapshot": snap["name"]}


def promote_volumes(ctx, store):
    return _check(ctx, store)


class CopyRequests:
    """The copies of a rebuild, asked for per VM in boot order (tier by
    tier, as the builds go) on their own threads, ahead of the builds: a
    VM's build waits only for its own copies (``of``), so the first VMs
    boot while Cinder still makes the others' copies, and no VM waits for
    every copy to be asked for (20 creates took 2.4-2.7 s of cinder-api's
    CPU in the lab before any VM booted: doc/benchmarks.md). At most
    ``[engine] max_parallel_volumes`` volumes are asked for at once."""

    def __init__(self, ctx, store, cloud, purpose, members, volumes):
        self.ctx, self.store, self.cloud = ctx, store, cloud
        self.purpose, self.volumes = purpose, volumes
        self.jobs = {}
        todo = [m for m in members if self._missing(m)]
        if not todo:
            self.pool = None
            return
        snap = flows.read(store, "snapshot")
        # Read once for every VM (``_sources`` reads all members).
        self.sources = {v["volume_id"]: v
                        for v in _sources(ctx, store, snap)}
        self.grp = tasks.group(ctx, store)
        # One driver for all (a Pure driver logs in to its array once).
        self.driver = tasks.driver(ctx, store, cloud_factory=lambda: cloud)
        per_vm = -(-sum(len(self._missing(m)) for m in todo) // len(todo))
        self.pool = futures.ThreadPoolExecutor(
            max(1, CONF.engine.max_parallel_volumes // per_vm),
            thread_name_prefix="copies")
        for member in todo:
            self.jobs[member["id"]] = self.pool.submit(self._ask, member)

    def _missing(self, member):
        return [v["volume_id"] for v in member["volumes"]
                if v["volume_id"] in self.volumes and
                not self.volumes[v["volume_id"]]]

    def _ask(self, member):
        return _promote(self.ctx, self.store, self.purpose,
                        [self.sources[v] for v in self._missing(member)],
                        self.cloud, self.driver, self.grp)

    def of(self, member):
        """{source volume id: copy id} of ``member``'s volumes that have
        a copy, once asked for (raises what asking for them raised)."""
        out = {v["volume_id"]: self.volumes[v["volume_id"]]
               for v in member["volumes"]
               if self.volumes.get(v["volume_id"])}
        job = self.jobs.get(member["id"])
        if job is not None:
            out.update(job.result())
        return out

    def close(self):
        if self.pool is not None:
            # After every build: no VM waits for a request cancelled here.
            self.pool.shutdown(wait=True, cancel_futures=True)


def wait_copies(ctx, store, cloud, member, copies_of, purpose):
    """{source volume id: copy id} of ``member``'s volumes once Cinder
    has each copy ``available`` (``copies_of``: a ``CopyRequests``): the
    rebuild of a VM starts with this, so it boots as soon as its own
    copies are ready while Cinder still makes the others. A copy that
    Cinder puts in ``error`` is asked for once more (the driver makes a
    new one: mock storage; a Pure copy is managed again and fails the
    same way, then the step fails and says so); the new one replaces it
    in the operation's record and the failed one is deleted."""
    volumes = copies_of.of(member)
    ready = {}
    for vol in member["volumes"]:
        source_id = vol["volume_id"]
        if source_id in volumes:
            ready[source_id] = _ready(ctx, store, cloud, source_id,
                                      volumes[source_id], purpose)
    return ready


# A copy to ask for again: Cinder put it in error, or it is gone.
_COPY_LOST = (sdk_exc.ResourceFailure, sdk_exc.NotFoundException)


def _wait_available(cloud, vol_id):
    with cloud.guard("block-storage"):
        cloud.conn.block_storage.wait_for_status(
            sdk_volume.Volume.existing(id=vol_id), "available",
            failures=["error"], interval=1,
            wait=CONF.storage.copy_ready_timeout)


def _again(ctx, store, cloud, source_id, purpose):
    """A new copy of one source volume (its first one failed)."""
    snap = flows.read(store, "snapshot")
    vols = [v for v in _sources(ctx, store, snap)
            if v["volume_id"] == source_id]
    driver = tasks.driver(ctx, store, cloud_factory=lambda: cloud)
    return _promote(ctx, store, purpose, vols, cloud, driver)[source_id]


def _ready(ctx, store, cloud, source_id, vol_id, purpose):
    try:
        _wait_available(cloud, vol_id)
        return vol_id
    except _COPY_LOST as exc:
        LOG.warning("Operation %s: the copy %s of volume %s went to error "
                    "or is gone on %s (%s); asking for a new one",
                    tasks.op(store)["id"], vol_id, source_id,
                    cloud.site["name"], exc)
    new_id = _again(ctx, store, cloud, source_id, purpose)
    if new_id != vol_id:
        with cloud.guard("block-storage"):
            try:
                cloud.conn.block_storage.delete_volume(vol_id,
                                                       ignore_missing=True)
            except sdk_exc.HttpException:
                LOG.warning("Could not delete the failed copy %s",
                            vol_id, exc_info=True)
    try:
        _wait_available(cloud, new_id)
    except _COPY_LOST as exc:
        raise exception.StorageError(
            driver="cinder", reason="the copy %s of volume %s went to error "
            "on %s twice (%s): cinder-volume's log there says why; fix it, "
            "then retry the operation (or roll it back)" % (
                new_id, source_id, cloud.site["name"], exc))
    return new_id


def copy_mapping(ctx, store, volumes):
    """``volumes`` ({source volume id: copy id}) with the copies that
    replaced failed ones (``wait_copies``), from the operation's
    records."""
    out = dict(volumes)
    for row in dr_db.resources(ctx, op_id=tasks.op(store)["id"],
                               rtype="volume"):
        source_id = row["logical_key"].split(":", 1)[1]
        if source_id in out and row["resource_id"]:
            out[source_id] = row["resource_id"]
    return out


def create_test_volumes(ctx, store):
    return _check(ctx, store)


def reverse_replication(ctx, store):
    if not tasks.params(store).get("reverse_replication"):
        raise flows.Skip("reverse replication not requested")
    return tasks.driver(ctx, store).reverse_replication(
        _volumes(ctx, store))


# Where start_vacate keeps the vacate's ID for this run (never saved).
VACATE_STARTED = "vacate_started"


def start_vacate(ctx, store):
    """Failback: queue the vacate of the other site now, so that it runs
    there while this site retires its previous instances (they touch
    different sites, and both come after the point of no return:
    dr/recovery.POINT_OF_NO_RETURN). ``unmanage_source_volumes`` waits for
    it. Not reaching the other site here is no failure: that step queues
    it again and says what is wrong."""
    try:
        store[VACATE_STARTED] = subops.start_on_source(
            ctx, tasks.op(store), "vacate_site")
    except exception.ProtectorException as exc:
        LOG.warning("Operation %s: the vacate of the other site could not "
                    "start early (%s); it starts after the retirement",
                    tasks.op(store)["id"], exc)


def unmanage_source_volumes(ctx, store):
    """Failback: the side being vacated deletes its (shut down) copies of
    the instances and gives their volumes back to the array (Cinder
    ``os-unmanage``). It runs there, as a sub-operation (dr/subops.py),
    queued by ``start_vacate`` during the retirement when it could be.
    A run that did not queue it (a retry of this step, a resumed run)
    queues it here, which also queues a failed one again."""
    sub_id, result = subops.run_on_source(
        ctx, tasks.op(store), "vacate_site",
        started=store.pop(VACATE_STARTED, None))
    return {"sub_operation_id": sub_id,
            "deleted_instances": (result.get("delete_instances") or {}).get(
                "deleted", []),
            "unmanaged_volumes": (result.get("unmanage_volumes") or {}).get(
                "unmanaged", [])}


def delete_recorded_copies(ctx, driver, op_id, rows):
    """Delete the copies ``rows`` (``op_id``'s ``volume`` records) stand
    for, with the storage driver's ``delete_copies``: the Cinder volume
    and the array copy, only those; each row is then marked deleted. A
    row recorded as intended, never as made (a lost answer, a crash) is
    asked of the driver (``find_copy``), which knows whether it made a
    copy for that operation and volume. Returns (deleted, never made)."""
    deleted, never_made = [], []
    for row in rows:
        details = row["details"] or {}
        copy = {"backend_ref": details.get("backend_ref"),
                "cinder_volume_id": row["resource_id"]}
        if not row["resource_id"]:
            copy = driver.find_copy(op_id,
                                    row["logical_key"].split(":", 1)[-1],
                                    details.get("purpose", "failover"))
        if copy:
            driver.delete_copies([copy])
            deleted.append(copy.get("cinder_volume_id") or
                           copy.get("backend_ref"))
        else:
            never_made.append(row["logical_key"])
        dr_db.record_resource(ctx, row["id"], row["resource_id"],
                              status="deleted")
    return deleted, never_made


def delete_test_volumes(ctx, store):
    """Test cleanup: delete the volumes the test made, and nothing else."""
    test_id = tasks.params(store).get("test_operation_id")
    rows = dr_db.resources(ctx, op_id=test_id, rtype="volume",
                           exclude_status="deleted")
    if not rows:
        raise flows.Skip("the test made no volumes")
    deleted, _ = delete_recorded_copies(ctx, tasks.driver(ctx, store),
                                        test_id, rows)
    return {"deleted": deleted}

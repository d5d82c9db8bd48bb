"""Array work through the storage driver (``protector/storage``).

Volumes made on the target are recorded as ``RecoveryResource`` rows
(type ``volume``) *before* they are made, keyed by source volume, so a
re-run reuses them and test cleanup deletes exactly those.
"""
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


def _promote(ctx, store, purpose, only=None):
    """Ask for a copy of every snapshot volume (``only``: of that one
    source volume) and record it; the copies are made ready in Cinder
    while the rebuild runs (``wait_copies``)."""
    operation = tasks.op(store)
    snap = flows.read(store, "snapshot")
    snap = dict(snap, volumes=[v for v in _sources(ctx, store, snap)
                               if only is None or v["volume_id"] == only])
    grp = tasks.group(ctx, store)
    # All recorded before any is made, in one transaction.
    intended = dr_db.intend_resources(
        ctx, operation["id"], grp["id"], operation["target_site_id"],
        "volume", [("volume:%s" % vol["volume_id"],
                    {"purpose": purpose, "member_id": vol.get("member_id")})
                   for vol in snap["volumes"]])
    records = {vol["volume_id"]: intended["volume:%s" % vol["volume_id"]]
               for vol in snap["volumes"]}
    cloud = []

    def factory():
        if not cloud:
            cloud.append(tasks.target_cloud(ctx, store))
        return cloud[0]

    driver = tasks.driver(ctx, store, cloud_factory=factory)
    made = driver.promote_volumes(
        snap, operation["id"], purpose=purpose,
        fresh=frozenset(v for v, rec in records.items() if rec.get("new")))
    sources = {vol["volume_id"]: vol for vol in snap["volumes"]}
    mapping = {}
    for copy in made:
        vol_id = copy.get("cinder_volume_id") or _manage(
            factory(), grp, copy, sources[copy["source_volume_id"]],
            operation["id"], purpose)
        rec = records[copy["source_volume_id"]]
        dr_db.record_resource(ctx, rec["id"], vol_id, details=dict(
            rec["details"], backend_ref=copy["backend_ref"],
            cinder_volume_id=vol_id))
        mapping[copy["source_volume_id"]] = vol_id
    return {"volumes": mapping, "snapshot": snap["name"]}


def promote_volumes(ctx, store):
    return _promote(ctx, store, "failover")


def wait_copies(ctx, store, cloud, member, volumes, purpose):
    """{source volume id: copy id} of ``member``'s volumes once Cinder
    has each copy ``available``: the rebuild of a VM starts with this, so
    it boots as soon as its own copies are ready while Cinder still makes
    the others (the promote step only asked for them). A copy that Cinder
    puts in ``error`` is asked for once more (the driver makes a new one:
    mock storage; a Pure copy is managed again and fails the same way,
    then the step fails and says so); the new one replaces it in the
    operation's record and the failed one is deleted."""
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


def _ready(ctx, store, cloud, source_id, vol_id, purpose):
    try:
        _wait_available(cloud, vol_id)
        return vol_id
    except _COPY_LOST as exc:
        LOG.warning("Operation %s: the copy %s of volume %s went to error "
                    "or is gone on %s (%s); asking for a new one",
                    tasks.op(store)["id"], vol_id, source_id,
                    cloud.site["name"], exc)
    new_id = _promote(ctx, store, purpose, only=source_id)["volumes"][
        source_id]
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
    return _promote(ctx, store, "test")


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


def delete_test_volumes(ctx, store):
    """Test cleanup: delete the volumes the test made, and nothing else."""
    test_id = tasks.params(store).get("test_operation_id")
    rows = dr_db.resources(ctx, op_id=test_id, rtype="volume",
                           exclude_status="deleted")
    if not rows:
        raise flows.Skip("the test made no volumes")
    driver = tasks.driver(ctx, store)
    deleted = []
    for row in rows:
        copy = {"backend_ref": row["details"].get("backend_ref"),
                "cinder_volume_id": row["resource_id"]}
        driver.delete_copies([copy])
        dr_db.record_resource(ctx, row["id"], row["resource_id"],
                              status="deleted")
        deleted.append(row["resource_id"])
    return {"deleted": deleted}

"""Array work through the storage driver (``protector/storage``).

Volumes made on the target are recorded as ``RecoveryResource`` rows
(type ``volume``) *before* they are made, keyed by source volume, so a
re-run reuses them and test cleanup deletes exactly those.
"""
from openstack import exceptions as sdk_exc

from protector.db import dr as dr_db
from protector.db import members as members_db
from protector.engine import flows
from protector.engine import subops
from protector.engine import tasks
from protector import exception
from protector.pgroups import capture
from protector.storage import copies


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


def _service_cloud(cloud):
    """This site's cloud as Protector's own service user (project-scoped
    as in ``[keystone_authtoken]``): the engine runs on the site it
    manages into, whose Keystone is the service's own."""
    from protector.cloud import auth
    from protector.cloud import connection
    return connection.SiteCloud(cloud.site, auth.service_plugin(cloud.site))


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
            service = _service_cloud(cloud)
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


def _promote(ctx, store, purpose):
    operation = tasks.op(store)
    snap = flows.read(store, "snapshot")
    snap = dict(snap, volumes=_sources(ctx, store, snap))
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
    made = driver.promote_volumes(snap, operation["id"], purpose=purpose)
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


def create_test_volumes(ctx, store):
    return _promote(ctx, store, "test")


def reverse_replication(ctx, store):
    if not tasks.params(store).get("reverse_replication"):
        raise flows.Skip("reverse replication not requested")
    return tasks.driver(ctx, store).reverse_replication(
        _volumes(ctx, store))


def unmanage_source_volumes(ctx, store):
    """Failback: the side being vacated deletes its (shut down) copies of
    the instances and gives their volumes back to the array (Cinder
    ``os-unmanage``). It runs there, as a sub-operation (dr/subops.py)."""
    sub_id, result = subops.run_on_source(ctx, tasks.op(store),
                                          "vacate_site")
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

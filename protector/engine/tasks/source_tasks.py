"""Tasks of the sub-operations that run on a planned operation's source.

They act on *this* site (the sub-operation's ``target_site_id``) through
the project's trust in this site's Keystone, on the instances and volumes
the group's members have here: the original ones before a failover, the
failed-over copies (``current_instance_id``/``current_volume_id``) after.
Each is idempotent: a stopped server is not stopped again, a deleted one
or an unmanaged volume is simply not found again.
"""
from concurrent import futures

from openstack import exceptions as sdk_exc
from oslo_config import cfg

from protector.db import dr as dr_db
from protector.engine import tasks
from protector import exception

CONF = cfg.CONF
SERVER_TIMEOUT = 900
VOLUME_TIMEOUT = 300


def _members_here(ctx, store):
    operation = tasks.op(store)
    grp = tasks.group(ctx, store)
    here = operation["target_site_id"]
    out = []
    for member in dr_db.members(ctx, grp["id"]):
        where = member["current_site_id"] or grp["primary_site_id"]
        if where == here:
            out.append(member)
    return out


def _instance(member):
    return member["current_instance_id"] or member["instance_id"]


def _parallel(fn, items):
    """Run ``fn(item)`` for every item, ``[engine] max_parallel_instances``
    at a time; raise the first error after all finished."""
    width = max(1, CONF.engine.max_parallel_instances)
    results, errors = [], []
    with futures.ThreadPoolExecutor(max_workers=width) as pool:
        for job in [pool.submit(fn, item) for item in items]:
            try:
                results.append(job.result())
            except Exception as exc:
                errors.append(exc)
    if errors:
        raise errors[0]
    return results


def shutdown_instances(ctx, store):
    """Graceful shutdown (Nova os-stop: ACPI, then power off after the
    guest's shutdown timeout) of the members' instances on this site."""
    cloud = tasks.target_cloud(ctx, store)
    conn = cloud.conn

    def stop(member):
        server_id = _instance(member)
        with cloud.guard("compute"):
            server = conn.compute.find_server(server_id, ignore_missing=True)
            if server is None:
                return ("missing", server_id)
            if server.status == "SHUTOFF":
                return ("already_stopped", server_id)
            if server.status == "ACTIVE":
                conn.compute.stop_server(server)
            try:
                conn.compute.wait_for_server(server, status="SHUTOFF",
                                             wait=SERVER_TIMEOUT)
            except sdk_exc.ResourceFailure as exc:
                raise exception.CloudServiceError(
                    service="Nova", site=cloud.site["name"],
                    reason="instance %s did not shut down: %s" %
                    (server_id, exc))
        return ("stopped", server_id)

    out = {"stopped": [], "already_stopped": [], "missing": []}
    for state, server_id in _parallel(stop, _members_here(ctx, store)):
        out[state].append(server_id)
    return out


def final_snapshot(ctx, store):
    """Replicate now, after the shutdown: the target is rebuilt from
    writes that include everything the workload did (no data loss)."""
    parent = tasks.params(store).get("parent_operation_id")
    members = dr_db.members(ctx, tasks.op(store)["protection_group_id"])
    snap = tasks.driver(ctx, store).create_replicated_snapshot(
        tasks.member_volumes(members), "final:%s" % parent)
    return {"snapshot": snap, "mode": "final_replicated"}


def delete_instances(ctx, store):
    """The vacated side's instances (their volumes are kept:
    ``delete_on_termination`` is False on every DR copy)."""
    cloud = tasks.target_cloud(ctx, store)
    conn = cloud.conn

    def delete(member):
        server_id = _instance(member)
        with cloud.guard("compute"):
            server = conn.compute.find_server(server_id, ignore_missing=True)
            if server is None:
                return None
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=SERVER_TIMEOUT)
        return server_id

    deleted = [s for s in _parallel(delete, _members_here(ctx, store)) if s]
    return {"deleted": deleted}


def unmanage(cloud, vol_id):
    """Cinder os-unmanage of a volume once it is detached (available);
    False when Cinder no longer has it."""
    conn = cloud.conn
    with cloud.guard("block-storage"):
        volume = conn.block_storage.find_volume(vol_id, ignore_missing=True)
        if volume is None:
            return False
        try:
            # Detaching after the server delete takes a moment.
            volume = conn.block_storage.wait_for_status(
                volume, "available", failures=["error"],
                wait=VOLUME_TIMEOUT)
            conn.block_storage.unmanage_volume(volume)
        except (sdk_exc.ResourceFailure, sdk_exc.HttpException) as exc:
            raise exception.StorageError(
                driver="cinder", reason="unmanage of volume %s on %s "
                "failed: %s" % (vol_id, cloud.site["name"], exc))
    return True


def unmanage_volumes(ctx, store):
    """Cinder os-unmanage of the members' volumes on this site: Cinder
    forgets them, the array keeps them (seed 004 volume_unmanage)."""
    cloud = tasks.target_cloud(ctx, store)
    out = {"unmanaged": [], "missing": []}
    for member in _members_here(ctx, store):
        for vol in member["volumes"]:
            vol_id = vol["current_volume_id"] or vol["volume_id"]
            out["unmanaged" if unmanage(cloud, vol_id) else
                "missing"].append(vol_id)
    return out

"""Failback: retire the instances the workload left on its original site.

When a group fails over, the instances on the site it leaves are kept
(shut down by a planned failover; untouched by an unplanned one, whose
source was down): they are the operator's fallback until the failover is
known good. When the workload comes back (failback), they are stale: the
failback has just rebuilt every member from the replicated volumes. This
step, run on the original site right after ``recreate_instances``,
deletes them and gives their volumes back to the array (Cinder
``os-unmanage``: Cinder forgets them, the array keeps them, as the vacate
step does on the other site), so the site holds one copy of the workload,
not two.

Which instances are stale: each member's original instance, and every
server of this project on this site that Protector built for a member
(metadata ``protector_member``) in an earlier failback, except those this
failback just built and those of a DR test. Their volumes are read from
Nova and recorded (a ``RecoveryResource`` of type ``retired_server``)
*before* the server is deleted, so a re-run after a crash still knows
them. ``delete_on_termination`` is turned off first (Nova 2.85), so
deleting a server never deletes a volume.
"""
from concurrent import futures

from oslo_config import cfg
from oslo_log import log as logging

from protector.db import dr as dr_db
from protector.engine import flows
from protector.engine import tasks
from protector.engine.tasks import source_tasks
from protector import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
MEMBER_MARKER = "protector_member"
OPERATION_MARKER = "protector_operation"
RTYPE = "retired_server"
SERVER_TIMEOUT = 900


def _is_test(ctx, op_id, cache):
    if op_id not in cache:
        cache[op_id] = any(
            (r["details"] or {}).get("purpose") == "test"
            for r in dr_db.resources(ctx, op_id=op_id, rtype="server"))
    return cache[op_id]


def _stale_servers(ctx, conn, members, keep):
    """server id -> member id of the stale instances Nova still has."""
    by_member = {m["id"]: m for m in members}
    stale = {}
    for member in members:
        stale[member["instance_id"]] = member["id"]
    tests = {}
    for server in conn.compute.servers(details=True):
        meta = server.metadata or {}
        if meta.get(MEMBER_MARKER) in by_member and not _is_test(
                ctx, meta.get(OPERATION_MARKER), tests):
            stale[server.id] = meta[MEMBER_MARKER]
    found = {}
    for server_id, member_id in stale.items():
        if server_id in keep:
            continue
        if conn.compute.find_server(server_id, ignore_missing=True):
            found[server_id] = member_id
    return found


def _keep_volumes(cloud, server_id):
    """Volumes attached to the server, each set to survive its deletion."""
    conn = cloud.conn
    volumes = []
    for att in conn.compute.volume_attachments(server_id):
        volumes.append(att.volume_id)
        resp = conn.compute.put(
            "/servers/%s/os-volume_attachments/%s" % (server_id,
                                                      att.volume_id),
            json={"volumeAttachment": {"volumeId": att.volume_id,
                                       "delete_on_termination": False}},
            microversion="2.85", raise_exc=False)
        if resp.status_code >= 400:
            raise exception.CloudServiceError(
                service="Nova", site=cloud.site["name"], reason="could not "
                "keep volume %s of instance %s when deleting it (HTTP %d: "
                "%s)" % (att.volume_id, server_id, resp.status_code,
                         resp.text[:200]))
    return sorted(volumes)


def _retire(ctx, store, cloud, row):
    conn = cloud.conn
    server_id = row["details"]["server_id"]
    with cloud.guard("compute"):
        server = conn.compute.find_server(server_id, ignore_missing=True)
        if server is not None:
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=SERVER_TIMEOUT)
    unmanaged = [v for v in row["details"]["volumes"]
                 if source_tasks.unmanage(cloud, v)]
    dr_db.record_resource(ctx, row["id"], server_id, status="retired")
    return unmanaged


def retire_previous_instances(ctx, store):
    operation = tasks.op(store)
    keep = set(store["results"].get("recreate_instances", {}).get(
        "servers", {}).values())
    members = dr_db.members(ctx, operation["protection_group_id"])
    cloud = tasks.target_cloud(ctx, store)
    conn = cloud.conn
    with cloud.guard("compute"):
        stale = _stale_servers(ctx, conn, members, keep)
    for server_id, member_id in sorted(stale.items()):
        with cloud.guard("compute"):
            volumes = _keep_volumes(cloud, server_id)
        # Recorded once, before the delete: a re-run reads the volumes
        # from here once the server is gone.
        dr_db.intend_resource(
            ctx, operation["id"], operation["protection_group_id"],
            operation["target_site_id"], RTYPE, "retire:%s" % server_id,
            {"server_id": server_id, "member_id": member_id,
             "volumes": volumes})
    every = dr_db.resources(ctx, op_id=operation["id"], rtype=RTYPE)
    if not every:
        raise flows.Skip("no earlier instance of the group is left on "
                         "this site")
    rows = [r for r in every if r["status"] != "retired"]
    width = max(1, CONF.engine.max_parallel_instances)
    errors = []
    with futures.ThreadPoolExecutor(max_workers=width) as pool:
        for job in [pool.submit(_retire, ctx, store, cloud, r)
                    for r in rows]:
            try:
                job.result()
            except Exception as exc:
                errors.append(exc)
    if errors:
        raise errors[0]
    retired = [r["details"]["server_id"] for r in every]
    volumes = [v for r in every for v in r["details"]["volumes"]]
    LOG.info("Operation %s: retired %d earlier instance(s) and unmanaged "
             "%d volume(s) on the original site", operation["id"],
             len(retired), len(volumes))
    return {"deleted_instances": sorted(retired),
            "unmanaged_volumes": sorted(volumes)}

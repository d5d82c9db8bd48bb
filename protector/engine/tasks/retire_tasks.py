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
deleting a server never deletes a volume, and the volumes are taken out of
the group's consistency group first (Cinder unmanages no volume that is in
a group). The copies the failback made take their place in that group.
"""
from concurrent import futures

from openstack.compute.v2 import server as sdk_server
from oslo_config import cfg
from oslo_log import log as logging

from protector.db import dr as dr_db
from protector.db import members as members_db
from protector.db import protection_groups as pg_db
from protector.engine import flows
from protector.engine import tasks
from protector.engine.tasks import source_tasks
from protector.engine.tasks import storage_tasks
from protector import volume_groups

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
    present = set()
    # One listing of the project's servers tells both which exist and
    # which Protector built for a member.
    for server in conn.compute.servers(details=True):
        present.add(server.id)
        meta = server.metadata or {}
        if meta.get(MEMBER_MARKER) in by_member and not _is_test(
                ctx, meta.get(OPERATION_MARKER), tests):
            stale[server.id] = meta[MEMBER_MARKER]
    return {sid: mid for sid, mid in stale.items()
            if sid in present and sid not in keep}


def _keep(ctx, cloud, operation, item):
    """Record the stale server's volumes, each set to survive its delete."""
    server_id, member_id = item
    with cloud.guard("compute"):
        volumes = source_tasks.keep_volumes(cloud, server_id)
    # Recorded once, before the delete: a re-run reads the volumes from
    # here once the server is gone.
    dr_db.intend_resource(
        ctx, operation["id"], operation["protection_group_id"],
        operation["target_site_id"], RTYPE, "retire:%s" % server_id,
        {"server_id": server_id, "member_id": member_id,
         "volumes": volumes})


def _delete(cloud, server_id):
    with cloud.guard("compute"):
        cloud.conn.compute.delete_server(server_id)


def _wait_deleted(cloud, row):
    # One GET when it is already gone (a re-run's), as a look-up would be.
    server = sdk_server.Server.existing(id=row["details"]["server_id"])
    with cloud.guard("compute"):
        cloud.conn.compute.wait_for_delete(server, interval=1,
                                           wait=SERVER_TIMEOUT)


def _unmanage(ctx, cloud, row):
    vols = row["details"]["volumes"]
    unmanaged = [v for v in vols if source_tasks.unmanage(cloud, v)]
    dr_db.record_resource(ctx, row["id"], row["details"]["server_id"],
                          status="retired")
    return unmanaged


def _regroup(ctx, store, vgroups, cg_id, rows):
    """What the site's consistency group must lose and gain so that it
    holds the workload's volumes again: the retired instances' volumes
    leave it (Cinder unmanages no volume that is in a group) and the
    copies this failback made join it. Listed now, before Nova's deletes
    keep Cinder busy detaching; returns (add, remove)."""
    gone = [v for r in rows for v in r["details"]["volumes"]]
    new = sorted(v for v in storage_tasks.copy_mapping(
        ctx, store, flows.read(store, "volumes") or {}).values() if v)
    inside = set(vgroups.volumes_in_group(cg_id, gone + new))
    return ([v for v in new if v not in inside],
            [v for v in gone if v in inside])


def retire_previous_instances(ctx, store):
    operation = tasks.op(store)
    # The other site's vacate runs meanwhile (unmanage_source_volumes
    # waits for it).
    storage_tasks.start_vacate(ctx, store)
    keep = set((flows.read(store, "servers") or {}).values())
    members = members_db.list_all(ctx, operation["protection_group_id"])
    cloud = tasks.target_cloud(
        ctx, store, warm=("compute", "block-storage"))
    with cloud.guard("compute"):
        stale = _stale_servers(ctx, cloud.conn, members, keep)
    # A few API calls each (source_tasks.REQUEST_WIDTH), not one by one.
    source_tasks.fan_requests(
        lambda item: _keep(ctx, cloud, operation, item),
        sorted(stale.items()))
    every = dr_db.resources(ctx, op_id=operation["id"], rtype=RTYPE)
    rows = [r for r in every if r["status"] != "retired"]
    vgroups, cg_id = _consistency_group(ctx, store, cloud)
    added, gone = _regroup(ctx, store, vgroups, cg_id, rows) if cg_id \
        else ([], [])
    # The group updates (removals and additions together; Cinder takes
    # one update of a group at a time, and in-use volumes either way) go
    # beside Nova's deletes; each server's volumes are unmanaged once it
    # is gone and they are out of the group.
    with futures.ThreadPoolExecutor(max_workers=1) as pool:
        regrouped = pool.submit(vgroups.update_volumes, cg_id, added, gone)

        def release(row):
            _wait_deleted(cloud, row)
            regrouped.result()
            return _unmanage(ctx, cloud, row)
        try:
            source_tasks.fan_requests(lambda server_id: _delete(
                cloud, server_id), sorted(stale))
            source_tasks.fan_requests(release, rows)
        finally:
            # Never left running past the step, failed or not.
            regrouped.result()
    retired = [r["details"]["server_id"] for r in every]
    volumes = [v for r in every for v in r["details"]["volumes"]]
    LOG.info("Operation %s: retired %d earlier instance(s) and unmanaged "
             "%d volume(s) on the original site", operation["id"],
             len(retired), len(volumes))
    return {"deleted_instances": sorted(retired),
            "unmanaged_volumes": sorted(volumes),
            "consistency_group_id": cg_id,
            "added_to_consistency_group": added}


def _consistency_group(ctx, store, cloud):
    """(group driver, the group's consistency group ID on this site)."""
    operation = tasks.op(store)
    grp = tasks.group(ctx, store)
    cg = pg_db.get_consistency_group(ctx, grp["id"]) or {}
    cg_id = cg.get("primary_cg_id") \
        if operation["target_site_id"] == grp["primary_site_id"] \
        else cg.get("secondary_cg_id")
    return volume_groups.for_site(cloud.site, lambda: cloud), cg_id

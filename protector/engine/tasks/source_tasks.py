"""Tasks of the sub-operations that run on a planned operation's source.

They act on *this* site (the sub-operation's ``target_site_id``) through
the project's trust in this site's Keystone, on the instances and volumes
the group's members have here: the original ones before a failover, the
failed-over copies (``current_instance_id``/``current_volume_id``) after.
Each is idempotent: a stopped server is not stopped again, a deleted one
or an unmanaged volume is simply not found again.

``shutdown_instances`` records every server it is about to stop (a
``stopped_server`` recovery resource of the sub-operation, written before
the stop, marked created after): the rollback of the failed parent
(``restore_source``, ``start_instances``) starts exactly those again, and
none that the user had stopped before the failover.
"""

from openstack import exceptions as sdk_exc
from oslo_config import cfg

from protector.common import fanout
from protector.db import dr as dr_db
from protector.db import members as members_db
from protector.db import operations as ops_db
from protector.engine import flows
from protector.engine import tasks
from protector import exception
from protector.pgroups import capture

CONF = cfg.CONF
SERVER_TIMEOUT = 900
STOPPED = "stopped_server"
VOLUME_TIMEOUT = 300


def _members_here(ctx, store):
    operation = tasks.op(store)
    grp = tasks.group(ctx, store)
    here = operation["target_site_id"]
    out = []
    for member in members_db.list_all(ctx, grp["id"]):
        where = member["current_site_id"] or grp["primary_site_id"]
        if where == here:
            out.append(member)
    return out


def _instance(member):
    return member["current_instance_id"] or member["instance_id"]


def _parallel(fn, items):
    """``fn(item)`` for every item, ``[engine] max_parallel_instances`` at
    a time."""
    return fanout.run(fn, items, CONF.engine.max_parallel_instances)


# A stop or delete request is a few API calls that Nova answers at once
# (it casts the work to the compute host, which is not capped like
# builds), so requests go out this many at a time, and the waits for
# them come after all were requested: N servers take one stop's time
# plus the requests, not N / max_parallel_instances stops in a row.
REQUEST_WIDTH = 16


def fan_requests(fn, items):
    return fanout.run(fn, items, max(REQUEST_WIDTH,
                                     CONF.engine.max_parallel_instances))


def shutdown_instances(ctx, store):
    """Graceful shutdown (Nova os-stop: ACPI, then power off after the
    guest's shutdown timeout) of the members' instances on this site."""
    operation = tasks.op(store)
    cloud = tasks.target_cloud(ctx, store, warm=("compute",))
    conn = cloud.conn
    # Servers a crashed run recorded before stopping them: they were
    # running, so they are ours to restart even if now found SHUTOFF.
    ours = {r["logical_key"] for r in dr_db.resources(
        ctx, op_id=operation["id"], rtype=STOPPED)}

    def find(member):
        server_id = _instance(member)
        with cloud.guard("compute"):
            server = conn.compute.find_server(server_id, ignore_missing=True)
        if server is None:
            return ("missing", server_id, None, member)
        if server.status == "SHUTOFF" and \
                "server:%s" % server_id not in ours:
            return ("already_stopped", server_id, None, member)
        return ("stopped", server_id, server, member)

    found = fan_requests(find, _members_here(ctx, store))
    stopping = [f for f in found if f[0] == "stopped"]
    # Recorded before the stops (one transaction): a rollback starts them
    # again.
    recs = dr_db.intend_resources(
        ctx, operation["id"], operation["protection_group_id"],
        operation["target_site_id"], STOPPED,
        [("server:%s" % server_id, {"server_id": server_id,
                                     "member_id": member["id"]})
         for _, server_id, _, member in stopping])

    def stop(item):
        _, server_id, server, _ = item
        if server.status == "ACTIVE":
            with cloud.guard("compute"):
                conn.compute.stop_server(server)

    def wait(item):
        _, server_id, server, _ = item
        with cloud.guard("compute"):
            try:
                # Polled every second: a guest shuts down in seconds, and
                # each second here is a second the workload is down.
                conn.compute.wait_for_server(server, status="SHUTOFF",
                                             interval=1, wait=SERVER_TIMEOUT)
            except sdk_exc.ResourceFailure as exc:
                raise exception.CloudServiceError(
                    service="Nova", site=cloud.site["name"],
                    reason="instance %s did not shut down: %s" %
                    (server_id, exc))
        return server_id

    # Every stop requested first (the guests shut down together), then
    # the waits: most find their server SHUTOFF at the first look.
    fan_requests(stop, stopping)
    stopped = fan_requests(wait, stopping)
    dr_db.record_resources(ctx, [(recs["server:%s" % s]["id"], s,
                                  "created", None) for s in stopped])
    out = {"stopped": [], "already_stopped": [], "missing": []}
    for state, server_id, _, _ in found:
        out[state].append(server_id)
    return out


def final_snapshot(ctx, store):
    """Replicate now, after the shutdown: the target is rebuilt from
    writes that include everything the workload did (no data loss)."""
    parent = tasks.params(store).get("parent_operation_id")
    members = members_db.list_all(ctx, tasks.op(store)["protection_group_id"])
    snap = tasks.driver(ctx, store).create_replicated_snapshot(
        capture.member_volumes(members), "final:%s" % parent)
    return {"snapshot": snap, "mode": "final_replicated"}


def keep_volumes(cloud, server_id):
    """Volumes attached to the server, each set to survive its deletion.

    A recovered server keeps its original's ``delete_on_termination``
    flags, so a step that deletes a server and keeps its volumes (vacate,
    retire, rollback) turns the flag off first (Nova 2.85; a boot volume
    cannot be detached from a server, so detaching is no way out). Only
    attachments Nova reports as deleted with the server are changed.
    """
    conn = cloud.conn
    volumes = []
    for att in conn.compute.volume_attachments(server_id):
        volumes.append(att.volume_id)
        if getattr(att, "delete_on_termination", None) is False:
            continue
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


def delete_instances(ctx, store):
    """The vacated side's instances; their volumes are kept
    (``keep_volumes``) for the next step to unmanage."""
    cloud = tasks.target_cloud(ctx, store, warm=("compute",))
    conn = cloud.conn

    def delete(member):
        server_id = _instance(member)
        with cloud.guard("compute"):
            server = conn.compute.find_server(server_id, ignore_missing=True)
            if server is None:
                return None
            keep_volumes(cloud, server.id)
            conn.compute.delete_server(server)
        return server

    def wait(server):
        with cloud.guard("compute"):
            conn.compute.wait_for_delete(server, interval=1,
                                         wait=SERVER_TIMEOUT)

    # As the shutdown: every delete requested, then the waits.
    deleting = [s for s in fan_requests(delete, _members_here(ctx, store))
                if s is not None]
    fan_requests(wait, deleting)
    return {"deleted": [s.id for s in deleting]}


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
                volume, "available", failures=["error"], interval=1,
                wait=VOLUME_TIMEOUT)
            conn.block_storage.unmanage_volume(volume)
        except (sdk_exc.ResourceFailure, sdk_exc.HttpException) as exc:
            raise exception.StorageError(
                driver="cinder", reason="unmanage of volume %s on %s "
                "failed: %s" % (vol_id, cloud.site["name"], exc))
    return True


def unmanage_volumes(ctx, store):
    """Cinder os-unmanage of the members' volumes on this site: Cinder
    forgets them, the array keeps them (Cinder's volume_unmanage policy:
    doc/deployment.md)."""
    cloud = tasks.target_cloud(ctx, store, warm=("block-storage",))
    volumes = [vol["current_volume_id"] or vol["volume_id"]
               for member in _members_here(ctx, store)
               for vol in member["volumes"]]
    # Each is a look-up and an os-unmanage that Cinder answers at once:
    # requests, not waits, so REQUEST_WIDTH at a time, not one by one.
    done = fan_requests(lambda vol_id: unmanage(cloud, vol_id), volumes)
    out = {"unmanaged": [], "missing": []}
    for vol_id, unmanaged in zip(volumes, done):
        out["unmanaged" if unmanaged else "missing"].append(vol_id)
    return out


def _prepare_of(ctx, store):
    """The prepare_failover sub-operation (on this site) of the operation
    being rolled back, or None."""
    operation = tasks.op(store)
    rolled_back = tasks.params(store).get("rolled_back_operation_id")
    if not rolled_back:
        return None
    for sub in ops_db.list_all(ctx, operation["project_id"], {
            "protection_group_id": operation["protection_group_id"],
            "operation_type": "prepare_failover",
            "parent_operation_id": rolled_back}, limit=1):
        return sub
    return None


def start_instances(ctx, store):
    """restore_source: start again the servers that the rolled-back
    operation's graceful shutdown stopped (its ``stopped_server``
    records), and only those: Nova os-start of each that is SHUTOFF, then
    wait ACTIVE. One already ACTIVE (or gone) is fine; a re-run skips the
    ones it restarted."""
    prepare = _prepare_of(ctx, store)
    if prepare is None:
        raise flows.Skip("the rolled-back operation stopped nothing on "
                         "this site (no prepare_failover sub-operation)")
    rows = [r for r in dr_db.resources(ctx, op_id=prepare["id"],
                                       rtype=STOPPED)
            if r["status"] in ("creating", "created")]
    done = [r["details"].get("server_id") for r in dr_db.resources(
        ctx, op_id=prepare["id"], rtype=STOPPED) if r["status"] ==
        "restarted"]
    if not rows:
        return {"started": [], "already_active": [], "missing": [],
                "restarted_before": done,
                "prepare_operation_id": prepare["id"]}
    cloud = tasks.target_cloud(ctx, store, warm=("compute",))
    conn = cloud.conn

    def start(row):
        server_id = row["details"].get("server_id") or \
            row["logical_key"].split(":", 1)[-1]
        state = "already_active"
        with cloud.guard("compute"):
            server = conn.compute.find_server(server_id, ignore_missing=True)
            if server is None:
                dr_db.record_resource(ctx, row["id"], server_id,
                                      status="gone")
                return ("missing", server_id)
            if server.status == "SHUTOFF":
                try:
                    conn.compute.start_server(server)
                except sdk_exc.ConflictException:
                    pass  # a start is already under way (a re-run)
                state = "started"
            if server.status != "ACTIVE":
                try:
                    conn.compute.wait_for_server(server, status="ACTIVE",
                                                 wait=SERVER_TIMEOUT)
                except sdk_exc.ResourceFailure as exc:
                    raise exception.CloudServiceError(
                        service="Nova", site=cloud.site["name"],
                        reason="instance %s did not start: %s" %
                        (server_id, exc))
        dr_db.record_resource(ctx, row["id"], server_id, status="restarted")
        return (state, server_id)

    out = {"started": [], "already_active": [], "missing": [],
           "restarted_before": done, "prepare_operation_id": prepare["id"]}
    for state, server_id in _parallel(start, rows):
        out[state].append(server_id)
    return out

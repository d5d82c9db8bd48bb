"""Add and remove protection group members (Nova instances).

Adding reads the instance and its attached volumes from the site where the
group currently runs, checks every volume's type, captures what it takes to
rebuild the instance elsewhere (doc/engine.md, "Recovered resources keep
their identity"),
puts the volumes into the consistency group and then records the member in
a transaction that commits only after the peer accepted the new metadata.
If the push fails the volumes are taken out of the group again.

Neither runs while an operation or a test failover holds the group (409
``protector.operation.conflict`` / ``protector.operation.test_active``):
checked before anything is read, and again in the conditional write that
bumps the version, so an operation claimed meanwhile wins cleanly.
"""
from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from protector.cloud import sites
from protector.cloud import tokens
from protector.cloud import trusts
from protector.db import members as db
from protector.db import protection_groups as pg_db
from protector.db import sites as sites_db
from protector import exception
from protector.pgroups import groups
from protector.pgroups import peers
from protector.pgroups import replication

LOG = logging.getLogger(__name__)
# Nova 2.47+ embeds the flavor; 2.71 lists server groups; the SDK caps at
# what the site supports.
COMPUTE_MICROVERSION = "2.79"
# What a refused change was (the 409 message: "... before you <action>").
ADD = "add a member"
REMOVE = "remove a member"
SET = "change a member's priority"


def _attr(obj, name, default=None):
    try:
        value = getattr(obj, name)
    except AttributeError:
        return default
    return default if value is None else value


def _server(cloud, instance_id, site):
    with cloud.guard("compute"):
        try:
            return cloud.conn.compute.get_server(instance_id)
        except sdk_exc.NotFoundException:
            raise exception.InstanceNotFound(instance=instance_id,
                                             site=site["name"])


def _volumes(cloud, server):
    """Attached volumes with their Cinder details, boot volume first."""
    with cloud.guard("compute"):
        attachments = list(cloud.conn.compute.volume_attachments(server))
    root = _attr(server, "root_device_name")
    out = []
    with cloud.guard("block-storage"):
        for att in attachments:
            vol = cloud.conn.block_storage.get_volume(att.volume_id)
            bootable = str(_attr(vol, "is_bootable", False)).lower() \
                in ("true", "1")
            is_root = (root and att.device == root) or (
                not root and bootable and not server.image)
            # The image a volume was created from (Cinder keeps its name
            # in volume_image_metadata): mock storage "replicates" a boot
            # volume from the image of that name on the target
            # (doc/deployment.md).
            image_meta = _attr(vol, "volume_image_metadata", {}) or {}
            out.append({
                "volume_id": vol.id, "volume_name": vol.name,
                "image_name": image_meta.get("image_name"),
                "size_gb": vol.size, "volume_type": vol.volume_type,
                "volume_type_id": _attr(vol, "volume_type_id"),
                "device": att.device, "bootable": bootable,
                "boot_index": 0 if is_root else None,
                "delete_on_termination": _attr(
                    att, "delete_on_termination", False),
                "description": _attr(vol, "description"),
                "metadata": dict(_attr(vol, "metadata", {}) or {}),
            })
    return sorted(out, key=lambda v: (v["boot_index"] is None,
                                      v["device"] or ""))


def _capture(cloud, server, volumes):
    """The instance's rebuild recipe (JSON-safe, no secrets)."""
    flavor = _attr(server, "flavor", {}) or {}
    if not isinstance(flavor, dict):
        flavor = flavor.to_dict()
    ports = []
    with cloud.guard("network"):
        for port in cloud.conn.network.ports(device_id=server.id):
            ports.append({
                "port_id": port.id, "network_id": port.network_id,
                "mac_address": port.mac_address,
                "fixed_ips": [dict(ip) for ip in port.fixed_ips or []],
                "security_group_ids": list(port.security_group_ids or []),
                "port_security_enabled": port.is_port_security_enabled,
                "allowed_address_pairs": list(
                    port.allowed_address_pairs or []),
            })
        networks = {}
        for port in ports:
            net = cloud.conn.network.get_network(port["network_id"])
            networks[net.id] = net.name
            port["network_name"] = net.name
        sg_ids = sorted({s for p in ports for s in p["security_group_ids"]})
        security_groups = []
        for sg_id in sg_ids:
            sg = cloud.conn.network.get_security_group(sg_id)
            security_groups.append({
                "id": sg.id, "name": sg.name,
                "rules": [{k: r.get(k) for k in (
                    "direction", "ethertype", "protocol", "port_range_min",
                    "port_range_max", "remote_ip_prefix")}
                    for r in sg.security_group_rules or []]})
    server_groups = []
    with cloud.guard("compute"):
        for sg_id in _attr(server, "server_groups", []) or []:
            try:
                group = cloud.conn.compute.get_server_group(sg_id)
                server_groups.append({"id": group.id, "name": group.name,
                                      "policy": _attr(group, "policy")})
            except sdk_exc.NotFoundException:
                pass
    image_id = (_attr(server, "image", {}) or {}).get("id") \
        if isinstance(_attr(server, "image"), dict) else None
    image_name = None
    if image_id:
        # Image-booted: the root disk is not on a replicated volume; the
        # target rebuilds it from the image of this name.
        with cloud.guard("image"):
            image = cloud.conn.image.find_image(image_id,
                                                ignore_missing=True)
        image_name = image.name if image is not None else None
    return {
        "name": server.name,
        "flavor": {k: flavor.get(k) for k in (
            "original_name", "name", "id", "vcpus", "ram", "disk",
            "ephemeral", "swap", "extra_specs") if k in flavor},
        "image_id": image_id,
        "image_name": image_name,
        "boot_from_volume": any(v["boot_index"] == 0 for v in volumes),
        "block_device_mapping": [{
            "volume_id": v["volume_id"], "device": v["device"],
            "boot_index": v["boot_index"], "size_gb": v["size_gb"],
            "delete_on_termination": v["delete_on_termination"]}
            for v in volumes],
        # volume ID -> the image it was created from, where Cinder says.
        "volume_images": {v["volume_id"]: v["image_name"] for v in volumes
                          if v.get("image_name")},
        # What a recovered copy of each volume carries over (its name is
        # the member volume's volume_name): the user finds their own
        # volumes on the target, not Protector's.
        "volume_details": {v["volume_id"]: {
            "description": v.get("description"),
            "metadata": v.get("metadata") or {}} for v in volumes},
        "ports": ports,
        "networks": networks,
        "security_groups": security_groups,
        "key_name": _attr(server, "key_name"),
        "metadata": dict(_attr(server, "metadata", {}) or {}),
        "tags": list(_attr(server, "tags", []) or []),
        "description": _attr(server, "description"),
        "availability_zone": _attr(server, "availability_zone"),
        "server_groups": server_groups,
        "config_drive": bool(_attr(server, "has_config_drive", False)),
        "status": _attr(server, "status"),
    }


def add(caller, pg_ident, body):
    ctx, project = caller.context, caller.tenant_id
    pg = pg_db.get(ctx, project, pg_ident)
    # 409 before anything is read or changed; bump_version(when='idle')
    # repeats the check in its conditional write.
    pg_db.check_idle(ctx, pg["id"], ADD)
    if pg["status"] != "active":
        raise exception.ProtectionGroupBusy(pg=pg["name"],
                                            status=pg["status"],
                                            needed="'active'")
    primary, secondary = groups.group_sites(ctx, pg)
    local, peer_site = sites.split_sites(primary, secondary)
    peer = peers.resolve(caller, project, peer_site)
    site = sites_db.get(ctx, pg["current_primary_site_id"])
    cloud = tokens.cloud_for(caller, site)
    instance_id = body["instance_id"]
    server = _server(cloud, instance_id, site)
    volumes = _volumes(cloud, server)
    wanted = body.get("volume_ids")
    if wanted is not None:
        attached = {v["volume_id"] for v in volumes}
        for vol_id in wanted:
            if vol_id not in attached:
                raise exception.VolumeNotAttached(volume=vol_id,
                                                  instance=instance_id)
        volumes = [v for v in volumes if v["volume_id"] in set(wanted)]
    if not volumes:
        raise exception.NoVolumes(instance=instance_id,
                                  volume_type=pg["volume_type_name"])
    for vol in volumes:
        # Cinder reports the type by name (its ID only from 3.63 on).
        if vol["volume_type"] not in (pg["volume_type_name"],
                                      pg["volume_type_id"]):
            raise exception.VolumeTypeMismatch(
                volume=vol["volume_id"], instance=instance_id,
                actual=vol["volume_type"], pg=pg["name"],
                expected=pg["volume_type_name"])
    taken = db.group_of_volumes(ctx, [v["volume_id"] for v in volumes])
    for vol_id, other in taken.items():
        raise exception.VolumeInOtherGroup(volume=vol_id, pg=other)
    config = _capture(cloud, server, volumes)
    # This site's engine acts for the tenant through a trust.
    trusts.ensure(caller, local)
    cg = pg_db.get_consistency_group(ctx, pg["id"])
    cg_id = cg["primary_cg_id"] if site["id"] == pg["primary_site_id"] \
        else cg["secondary_cg_id"]
    vol_ids = [v["volume_id"] for v in volumes]
    vgroups = groups.driver(caller, site)
    vgroups.add_volumes(cg_id, vol_ids)
    try:
        with groups.synced_change(caller, pg, peer) as push:
            member = db.create(ctx, {
                "protection_group_id": pg["id"], "project_id": project,
                "instance_id": instance_id, "instance_name": server.name,
                "instance_config": config, "current_site_id": site["id"],
                "current_instance_id": instance_id,
                "priority": body.get("priority", db.DEFAULT_PRIORITY)},
                volumes)
            _, version, checksum, doc = pg_db.bump_version(
                ctx, project, pg["id"], when="idle", action=ADD)
            push(version, checksum, doc, changed=[member["id"]])
    except Exception:
        try:
            vgroups.remove_volumes(cg_id, vol_ids)
        except Exception:
            LOG.exception("Could not take volumes %s back out of "
                          "consistency group %s", vol_ids, cg_id)
        raise
    # The arrays replicate the new volumes from now on (with a policy).
    replication.replicate(ctx, pg)
    return member


def set_priority(caller, pg_ident, member_id, priority):
    """Move a member to boot tier ``priority`` on both sites (or on
    neither: the change commits only once the peer accepted it)."""
    ctx, project = caller.context, caller.tenant_id
    pg = pg_db.get(ctx, project, pg_ident)
    member = db.get(ctx, pg["id"], member_id)
    if member["priority"] == priority:
        return member  # nothing to change, nothing to push
    # 409 now while an operation runs; bump_version(when='quiet') repeats
    # the check in its conditional write.
    pg_db.check_no_operation(ctx, pg["id"], SET)
    primary, secondary = groups.group_sites(ctx, pg)
    _, peer_site = sites.split_sites(primary, secondary)
    peer = peers.resolve(caller, project, peer_site)
    with groups.synced_change(caller, pg, peer) as push:
        member = db.set_priority(ctx, member["id"], priority)
        _, version, checksum, doc = pg_db.bump_version(
            ctx, project, pg["id"], when="quiet", action=SET)
        push(version, checksum, doc, changed=[member["id"]])
    return member


def remove(caller, pg_ident, member_id):
    ctx, project = caller.context, caller.tenant_id
    pg = pg_db.get(ctx, project, pg_ident)
    member = db.get(ctx, pg["id"], member_id)
    pg_db.check_idle(ctx, pg["id"], REMOVE)
    if pg["status"] != "active":
        raise exception.ProtectionGroupBusy(pg=pg["name"],
                                            status=pg["status"],
                                            needed="'active'")
    primary, secondary = groups.group_sites(ctx, pg)
    _, peer_site = sites.split_sites(primary, secondary)
    peer = peers.resolve(caller, project, peer_site)
    site = sites_db.get(ctx, pg["current_primary_site_id"])
    cg = pg_db.get_consistency_group(ctx, pg["id"]) or {}
    cg_id = cg.get("primary_cg_id") if site["id"] == pg["primary_site_id"] \
        else cg.get("secondary_cg_id")
    vgroups = groups.driver(caller, site)
    vol_ids = []
    if cg_id:
        # Only those in the group (Cinder refuses to remove others). A
        # group without a consistency group here (a replica whose create
        # never recorded one) holds no volume in one.
        vol_ids = vgroups.volumes_in_group(
            cg_id, [v["current_volume_id"] or v["volume_id"]
                    for v in member["volumes"]])
        vgroups.remove_volumes(cg_id, vol_ids)
    try:
        with groups.synced_change(caller, pg, peer) as push:
            db.delete(ctx, member["id"])
            _, version, checksum, doc = pg_db.bump_version(
                ctx, project, pg["id"], when="idle", action=REMOVE)
            push(version, checksum, doc, removed=[member["id"]])
    except Exception:
        # Nothing may change when the peer refuses: put them back.
        try:
            if vol_ids:
                vgroups.add_volumes(cg_id, vol_ids)
        except Exception:
            LOG.exception("Could not put volumes %s back into consistency "
                          "group %s", vol_ids, cg_id)
        raise

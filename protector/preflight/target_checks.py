"""Preflight checks of the target cloud (preflight/__init__.py): the mapped
networks and flavors, the images, the volume type, a cinder-volume
service and the project's free quota (preflight/quotas.py).

Each check is ``check_x(pc) -> [row...]`` for a ``preflight.Context``; a
listing the target refuses or cannot answer is a warning (not checked),
except for the mappings, which keep their older rule: a name that cannot
be confirmed on the target is missing.
"""
from openstack import exceptions as sdk_exc
from oslo_config import cfg

from protector import exception
from protector.pgroups import capture
from protector.pgroups import volume_types
from protector.preflight import check_rows as rows
from protector.preflight import quotas
from protector import storage

# Short names for the row vocabulary every check uses.
row, _message = rows.row, rows.message
OK, WARN, FAIL = rows.OK, rows.WARN, rows.FAIL


def _list(pc, service, fn):
    cloud = pc.cloud()
    with cloud.guard(service):
        return fn(cloud.conn)


def check_mappings(pc):
    """Every network and flavor the members use, after the mappings,
    exists on the target (a drill keeps the source flavors, or a target
    flavor of the same shape; --auto-network makes its own network)."""
    networks, flavors = capture.needed_names(pc.members)
    out = []
    checks = []
    if not (pc.kind == "test_failover" and pc.args.get("auto_network")):
        checks.append(("network", networks,
                       pc.args.get("network_mapping") or {}))
    else:
        out.append(row("networks", OK, "an isolated test network is "
                       "created (--auto-network)"))
    checks.append(("flavor", flavors, {} if pc.kind == "test_failover"
                   else pc.args.get("flavor_mapping") or {}))
    for what, needed, mapping in checks:
        targets = sorted({mapping.get(n, n) for n in needed})
        try:
            # A mapping may name the target by name or ID (the engine's
            # find_network/find_flavor take either).
            if what == "network":
                found = _list(pc, "network",
                              lambda c: list(c.network.networks()))
            else:
                found = _list(pc, "compute",
                              lambda c: list(c.compute.flavors()))
            present = {x.name for x in found} | {x.id for x in found}
            present.discard(None)
            reason = None
        except Exception as exc:
            present, reason = set(), _message(exc)
        # Names with no mapping must exist as they are (a name that
        # cannot be confirmed is missing: the older rule); a mapping's
        # target must exist too, when the target can be listed at all.
        missing = [n for n in sorted(needed) if n not in mapping and
                   n not in present]
        if missing and what == "flavor" and pc.kind == "test_failover":
            missing = _without_same_shape(pc, missing)
        dangling = [] if reason else sorted(
            "%s=%s" % (n, mapping[n]) for n in needed
            if n in mapping and mapping[n] not in present)
        if missing:
            exc = exception.PreconditionUnmapped(
                what=what, names=", ".join(missing), pg=pc.pg["name"],
                site=pc.target["name"])
            if reason:
                exc.message += (" (The target's %ss could not be listed: "
                                "%s)" % (what, reason))
            out.append(row(what + "s", FAIL, exc.message, exc))
        elif dangling:
            exc = exception.PreconditionUnmapped(
                message="The %s mapping(s) %s of protection group %s name "
                "%ss that do not exist on target site %s; map to one that "
                "does ('openstack %s list' there)." % (
                    what, ", ".join(dangling), pc.pg["name"], what,
                    pc.target["name"], what), what=what)
            out.append(row(what + "s", FAIL, exc.message, exc))
        elif reason:
            out.append(row(what + "s", WARN, "%s (mapped; not checked: the "
                           "target's %ss could not be listed: %s)" % (
                               ", ".join(targets), what, reason)))
        else:
            out.append(row(what + "s", OK, ", ".join(targets) or "none"))
    return out


def _without_same_shape(pc, names):
    try:
        shapes = _list(pc, "compute", lambda c: {
            capture.flavor_shape(f) for f in c.compute.flavors()})
    except Exception:
        return names
    captured = {}
    for member in pc.members:
        flavor = (member["instance_config"] or {}).get("flavor") or {}
        captured[flavor.get("original_name") or flavor.get("name")] = \
            capture.flavor_shape(flavor)
    return [n for n in names if captured.get(n) not in shapes]


def check_images(pc):
    """Image-booted members need their image (by name) on the target; in
    mock storage mode bootable copies are made from an image too."""
    needed, uncaptured = {}, []
    for member in pc.members:
        config = member["instance_config"] or {}
        name = config.get("name") or member["id"]
        if config.get("boot_from_volume", True):
            continue
        if config.get("image_name"):
            needed.setdefault(config["image_name"], []).append(name)
        else:
            uncaptured.append(name)
    if uncaptured:
        # The rebuild would fail after the volumes were made.
        exc = rows.ImageNotCaptured(members=", ".join(sorted(uncaptured)))
        return [row("images", FAIL, exc.message, exc)]
    mock_needed = {}
    if storage.driver_name() == "mock":
        for member in pc.members:
            for vol in member["volumes"]:
                if vol.get("bootable") or vol.get("boot_index") == 0:
                    image = capture.volume_image(member, vol) or \
                        cfg.CONF.storage.mock_image_name
                    mock_needed.setdefault(image, []).append(
                        vol["volume_id"])
    if not needed and not mock_needed:
        return [row("images", OK, "no member needs an image")]
    try:
        present = _list(pc, "image", lambda c: {
            i.name for i in c.image.images()})
    except Exception as exc:
        return [row("images", WARN, "not checked: the images of site %s "
                    "could not be listed (%s)" % (pc.target["name"],
                                                  _message(exc)))]
    out = []
    missing = sorted(n for n in needed if n not in present)
    if missing:
        exc = exception.PreconditionImageMissing(
            members=", ".join(sorted(m for n in missing for m in needed[n])),
            pg=pc.pg["name"], site=pc.target["name"],
            images=", ".join(missing))
        out.append(row("images", FAIL, exc.message, exc))
    elif needed:
        out.append(row("images", OK, ", ".join(sorted(needed))))
    mock_missing = sorted(n for n in mock_needed if n not in present)
    if mock_missing:
        exc = rows.MockImageMissing(images=", ".join(mock_missing),
                                    site=pc.target["name"])
        out.append(row("mock_images", FAIL, exc.message, exc))
    elif mock_needed:
        out.append(row("mock_images", OK, ", ".join(sorted(mock_needed))))
    return out


def check_volume_type(pc):
    pg, target = pc.pg, pc.target
    ident = pg["volume_type_id"] if target["id"] == pg["primary_site_id"] \
        else (pg["remote_volume_type_id"] or pg["volume_type_name"])
    try:
        vt = volume_types.find(pc.cloud(), ident)
    except Exception as exc:
        return [row("volume_type", WARN, "not checked: %s" % _message(exc))]
    try:
        volume_types.check(target, vt, ident, pg["replication_type"])
    except exception.ProtectorException as exc:
        # The group-create errors are 400s; an operation refused for its
        # target's type is a precondition (412).
        err = rows.VolumeTypeUnusable(reason=exc.message)
        return [row("volume_type", FAIL, err.message, err)]
    return [row("volume_type", OK, "%s on site %s is replication-enabled "
                "(%s)" % (vt["name"], target["name"],
                          pg["replication_type"]))]


def check_volume_service(pc):
    def up(conn):
        return [s.host for s in conn.block_storage.services(
            binary="cinder-volume") if s.state == "up"]
    try:
        try:
            hosts = _list(pc, "block-storage", up)
        except sdk_exc.ForbiddenException:
            if pc.service_cloud is None:
                raise
            service = pc.service_cloud(pc.cloud())
            with service.guard("block-storage"):
                hosts = up(service.conn)
    except Exception as exc:
        return [row("volume_service", WARN, "not checked: the cinder-volume "
                    "services could not be listed (%s)" % _message(exc))]
    if not hosts:
        exc = rows.NoVolumeService(site=pc.target["name"])
        return [row("volume_service", FAIL, exc.message, exc)]
    return [row("volume_service", OK, "up: %s" % ", ".join(sorted(hosts)))]


def check_quotas(pc):
    try:
        cloud = pc.cloud()
    except Exception as exc:
        return [row("quotas", WARN, "not checked: %s" % _message(exc))]
    return quotas.check(pc, cloud, row)

"""Preflight quota checks: what an operation creates against what is free.

The need is counted from the members (``need``); the limits and current
usage come from the target project's Cinder, Nova and Neutron quotas
(``-1`` is unlimited). Each quota is a row of the preflight table; a
failure names the quota, the need, what is free and the fix.
"""
from protector import exception
from protector.pgroups import capture

# How to raise a quota (``openstack quota set`` takes each by its name).
FIX = "openstack quota set --%s %d %s"


class QuotaExceeded(exception.PreconditionFailed):
    code = "protector.precondition.quota_exceeded"
    msg_fmt = ("%(quota)s: needs %(need)d, %(free)d free of %(limit)d "
               "(%(used)d in use) on site %(site)s; raise it to at least "
               "%(enough)d ('%(fix)s') or free %(short)d %(unit)s, then "
               "retry")

# What "free N ..." counts, per quota.
UNITS = {"gigabytes": "GB", "ram": "MB of RAM"}


def _target_flavor(pc, member, flavors):
    """The flavor the rebuild will use on the target: the mapped name, or
    (a drill) the same name or one of the same vCPUs/RAM/disk."""
    config = member["instance_config"] or {}
    captured = config.get("flavor") or {}
    name = captured.get("original_name") or captured.get("name")
    if pc.kind != "test_failover":
        name = (pc.args.get("flavor_mapping") or {}).get(name, name)
    for flavor in flavors:
        if name in (flavor.name, getattr(flavor, "id", None)):
            return flavor.vcpus, flavor.ram
    shape = capture.flavor_shape(captured)
    if shape is not None:
        return shape[0], shape[1]
    return None


def need(pc, flavors):
    """What the operation creates on the target, per quota name."""
    members = pc.members
    out = {
        "volumes": sum(len(m["volumes"]) for m in members),
        "gigabytes": sum(v.get("size_gb") or 1 for m in members
                         for v in m["volumes"]),
        # Neither storage driver makes Cinder snapshots on the target.
        "snapshots": 0,
        "instances": len(members),
        "ports": sum(len((m["instance_config"] or {}).get("ports") or [])
                     for m in members),
    }
    cores = ram = 0
    unknown = []
    for member in members:
        shape = _target_flavor(pc, member, flavors)
        if shape is None:
            unknown.append(member["instance_name"] or member["id"])
            continue
        cores += shape[0]
        ram += shape[1]
    out["cores"], out["ram"] = cores, ram
    if pc.kind == "test_failover" and pc.args.get("auto_network"):
        out["networks"] = out["subnets"] = 1
    return out, unknown


def _in_use(quota, keys):
    """(limit, in use + reserved) per key of a Cinder or Nova quota set
    read with ``usage=True`` (the SDK splits each ``{"limit", "in_use",
    "reserved"}`` into the attribute, ``usage`` and ``reservation``)."""
    usage = getattr(quota, "usage", None) or {}
    reserved = getattr(quota, "reservation", None) or {}
    return {k: (getattr(quota, k, None),
                (usage.get(k) or 0) + (reserved.get(k) or 0)) for k in keys}


def _cinder(conn, project):
    return _in_use(conn.block_storage.get_quota_set(project, usage=True),
                   ("volumes", "gigabytes", "snapshots"))


def _nova(conn, project):
    return _in_use(conn.compute.get_quota_set(project, usage=True),
                   ("instances", "cores", "ram"))


def _neutron(conn, project):
    quota = conn.network.get_quota(project, details=True)
    out = {}
    for key in ("ports", "networks", "subnets"):
        value = getattr(quota, key) or {}
        out[key] = (value.get("limit"), (value.get("used") or 0) +
                    (value.get("reserved") or 0))
    return out


SOURCES = (("block-storage", _cinder, ("volumes", "gigabytes", "snapshots")),
           ("compute", _nova, ("instances", "cores", "ram")),
           ("network", _neutron, ("ports", "networks", "subnets")))


def verdict(quota, needed, limit, used, site, project):
    """One row's (result, detail, error) for a quota."""
    if needed == 0:
        return "ok", "needs 0", None
    if limit is None or limit < 0:
        return "ok", "needs %d, unlimited" % needed, None
    free = max(0, limit - used)
    if needed <= free:
        return "ok", "needs %d, %d free of %d (%d in use)" % (
            needed, free, limit, used), None
    enough = used + needed
    exc = QuotaExceeded(quota=quota, need=needed, free=free, limit=limit,
                        used=used, site=site, enough=enough,
                        short=needed - free, unit=UNITS.get(quota, quota),
                        fix=FIX % (quota, enough, project))
    return "fail", exc.message, exc


def check(pc, cloud, row):
    project = cloud.project_id
    site = pc.target["name"]
    try:
        with cloud.guard("compute"):
            flavors = list(cloud.conn.compute.flavors())
    except Exception:
        flavors = []
    needed, unknown = need(pc, flavors)
    rows = []
    for service, read, names in SOURCES:
        wanted = [n for n in names if n in needed]
        try:
            with cloud.guard(service):
                usage = read(cloud.conn, project)
        except Exception as exc:
            reason = getattr(exc, "message", None) or str(exc)
            for name in wanted:
                rows.append(row("quota_" + name, "warn", "not checked: the "
                                "%s quota could not be read (%s)" % (
                                    name, reason[:200])))
            continue
        for name in wanted:
            limit, used = usage[name]
            result, detail, exc = verdict(name, needed[name], limit,
                                          used or 0, site, project)
            if name in ("cores", "ram") and unknown and result == "ok":
                result = "warn"
                detail += " (flavor of %s unknown, not counted)" % \
                    ", ".join(unknown)
            rows.append(row("quota_" + name, result, detail, exc))
    return rows

"""The volume type of a protection group on each of its two sites.

Types are always read from the site's real Cinder, also with
``use_mock_cinder``, which simulates only the consistency groups: the type
a user names is one ``openstack volume type list`` shows on that site.

The two sites may name their replicated type differently (doc/api-ref.md). The
secondary site's type is, in this order: the one the request names
(``secondary_volume_type``, a name or an ID); the secondary's type of the
primary type's name; or else the one replicated type of the secondary
whose replication extra specs match and whose backend is comparable.
Nothing is changed here: the refusals (400) come before a group makes
anything.
"""
from openstack import exceptions as sdk_exc

from protector.cloud import checks
from protector import exception

# Extra specs that say what storage a type lands on, beside
# volume_backend_name: that one names a backend of one site, so it
# differs between two sites by design and is never compared.
BACKEND_SPECS = ("vendor_name", "storage_protocol")
CAPABILITY_PREFIX = "capabilities:"
# Said when the secondary site lacks the type (not in a DR preflight: the
# group's types are chosen by then).
SECONDARY_HINT = (" No other replicated type there matches it either (same "
                  "replication_type, a comparable backend). The secondary "
                  "site's type may have another name than the primary's: "
                  "name it with --secondary-volume-type (REST: "
                  "secondary_volume_type).")
NAMED_HINT = (" --secondary-volume-type names a type of the secondary site "
              "(its name or ID); without it the type of the primary type's "
              "name, or the one matching it, is used.")


def find(cloud, ident):
    """``{"id", "name", "extra_specs"}`` of a type by ID or name on the
    site of ``cloud``, or None when it has no such type."""
    with cloud.guard("block-storage"):
        try:
            vt = cloud.conn.block_storage.find_type(ident,
                                                    ignore_missing=True)
        except sdk_exc.NotFoundException:
            vt = None
    if vt is None:
        return None
    return {"id": vt.id, "name": vt.name,
            "extra_specs": dict(vt.extra_specs or {})}


def check(site, vt, ident, replication_type, hint=""):
    """Refuse a missing type or one that does not replicate as the group
    asks (``ident``: what was looked up, for the message)."""
    if vt is None:
        raise exception.VolumeTypeNotFound(
            volume_type=ident, site=site["name"],
            replication_type=replication_type, hint=hint)
    kind = checks.replication_type_of(vt["extra_specs"])
    reason = None
    if kind is None:
        reason = "replication_enabled is not '<is> True'"
    elif kind == "unknown":
        reason = ("its replication_type is missing or hidden from this user "
                  "(Cinder policy volume_extension:types_extra_specs:"
                  "read_sensitive must allow project members to read it)")
    elif kind != replication_type:
        reason = "replication_type is '%s', the group asks for '%s'" % (
            kind, replication_type)
    if reason:
        raise exception.VolumeTypeNotReplicated(
            volume_type=vt["name"], site=site["name"], reason=reason,
            replication_type=replication_type)


def _backend(specs):
    return {k: str(v).strip().lower() for k, v in specs.items()
            if k in BACKEND_SPECS or k.startswith(CAPABILITY_PREFIX)}


def comparable(specs, other):
    """Whether two types' backends may be the same kind of storage: no
    backend spec that both types set differs (one a user cannot read, or
    that only one type sets, does not count against it)."""
    mine, theirs = _backend(specs), _backend(other)
    return all(theirs[k] == v for k, v in mine.items() if k in theirs)


def matches(vt, candidates, replication_type):
    """The ``candidates`` (rows of ``checks.replicated_volume_types``)
    that can stand for ``vt`` on the other site."""
    return [t for t in candidates
            if t["replication_type"] == replication_type and
            comparable(vt["extra_specs"], t["extra_specs"])]


def _by_extra_specs(cloud, site, vt, replication_type):
    found = matches(vt, checks.replicated_volume_types(cloud),
                    replication_type)
    if len(found) > 1:
        raise exception.VolumeTypeAmbiguous(
            volume_type=vt["name"], site=site["name"],
            replication_type=replication_type,
            candidates=", ".join("%s (%s)" % (t["name"], t["id"])
                                 for t in found))
    return found[0] if found else None


def resolve(sites, clouds, body):
    """(primary type, secondary type) of a group to create from ``body``.

    ``sites`` and ``clouds`` are (primary, secondary) pairs.
    """
    (primary, secondary), (here, there) = sites, clouds
    rtype = body["replication_type"]
    vt = find(here, body["volume_type_id"])
    check(primary, vt, body["volume_type_id"], rtype)
    named = body.get("secondary_volume_type")
    if named:
        remote = find(there, named)
        check(secondary, remote, named, rtype, hint=NAMED_HINT)
        return vt, remote
    remote = find(there, vt["name"])
    if remote is None:
        remote = _by_extra_specs(there, secondary, vt, rtype)
    check(secondary, remote, vt["name"], rtype, hint=SECONDARY_HINT)
    return vt, remote

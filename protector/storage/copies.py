"""What a recovered volume looks like in Cinder.

A copy made on the target (failover, failback, test failover) keeps the
source volume's name, description and metadata: a user who looks at the
target after a failover finds their own volumes. Protector's marker is in
the metadata, not the name: ``protector_copy_key`` (``<operation>:<source
volume>``) makes a re-run find the copy it already made, and
``protector_operation`` says which operation made it.
"""
COPY_KEY = "protector_copy_key"
OPERATION = "protector_operation"


def copy_key(operation_id, source_volume_id):
    return "%s:%s" % (operation_id, source_volume_id)


def attributes(vol, operation_id):
    """name, description and metadata of the copy of member volume
    ``vol`` (as ``pgroups.capture.member_volumes`` gives it)."""
    metadata = dict(vol.get("metadata") or {})
    metadata.update({COPY_KEY: copy_key(operation_id, vol["volume_id"]),
                     OPERATION: operation_id})
    return {"name": vol.get("volume_name") or None,
            "description": vol.get("description"),
            "metadata": metadata}


def volume_type(group, site_id):
    """The group's volume type on ``site_id`` (a name or ID Cinder takes):
    the secondary site's may have another name (doc/api-ref.md), chosen at
    group create (``remote_volume_type_id``)."""
    if site_id == group.get("secondary_site_id") and \
            group.get("remote_volume_type_id"):
        return group["remote_volume_type_id"]
    return group.get("volume_type_name") or group.get("volume_type_id")


# A copy in these states is not one to reuse: Cinder failed it, or it
# is being deleted (a failed copy that was replaced).
GONE = ("error", "deleting", "error_deleting")


def find(conn, name, key, legacy_name=None, skip_error=True):
    """The Cinder volume (not in error) that is the copy ``key``, or None.
    Listed by the copy's name (the source's, shared with the original on
    a failback, so the marker decides), or all volumes when it has none.
    ``legacy_name``: the name copies had before they kept the source's
    (an operation resumed across the upgrade)."""
    found = []
    for wanted in {name, legacy_name} - {None}:
        found.extend(conn.block_storage.volumes(name=wanted))
    if not name and not legacy_name:
        found = conn.block_storage.volumes()
    for vol in found:
        meta = vol.metadata or {}
        if skip_error and vol.status in GONE:
            continue
        if meta.get(COPY_KEY) == key or (
                legacy_name and vol.name == legacy_name):
            return vol
    return None

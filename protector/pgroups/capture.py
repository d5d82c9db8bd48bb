"""Reading what member add captured of an instance (``instance_config``).

Pure functions over a member's plain dict: the preflight (the names and
flavor shapes a target must have), the engine (which image and details a
recovered volume gets) and the array replication (the member volumes)
all read the same capture, so the reading lives here, below all three.
"""


def needed_names(members):
    """(network names, flavor names) the members' instances use."""
    networks, flavors = set(), set()
    for member in members:
        config = member["instance_config"] or {}
        for port in config.get("ports") or []:
            if port.get("network_name"):
                networks.add(port["network_name"])
        flavor = config.get("flavor") or {}
        name = flavor.get("original_name") or flavor.get("name")
        if name:
            flavors.add(name)
    return networks, flavors


def flavor_shape(flavor):
    """(vcpus, ram, disk) of a captured or a Nova flavor, or None."""
    get = flavor.get if isinstance(flavor, dict) else \
        (lambda k: getattr(flavor, k, None))
    shape = (get("vcpus"), get("ram"), get("disk"))
    return None if None in shape else tuple(int(x) for x in shape)


def volume_image(member, vol):
    """The image name a member volume comes from: its own (Cinder's
    volume_image_metadata, captured at member add), else the instance's
    (an image-booted member), else None (mock storage then uses [storage]
    mock_image_name)."""
    config = member["instance_config"] or {}
    return vol.get("image_name") or (config.get("volume_images") or {}).get(
        vol["volume_id"]) or config.get("image_name")


def volume_details(member, vol):
    """The source volume's description and metadata (captured at member
    add), for its recovered copy; empty for a member captured before."""
    config = member["instance_config"] or {}
    details = (config.get("volume_details") or {}).get(vol["volume_id"])
    details = details or {}
    return {"description": details.get("description"),
            "metadata": dict(details.get("metadata") or {})}


def member_volumes(members):
    """Every member volume, flat, with its member, image name, and the
    description and metadata its copy keeps."""
    return [dict(vol, member_id=member["id"],
                 image_name=volume_image(member, vol),
                 **volume_details(member, vol))
            for member in members for vol in member["volumes"]]

"""Engine tasks grouped by kind (octavia style), and what they share.

``lifecycle_tasks`` check and mark the operation's group, ``storage_tasks``
drive the array through the storage driver, ``compute_tasks`` act on the
target cloud (Nova, Neutron), ``database_tasks`` record outcomes. Each task
is ``task(ctx, store) -> dict`` (see ``engine/flows``); these helpers turn
the plain IDs of the store into what the tasks need.
"""
from protector.cloud import connection
from protector.common import crypto
from protector.db import dr as dr_db
from protector.db import replication_policies as policy_db
from protector.db import sites as sites_db
from protector import exception
from protector import storage


def op(store):
    return store["operation"]


def params(store):
    return store["operation"]["parameters"] or {}


def group(ctx, store):
    return dr_db.get_group_by_id(ctx, op(store)["protection_group_id"])


def site(ctx, site_id):
    return sites_db.get(ctx, site_id)


def target_cloud(ctx, store):
    """The target site's cloud, acting through the project's trust in
    that site's Keystone (doc/architecture.md 1: an engine acts on its
    own cloud)."""
    target = site(ctx, op(store)["target_site_id"])
    trust_id = dr_db.find_trust(ctx, target["id"], op(store)["project_id"],
                                op(store)["user_id"])
    if not trust_id:
        raise exception.TrustNotFound(project=op(store)["project_id"],
                                      site=target["name"])
    return connection.SiteCloud.from_trust(target, trust_id)


def policy(ctx, pg_id):
    """The group's replication policy with its tokens decrypted."""
    row = policy_db.get(ctx, pg_id)
    if row is None:
        return None
    out = {k: v for k, v in row.items() if not k.endswith("_encrypted")}
    for side in ("primary", "secondary"):
        enc = row[side + "_fa_api_token_encrypted"]
        out[side + "_fa_api_token"] = crypto.decrypt(enc) if enc else None
    return out


def driver(ctx, store, cloud_factory=None):
    grp = group(ctx, store)
    pol = policy(ctx, grp["id"])
    if pol is None:
        raise exception.PreconditionNoPolicy(pg=grp["name"])
    target = site(ctx, op(store)["target_site_id"])
    return storage.get_driver(
        pol, grp, target,
        cloud_factory or (lambda: target_cloud(ctx, store)))


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

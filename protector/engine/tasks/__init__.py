"""Engine tasks grouped by kind (octavia style), and what they share.

``lifecycle_tasks`` check and mark the operation's group, ``storage_tasks``
drive the array through the storage driver, ``compute_tasks`` act on the
target cloud (Nova, Neutron), ``database_tasks`` record outcomes. Each task
is ``task(ctx, store) -> dict`` (see ``engine/flows``); these helpers turn
the plain IDs of the store into what the tasks need.
"""
from protector.cloud import connection
from protector.db import protection_groups as pg_db
from protector.db import sites as sites_db
from protector.db import trusts as trusts_db
from protector import exception
from protector.pgroups import replication
from protector import storage


def op(store):
    return store["operation"]


def params(store):
    return store["operation"]["parameters"] or {}


def group(ctx, store):
    return pg_db.get_by_id(ctx, op(store)["protection_group_id"])


def site(ctx, site_id):
    return sites_db.get(ctx, site_id)


def target_cloud(ctx, store, warm=()):
    """The target site's cloud, acting through the project's trust in
    that site's Keystone (doc/architecture.md 1: an engine acts on its
    own cloud). ``warm``: the services a step is about to call from many
    threads at once (``SiteCloud.warm``).

    One per run of the operation, kept in the store (never saved): a new
    one per step would authenticate with Keystone again and have every
    service validate its new token again, seconds per step in the lab.
    keystoneauth renews the token when it nears its expiry."""
    target = site(ctx, op(store)["target_site_id"])
    trust_id = trusts_db.find(ctx, target["id"], op(store)["project_id"],
                              op(store)["user_id"])
    if not trust_id:
        raise exception.TrustNotFound(project=op(store)["project_id"],
                                      site=target["name"])
    clouds = store.setdefault("clouds", {})
    cloud = clouds.get((target["id"], trust_id))
    if cloud is None:
        cloud = clouds[(target["id"], trust_id)] = \
            connection.SiteCloud.from_trust(target, trust_id)
    cloud.warm(*warm)
    return cloud


def driver(ctx, store, cloud_factory=None):
    grp = group(ctx, store)
    pol = replication.policy(ctx, grp["id"])
    if pol is None:
        raise exception.PreconditionNoPolicy(pg=grp["name"])
    target = site(ctx, op(store)["target_site_id"])
    return storage.get_driver(
        pol, grp, target,
        cloud_factory or (lambda: target_cloud(ctx, store)))


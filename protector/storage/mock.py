"""The mock storage driver (``use_mock_storage = True``, doc/deployment.md).

Array state lives in SQLite at ``$state_path/mock_storage/arrays.sqlite``
(one file per site, as each site has its own state_path). The simulated
replication link is always current: asking for the latest replicated
snapshot records one of the group's volumes "now". Promoting a snapshot
makes real Cinder volumes on this site: bootable volumes are created from
the Glance image *of the same name* as on the source (the volume's
``image_name``, else ``[storage] mock_image_name``), data volumes blank of
the same size. If the image is missing the step fails with the documented
"Image 'cirros' not found on target site" (code
``protector.storage.mock_image_not_found``).

The Cinder volume keeps the source volume's name, description and
metadata (``protector.storage.copies``). Idempotency: every copy is keyed
by (key, source volume), the key is in the volume's metadata and looked
up before creating, so a re-run after a crash between "create" and
"record" finds the volume instead of making a second one.
"""
import contextlib
import datetime
import json
import os
import sqlite3
import uuid

from openstack import exceptions as sdk_exc
from oslo_config import cfg
from oslo_utils import timeutils

from protector.common import fanout
from protector import exception
from protector.storage import base
from protector.storage import copies

CONF = cfg.CONF

SCHEMA = """
CREATE TABLE IF NOT EXISTS replication (
    pg_id TEXT PRIMARY KEY, pure_pg_name TEXT, source_site TEXT,
    interval INTEGER, volumes TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS snapshots (
    id TEXT PRIMARY KEY, pg_id TEXT NOT NULL, site TEXT, name TEXT,
    skey TEXT UNIQUE, created_at TEXT NOT NULL, volumes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS copies (
    ckey TEXT PRIMARY KEY, pg_id TEXT NOT NULL, site TEXT,
    snapshot_id TEXT, source_volume_id TEXT NOT NULL, backend_ref TEXT,
    cinder_volume_id TEXT, purpose TEXT, status TEXT NOT NULL);
"""


def _now():
    return timeutils.utcnow().replace(microsecond=0)


def state_dir(conf=CONF):
    return os.path.join(conf.state_path, "mock_storage")


class MockStorageDriver(base.StorageDriver):
    name = "mock"

    def __init__(self, policy, group, site, cloud_factory=None, conf=CONF):
        super().__init__(policy, group, site, cloud_factory)
        self._images = {}
        os.makedirs(state_dir(conf), exist_ok=True)
        self.path = os.path.join(state_dir(conf), "arrays.sqlite")
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _db(self):
        conn = sqlite3.connect(self.path, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    # -- replication -------------------------------------------------------

    def ensure_replication(self, volumes):
        name = (self.policy or {}).get("pure_pg_name") or \
            "pg-%s" % self.group["id"]
        refs = [self._ref(v) for v in volumes]
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO replication VALUES (?,?,?,?,?,?)",
                (self.group["id"], name,
                 self.group.get("current_primary_site_id") or
                 self.group.get("primary_site_id") or self.site["id"],
                 (self.policy or {}).get("replication_interval"),
                 json.dumps(refs), _now().isoformat()))
        return {"pure_pg_name": name, "volumes": refs}

    def _ref(self, volume):
        return volume.get("backend_ref") or "volume-%s-cinder" % \
            volume["volume_id"]

    def _snapshot(self, volumes, key=None):
        with self._db() as db:
            if key:
                row = db.execute("SELECT * FROM snapshots WHERE skey=?",
                                 (key,)).fetchone()
                if row:
                    return self._snap_dict(row)
            snap_id = str(uuid.uuid4())
            created = _now()
            vols = [dict(v, backend_ref=self._ref(v)) for v in volumes]
            name = "%s.%s" % ((self.policy or {}).get("pure_pg_name") or
                              "pg-%s" % self.group["id"],
                              created.strftime("%Y%m%d%H%M%S"))
            db.execute("INSERT INTO snapshots VALUES (?,?,?,?,?,?,?)",
                       (snap_id, self.group["id"], self.site["id"], name,
                        key, created.isoformat(), json.dumps(vols)))
            row = db.execute("SELECT * FROM snapshots WHERE id=?",
                             (snap_id,)).fetchone()
            return self._snap_dict(row)

    @staticmethod
    def _snap_dict(row):
        return {"id": row["id"], "name": row["name"], "site": row["site"],
                "created_at": row["created_at"] + "Z",
                "volumes": json.loads(row["volumes"])}

    def create_replicated_snapshot(self, volumes, key):
        return self._snapshot(volumes, key)

    def latest_replicated_snapshot(self, volumes):
        # The simulated link is always current: replicate "now".
        return self._snapshot(volumes)

    def replication_lag(self):
        with self._db() as db:
            row = db.execute(
                "SELECT max(created_at) FROM snapshots WHERE pg_id=?",
                (self.group["id"],)).fetchone()
        if not row or not row[0]:
            return None
        then = datetime.datetime.fromisoformat(row[0])
        return int((_now() - then).total_seconds())

    def reverse_replication(self, volumes=None):
        with self._db() as db:
            db.execute("UPDATE replication SET source_site=?, updated_at=? "
                       "WHERE pg_id=?", (self.site["id"],
                                         _now().isoformat(),
                                         self.group["id"]))
        return {"source_site": self.site["id"]}

    def restore_replication(self, volumes=None):
        # Back to the direction before the failback: from the peer.
        peer = self.group.get("secondary_site_id") \
            if self.site["id"] == self.group.get("primary_site_id") \
            else self.group.get("primary_site_id")
        with self._db() as db:
            db.execute("UPDATE replication SET source_site=?, updated_at=? "
                       "WHERE pg_id=?", (peer, _now().isoformat(),
                                         self.group["id"]))
        return {"source_site": peer}

    def replication_source(self):
        """The simulated replication's source site (tests)."""
        with self._db() as db:
            row = db.execute("SELECT source_site FROM replication WHERE "
                             "pg_id=?", (self.group["id"],)).fetchone()
        return row["source_site"] if row else None

    # -- copies on this site -------------------------------------------------

    def _volume_type(self):
        return copies.volume_type(self.group, self.site["id"]) or None

    def _find_image(self, name):
        # Looked up once per driver (a rebuild shares one among its
        # threads: engine/tasks/storage_tasks.CopyRequests).
        if name not in self._images:
            with self.cloud.guard("image"):
                image = self.cloud.conn.image.find_image(
                    name, ignore_missing=True)
            if image is None:
                raise exception.MockImageNotFound(image=name,
                                                  site=self.site["name"])
            self._images[name] = image
        return self._images[name]

    def check_promote(self, snapshot):
        # A missing image fails the promote step before any copy is made.
        for name in {vol.get("image_name") or CONF.storage.mock_image_name
                     for vol in snapshot["volumes"]
                     if vol.get("bootable") or vol.get("boot_index") == 0}:
            self._find_image(name)

    def _existing(self, name, ckey):
        with self.cloud.guard("block-storage"):
            return copies.find(self.cloud.conn, name, ckey)

    def promote_volumes(self, snapshot, key, purpose="failover",
                        fresh=frozenset()):
        # Only asked for, not waited for: the rebuild waits for each VM's
        # own copies and boots it as soon as they are ready (a pipeline,
        # engine/tasks/storage_tasks.wait_copies), while Cinder makes the
        # rest. The requests go out [engine] max_parallel_volumes at a
        # time; each copy is idempotent on its own key.
        # One SiteCloud for all threads, made and its token seen by Cinder
        # before they start (SiteCloud.warm). A copy of a ``fresh`` volume
        # is made without looking for one first: Cinder lists by name at
        # some 70 ms of its CPU each, 1.5 s for 20 copies in the lab.
        self.cloud.warm("block-storage")
        self.check_promote(snapshot)
        return fanout.run(
            lambda vol: self._promote_one(snapshot, vol, key, purpose,
                                          vol["volume_id"] in fresh),
            snapshot["volumes"], CONF.engine.max_parallel_volumes)

    def _promote_one(self, snapshot, vol, key, purpose, fresh=False):
        ckey = copies.copy_key(key, vol["volume_id"])
        # The "array" name of the copy; in Cinder it keeps the source's.
        name = ("protector-%s-%s" % (purpose, ckey.replace(":", "-")))[:255]
        attrs = copies.attributes(vol, key)
        with self._db() as db:
            db.execute(
                "INSERT OR IGNORE INTO copies VALUES (?,?,?,?,?,?,?,?,?)",
                (ckey, self.group["id"], self.site["id"], snapshot["id"],
                 vol["volume_id"], name, None, purpose, "creating"))
        conn = self.cloud.conn
        existing = None if fresh else self._existing(attrs["name"], ckey)
        if existing is None:
            attrs["size"] = vol.get("size_gb") or 1
            if vol.get("bootable") or vol.get("boot_index") == 0:
                image_name = vol.get("image_name") or \
                    CONF.storage.mock_image_name
                attrs["image_id"] = self._find_image(image_name).id
            if self._volume_type():
                attrs["volume_type"] = self._volume_type()
            with self.cloud.guard("block-storage"):
                existing = conn.block_storage.create_volume(**attrs)
        with self._db() as db:
            db.execute("UPDATE copies SET cinder_volume_id=?, "
                       "status='made' WHERE ckey=?", (existing.id, ckey))
        return {"source_volume_id": vol["volume_id"], "backend_ref": name,
                "cinder_volume_id": existing.id}

    def delete_copies(self, copies):
        conn = self.cloud.conn
        deleted = []
        for copy in copies:
            vol_id = copy.get("cinder_volume_id")
            if vol_id:
                with self.cloud.guard("block-storage"):
                    try:
                        conn.block_storage.delete_volume(vol_id,
                                                         ignore_missing=True)
                    except sdk_exc.HttpException as exc:
                        raise exception.StorageError(driver=self.name,
                                                     reason=str(exc))
            with self._db() as db:
                db.execute("UPDATE copies SET status='deleted' WHERE "
                           "backend_ref=?", (copy.get("backend_ref"),))
            deleted.append(copy.get("backend_ref") or vol_id)
        return deleted

    def find_copy(self, key, source_volume_id, purpose="failover"):
        ckey = "%s:%s" % (key, source_volume_id)
        with self._db() as db:
            row = db.execute("SELECT * FROM copies WHERE ckey=?",
                             (ckey,)).fetchone()
        if row is None or row["status"] == "deleted":
            return None
        vol_id = row["cinder_volume_id"]
        if not vol_id and self.cloud is not None:
            # Made in Cinder but failed before 'available' was recorded:
            # its metadata carries this key (any name: the source's).
            found = self._existing(None, ckey)
            vol_id = found.id if found is not None else None
        return {"source_volume_id": source_volume_id,
                "backend_ref": row["backend_ref"],
                "cinder_volume_id": vol_id}

    def copies(self, status=None):
        """Rows of this group's copies (for tests and inventory)."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM copies WHERE pg_id=?",
                              (self.group["id"],)).fetchall()
        return [dict(r) for r in rows
                if status is None or r["status"] == status]

"""Simulated Cinder consistency groups in SQLite (``use_mock_cinder``).

Seed 004's mock mode for clouds without a group-capable Cinder backend.
The state lives in ``$state_path/mock_storage/cinder.sqlite``, shared by
the API workers of this site (SQLite serialises the writers). It holds the
volume types (seeded with the three the lab and the tests use, identical on
every site so that the peer's type is found by the same name) and the
groups with their volumes, keyed by site name because one service creates
the groups of both sites.
"""
import contextlib
import json
import os
import sqlite3
import uuid

from oslo_config import cfg

from protector.volume_groups import base

# Fixed IDs, so tests and operators can refer to the seeded types.
SEEDED_TYPES = (
    ("5e1f2b4a-0000-4000-8000-00000000a51c", "replicated-async",
     {"replication_enabled": "<is> True", "replication_type": "<in> async",
      "volume_backend_name": "mock"}),
    ("5e1f2b4a-0000-4000-8000-0000000005ec", "replicated-sync",
     {"replication_enabled": "<is> True", "replication_type": "<in> sync",
      "volume_backend_name": "mock"}),
    ("5e1f2b4a-0000-4000-8000-00000000057d", "standard",
     {"volume_backend_name": "mock"}),
)
MOCK_GROUP_TYPE_ID = "5e1f2b4a-0000-4000-8000-000000000c90"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS volume_types (
    id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, extra_specs TEXT);
CREATE TABLE IF NOT EXISTS groups (
    id TEXT PRIMARY KEY, site TEXT NOT NULL, name TEXT,
    volume_type_id TEXT, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS group_volumes (
    group_id TEXT NOT NULL, volume_id TEXT NOT NULL,
    PRIMARY KEY (group_id, volume_id));
"""


def db_path():
    return os.path.join(cfg.CONF.state_path, "mock_storage", "cinder.sqlite")


@contextlib.contextmanager
def connect():
    path = db_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.executescript(_SCHEMA)
        conn.executemany(
            "INSERT OR IGNORE INTO volume_types VALUES (?, ?, ?)",
            [(i, n, json.dumps(s)) for i, n, s in SEEDED_TYPES])
        yield conn
        conn.commit()
    finally:
        conn.close()


class MockCinderGroups(base.VolumeGroups):

    def find_volume_type(self, ident):
        with connect() as conn:
            row = conn.execute(
                "SELECT id, name, extra_specs FROM volume_types "
                "WHERE id = ? OR name = ? ORDER BY id = ? DESC",
                (ident, ident, ident)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "name": row[1],
                "extra_specs": json.loads(row[2] or "{}")}

    def create_group(self, name, volume_type_id, description=None):
        group_id = str(uuid.uuid4())
        with connect() as conn:
            conn.execute("INSERT INTO groups VALUES (?, ?, ?, ?, ?)",
                         (group_id, self.site["name"], name, volume_type_id,
                          "available"))
        return {"id": group_id, "group_type_id": MOCK_GROUP_TYPE_ID,
                "backend_name": "mock"}

    def delete_group(self, group_id):
        with connect() as conn:
            conn.execute("DELETE FROM group_volumes WHERE group_id = ?",
                         (group_id,))
            conn.execute("DELETE FROM groups WHERE id = ?", (group_id,))

    def add_volumes(self, group_id, volume_ids):
        with connect() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO group_volumes VALUES (?, ?)",
                [(group_id, v) for v in volume_ids])

    def remove_volumes(self, group_id, volume_ids):
        with connect() as conn:
            conn.executemany(
                "DELETE FROM group_volumes WHERE group_id = ? AND "
                "volume_id = ?", [(group_id, v) for v in volume_ids])

    def volumes_in_group(self, group_id, volume_ids):
        with connect() as conn:
            rows = conn.execute("SELECT volume_id FROM group_volumes WHERE "
                                "group_id = ?", (group_id,)).fetchall()
        inside = {r[0] for r in rows}
        return [v for v in volume_ids if v in inside]

    def group_exists(self, group_id):
        with connect() as conn:
            return conn.execute("SELECT 1 FROM groups WHERE id = ?",
                                (group_id,)).fetchone() is not None

    def group_volumes(self, group_id):
        with connect() as conn:
            return sorted(r[0] for r in conn.execute(
                "SELECT volume_id FROM group_volumes WHERE group_id = ?",
                (group_id,)))

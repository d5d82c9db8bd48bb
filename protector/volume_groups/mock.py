"""Simulated Cinder consistency groups in SQLite (``use_mock_cinder``).

The mock mode (doc/deployment.md) for clouds without a group-capable
Cinder backend: it simulates the consistency-group operations only.
Volume types are not simulated: they are read from the site's real
Cinder, as without the mock (``pgroups/volume_types.py``), so the types a
user names are the site's.
The state lives in ``$state_path/mock_storage/cinder.sqlite``, shared by
the API workers of this site (SQLite serialises the writers): the groups
with their volumes, keyed by site name because one service creates the
groups of both sites.
"""
import contextlib
import os
import sqlite3
import uuid

from oslo_config import cfg

from protector.volume_groups import base

MOCK_GROUP_TYPE_ID = "5e1f2b4a-0000-4000-8000-000000000c90"

_SCHEMA = """
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
        yield conn
        conn.commit()
    finally:
        conn.close()


class MockCinderGroups(base.VolumeGroups):

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

"""The synced metadata document of a protection group and its checksum.

The document names sites by *name* (site UUIDs are per-site database rows)
and leaves out timestamps of the rows themselves, so both sites compute the
same checksum for the same content. The checksum is the SHA-256 of the
canonical JSON: sorted keys, no whitespace, UTF-8.
"""
import hashlib
import json


def canonical(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def checksum(document):
    return hashlib.sha256(canonical(document)).hexdigest()


def deletion(pg_id):
    """The document that tells the peer a group was deleted."""
    return {"id": pg_id, "deleted": True}

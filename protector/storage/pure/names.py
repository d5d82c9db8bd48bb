"""How Protector names things on a FlashArray.

Cinder's Pure driver names a Cinder volume ``volume-<id>-cinder`` (inside a
pod ``<pod>::volume-<id>-cinder``); a replicated snapshot of protection
group ``pg`` from array ``src`` is ``src:pg.<suffix>`` on the target, its
volume snapshots ``src:pg.<suffix>.<vol>`` (storage-research.md 1.3).

Protector's own volumes (copies made from snapshots) are
``protector-<f|t>-<8 hex of the operation key>-<source volume id>``: stable
for one operation, so a resumed step finds the copy it already made, and
recognisable, so cleanup never touches a volume Protector did not make.
Purity names are at most 63 characters and must not contain ``.`` (Cinder
splits snapshot names on it).
"""
import hashlib
import re

COPY_PREFIX = "protector-"
PURPOSE_CODE = {"failover": "f", "test": "t"}
MAX_NAME = 63


def cinder_volume(volume_id):
    return "volume-%s-cinder" % volume_id


def in_pod(pod, name):
    return name if "::" in name else "%s::%s" % (pod, name)


def local_part(name):
    """``vol`` of ``pod::vol``."""
    return name.split("::")[-1]


def key_hash(key, length=8):
    return hashlib.sha1(str(key).encode()).hexdigest()[:length]


def copy_name(key, volume_id, purpose):
    name = "%s%s-%s-%s" % (COPY_PREFIX, PURPOSE_CODE.get(purpose, "x"),
                           key_hash(key), volume_id)
    return _clean(name)[:MAX_NAME]


def is_copy(name):
    return bool(name) and local_part(name).startswith(COPY_PREFIX)


def snapshot_suffix(key):
    """A pgroup snapshot suffix for an operation (letters, digits, '-')."""
    return "protector-%s" % key_hash(key, 12)


def remote_pg(source_array, pg):
    """The name of ``pg`` as seen on its target (``pod::pg`` -> ``pod:pg``)."""
    if "::" in pg:
        return pg.replace("::", ":", 1)
    return "%s:%s" % (source_array, pg)


def volume_candidates(volume):
    """Array names a member volume may have, for messages and lookups:
    the Cinder name of its current volume (after a failover Cinder's
    manage renamed our copy), the recorded backend ref, the Cinder name of
    the original volume."""
    out = []
    if volume.get("current_volume_id"):
        out.append(cinder_volume(volume["current_volume_id"]))
    if volume.get("backend_ref"):
        out.append(local_part(volume["backend_ref"]))
    out.append(cinder_volume(volume["volume_id"]))
    return list(dict.fromkeys(out))


def is_failover_copy_of(name, volume):
    """A failover copy of ``volume`` kept under Protector's name (not
    renamed by a Cinder manage)."""
    name = local_part(name)
    return name.startswith(COPY_PREFIX + "f-") and \
        name.endswith("-" + volume["volume_id"])


def pick(volume, available, pod=None):
    """The name ``volume`` has among ``available`` (``{name: order}``,
    higher order = newer), or None.

    Where the workload runs now wins: the Cinder name of its current
    volume, else its newest Protector failover copy (a failover whose
    copy Cinder did not rename), else its original names. Inside ``pod``
    the pod-qualified name is preferred.
    """
    def first(cands):
        for cand in cands:
            for name in ([in_pod(pod, cand)] if pod else []) + [cand]:
                if name in available:
                    return name
        return None

    if volume.get("current_volume_id"):
        found = first([cinder_volume(volume["current_volume_id"])])
        if found:
            return found
    copies = [n for n in available if is_failover_copy_of(n, volume)]
    if copies:
        return max(copies, key=lambda n: (available[n], n))
    rest = [local_part(volume["backend_ref"])] if volume.get(
        "backend_ref") else []
    return first(rest + [cinder_volume(volume["volume_id"])])


def _clean(text):
    return re.sub(r"[^A-Za-z0-9-]", "-", text)

"""Replication engine: PG snapshots, transfers, schedules, retention.

Time is discrete-event: ``run_until`` steps the fabric from its last tick
to the clock, stopping at every scheduled snapshot and every transfer
completion, so advancing the clock by a day produces exactly the snapshots
and retention pruning a day of Purity would, in order.

A transfer is queued on the source as soon as a replicated PG snapshot is
taken. While the link (or either array) is down it makes no progress and
the target knows nothing about it; once the link is up the target shows
``<src>:<pg>.<suffix>`` with ``progress`` < 1, and the per-volume
snapshots ``<src>:<pg>.<suffix>.<vol>`` appear only when it completes.
"""
from .query import bad
from .state import DAY_MS, ERADICATION_MS, PGSnapshot, VolumeSnapshot

MAX_STEPS = 200_000


class Transfer:
    def __init__(self, fabric, src, dst, snap, pg, started):
        self.id = fabric.new_id()
        self.src, self.dst = src, dst
        self.snap = snap            # source PGSnapshot
        self.pg = pg                # source ProtectionGroup
        self.queued = started
        self.started = None
        self.completed = None
        self.fraction = 0.0
        self.remote = None          # target PGSnapshot once started
        # What the snapshot holds, captured now:
        # vol -> (data_version, size, id)
        arr = fabric.arrays[src]
        self.payload = {}
        for vol_name, vs_name in snap.members.items():
            vs = arr.find("vsnaps", vs_name)
            if vs is not None:
                self.payload[vol_name] = (vs.data_version, vs.provisioned,
                                          vs.source_id)
        self.total_bytes = sum(min(p[1], 1 << 30)
                               for p in self.payload.values()) or 1

    @property
    def progress(self):
        return 1.0 if self.completed is not None else round(self.fraction, 4)

    @property
    def data_transferred(self):
        return int(self.total_bytes * self.progress)


def short(name):
    """Object name without its pod prefix (``pod::vol`` -> ``vol``)."""
    return name.split("::", 1)[-1]


def remote_pg_name(src, pg_name):
    """How a source PG is named on its target: ``src:pg`` / ``pod:pg``."""
    if "::" in pg_name:
        return pg_name.replace("::", ":", 1)
    return f"{src}:{pg_name}"


def take_snapshot(fabric, arr, pg, suffix=None, replicate=False,
                  managed=False, now=None):
    """Create ``<pg>.<suffix>`` and a volume snapshot per member volume."""
    now = fabric.now() if now is None else now
    cont = arr.container_for(pg.name)
    if suffix is None:
        while f"{pg.name}.{pg.next_suffix}" in cont.pgsnaps:
            pg.next_suffix += 1
        suffix = str(pg.next_suffix)
        pg.next_suffix += 1
    name = f"{pg.name}.{suffix}"
    if name in cont.pgsnaps:
        raise bad(f"Protection group snapshot '{name}' already exists.", name)
    snap = PGSnapshot(fabric, name, pg.name, suffix, now, managed)
    for vol_name in pg.volumes:
        vol = arr.find("volumes", vol_name)
        if vol is None or vol.destroyed:
            continue
        vs_name = f"{name}.{short(vol_name)}"
        vs = VolumeSnapshot(fabric, vs_name, vol.name, vol.id, now,
                            vol.provisioned, vol.data_version, suffix, name)
        cont.vsnaps[vs_name] = vs
        snap.members[vol_name] = vs_name
    cont.pgsnaps[name] = snap
    if replicate:
        start_transfers(fabric, arr, pg, snap, now)
    if managed:
        apply_retention(fabric, arr, pg, [cont], pg.source_retention, now)
    return snap


def start_transfers(fabric, arr, pg, snap, now, only=None):
    """Queue a transfer of ``snap`` to every allowed target of ``pg``."""
    started = []
    for target, info in pg.targets.items():
        if only and target not in only:
            continue
        if not info.get("allowed"):
            continue
        if any(t.dst == target for t in snap.transfers):
            continue
        tr = Transfer(fabric, arr.name, target, snap, pg, now)
        snap.transfers.append(tr)
        fabric.transfers.append(tr)
        started.append(tr)
    step_transfers(fabric, 0, now)
    return started


def _begin_remote(fabric, tr, now):
    dst = fabric.arrays[tr.dst]
    rpg_name = remote_pg_name(tr.src, tr.pg.name)
    rpg = dst.local.pgroups.get(rpg_name)
    if rpg is None or rpg.destroyed:
        return False
    rname = f"{rpg_name}.{tr.snap.suffix}"
    remote = PGSnapshot(fabric, rname, rpg_name, tr.snap.suffix,
                        tr.snap.created, tr.snap.managed)
    remote.transfer = tr
    dst.local.pgsnaps[rname] = remote
    tr.remote = remote
    tr.started = now
    return True


def _complete(fabric, tr, now):
    dst = fabric.arrays[tr.dst]
    tr.completed = now
    tr.fraction = 1.0
    remote = tr.remote
    for vol_name, (dv, size, vol_id) in tr.payload.items():
        vs_name = f"{remote.name}.{short(vol_name)}"
        src_name = f"{tr.src}:{short(vol_name)}"
        vs = VolumeSnapshot(fabric, vs_name, src_name, vol_id, remote.created,
                            size, dv, remote.suffix, remote.name)
        dst.local.vsnaps[vs_name] = vs
        remote.members[vol_name] = vs_name
    fabric.transfers.remove(tr)
    rpg = dst.local.pgroups.get(remote.pg_name)
    if rpg is not None and remote.managed:
        apply_retention(fabric, dst, rpg, [dst.local], tr.pg.target_retention,
                        now)


def step_transfers(fabric, dt_ms, now):
    """Advance every running transfer by ``dt_ms`` of simulated time."""
    for tr in list(fabric.transfers):
        if not fabric.reachable(tr.src, tr.dst):
            continue
        if tr.remote is None and not _begin_remote(fabric, tr, now):
            continue
        link = fabric.link(tr.src, tr.dst)
        if link.transfer_seconds <= 0:
            _complete(fabric, tr, now)
            continue
        tr.fraction += dt_ms / (link.transfer_seconds * 1000.0)
        if tr.fraction >= 0.9999:
            _complete(fabric, tr, now)


def _next_transfer_event(fabric, now):
    best = None
    for tr in fabric.transfers:
        if not fabric.reachable(tr.src, tr.dst):
            continue
        secs = fabric.link(tr.src, tr.dst).transfer_seconds
        left = 0 if secs <= 0 else (1.0 - tr.fraction) * secs * 1000.0
        t = now + max(0, int(left + 0.999))
        best = t if best is None else min(best, t)
    return best


def _schedules(fabric):
    """(array, pg, kind, due_ms) for every enabled schedule of a live array."""
    for arr in fabric.arrays.values():
        if arr.down is not None:
            continue
        for pg in arr.all("pgroups"):
            if not pg.is_local or pg.destroyed:
                continue
            # A pod PG is owned by its first member array only.
            if "::" in pg.name:
                pod = fabric.pods[pg.name.split("::")[0]]
                if next((m for m in pod.members
                         if fabric.arrays[m].down is None), None) != arr.name:
                    continue
            for kind, sched, last in (
                    ("snapshot", pg.snapshot_schedule, pg.last_snapshot),
                    ("replication", pg.replication_schedule,
                     pg.last_replication)):
                if sched.get("enabled") and sched.get("frequency"):
                    base = last if last is not None else fabric.last_tick
                    yield arr, pg, kind, base + int(sched["frequency"])


def run_until(fabric, t_end):
    """Run the discrete-event loop from ``fabric.last_tick`` to ``t_end``."""
    for _ in range(MAX_STEPS):
        now = fabric.last_tick
        nxt = t_end
        for _a, _p, _k, due in _schedules(fabric):
            nxt = min(nxt, due)
        tev = _next_transfer_event(fabric, now)
        if tev is not None:
            nxt = min(nxt, tev)
        nxt = max(nxt, now)
        step_transfers(fabric, nxt - now, nxt)
        fabric.last_tick = nxt
        for arr, pg, kind, due in list(_schedules(fabric)):
            if due > nxt:
                continue
            if kind == "snapshot":
                pg.last_snapshot = due
                take_snapshot(fabric, arr, pg, managed=True, now=due)
            else:
                pg.last_replication = due
                if pg.targets:
                    take_snapshot(fabric, arr, pg, replicate=True,
                                  managed=True, now=due)
        _expire(fabric, nxt)
        if nxt >= t_end:
            return
    raise RuntimeError("replication engine did not converge")


def note_schedule_change(fabric, pg, now):
    """A schedule was (re)enabled: the first run is one interval from now."""
    if pg.snapshot_schedule.get("enabled") and pg.last_snapshot is None:
        pg.last_snapshot = now
    if pg.replication_schedule.get("enabled") and pg.last_replication is None:
        pg.last_replication = now
    if not pg.snapshot_schedule.get("enabled"):
        pg.last_snapshot = None
    if not pg.replication_schedule.get("enabled"):
        pg.last_replication = None


# ------------------------------------------------------------- retention

def apply_retention(fabric, arr, pg, containers, policy, now):
    """Prune retention-managed snapshots of ``pg`` per a RetentionPolicy.

    Keep everything younger than ``all_for_sec``; then, for each of the
    next ``days`` days, the newest ``per_day`` snapshots; eradicate the
    rest. Snapshots still being transferred are never pruned.
    """
    all_for = int(policy.get("all_for_sec", 86400)) * 1000
    per_day = int(policy.get("per_day", 0))
    days = int(policy.get("days", 0))
    snaps = []
    for cont in containers:
        snaps += [s for s in cont.pgsnaps.values()
                  if s.pg_name == pg.name and s.managed and not s.destroyed]
    snaps.sort(key=lambda s: s.created, reverse=True)
    buckets = {}
    for s in snaps:
        age = now - s.created
        if age < all_for:
            continue
        if s.transfer is not None and s.transfer.completed is None:
            continue
        if any(t.completed is None for t in s.transfers):
            continue
        day = (age - all_for) // DAY_MS
        if day < days and buckets.get(day, 0) < per_day:
            buckets[day] = buckets.get(day, 0) + 1
            continue
        eradicate_pgsnap(fabric, arr, s)


def eradicate_pgsnap(fabric, arr, snap):
    cont = arr.container_for(snap.name)
    for vs_name in snap.members.values():
        cont.vsnaps.pop(vs_name, None)
    cont.pgsnaps.pop(snap.name, None)
    for tr in snap.transfers:
        if tr in fabric.transfers:
            fabric.transfers.remove(tr)
    if snap.transfer is not None and snap.transfer in fabric.transfers:
        fabric.transfers.remove(snap.transfer)


def _expire(fabric, now):
    """Eradicate objects destroyed more than 24 h of sim time ago."""
    for arr in fabric.arrays.values():
        for cont in arr.containers():
            for snap in list(cont.pgsnaps.values()):
                if (snap.destroyed
                        and now - snap.destroyed_at >= ERADICATION_MS):
                    eradicate_pgsnap(fabric, arr, snap)
            for kind in ("vsnaps", "volumes", "pgroups"):
                objs = getattr(cont, kind)
                for name, obj in list(objs.items()):
                    if (obj.destroyed
                            and now - obj.destroyed_at >= ERADICATION_MS):
                        del objs[name]
    for name, pod in list(fabric.pods.items()):
        if pod.destroyed and now - pod.destroyed_at >= ERADICATION_MS:
            del fabric.pods[name]

"""Time spent waiting on the clouds, for the orchestration-overhead
figure (tools/bench_failover.py).

Every ``SiteCloud.guard`` block (one cloud call, or a wait for a server or
volume status) and every wait on a peer's sub-operation is recorded as an
interval. The engine's runner asks, per step, for the length of the
*union* of the intervals inside the step: with instances rebuilt in
parallel, overlapping waits count once, which is the time the step spent
waiting on a cloud on its critical path. The rest of the step's time is
Protector's own (database, bookkeeping, thread hand-offs). Process-wide:
exact when the engine runs one operation at a time, as in the benchmark.
"""
import contextlib
import threading
import time

_LOCK = threading.Lock()
_INTERVALS = []
_KEEP = 10000


@contextlib.contextmanager
def waiting():
    start = time.monotonic()
    try:
        yield
    finally:
        with _LOCK:
            _INTERVALS.append((start, time.monotonic()))
            if len(_INTERVALS) > _KEEP:
                del _INTERVALS[:len(_INTERVALS) - _KEEP]


def union_between(start, end):
    """Seconds within [start, end] covered by at least one interval."""
    with _LOCK:
        spans = sorted((max(s, start), min(e, end)) for s, e in _INTERVALS
                       if e > start and s < end)
    total, cur_s, cur_e = 0.0, None, None
    for s, e in spans:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total

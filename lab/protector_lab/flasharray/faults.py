"""Fault and latency knobs (Python API; ``control.py`` exposes them as HTTP).

Every knob first brings the simulation up to the clock, so that a fault
takes effect at a well-defined simulated time: a link taken down after a
transfer completed does not retroactively stall it.
"""


class Faults:
    def __init__(self, fabric):
        self.fabric = fabric

    def _arr(self, name):
        return self.fabric.arrays[name]

    def array_down(self, name, mode="refuse"):
        """Take an array off the network.

        ``refuse``: its port stops listening and open connections are cut, so
        py-pure-client raises ``urllib3.exceptions.MaxRetryError`` (what a
        dead array looks like). ``503``: every API call answers 503 with
        ``Retry-After: 0`` (the client retries, then returns an error).
        Replication to/from it stalls, its pods show it ``offline``, and its
        schedules do not run.
        """
        if mode not in ("refuse", "503"):
            raise ValueError("mode must be 'refuse' or '503'")
        with self.fabric.lock:
            self.fabric.catch_up()
            self._arr(name).down = mode
        self.fabric.notify(self._arr(name), "down")

    def array_up(self, name):
        with self.fabric.lock:
            self.fabric.catch_up()
            arr = self._arr(name)
            arr.down = None
            # A schedule that was due while the array was off runs once now,
            # not for every missed interval.
            now = self.fabric.last_tick
            for pg in arr.all("pgroups"):
                for attr, sched in (
                        ("last_snapshot", pg.snapshot_schedule),
                        ("last_replication", pg.replication_schedule)):
                    last = getattr(pg, attr)
                    if last is not None and sched.get("enabled"):
                        freq = int(sched["frequency"])
                        if now - last > freq:
                            setattr(pg, attr, now - freq)
        self.fabric.notify(arr, "up")

    def link_down(self, a, b):
        """Replication link a<->b down: transfers stop, status 'connecting'."""
        with self.fabric.lock:
            self.fabric.catch_up()
            self.fabric.link(a, b).up = False

    def link_up(self, a, b):
        with self.fabric.lock:
            self.fabric.catch_up()
            self.fabric.link(a, b).up = True
            self.fabric.catch_up()

    def slow_link(self, a, b, seconds):
        """Each transfer on a<->b takes ``seconds`` of sim time (0 = instant).

        Progress grows linearly with the sim clock; advance it with
        ``Fabric.advance`` to watch ``progress`` go from 0 to 1.0.
        """
        with self.fabric.lock:
            self.fabric.catch_up()
            self.fabric.link(a, b).transfer_seconds = float(seconds)

    def latency(self, name, seconds):
        """Add real (wall-clock) delay to every API reply of an array."""
        self._arr(name).latency = float(seconds)

    def inject_error(self, name, method, path, status=500,
                     message="Injected fault", count=1):
        """Fail the next ``count`` calls of ``METHOD /path`` (path without
        the ``/api/2.x`` prefix, e.g. ``/volumes``) with ``status``."""
        with self.fabric.lock:
            self._arr(name).injected.append(
                {"method": method.upper(), "path": path, "status": int(status),
                 "message": message, "count": int(count)})

    def expire_sessions(self, name):
        """Invalidate every session (clients get a 401 and log in again)."""
        with self.fabric.lock:
            self._arr(name).sessions.clear()

    def clear(self, name=None):
        """Remove latency and injected errors (of one array or all)."""
        with self.fabric.lock:
            for arr in self.fabric.arrays.values():
                if name in (None, arr.name):
                    arr.latency = 0.0
                    arr.injected.clear()

    def take_injected(self, arr, method, path):
        """Pop a matching injected error for a request, if any."""
        with self.fabric.lock:
            for inj in arr.injected:
                if inj["method"] == method and inj["path"] == path:
                    inj["count"] -= 1
                    if inj["count"] <= 0:
                        arr.injected.remove(inj)
                    return inj
        return None

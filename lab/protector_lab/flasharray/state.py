"""State model of the FlashArray simulator: a ``Fabric`` of ``Array``s.

One ``Fabric`` lives in one process and holds every simulated array, the
array connections (links) between them, the stretched pods and a clock.
Arrays share the fabric so replication is real: a protection-group
snapshot taken on array A is copied into array B's state when its transfer
completes.

Storage objects live in *containers*: each array has a local container and
each pod is a container shared by all of its member arrays (ActiveCluster:
one copy of the data, visible on every member). Names carry the container:
``vol`` is local, ``pod::vol`` is in pod ``pod``.

Volume contents are modelled by ``data_version`` (an integer). Writing to a
volume (sim-only control call) bumps it; snapshots and copies carry it, so
tests can tell which point in time a recovered volume holds.

All mutation happens under ``Fabric.lock``; the HTTP layer takes it per
request.
"""
import itertools
import threading
import time
import uuid

from .query import bad

DAY_MS = 86_400_000
ERADICATION_MS = DAY_MS        # Purity keeps destroyed objects for 24 h
DEFAULT_API_VERSIONS = [f"2.{n}" for n in range(0, 57)]


class Clock:
    """Simulated time in ms since the epoch.

    ``manual`` clocks only move when ``advance`` is called (tests: no
    sleeps, no timing flakiness); real clocks follow the wall clock plus
    whatever ``advance`` added (the CLI process).
    """

    def __init__(self, manual=True, start_ms=None):
        self.manual = manual
        self._base = (start_ms if start_ms is not None
                      else int(time.time() * 1000))
        self._wall0 = time.monotonic()
        self._offset = 0

    def now(self):
        if self.manual:
            return self._base + self._offset
        return (self._base + int((time.monotonic() - self._wall0) * 1000)
                + self._offset)

    def advance_ms(self, ms):
        self._offset += int(ms)


class Volume:
    def __init__(self, fabric, name, provisioned, created, data_version=0):
        self.id = fabric.new_id()
        self.serial = fabric.new_serial()
        self.name = name
        self.provisioned = int(provisioned)
        self.created = created
        self.destroyed = False
        self.destroyed_at = None
        self.source = None          # (name, id) of the copy source
        self.data_version = data_version
        self.qos = {}
        self.tags = {}              # (namespace, key) -> tag dict
        self.written = 0            # bytes "written" since creation


class VolumeSnapshot:
    def __init__(self, fabric, name, source_name, source_id, created,
                 provisioned, data_version, suffix, pgsnap=None):
        self.id = fabric.new_id()
        self.serial = fabric.new_serial()
        self.name = name
        self.source_name = source_name
        self.source_id = source_id
        self.created = created
        self.provisioned = provisioned
        self.data_version = data_version
        self.suffix = suffix
        self.pgsnap = pgsnap        # owning PG snapshot name, if any
        self.destroyed = False
        self.destroyed_at = None


class ProtectionGroup:
    def __init__(self, fabric, name, source, is_local=True):
        self.id = fabric.new_id()
        self.name = name
        self.source = source        # array name that owns the PG
        self.is_local = is_local
        self.volumes = []           # member volume names (source side)
        self.hosts = []
        self.targets = {}           # array name -> {"allowed": bool}
        self.replication_schedule = {"enabled": False,
                                     "frequency": 14_400_000, "at": 0,
                                     "blackout": {"start": 0, "end": 0}}
        self.snapshot_schedule = {"enabled": False, "frequency": 3_600_000,
                                  "at": 0}
        self.source_retention = {"all_for_sec": 86400, "per_day": 4, "days": 7}
        self.target_retention = {"all_for_sec": 86400, "per_day": 4, "days": 7}
        self.destroyed = False
        self.destroyed_at = None
        self.next_suffix = 1
        self.last_replication = None
        self.last_snapshot = None


class PGSnapshot:
    def __init__(self, fabric, name, pg_name, suffix, created, managed):
        self.id = fabric.new_id()
        self.name = name
        self.pg_name = pg_name
        self.suffix = suffix
        self.created = created
        # subject to retention (scheduled/apply_retention)
        self.managed = managed
        self.destroyed = False
        self.destroyed_at = None
        self.members = {}           # volume name -> volume snapshot name
        # Transfer, for a replicated copy on a target
        self.transfer = None
        self.transfers = []         # Transfers, for a source snapshot


class Container:
    """A namespace of storage objects (an array's local one, or a pod)."""

    def __init__(self):
        self.volumes = {}
        self.vsnaps = {}
        self.pgroups = {}
        self.pgsnaps = {}


class Pod(Container):
    def __init__(self, fabric, name, array_name, failover_preferences=()):
        super().__init__()
        self.id = fabric.new_id()
        self.name = name
        self.members = [array_name]     # ordered array names
        self.failover_preferences = list(failover_preferences)
        self.promotion_status = "promoted"
        self.requested_promotion_state = "promoted"
        self.destroyed = False
        self.destroyed_at = None


class Host:
    def __init__(self, name, iqns=(), wwns=(), nqns=(), personality=None):
        self.name = name
        self.iqns = list(iqns)
        self.wwns = list(wwns)
        self.nqns = list(nqns)
        self.personality = personality
        self.chap = {}


class Link:
    """An array connection; one object serves both directions."""

    def __init__(self, fabric, a, b, type_="sync-replication", transport="ip"):
        self.id = fabric.new_id()
        self.arrays = (a, b)
        self.type = type_
        self.transport = transport
        self.up = True
        # 0 = instant; else sim seconds per transfer
        self.transfer_seconds = 0.0


class Array:
    def __init__(self, fabric, name, token, version="6.7.1"):
        self.fabric = fabric
        self.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"flasharray-sim:{name}"))
        self.name = name
        self.token = token
        self.version = version
        self.api_versions = list(DEFAULT_API_VERSIONS)
        self.capacity = 100 * 2**40
        self.sessions = set()
        self.connection_key = str(uuid.uuid4())
        self.management_address = None     # "127.0.0.1:<port>", set by server
        self.local = Container()
        self.hosts = {}
        self.connections = {}       # (host, volume) -> lun
        self.down = None            # None | "refuse" | "503"
        self.latency = 0.0
        self.injected = []          # [{method, path, status, message, count}]
        hexid = self.id.replace("-", "")
        self.iqn = f"iqn.2010-06.com.purestorage:flasharray.{hexid[:16]}"
        self.wwn_base = hexid[:14].upper()

    # ---- containers
    def pods(self):
        return [p for p in self.fabric.pods.values() if self.name in p.members]

    def containers(self):
        return [self.local] + self.pods()

    def container_for(self, name):
        """The container an object name lives in (``pod::x`` -> pod)."""
        if "::" in name:
            pod_name = name.split("::", 1)[0]
            pod = self.fabric.pods.get(pod_name)
            if pod is None or self.name not in pod.members:
                raise bad(f"Pod '{pod_name}' does not exist.", pod_name)
            return pod
        return self.local

    def all(self, kind):
        """All objects of a kind (volumes, vsnaps, pgroups, pgsnaps)."""
        out = []
        for c in self.containers():
            out.extend(getattr(c, kind).values())
        return out

    def find(self, kind, name):
        if "::" in name:
            pod = self.fabric.pods.get(name.split("::", 1)[0])
            if pod is None or self.name not in pod.members:
                return None
            return getattr(pod, kind).get(name)
        return getattr(self.local, kind).get(name)

    def connection_count(self, vol_name):
        return sum(1 for (_h, v) in self.connections if v == vol_name)


class Fabric:
    """All simulated arrays of one process, their links, pods and clock."""

    def __init__(self, manual_clock=True, start_ms=None):
        self.lock = threading.RLock()
        self.clock = Clock(manual=manual_clock, start_ms=start_ms)
        self.arrays = {}
        self.links = {}             # frozenset({a, b}) -> Link
        self.pods = {}
        self.transfers = []
        self._ids = itertools.count(1)
        self.listeners = []         # callables(array, event) for up/down
        # callables(server.Exchange), e.g. validators
        self.observers = []
        self.last_tick = self.clock.now()
        from .faults import Faults
        self.faults = Faults(self)

    # ---- identity helpers
    def new_id(self):
        return str(uuid.uuid4())

    def new_serial(self):
        # 24 hex characters; Cinder builds the WWN as '3624a9370' + serial
        return uuid.uuid4().hex[:24].upper()

    def now(self):
        return self.clock.now()

    # ---- topology
    def add_array(self, name, token=None, version="6.7.1"):
        if name in self.arrays:
            raise ValueError(f"array {name} exists")
        if ":" in name or "." in name:
            raise ValueError("array names must not contain ':' or '.'")
        arr = Array(self, name, token or f"pure-sim-{name}-token", version)
        self.arrays[name] = arr
        return arr

    def array(self, name):
        return self.arrays[name]

    def connect(self, a, b, type_="sync-replication", transport="ip"):
        key = frozenset((a, b))
        if key not in self.links:
            self.links[key] = Link(self, a, b, type_, transport)
        return self.links[key]

    def link(self, a, b):
        return self.links.get(frozenset((a, b)))

    def disconnect(self, a, b):
        self.links.pop(frozenset((a, b)), None)

    def reachable(self, a, b):
        """Can array a talk to array b right now (both up, link up)?"""
        link = self.link(a, b)
        return (link is not None and link.up
                and self.arrays[a].down is None
                and self.arrays[b].down is None)

    def notify(self, array, event):
        for cb in list(self.listeners):
            cb(array, event)

    # ---- time
    def catch_up(self):
        """Bring the simulation up to the clock (lazy, called per request)."""
        from . import replication
        with self.lock:
            replication.run_until(self, self.clock.now())

    def advance(self, seconds):
        """Move the clock forward, running schedules/transfers on the way."""
        from . import replication
        with self.lock:
            self.catch_up()
            self.clock.advance_ms(int(seconds * 1000))
            replication.run_until(self, self.clock.now())
            return self.clock.now()

    # ---- sim-only data operations
    def write(self, array_name, vol_name, data_version=None, nbytes=1 << 20):
        """Simulate a host write: bump (or set) a volume's data_version."""
        with self.lock:
            self.catch_up()
            arr = self.arrays[array_name]
            vol = arr.find("volumes", vol_name)
            if vol is None:
                raise KeyError(vol_name)
            pod = arr.container_for(vol_name)
            if isinstance(pod, Pod) and pod.promotion_status != "promoted":
                raise PermissionError(f"pod {pod.name} is demoted (read-only)")
            if vol.destroyed:
                raise PermissionError(f"volume {vol_name} is destroyed")
            vol.data_version = (vol.data_version + 1 if data_version is None
                                else int(data_version))
            vol.written += nbytes
            return vol.data_version

    def data_version(self, array_name, name):
        """data_version of a volume or volume snapshot on an array."""
        with self.lock:
            arr = self.arrays[array_name]
            obj = arr.find("volumes", name) or arr.find("vsnaps", name)
            if obj is None:
                raise KeyError(name)
            return obj.data_version

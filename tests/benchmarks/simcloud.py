"""A simulated cloud for the engine at scale (doc/benchmarks.md).

``SimCloud`` is the functional harness's ``FakeCloud``
(``tests/functional/engine/twosite.py``: real state, wrapped in the real
``SiteCloud``) with a time model:

* every API call takes its latency (``latency``, model seconds), served
  by the service's API workers (``workers``: that many requests at once,
  FIFO);
* a server build, stop, start or delete and a volume create, manage,
  unmanage or delete is a *transition* that completes later: it first
  takes ``cpu`` seconds on the site's shared control-plane CPU (pool
  ``site_cpu``, off unless a profile sets it: the lab's loaded 2-core
  box), then ``duration`` seconds in its pool: ``nova_build`` (one per
  compute host, ``max_concurrent_builds`` slots each, Nova's default 10;
  the scheduler spreads servers over the hosts), ``cinder_volume`` (one
  per cinder-volume backend, ``per_host`` operations at once);
* ``wait_for_server``/``wait_for_status``/``wait_for_delete`` poll as the
  SDK does (a GET, then ``interval`` seconds, again): the sim computes
  when the poll that sees the new status comes back, counts the GETs
  (``compute.get_server`` ...) and sleeps once until then;
* each new ``SiteCloud`` authenticates once (``identity.token``) at its
  first call, as a keystoneauth session does.

Pools are FIFO in arrival order (an M/G/c queue each): a reservation at
time t takes the earliest free slot, so a transition's completion time is
known when it is requested. ``Site`` holds the pools and the three
primitives (``call``, ``transition``, ``wait_end``) used both by the sim
(at the clock's now, then sleeping) and by ``bound``, which runs the
direct-call bound as a discrete-event simulation in model time.

Time: ``Clock`` maps model seconds to real ones (``time_scale``: 0.05
runs 20 times faster than the model). Everything the engine does in
between (database, Python) is real time, so at a small scale Protector's
own CPU time weighs 1/time_scale times more in the model: the measured
ratio is pessimistic, never flattering.
"""
import contextlib
import copy
import heapq
import itertools
import json
import math
import re
import threading
import time

from openstack import exceptions as sdk_exc

from tests.functional.engine import twosite

# Model seconds. Sources: doc/benchmarks.md ("Calibration").
DEFAULT = {
    "time_scale": 0.05,
    "workers": {"identity": 64, "compute": 64, "block_storage": 64,
                "network": 64, "image": 64, "protector": 16},
    "latency": {
        "identity.token": 0.10, "identity.probe": 0.05,
        "protector.request": 0.05,
        "compute.*": 0.03, "compute.create_server": 0.30,
        "compute.stop_server": 0.10, "compute.start_server": 0.10,
        "compute.delete_server": 0.10, "compute.put": 0.10,
        "compute.servers": 0.05, "compute.get_server": 0.03,
        "block_storage.*": 0.03, "block_storage.create_volume": 0.10,
        "block_storage.manage_volume": 0.10,
        "block_storage.unmanage_volume": 0.05,
        "block_storage.delete_volume": 0.05,
        "block_storage.get_volume": 0.03,
        "network.*": 0.03, "image.*": 0.03,
    },
    # Extra seconds per item a list call returns.
    "per_item": 0.0002,
    "transitions": {
        "server.build": {"pool": "nova_build", "duration": 7.2},
        "server.stop": {"pool": "nova_ops", "duration": 3.5},
        "server.start": {"pool": "nova_ops", "duration": 3.5},
        "server.delete": {"pool": "nova_ops", "duration": 2.0},
        "volume.create": {"pool": "cinder_volume", "duration": 1.4},
        "volume.create_from_image": {"pool": "cinder_volume",
                                     "duration": 2.0},
        "volume.manage": {"pool": "cinder_volume", "duration": 1.0},
        "volume.unmanage": {"pool": "cinder_volume", "duration": 0.3},
        "volume.delete": {"pool": "cinder_volume", "duration": 1.0},
    },
    # hosts x per_host slots; per_host 0: no cap.
    "pools": {
        "nova_build": {"hosts": 10, "per_host": 10},
        "nova_ops": {"hosts": 10, "per_host": 0},
        "cinder_volume": {"hosts": 1, "per_host": 20},
        "site_cpu": {"hosts": 1, "per_host": 0},
    },
    "poll_interval": None,  # None: the caller's (the SDK's default 2 s)
}

# The lab (doc/lab.md): one compute host and one cinder-volume backend
# per site on a loaded 2-core machine; its control plane is the
# bottleneck (site_cpu), fitted to the direct-call figures.
PROFILES = {
    "default": {},
    "lab": {
        "pools": {"nova_build": {"hosts": 1, "per_host": 10},
                  "nova_ops": {"hosts": 1, "per_host": 0},
                  "cinder_volume": {"hosts": 1, "per_host": 20},
                  "site_cpu": {"hosts": 1, "per_host": 1}},
        "transitions": {
            "server.build": {"pool": "nova_build", "duration": 7.2,
                             "cpu": 2.6},
            "volume.create": {"pool": "cinder_volume", "duration": 1.4,
                              "cpu": 0.3},
            "volume.create_from_image": {"pool": "cinder_volume",
                                         "duration": 2.0, "cpu": 0.5},
            "server.stop": {"pool": "nova_ops", "duration": 3.5},
        },
        "latency": {"compute.create_server": 0.6, "identity.token": 0.3,
                    "protector.request": 0.2},
    },
}


def merge(base, over):
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def config(profile="default", path=None, sets=()):
    """The model: DEFAULT, then the profile, then a JSON file, then
    ``key.sub=value`` settings (value parsed as JSON)."""
    conf = merge(DEFAULT, PROFILES[profile])
    if path:
        with open(path) as f:
            conf = merge(conf, json.load(f))
    for item in sets:
        key, _, raw = item.partition("=")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        node = conf
        parts = key.split(".")
        # Latency and transition names contain a dot themselves:
        # latency.compute.get_server, transitions.server.build.cpu
        if parts[0] == "latency" and len(parts) > 2:
            parts = ["latency", ".".join(parts[1:])]
        elif parts[0] == "transitions" and len(parts) > 3:
            parts = ["transitions", ".".join(parts[1:3])] + parts[3:]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return conf


# -- clocks ----------------------------------------------------------------

class Clock:
    """Model time on the real clock, ``scale`` real seconds per model
    second."""

    def __init__(self, scale):
        self.scale = float(scale)
        self.t0 = time.monotonic()

    def now(self):
        return (time.monotonic() - self.t0) / self.scale

    def sleep_until(self, t):
        delay = (t - self.now()) * self.scale
        if delay > 0:
            time.sleep(delay)

    def advance(self, dt):
        """Move model time ``dt`` seconds on at once (nobody waits)."""
        self.t0 -= max(0.0, dt) * self.scale


class ManualClock:
    """A logical clock for tests: sleeping moves it (one thread)."""

    scale = 1.0

    def __init__(self):
        self.t = 0.0

    def now(self):
        return self.t

    def sleep_until(self, t):
        self.t = max(self.t, t)

    def advance(self, dt):
        self.t += max(0.0, dt)


# -- pools -----------------------------------------------------------------

class Pool:
    """``hosts`` x ``per_host`` slots, FIFO by arrival (per_host 0: no
    cap). ``reserve(t, d)`` puts the job on a host (the one with the
    fewest jobs so far: Nova's spread, Cinder's capacity weigher with
    equal volumes) and returns (start, end, host)."""

    def __init__(self, name, hosts, per_host, record=True):
        self.name = name
        self.record = record
        self.hosts = max(1, int(hosts))
        self.per_host = int(per_host)
        self.free = [[] for _ in range(self.hosts)]  # heaps of slot ends
        self.placed = [0] * self.hosts
        self.jobs = []  # (start, end, host): for peak()
        self.busy_until = 0.0  # when its last job ends

    def pick(self):
        return min(range(self.hosts), key=lambda h: (self.placed[h], h))

    def reserve(self, t, duration, host=None):
        if host is None:
            host = self.pick()
        self.placed[host] += 1
        start = t
        if self.per_host > 0:
            heap = self.free[host]
            if len(heap) >= self.per_host:
                start = max(t, heapq.heappop(heap))
            heapq.heappush(heap, start + duration)
        if self.record:
            self.jobs.append((start, start + duration, host))
        self.busy_until = max(self.busy_until, start + duration)
        return start, start + duration, host

    def peak(self, host=None):
        """Most jobs in progress at once (on ``host``, or summed)."""
        events = []
        for start, end, h in self.jobs:
            if host is None or h == host:
                if end > start:
                    events += [(start, 1), (end, -1)]
        level = best = 0
        for _, step in sorted(events):
            level += step
            best = max(best, level)
        return best


class Site:
    """One site's model: its pools and the timing primitives."""

    def __init__(self, conf):
        self.conf = conf
        self.lock = threading.Lock()
        self.pools = {name: Pool(name, p["hosts"], p["per_host"])
                      for name, p in conf["pools"].items()}
        self.api = {svc: Pool(svc + "_api", 1, n, record=False)
                    for svc, n in conf["workers"].items()}

    def busy_until(self):
        """When the last work asked of the site so far ends: the
        backends' queues (a delete answered at once goes on there)."""
        with self.lock:
            return max(p.busy_until for p in
                       list(self.pools.values()) + list(self.api.values()))

    def latency(self, service, name, items=0):
        lat = self.conf["latency"]
        base = lat.get("%s.%s" % (service, name),
                       lat.get("%s.*" % service, 0.0))
        return base + items * self.conf["per_item"]

    def call(self, t, service, name, items=0):
        """An API request made at t: when its answer is back."""
        duration = self.latency(service, name, items)
        if duration <= 0:
            return t
        with self.lock:
            pool = self.api.get(service)
            if pool is None:
                return t + duration
            return pool.reserve(t, duration, host=0)[1]

    def transition(self, t, kind, host=None):
        """A transition requested at t: (when it is done, host)."""
        spec = self.conf["transitions"][kind]
        with self.lock:
            if spec.get("cpu"):
                t = self.pools["site_cpu"].reserve(t, spec["cpu"])[1]
            _, end, host = self.pools[spec["pool"]].reserve(
                t, spec["duration"], host)
        return end, host

    def wait_end(self, t, ready_at, interval, service, getter):
        """An SDK wait started at t for a change done at ``ready_at``:
        (when the poll that sees it is answered, number of GETs)."""
        if self.conf["poll_interval"] is not None:
            interval = self.conf["poll_interval"]
        get = self.latency(service, getter)
        first = t + get
        if ready_at <= first:
            return first, 1
        k = math.ceil((ready_at - first) / (interval + get))
        return first + k * (interval + get), k + 1


# Calls whose work goes on after the answer, nobody waiting for it.
ASYNC_CALLS = {("block_storage", "unmanage_volume"): "volume.unmanage",
               ("block_storage", "delete_volume"): "volume.delete"}


# -- the simulated cloud ----------------------------------------------------

class _Table(dict):
    """A dict of rows with indexes (``keys(row)`` -> index keys) and a
    sum of sizes, so that the sim's look-ups are O(1) at 5,000 VMs (the
    fake's scans would make the sim, not the engine, quadratic)."""

    def __init__(self, keys, size=None):
        super().__init__()
        self.keys_of = keys
        self.size_of = size
        self.index = {}
        self.total = 0

    def __setitem__(self, k, row):
        if k in self:
            self._drop(k, self[k])
        super().__setitem__(k, row)
        for key in self.keys_of(row):
            self.index.setdefault(key, {})[k] = None
        if self.size_of:
            self.total += self.size_of(row)

    def __delitem__(self, k):
        self._drop(k, self[k])
        super().__delitem__(k)

    def _drop(self, k, row):
        for key in self.keys_of(row):
            self.index.get(key, {}).pop(k, None)
        if self.size_of:
            self.total -= self.size_of(row)

    def find(self, key):
        return [self[k] for k in self.index.get(key, ())]

    def find_keys(self, key):
        return list(self.index.get(key, ()))


def _exact(pattern):
    """The name a ``^name$`` listing filter matches exactly, or None."""
    m = re.fullmatch(r"\^([\w. -]*)\$", pattern or "")
    return m.group(1) if m else None


def _sim_api(fn):
    return twosite.api(fn)


class SimCompute(twosite.Compute):

    def _server(self, ident, missing_ok=True):
        cloud = self.cloud
        cloud.settle()
        srv = cloud.servers.get(twosite._id(ident))
        if srv is None and isinstance(ident, str):
            named = cloud.servers.find(("name", ident))
            srv = named[0] if len(named) == 1 else None
        if srv is None and not missing_ok:
            raise twosite.http_error(404, "No Server found for %s" %
                                     twosite._id(ident),
                                     sdk_exc.NotFoundException)
        return srv

    @_sim_api
    def servers(self, details=True, name=None, **query):
        cloud = self.cloud
        exact = _exact(name)
        if name is None or exact is None:
            return twosite.Compute.servers.__wrapped__(
                self, details=details, name=name, **query)
        cloud.settle()
        return [cloud.server_obj(s, settle=False)
                for s in cloud.servers.find(("name", exact))]

    @_sim_api
    def create_server(self, **attrs):
        obj = twosite.Compute.create_server.__wrapped__(self, **attrs)
        self.cloud.schedule("server", obj.id, "server.build")
        return obj

    @_sim_api
    def stop_server(self, server):
        twosite.Compute.stop_server.__wrapped__(self, server)
        self.cloud.schedule("server", twosite._id(server), "server.stop")

    @_sim_api
    def start_server(self, server):
        twosite.Compute.start_server.__wrapped__(self, server)
        self.cloud.schedule("server", twosite._id(server), "server.start")

    @_sim_api
    def delete_server(self, server, ignore_missing=True, force=False):
        srv = self._server(server, missing_ok=ignore_missing)
        if srv is None or srv.get("deleting"):
            return None
        srv["deleting"] = True
        self.cloud.schedule("server", srv["id"], "server.delete")
        return None

    @_sim_api
    def hypervisors(self, details=False, **query):
        pool = self.cloud.site_model.pools["nova_build"]
        return [twosite.Obj(id="host-%d" % h, name="host-%d" % h,
                            hypervisor_hostname="host-%d" % h,
                            status="enabled", state="up")
                for h in range(pool.hosts)]

    @_sim_api
    def services(self, **query):
        return [twosite.Obj(host="host-%d" % h, binary="nova-compute",
                            state="up", status="enabled", zone="nova")
                for h in range(
                    self.cloud.site_model.pools["nova_build"].hosts)]

    def wait_for_server(self, server, status="ACTIVE", failures=None,
                        interval=2, wait=120, callback=None):
        return self.cloud.wait(
            "compute", "wait_for_server", "get_server",
            lambda: self._server(server, missing_ok=False), status,
            interval, wait, self.cloud.server_obj)

    def wait_for_delete(self, res, interval=2, wait=120, callback=None):
        return self.cloud.wait(
            "compute", "wait_for_delete", "get_server",
            lambda: self.cloud.servers.get(twosite._id(res)), None,
            interval, wait, lambda srv: res)


class SimBlockStorage(twosite.BlockStorage):

    def _volume(self, ident, missing_ok=True):
        cloud = self.cloud
        cloud.settle()
        vol = cloud.volumes.get(twosite._id(ident))
        if vol is None and isinstance(ident, str):
            named = cloud.volumes.find(("name", ident))
            vol = named[0] if len(named) == 1 else None
        if vol is None and not missing_ok:
            raise twosite.http_error(404, "No Volume found for %s" %
                                     twosite._id(ident),
                                     sdk_exc.NotFoundException)
        return vol

    @_sim_api
    def volumes(self, details=True, name=None, status=None, **query):
        cloud = self.cloud
        cloud.settle()
        rows = cloud.volumes.find(("name", name)) if name is not None \
            else list(cloud.volumes.values())
        return [cloud.volume_obj(v, settle=False) for v in rows
                if status is None or v["status"] == status]

    @_sim_api
    def create_volume(self, **attrs):
        obj = twosite.BlockStorage.create_volume.__wrapped__(self, **attrs)
        self.cloud.schedule("volume", obj.id, "volume.create_from_image"
                            if attrs.get("image_id") else "volume.create")
        return obj

    @_sim_api
    def manage_volume(self, **attrs):
        obj = twosite.BlockStorage.manage_volume.__wrapped__(self, **attrs)
        self.cloud.schedule("volume", obj.id, "volume.manage")
        return obj

    def wait_for_status(self, res, status="available", failures=None,
                        interval=2, wait=120, attribute="status",
                        callback=None):
        return self.cloud.wait(
            "block_storage", "wait_for_status", "get_volume",
            lambda: self._volume(res, missing_ok=False), status,
            interval, wait, self.cloud.volume_obj)


class SimNetwork(twosite.Network):

    @_sim_api
    def ports(self, fixed_ips=None, **query):
        wanted = {f.partition("=")[2] for f in fixed_ips or []}
        net = query.get("network_id")
        if len(wanted) != 1 or net is None:
            return twosite.Network.ports.__wrapped__(
                self, fixed_ips=fixed_ips, **query)
        ports = self.cloud.ports
        return [twosite.Obj(id=pid, **ports[pid])
                for pid in ports.find_keys(("ip", net, wanted.pop()))
                if all(ports[pid].get(k) == v for k, v in query.items())]


class SimSiteCloud(twosite.FakeSiteCloud):
    """A ``SiteCloud`` whose session authenticates at its first call."""

    def __init__(self, site, cloud):
        super().__init__(site, cloud)
        self._authenticated = False

    @contextlib.contextmanager
    def guard(self, service_type):
        with super().guard(service_type):
            if not self._authenticated and not self.conn.down:
                self._authenticated = True
                self.conn.keystone("token")
            yield


class SimCloud(twosite.FakeCloud):
    """A site's cloud with latencies, caps and transitions that take
    time (see the module's docstring)."""

    conf = DEFAULT
    clock = None  # set by the harness (SimTwoSite) before building

    def __init__(self, site, project_id, conf=None, clock=None):
        super().__init__(site, project_id)
        self.conf = conf or type(self).conf
        self.clock = clock or type(self).clock or ManualClock()
        self.site_model = Site(self.conf)
        self.servers = _Table(lambda s: [("name", s["name"])])
        self.volumes = _Table(lambda v: [("name", v["name"])],
                              size=lambda v: v["size"])
        self.ports = _Table(lambda p: [("ip", p["network_id"],
                                        ip["ip_address"])
                                       for ip in p["fixed_ips"]] +
                            [("device", p["device_id"])])
        self.pending = []  # heap: (ready_at, seq, table, id, kind)
        self.tseq = itertools.count()
        self.cursor = {}
        big = 10 ** 9
        self.quotas = {
            "compute": {"instances": big, "cores": big, "ram": big},
            "block_storage": {"volumes": big, "gigabytes": big,
                              "snapshots": big},
            "network": {"networks": 100, "subnets": 100, "ports": big}}
        sub = self.subnets["subnet-" + self.name]
        sub["cidr"] = "10.0.0.0/16"
        self.compute = SimCompute(self)
        self.block_storage = SimBlockStorage(self)
        self.network = SimNetwork(self)

    def site_cloud(self):
        return SimSiteCloud(self.site, self)

    # -- time --------------------------------------------------------------

    def before_call(self, service, name):
        if not self.down:
            self.clock.sleep_until(
                self.site_model.call(self.clock.now(), service, name))

    def after_call(self, service, name, result):
        if (service, name) in ASYNC_CALLS:
            # Cinder answers 202 at once; the backend is busy meanwhile.
            self.site_model.transition(self.clock.now(),
                                       ASYNC_CALLS[(service, name)])
        if isinstance(result, list) and len(result) > 1:
            self.clock.sleep_until(self.clock.now() + len(result) *
                                   self.conf["per_item"])

    def keystone(self, what):
        with self.lock:
            key = "identity." + what
            self.calls[key] = self.calls.get(key, 0) + 1
        self.clock.sleep_until(
            self.site_model.call(self.clock.now(), "identity", what))

    def schedule(self, table, ident, kind):
        """Under the lock, right after the request changed the state:
        the transition ends at a time known now."""
        row = getattr(self, table + "s")[ident]
        ready, host = self.site_model.transition(
            self.clock.now(), kind, row.get("host"))
        row["host"] = host
        row["ready_at"] = ready
        seq = next(self.tseq)
        row["tseq"] = seq
        heapq.heappush(self.pending, (ready, seq, table, ident, kind))

    def settle(self):
        now = self.clock.now()
        while self.pending and self.pending[0][0] <= now:
            _, seq, table, ident, kind = heapq.heappop(self.pending)
            row = getattr(self, table + "s").get(ident)
            if row is None or row.get("tseq") != seq:
                continue
            row["ready_at"] = None
            if kind == "server.delete":
                self._remove_server(row)
            elif row.get("pending"):
                row["status"], row["pending"] = row["pending"], None

    def _remove_server(self, srv):
        del self.servers[srv["id"]]
        for vid, dot in srv["attachments"].items():
            vol = self.volumes.get(vid)
            if vol is None:
                continue
            if dot:
                del self.volumes[vid]
                self.deleted.append(("volume", vid))
            else:
                vol["status"] = "available"
                vol["attachments"] = []
        for pid in self.ports.find_keys(("device", srv["id"])):
            del self.ports[pid]
        self.deleted.append(("server", srv["id"]))

    def wait(self, service, name, getter, lookup, status, interval, wait,
             answer):
        """An SDK ``wait_for_*``: ``status`` None waits for the row to be
        gone. Sleeps once, until the poll that sees the change."""
        start = self.clock.now()
        with self.lock:
            key = "%s.%s" % (service, name)
            self.calls[key] = self.calls.get(key, 0) + 1
            if self.down:
                raise twosite.ks_exc.ConnectFailure(
                    "site %s is down" % self.name)
            row = lookup()
            if row is None or (status is not None and
                               row["status"] == status):
                ready = start
            elif status is None and row.get("deleting") or \
                    status is not None and row.get("pending") == status:
                ready = row["ready_at"]
            else:
                ready = None  # never: time out
            if ready is not None:
                end, polls = self.site_model.wait_end(
                    start, ready, interval, service, getter)
            else:
                end, polls = start + wait, int(wait // interval) + 1
            gkey = "%s.%s" % (service, getter)
            self.calls[gkey] = self.calls.get(gkey, 0) + polls
        if end - start > wait:
            self.clock.sleep_until(start + wait)
            raise sdk_exc.ResourceTimeout(
                "Timeout waiting for %s to become %s" % (
                    twosite._id(row) if row else "?", status or "deleted"))
        self.clock.sleep_until(end)
        with self.lock:
            self.settle()
            row = lookup()
            if status is None:
                return answer(row)
            return answer(row)

    # -- O(1) replacements of the fake's scans ------------------------------

    def compute_usage(self):
        # Every server of the sim has the harness's one flavor.
        n = len(self.servers)
        return {"instances": n, "cores": n * twosite.FLAVOR["vcpus"],
                "ram": n * twosite.FLAVOR["ram"]}

    def volume_usage(self):
        return {"volumes": len(self.volumes),
                "gigabytes": self.volumes.total, "snapshots": 0}

    def address_taken(self, network_id, address):
        return bool(self.ports.find(("ip", network_id, address)))

    def next_address(self, network_id):
        import ipaddress
        for sub in self.subnets.values():
            if sub["network_id"] == network_id and sub.get("cidr"):
                net = ipaddress.ip_network(sub["cidr"])
                i = self.cursor.get(network_id, 1)
                while i < net.num_addresses - 1:
                    address = str(net.network_address + i)
                    i += 1
                    if not self.address_taken(network_id, address):
                        self.cursor[network_id] = i
                        return address
        return None


class SimTwoSite(twosite.TwoSite):
    """``TwoSite`` on two ``SimCloud``s, with VM addresses that fit a
    /16 (the harness's group builder numbers them in a /24)."""

    cloud_class = SimCloud
    # A failback queues the vacate of the other site and goes on with its
    # retirement while it runs there (storage_tasks.start_vacate); run to
    # its end inside the queueing request it put the other site's
    # whole vacate (3 s at 100 VMs, 21 s at 1,000) into the retirement.
    background_sub_operations = frozenset({"vacate_site"})

    def _group(self, n_members, n_volumes):
        real_add = self.a.add_server
        count = itertools.count()

        def add(name, vols, address=None, **kw):
            i = next(count)
            return real_add(name, vols, address=address_of(i), **kw)
        self.a.add_server = add
        try:
            pg_id = super()._group(n_members, n_volumes)
        finally:
            del self.a.add_server
        # The captured port addresses, as the servers have them.
        from protector.db import models
        with self.rows.session() as s, s.begin():
            for row in s.query(models.Member).filter_by(
                    protection_group_id=pg_id):
                config = json.loads(row.instance_config)
                i = int(row.instance_name.split("-")[1])
                config["ports"][0]["fixed_ips"] = [
                    {"ip_address": address_of(i)}]
                row.instance_config = json.dumps(config)
        return pg_id

    def peer_call(self, site, method, path):
        cloud = self.cloud_of(site["id"])
        with cloud.lock:
            key = "protector.request"
            cloud.calls[key] = cloud.calls.get(key, 0) + 1
        cloud.clock.sleep_until(cloud.site_model.call(
            cloud.clock.now(), "protector", "request"))

    def probe(self, site, timeout=None):
        cloud = self.cloud_of(site["id"])
        if not cloud.down:
            cloud.keystone("probe")
        return super().probe(site, timeout)


def address_of(i):
    return "10.0.%d.%d" % (1 + i // 250, 2 + i % 250)


# -- the direct-call bound, in model time ------------------------------------

def simulate(roots):
    """Run generator processes in model time; return when the last ends.

    A process is ``fn(t)`` returning a generator that yields either a
    time (resume then) or a list of process functions (run them in
    parallel, resume when all have ended, at the last one's end). Events
    run in time order, so pool reservations happen in arrival order, as
    in the threaded sim."""
    heap, seq, joins = [], itertools.count(), {}
    end = 0.0

    def push(t, gen, parent, fresh=False):
        heapq.heappush(heap, (t, next(seq), gen, parent, fresh))

    for fn in roots:
        push(0.0, fn(0.0), None, True)
    while heap:
        t, _, gen, parent, fresh = heapq.heappop(heap)
        try:
            req = next(gen) if fresh else gen.send(t)
        except StopIteration:
            end = max(end, t)
            if parent is not None:
                join = joins[id(parent)]
                join[0] -= 1
                join[1] = max(join[1], t)
                if join[0] == 0:
                    del joins[id(parent)]
                    push(join[1], parent, join[2])
            continue
        if isinstance(req, list):
            if not req:
                push(t, gen, parent)
                continue
            joins[id(gen)] = [len(req), t, parent]
            for fn in req:
                push(t, fn(t), gen, True)
        else:
            push(max(t, req), gen, parent)
    return end


class _Direct:
    """What a client doing only the necessary calls does, on two sites'
    models (``ideal``: it learns of each change the moment it is done,
    no polling)."""

    def __init__(self, conf, ideal=False):
        self.a, self.b = Site(conf), Site(conf)
        self.ideal = ideal
        self.calls = {}

    def _count(self, key, n=1):
        self.calls[key] = self.calls.get(key, 0) + n

    def call(self, site, service, name):
        def proc(t):
            self._count("%s.%s" % (service, name))
            t = yield site.call(t, service, name)
            if (service, name) in ASYNC_CALLS:
                site.transition(t, ASYNC_CALLS[(service, name)])
        return proc

    def change(self, site, service, name, kind, getter, interval=2):
        """A request, then its transition, then the SDK's wait."""
        def proc(t):
            self._count("%s.%s" % (service, name))
            t = yield site.call(t, service, name)
            ready, _ = site.transition(t, kind)
            if self.ideal:
                end, polls = ready, 0
            else:
                end, polls = site.wait_end(t, ready, interval, service,
                                           getter)
            self._count("%s.%s" % (service, getter), polls)
            yield end
        return proc

    def seq(self, *procs):
        def proc(t):
            for fn in procs:
                yield [fn]
        return proc

    def token(self, site):
        def proc(t):
            self._count("identity.token")
            yield site.call(t, "identity", "token")
        return proc

    # per VM ---------------------------------------------------------------

    def stop(self, site):
        return self.change(site, "compute", "stop_server", "server.stop",
                           "get_server")

    def rebuild(self, site):
        """Both volumes (boot from the image, data blank) at once, then
        the server once they are available."""
        def volumes(t):
            yield [self.change(site, "block_storage", "create_volume",
                               "volume.create_from_image", "get_volume"),
                   self.change(site, "block_storage", "create_volume",
                               "volume.create", "get_volume")]
        return self.seq(volumes, self.change(
            site, "compute", "create_server", "server.build", "get_server"))

    def remove(self, site):
        """Delete a server keeping its volumes (one PUT for the boot
        volume's delete_on_termination), then unmanage both volumes."""
        def unmanage(t):
            yield [self.call(site, "block_storage", "unmanage_volume"),
                   self.call(site, "block_storage", "unmanage_volume")]
        return self.seq(self.call(site, "compute", "put"),
                        self.change(site, "compute", "delete_server",
                                    "server.delete", "get_server"),
                        unmanage)


def bound(conf, n, kind, width=None, ideal=False):
    """Model seconds and calls of the necessary cloud work of ``kind``
    for ``n`` VMs, done directly, fully parallel (or ``width`` VMs at a
    time) and pipelined per VM (doc/benchmarks.md, "The bound")."""
    d = _Direct(conf, ideal)
    a, b = d.a, d.b
    if kind == "planned_failover":
        source, target, per_vm = a, b, [lambda: d.rebuild(b)]
    elif kind == "unplanned_failover":
        source, target, per_vm = None, b, [lambda: d.rebuild(b)]
    elif kind == "failback":
        # The new server ACTIVE on A, then (each VM on its own) the
        # stale original on A retired and the copy on B vacated.
        def back():
            def cleanup(t):
                yield [d.remove(a), d.remove(b)]
            return d.seq(d.rebuild(a), cleanup)
        source, target, per_vm = b, a, [back]
    else:
        raise ValueError(kind)

    def workers(t):
        pending = iter(range(n))

        def worker(t):
            for _ in pending:
                for make in per_vm:
                    yield [make()]
        yield [worker] * min(n, width or n)

    def run(t):
        yield [d.token(target)] + ([d.token(source)] if source else [])
        if source is not None:
            # Every source server shut down before the final snapshot.
            yield [d.stop(source)] * n
        yield [workers]
    total = simulate([run])
    return total, d.calls

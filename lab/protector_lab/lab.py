"""The two-site lab as a whole: up, down, status, env, stop, start.

State lives in the lab directory (``$PROTECTOR_LAB_DIR`` or ``<repo>/.lab``):

    lab.json        sites, ports, process specs, timings, "ready" flag
    inventory.json  databases, DB users, vhosts, MQ users the lab created
    clouds.yaml     site-a, site-b (demo), site-a-admin, site-b-admin
    site-a/, site-b/  configs, pidfiles (run/), logs (log/), service state

``down`` stops every process by pidfile, drops what the inventory lists and
removes the lab directory; nothing else is touched.
"""
import concurrent.futures
import datetime
import json
import os
import shutil
import sys
import threading
import time

from protector_lab import config
from protector_lab import fa_lab
from protector_lab import infra
from protector_lab import layout
from protector_lab import procs
from protector_lab import rest
from protector_lab import site as site_mod
from protector_lab import venvs

SHIMS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "shims")
# py-pure-client: Cinder's real Pure driver (the ``pure`` profile) needs it;
# the default profile does not import it. One cinder venv serves both
# profiles and tests/flasharray/test_cinder_driver.py.
PURE_CLIENT = "py-pure-client==1.96.0"
# Horizon's venv holds the dashboard plugin and the client it calls the
# API with, from this checkout (absent when the lab is installed alone).
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DASHBOARD_DIRS = [os.path.join(_REPO, "client"),
                  os.path.join(_REPO, "dashboard")]
VENV_EXTRAS = {"cinder": [SHIMS_DIR, PURE_CLIENT], "neutron": [SHIMS_DIR],
               "horizon": DASHBOARD_DIRS}
VENV_NAMES = ("ks", "osc", "glance", "cinder", "nova", "neutron") + (
    ("horizon",) if all(map(os.path.isdir, DASHBOARD_DIRS)) else ())

# Start order of a site's services (dependencies first) and the reverse for
# stopping, so a restart of a whole site is orderly.
START_ORDER = ["keystone", "placement", "glance", "neutron", "cinder-api",
               "cinder-scheduler", "cinder-volume", "nova-conductor",
               "nova-scheduler", "nova-compute", "nova-api", "protector-api",
               "protector-engine", "horizon"]
# What a profile switch restarts (``Lab.switch``).
SWITCH_PROCESSES = ["cinder-volume", "protector-api", "protector-engine"]


class LabError(RuntimeError):
    pass


class Lab:
    def __init__(self, state_dir=None, log=print):
        self.state_dir = state_dir or layout.default_state_dir()
        self._print = log
        self._log_lock = threading.Lock()
        self.inventory = infra.Inventory(
            os.path.join(self.state_dir, "inventory.json"))

    # ---- paths and state --------------------------------------------------
    @property
    def state_file(self):
        return os.path.join(self.state_dir, "lab.json")

    @property
    def clouds_yaml(self):
        return os.path.join(self.state_dir, "clouds.yaml")

    def log(self, msg):
        with self._log_lock:
            self._print(msg)

    def load(self):
        try:
            with open(self.state_file) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def save(self, state):
        os.makedirs(self.state_dir, exist_ok=True)
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=1, sort_keys=True)
        os.replace(tmp, self.state_file)

    def sites(self, state=None):
        state = state or self.load()
        if state:
            return [layout.Site(name, info["offset"],
                                os.path.join(self.state_dir, name))
                    for name, info in sorted(state["sites"].items())]
        return layout.sites(self.state_dir)

    def site(self, name, state=None):
        for s in self.sites(state):
            if s.name == name:
                return s
        raise LabError("no site %r (sites: %s)" % (
            name, ", ".join(s.name for s in self.sites(state))))

    # ---- venvs -----------------------------------------------------------
    def ensure_venvs(self):
        """Build (or reuse) every service venv; in parallel when cold."""
        started = time.monotonic()
        venvs.prebuild_wheels(
            [n for n in VENV_NAMES
             if not venvs.is_ready(n, VENV_EXTRAS.get(n, ()))], self.log)
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            futures = {name: ex.submit(venvs.ensure, name,
                                       VENV_EXTRAS.get(name, ()), self.log)
                       for name in VENV_NAMES}
            paths = {name: fut.result() for name, fut in futures.items()}
        return paths, time.monotonic() - started

    # ---- up -----------------------------------------------------------------
    # Labs of other checkouts on this machine, so that a port clash can say
    # whose lab holds the ports.
    def _registry(self):
        return os.path.join(venvs.cache_dir(), "labs")

    def _register(self, active):
        import hashlib
        key = hashlib.sha256(self.state_dir.encode()).hexdigest()[:12]
        path = os.path.join(self._registry(), key)
        if active:
            os.makedirs(self._registry(), exist_ok=True)
            with open(path, "w") as f:
                f.write(self.state_dir + "\n")
        elif os.path.exists(path):
            os.unlink(path)

    def other_labs(self):
        try:
            entries = os.listdir(self._registry())
        except FileNotFoundError:
            return []
        labs = []
        for entry in entries:
            with open(os.path.join(self._registry(), entry)) as f:
                state_dir = f.read().strip()
            if state_dir != self.state_dir and os.path.exists(
                    os.path.join(state_dir, "lab.json")):
                labs.append(state_dir)
        return sorted(labs)

    def check_ports(self, sites, fas=None):
        busy = []
        for port in (fas.ports() if fas is not None else []):
            if infra.port_open("127.0.0.1", port, 0.2):
                busy.append("%s:%d" % (fa_lab.PROCESS, port))
        for s in sites:
            for service in layout.BASE_PORTS:
                if infra.port_open("127.0.0.1", s.port(service), 0.2):
                    busy.append("%s %s:%d" % (s.name, service,
                                              s.port(service)))
        if busy:
            others = "".join(
                " A lab of another checkout is registered: "
                "'PROTECTOR_LAB_DIR=%s protector-lab down' removes it." % d
                for d in self.other_labs())
            raise LabError(
                "ports already in use: %s. Stop whatever listens there, or "
                "choose other offsets, e.g. PROTECTOR_LAB_PORT_OFFSETS="
                "\"2000,2100\" (now %s).%s" % (
                    ", ".join(busy),
                    ",".join(str(s.offset) for s in sites), others))

    def flasharrays(self, state=None):
        """The pure profile's simulator (None in the default profile)."""
        state = state or self.load()
        if not state or state.get("profile", "default") != "pure":
            return None
        return fa_lab.FlashArrays(self.state_dir, self.sites(state))

    def up(self, profile=None):
        t0 = time.monotonic()
        profile = profile or fa_lab.profile_from_env()
        if profile not in fa_lab.PROFILES:
            raise LabError("unknown profile %r; one of: %s" % (
                profile, ", ".join(fa_lab.PROFILES)))
        state = self.load()
        if state and state.get("ready"):
            down = [p for p in self.status()["processes"]
                    if not p["running"]]
            if down:
                self.log("[lab] lab exists; starting %d stopped "
                         "process(es)" % len(down))
                fas = self.flasharrays(state)
                if fas is not None:
                    fas.start(self.log)
                for s in self.sites(state):
                    self.start(s.name)
            if state.get("profile", "default") != profile or \
                    state.get("switching"):
                return self.switch(self.load(), profile)
            if not down:
                self.log("[lab] already up (%s)" % self.state_dir)
            return state
        if state or not self.inventory.empty():
            self.log("[lab] a previous 'up' did not finish; cleaning it up")
            self.down()
        sites = layout.sites(self.state_dir)
        fas = fa_lab.FlashArrays(self.state_dir, sites) \
            if profile == "pure" else None
        self.check_ports(sites, fas)
        infra.ensure_server("MariaDB", layout.MARIADB, self.log)
        infra.ensure_server("RabbitMQ", layout.RABBITMQ, self.log)
        paths, venv_time = self.ensure_venvs()
        self.log("[lab] service venvs ready (%.0f s)" % venv_time)
        self._register(True)
        state = {"ready": False, "created": time.time(),
                 "state_dir": self.state_dir, "venvs": paths,
                 "clouds_yaml": self.clouds_yaml, "sites": {},
                 "profile": profile}
        if fas is not None:
            state["flasharray"] = fas.spec()
            self.save(state)
            fas.start(self.log)
        builders = {}
        for s in sites:
            builders[s.name] = site_mod.SiteBuilder(
                s, paths, self.log,
                fa=fas.site_settings(s) if fas is not None else None)
            state["sites"][s.name] = {
                "offset": s.offset,
                "ports": {svc: s.port(svc) for svc in layout.BASE_PORTS},
                "processes": builders[s.name].specs}
        self.save(state)
        db = infra.MariaDB()
        mq = infra.RabbitMQ()
        infra.ensure_connections(db, self.inventory, self.log)
        site_times = {}

        def build(s):
            t = time.monotonic()
            infra.create_site_databases(db, self.inventory, s)
            infra.create_site_messaging(mq, self.inventory, s)
            builders[s.name].log("databases, vhost and users created")
            builders[s.name].build()
            site_times[s.name] = round(time.monotonic() - t, 1)

        with concurrent.futures.ThreadPoolExecutor(len(sites)) as ex:
            futures = [ex.submit(build, s) for s in sites]
            errors = []
            for fut in futures:
                try:
                    fut.result()
                except Exception as exc:  # report all sites' failures
                    errors.append(exc)
        if errors:
            raise LabError("lab up failed (run 'protector-lab down' to "
                           "clean up, logs in %s/*/log):\n%s" % (
                               self.state_dir,
                               "\n".join(str(e) for e in errors)))
        with open(self.clouds_yaml, "w") as f:
            f.write(config.clouds(sites))
        for s in sites:
            state["sites"][s.name]["ids"] = builders[s.name].ids
        state["ready"] = True
        state["timings"] = {"venvs": round(venv_time, 1),
                            "sites": site_times,
                            "total": round(time.monotonic() - t0, 1)}
        self.save(state)
        self.log("[lab] up in %.0f s (venvs %.0f s); clouds.yaml: %s" % (
            time.monotonic() - t0, venv_time, self.clouds_yaml))
        return state

    # ---- profile switch -------------------------------------------------
    def switch(self, state, profile):
        """Bring the lab to ``profile`` in place. The profiles differ only in
        Cinder's volume backend, Protector's storage driver, the array
        simulator and the consistency group type's specs, so only
        cinder-volume and Protector restart (seconds), where 'down' then
        'up' would build both sites again (minutes). What the other
        profile's backend held stays in Cinder's database (doc/lab.md,
        "Switching profiles"). ``switching`` in lab.json marks a switch
        that did not finish: 'up' runs it again."""
        t0 = time.monotonic()
        old = state.get("profile", "default")
        sites = self.sites(state)
        self.log("[lab] switching the lab from the %s to the %s profile" % (
            old, profile))
        state["switching"] = profile
        self.save(state)
        restart = [(s, n) for s in sites for n in SWITCH_PROCESSES
                   if n in state["sites"][s.name]["processes"]]
        with concurrent.futures.ThreadPoolExecutor(len(restart)) as ex:
            list(ex.map(lambda sp: self._timed_stop(sp[0].pidfile(sp[1])),
                        restart))
        arrays = fa_lab.FlashArrays(self.state_dir, sites)
        arrays.stop()
        fas = arrays if profile == "pure" else None
        if fas is not None:
            self.check_ports([], fas)
            fas.start(self.log)
            state["flasharray"] = fas.spec()
        else:
            state.pop("flasharray", None)
        # Reports older than this are the replaced driver's.
        since = (datetime.datetime.utcnow() +
                 datetime.timedelta(seconds=1)).replace(microsecond=0)
        builders = [site_mod.SiteBuilder(
            s, state["venvs"], self.log,
            fa=fas.site_settings(s) if fas is not None else None)
            for s in sites]
        for b in builders:
            b.write_profile_files()
        self._start_processes(state, restart, wait=True)

        def settle(builder):
            builder.set_group_specs()
            builder.wait_backend_reported(since)
        with concurrent.futures.ThreadPoolExecutor(len(builders)) as ex:
            list(ex.map(settle, builders))
        state["profile"] = profile
        state.pop("switching", None)
        self.save(state)
        self.log("[lab] switched to the %s profile in %.0f s" % (
            profile, time.monotonic() - t0))
        return state

    # ---- stop / start ----------------------------------------------------
    def _select(self, state, site_name, service):
        """[(site, process name)] for a site and an optional service."""
        sites = [self.site(site_name, state)] if site_name \
            else self.sites(state)
        if service and service not in layout.SERVICES:
            raise LabError("unknown service %r; one of: %s" % (
                service, ", ".join(layout.SERVICES)))
        result = []
        for s in sites:
            specs = state["sites"][s.name]["processes"]
            names = layout.SERVICES[service] if service else START_ORDER
            for name in names:
                if name in specs:
                    result.append((s, name))
                elif service:
                    raise LabError("%s is not part of %s: no %s console "
                                   "script in %s" % (
                                       name, s.name, name,
                                       os.path.dirname(sys.executable)))
        return result

    def _require_state(self):
        state = self.load()
        if not state:
            raise LabError("no lab in %s: run 'protector-lab up' first" %
                           self.state_dir)
        return state

    def _timed_stop(self, pidfile):
        started = time.monotonic()
        result = procs.stop(pidfile)
        took = time.monotonic() - started
        if took > 10:
            self.log("[lab] %s took %.0f s to stop (SIGKILL after %.0f s)" % (
                pidfile, took, procs.STOP_TIMEOUT))
        return result

    def stop(self, site_name=None, service=None):
        state = self._require_state()
        selected = list(reversed(self._select(state, site_name, service)))
        with concurrent.futures.ThreadPoolExecutor(
                max(1, len(selected))) as ex:
            results = list(ex.map(
                lambda sp: (sp, self._timed_stop(sp[0].pidfile(sp[1]))),
                selected))
        for (s, name), was_running in results:
            self.log("[%s] %s %s" % (s.name, name,
                                     "stopped" if was_running
                                     else "was not running"))

    def start(self, site_name=None, service=None, wait=True):
        state = self._require_state()
        fas = self.flasharrays(state)
        if fas is not None and not service:
            # The arrays first: Cinder's Pure driver logs in at start.
            fas.start(self.log)
        selected = self._select(state, site_name, service)
        # Refresh the protector-engine hook: the script may exist by now.
        for s in {s for s, _ in selected}:
            specs = state["sites"][s.name]["processes"]
            fresh = site_mod.process_specs(s, state["venvs"])
            for name in ("protector-api", "protector-engine"):
                if name in fresh and name not in specs:
                    specs[name] = fresh[name]
        self.save(state)
        selected = self._select(state, site_name, service)
        names = {(s.name, n) for s, n in selected}
        # nova-compute last, once a conductor started with it has reported
        # in (otherwise its first RPC call stalls for 60 s).
        late = [(s, n) for s, n in selected if n == "nova-compute" and
                (s.name, "nova-conductor") in names]
        started = self._start_processes(
            state, [x for x in selected if x not in late], wait)
        for s, name in late:
            builder = site_mod.SiteBuilder(s, state["venvs"], self.log)
            builder.wait_nova_service("nova-conductor")
            started += self._start_processes(state, [(s, name)], wait)
        return started

    def _start_processes(self, state, selected, wait):
        started = []
        for s, name in selected:
            spec = state["sites"][s.name]["processes"][name]
            if procs.running_pid(s.pidfile(name)):
                self.log("[%s] %s already running" % (s.name, name))
                continue
            procs.start(spec["cmd"], s.pidfile(name),
                        s.dir("log", name + ".out"),
                        env=site_mod.service_env(spec["env"]))
            started.append((s, name))
            self.log("[%s] %s started" % (s.name, name))
        if wait:
            for s, name in started:
                port = state["sites"][s.name]["processes"][name].get("port")
                if port:
                    rest.wait_http("http://127.0.0.1:%d/" % port,
                                   timeout=120)
        return started

    # ---- status -------------------------------------------------------------
    def status(self):
        state = self.load()
        result = {"state_dir": self.state_dir, "exists": bool(state),
                  "ready": bool(state and state.get("ready")),
                  "clouds_yaml": self.clouds_yaml if state else None,
                  "processes": [], "sites": {}}
        if not state:
            return result
        result["profile"] = state.get("profile", "default")
        fas = self.flasharrays(state)
        if fas is not None:
            pid = fas.running()
            result["processes"].append({
                "site": "-", "process": fa_lab.PROCESS,
                "service": "flasharray", "pid": pid,
                "port": fas.control_port, "running": bool(pid),
                "answering": bool(pid) and fas.answering()})
            result["flasharray"] = {
                k: v for k, v in state["flasharray"].items()
                if k in ("arrays", "cert", "control_port", "info_file")}
        for s in self.sites(state):
            info = state["sites"][s.name]
            result["sites"][s.name] = {
                "auth_url": s.auth_url, "ports": info["ports"],
                "protector_url": s.url("protector")}
            if "horizon" in info["processes"]:
                # The demo project's user signs in (doc/lab.md).
                # The password is not repeated here (never printed): it
                # is the one of clouds.yaml's cloud named after the site.
                result["sites"][s.name]["dashboard"] = {
                    "url": s.url("horizon") + "/", "user": "demo",
                    "project": "demo", "domain": "Default",
                    "password_in": "%s, clouds.%s.auth.password" % (
                        self.clouds_yaml, s.name)}
            for name in START_ORDER:
                spec = info["processes"].get(name)
                if not spec:
                    continue
                pid = procs.running_pid(s.pidfile(name))
                port = spec.get("port")
                answering = bool(port and pid and rest.answers(
                    "http://127.0.0.1:%d/" % port, timeout=2))
                result["processes"].append({
                    "site": s.name, "process": name,
                    "service": spec["service"], "pid": pid,
                    "port": port, "running": bool(pid),
                    "answering": answering if port else None})
        return result

    def is_up(self, st=None):
        st = st or self.status()
        return st["ready"] and all(
            p["running"] and p["answering"] is not False
            for p in st["processes"])

    # ---- env ----------------------------------------------------------------
    def env(self):
        state = self._require_state()
        osc_bin = os.path.join(state["venvs"]["osc"], "bin")
        return [
            "export OS_CLIENT_CONFIG_FILE=%s" % self.clouds_yaml,
            "export PROTECTOR_LAB_DIR=%s" % self.state_dir,
            # Appended: an 'openstack' already on PATH (e.g. the project's
            # venv with the protector client plugin) keeps precedence.
            'export PATH="$PATH:%s"' % osc_bin,
        ]

    # ---- down ---------------------------------------------------------
    def down(self, purge=False):
        t0 = time.monotonic()
        state = self.load()
        pidfiles = []
        for s in self.sites(state):
            run_dir = s.dir("run")
            if os.path.isdir(run_dir):
                pidfiles += [os.path.join(run_dir, f)
                             for f in os.listdir(run_dir)
                             if f.endswith(".pid")]
        # The pure profile's array simulator (whatever lab.json says).
        fa_pid = fa_lab.FlashArrays(self.state_dir,
                                    self.sites(state)).pidfile
        if os.path.exists(fa_pid):
            pidfiles.append(fa_pid)
        # All at once: a slow SIGTERM (nova's graceful shutdown) then costs
        # its few seconds once, not once per process.
        with concurrent.futures.ThreadPoolExecutor(
                max(1, len(pidfiles))) as ex:
            stopped = sum(ex.map(self._timed_stop, pidfiles))
        self.log("[lab] stopped %d process(es) in %.1f s" % (
            stopped, time.monotonic() - t0))
        if purge or not self.inventory.empty():
            db = infra.MariaDB()
            mq = infra.RabbitMQ()
            if purge:
                # Everything named like a lab object, whoever made it.
                for name in db.databases("lab_site_"):
                    self.inventory.add("database", name)
                for user, _host in db.users("lab_site_"):
                    self.inventory.add("db_user", user)
                for vhost in mq.vhosts():
                    if vhost.startswith("lab_site_"):
                        self.inventory.add("vhost", vhost)
                for user in mq.users():
                    if user.startswith("lab_site_"):
                        self.inventory.add("mq_user", user)
            inv = self.inventory.load()
            infra.drop_databases(db, self.inventory)
            infra.drop_db_users(db, self.inventory)
            infra.drop_messaging(mq, self.inventory)
            infra.restore_settings(db, self.inventory)
            self.log("[lab] dropped %d database(s), %d DB user(s), "
                     "%d vhost(s), %d RabbitMQ user(s) (%.1f s in all)" % (
                         len(inv["database"]), len(inv["db_user"]),
                         len(inv["vhost"]), len(inv["mq_user"]),
                         time.monotonic() - t0))
        if os.path.isdir(self.state_dir):
            shutil.rmtree(self.state_dir)
            self.log("[lab] removed %s" % self.state_dir)
        self._register(False)

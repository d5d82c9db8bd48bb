"""Build, start and seed one lab site.

``SiteBuilder.build()`` runs the database migrations of all services in
parallel (they only need MariaDB), starts each service as soon as what it
depends on is ready, and then seeds the site through the REST APIs:

    keystone: keys; seeded identity from the dump cache, or db_sync,
        bootstrap, start, users/projects/catalog -----------------------+
    placement: db sync, start                                           |
    nova: api_db + cells + db sync; start api, conductor, scheduler;    |
        compute once keystone + placement + conductor are up            |
    glance / neutron / cinder / protector / horizon: db sync; start  <--+
        once keystone answers
    then, in parallel: wait until the compute node is mapped; seed the
    image, network, flavors, volume and group types, then wait until the
    Cinder scheduler knows the backend; wait for the other APIs.
"""
import concurrent.futures
import datetime
import inspect
import os
import shutil
import subprocess
import sys
import threading
import time

from protector_lab import config
from protector_lab import dbcache
from protector_lab import horizon
from protector_lab import infra
from protector_lab import keystone
from protector_lab import layout
from protector_lab import procs
from protector_lab import rest

# Bytes of the lab's stand-in for the cirros image (Nova's fake driver and
# the lab Cinder driver never read it; 1 MiB keeps uploads instant).
IMAGE_NAME = "cirros"
IMAGE_SIZE = 1024 * 1024
GROUP_TYPE_NAME = "consistency-group"
VOLUME_TYPES = {
    "replicated-async": "Volumes with asynchronous replication",
    "replicated-sync": "Volumes with synchronous replication (ActiveCluster)",
}

# Variables of the calling shell that must not leak into the services.
_SCRUB_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")


class SetupError(RuntimeError):
    pass


# Started by build() only once Keystone answers. Some 25 processes of two
# sites importing at once on 2 cores took Keystone, which every request
# and the seeding wait for, 45 s to answer; these are the ones nothing on
# the way to a ready site waits for before Keystone (Nova and Placement,
# the longest chain, start as soon as their databases are there).
AFTER_KEYSTONE = ("glance", "neutron", "cinder-api", "cinder-scheduler",
                  "cinder-volume", "horizon", "protector-api",
                  "protector-engine")

# What ``seed_identity`` leaves in ``SiteBuilder.ids``.
IDENTITY_IDS = ("projects", "users", "roles")


def identity_recipe(site, bootstrap):
    """Everything the site's bootstrapped and seeded Keystone database is
    made from, for the dump cache's key: a change to any of it (ports,
    users, the seeding code itself) makes a new dump."""
    return {
        "bootstrap": bootstrap,
        "endpoints": site.endpoints(),
        "users": {u: site.password(u)
                  for u in ("demo",) + layout.SERVICE_USERS},
        "seed": inspect.getsource(SiteBuilder.seed_identity),
    }


def protector_bin(name):
    """A console script of the project's own environment, or None.

    protector-api and protector-engine run from the Python that runs
    protector-lab (the repository's venv), not from a cached service venv.
    """
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(candidate):
        return candidate
    return shutil.which(name)


def service_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in _SCRUB_ENV and not k.startswith("OS_")}
    env.update(extra or {})
    return env


def process_specs(site, venvs):
    """Every process of ``site``: name -> {cmd, env, service, port}.

    ``venvs`` maps venv names (ks, glance, cinder, nova, neutron) to paths.
    The specs are stored in the lab state so that ``start`` can bring a
    stopped service back exactly as ``up`` started it.
    """
    specs = {}

    def uwsgi(name, venv, service):
        specs[name] = {
            "cmd": [os.path.join(venvs[venv], "bin", "uwsgi"),
                    "--ini", site.dir(service, "uwsgi.ini")],
            "service": service, "port": site.port(service)}

    uwsgi("keystone", "ks", "keystone")
    uwsgi("glance", "glance", "glance")
    uwsgi("placement", "nova", "placement")
    uwsgi("neutron", "neutron", "neutron")
    for part in ("api", "scheduler", "volume"):
        specs["cinder-" + part] = {
            "cmd": [os.path.join(venvs["cinder"], "bin", "cinder-" + part),
                    "--config-file", site.dir("cinder", "cinder.conf")],
            "service": "cinder",
            "port": site.port("cinder") if part == "api" else None}
    specs["nova-api"] = {
        "cmd": [os.path.join(venvs["nova"], "bin", "uwsgi"),
                "--ini", site.dir("nova", "uwsgi.ini")],
        "service": "nova", "port": site.port("nova")}
    for part in ("conductor", "scheduler", "compute"):
        specs["nova-" + part] = {
            "cmd": [os.path.join(venvs["nova"], "bin", "nova-" + part),
                    "--config-file", site.dir("nova", "nova.conf")],
            "service": "nova", "port": None}
    conf = site.dir("protector", "protector.conf")
    api = protector_bin("protector-api")
    if api:
        specs["protector-api"] = {"cmd": [api, "--config-file", conf],
                                  "service": "protector-api",
                                  "port": site.port("protector")}
    # Hook: protector-engine is started as soon as the console script
    # exists in the project's environment (no other change needed here).
    engine = protector_bin("protector-engine")
    if engine:
        specs["protector-engine"] = {"cmd": [engine, "--config-file", conf],
                                     "service": "protector-engine",
                                     "port": None}
    if "horizon" in venvs and site.index == 1:
        specs["horizon"] = {
            "cmd": [os.path.join(venvs["horizon"], "bin", "uwsgi"),
                    "--ini", site.dir("horizon", "uwsgi.ini")],
            "service": "horizon", "port": site.port("horizon")}
    for spec in specs.values():
        spec["env"] = {}
    return specs


def uwsgi_files(site, venvs):
    """uwsgi.ini of every WSGI service of ``site``: {path: text}."""
    k, g, p, n, nv = (site.dir(s) for s in ("keystone", "glance",
                                             "placement", "neutron", "nova"))
    return {
        os.path.join(k, "uwsgi.ini"): config.uwsgi_ini(
            site, "keystone", venvs["ks"], "keystone.wsgi.api:application",
            "keystone", {"OS_KEYSTONE_CONFIG_DIR": k,
                         "OS_KEYSTONE_CONFIG_FILES": "keystone.conf"},
            # One process: Keystone's cache is in its memory
            # (config.keystone_conf).
            processes=1, threads=4),
        os.path.join(g, "uwsgi.ini"): config.uwsgi_ini(
            site, "glance", venvs["glance"], "glance.wsgi.api:application",
            "glance", {"OS_GLANCE_CONFIG_DIR": g}, threads=4),
        os.path.join(p, "uwsgi.ini"): config.uwsgi_ini(
            site, "placement", venvs["nova"],
            "placement.wsgi.api:application", "placement",
            {"OS_PLACEMENT_CONFIG_DIR": p}, threads=2),
        os.path.join(n, "uwsgi.ini"): config.uwsgi_ini(
            site, "neutron", venvs["neutron"],
            "neutron.wsgi.api:application", "neutron",
            {"OS_NEUTRON_CONFIG_DIR": n,
             "OS_NEUTRON_CONFIG_FILES": "neutron.conf;ml2_conf.ini"}),
        os.path.join(nv, "uwsgi.ini"): config.uwsgi_ini(
            site, "nova-api", venvs["nova"],
            "nova.wsgi.osapi_compute:application", "nova",
            {"OS_NOVA_CONFIG_DIR": nv,
             # api-paste.ini must stay in the list when it is given.
             "OS_NOVA_CONFIG_FILES": "api-paste.ini;nova.conf;nova-api.conf"
             }),
    }


def config_files(site, venvs, fa=None):
    """Every generated file of ``site``: {path: text}. ``fa``: the pure
    profile's array settings of this site (``fa_lab``), else None."""
    files = {
        site.dir("keystone", "keystone.conf"): config.keystone_conf(site),
        site.dir("glance", "glance-api.conf"): config.glance_conf(site),
        site.dir("placement", "placement.conf"): config.placement_conf(site),
        site.dir("neutron", "neutron.conf"): config.neutron_conf(site),
        site.dir("neutron", "ml2_conf.ini"): config.ml2_conf(site),
        site.dir("cinder", "cinder.conf"): config.cinder_conf(site, fa),
        site.dir("cinder", "policy.yaml"): config.cinder_policy(),
        site.dir("nova", "nova.conf"): config.nova_conf(site),
        site.dir("nova", "nova-api.conf"): config.nova_api_conf(site),
        site.dir("protector", "protector.conf"):
            config.protector_conf(site, fa=fa),
        site.dir("protector", "policy.yaml"): "{}\n",
    }
    files.update(uwsgi_files(site, venvs))
    return files


# Files the services ship in their venv's etc/ and the lab copies as is.
SHIPPED_FILES = [
    ("glance", "etc/glance/glance-api-paste.ini", "glance",
     "glance-api-paste.ini"),
    ("neutron", "etc/neutron/api-paste.ini", "neutron", "api-paste.ini"),
    ("cinder", "etc/cinder/api-paste.ini", "cinder", "api-paste.ini"),
    ("cinder", "etc/cinder/resource_filters.json", "cinder",
     "resource_filters.json"),
    ("nova", "etc/nova/api-paste.ini", "nova", "api-paste.ini"),
]

DIRS = ["run", "log", "keystone/fernet-keys", "keystone/credential-keys",
        "glance/images", "glance/staging", "glance/tasks", "glance/lock",
        "placement", "neutron/lock", "neutron/state", "cinder/state",
        "cinder/lock", "nova/state", "nova/instances", "nova/lock",
        "protector/state/mock_storage"]


class SiteBuilder:
    def __init__(self, site, venvs, log=print, fa=None):
        self.site = site
        self.venvs = venvs
        self.fa = fa
        self._log = log
        self.specs = process_specs(site, venvs)
        self.timings = {}
        self.ids = {}
        self._t0 = time.monotonic()
        # Set by build() once Keystone answers (or failed): see
        # AFTER_KEYSTONE.
        self._keystone_up = None
        # Set by build() once Keystone's database holds the service users
        # (loaded from the dump, or seeded), or Keystone failed: see
        # nova_start.
        self._identity_ready = None

    # ---- helpers -----------------------------------------------------------
    def log(self, msg):
        self._log("[%s %5.1fs] %s" % (self.site.name,
                                      time.monotonic() - self._t0, msg))

    def run(self, cmd, what, background=False):
        """Run a setup command; ``background`` ones yield the CPU.

        On 2 cores a dozen migrations run at once; niceness keeps the
        critical path (Keystone, Nova) ahead of those nothing waits for
        (Neutron's long migration chain, Glance, Cinder, Protector).
        """
        result = subprocess.run(cmd, capture_output=True, text=True,
                                env=service_env(), timeout=900,
                                preexec_fn=(lambda: os.nice(10))
                                if background else None)
        if result.returncode != 0:
            out = (result.stdout + result.stderr)[-3000:]
            raise SetupError("[%s] %s failed (%s):\n%s" % (
                self.site.name, what, " ".join(cmd), out))
        return result.stdout

    def venv_bin(self, venv, name):
        return os.path.join(self.venvs[venv], "bin", name)

    def start(self, name):
        if name in AFTER_KEYSTONE and self._keystone_up is not None:
            self._keystone_up.wait()
        spec = self.specs[name]
        procs.start(spec["cmd"], self.site.pidfile(name),
                    self.site.dir("log", name + ".out"),
                    env=service_env(spec["env"]))

    def wait_port(self, service, timeout=180):
        rest.wait_http(self.site.url(service) + "/", timeout=timeout)

    # ---- files -------------------------------------------------------------
    def write_files(self):
        for d in DIRS:
            os.makedirs(self.site.dir(d), exist_ok=True)
        for venv, src, svc, dst in SHIPPED_FILES:
            path = os.path.join(self.venvs[venv], src)
            if os.path.exists(path):
                shutil.copyfile(path, self.site.dir(svc, dst))
            elif dst == "resource_filters.json":
                with open(self.site.dir(svc, dst), "w") as f:
                    f.write(config.resource_filters_default())
            else:
                raise SetupError("%s is missing from the %s venv" % (
                    src, venv))
        for path, text in config_files(self.site, self.venvs,
                                       self.fa).items():
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

    def migrate(self, venv, names, run_migration):
        """The schema of the databases ``names`` (one name or a tuple):
        from the dump cache if the ``venv``'s version of the service made
        one, else migrated by ``run_migration``."""
        names = (names,) if isinstance(names, str) else names
        started = time.monotonic()
        how = dbcache.migrate(self.venvs[venv],
                              {n: self.site.db_name(n) for n in names},
                              run_migration)
        self.log("%s: schema %s in %.1f s" % (
            "+".join(names), how, time.monotonic() - started))

    # ---- per-service setup ---------------------------------------------
    def keystone(self):
        site = self.site
        km = [self.venv_bin("ks", "keystone-manage"), "--config-file",
              site.dir("keystone", "keystone.conf")]
        # What fernet_setup and credential_setup write, without two
        # keystone-manage starts (several seconds each) on the critical path.
        for repo in ("fernet-keys", "credential-keys"):
            keystone.write_key_repository(site.dir("keystone", repo))
        bootstrap = [
            "bootstrap", "--bootstrap-password", site.password("admin"),
            "--bootstrap-username", "admin",
            "--bootstrap-project-name", "admin",
            "--bootstrap-role-name", "admin",
            "--bootstrap-service-name", "keystone",
            "--bootstrap-region-id", layout.REGION,
            "--bootstrap-admin-url", site.auth_url,
            "--bootstrap-public-url", site.auth_url,
            "--bootstrap-internal-url", site.auth_url]
        # The bootstrapped and seeded identity depends only on this recipe
        # (and the Keystone version, the venv): a later ``up`` loads it
        # from the dump cache instead of a keystone-manage start and some
        # forty REST calls on the critical path (doc/lab.md).
        recipe = identity_recipe(site, bootstrap)
        database = site.db_name("keystone")
        started = time.monotonic()
        ids = dbcache.load_prepared(self.venvs["ks"], "keystone-identity",
                                    database, recipe)
        if ids is None:
            self.migrate("ks", "keystone",
                         lambda: self.run(km + ["db_sync"],
                                          "keystone db_sync"))
            self.run(km + bootstrap, "keystone bootstrap")
        else:
            self.log("keystone: seeded identity loaded in %.1f s" % (
                time.monotonic() - started))
            self._identity_loaded()
        self.start("keystone")
        self.wait_port("keystone")
        self.log("keystone up on %d" % site.port("keystone"))
        if ids is None:
            self.seed_identity()
            dbcache.save_prepared(self.venvs["ks"], "keystone-identity",
                                  database, recipe,
                                  {k: self.ids[k] for k in IDENTITY_IDS})
            self.log("keystone seeded (users, projects, catalog)")
            self._identity_loaded()
        else:
            self.ids.update(ids)

    def _identity_loaded(self):
        if self._identity_ready is not None:
            self._identity_ready.set()

    def glance(self):
        self.migrate("glance", "glance", lambda: self.run(
            [self.venv_bin("glance", "glance-manage"), "--config-file",
             self.site.dir("glance", "glance-api.conf"), "db_sync"],
            "glance db_sync", background=True))
        self.start("glance")

    def placement(self):
        self.migrate("nova", "placement", lambda: self.run(
            [self.venv_bin("nova", "placement-manage"), "--config-file",
             self.site.dir("placement", "placement.conf"), "db", "sync"],
            "placement db sync"))
        self.start("placement")

    def neutron(self):
        self.migrate("neutron", "neutron", lambda: self.run(
            [self.venv_bin("neutron", "neutron-db-manage"),
             "--config-file", self.site.dir("neutron", "neutron.conf"),
             "--config-file", self.site.dir("neutron", "ml2_conf.ini"),
             "upgrade", "heads"], "neutron-db-manage upgrade heads",
            background=True))
        self.start("neutron")
        self.log("neutron migrated and started")

    def cinder(self):
        self.migrate("cinder", "cinder", lambda: self.run(
            [self.venv_bin("cinder", "cinder-manage"), "--config-file",
             self.site.dir("cinder", "cinder.conf"), "db", "sync"],
            "cinder db sync", background=True))
        for part in ("api", "scheduler", "volume"):
            self.start("cinder-" + part)

    def nova_db(self):
        nm = [self.venv_bin("nova", "nova-manage"), "--config-file",
              self.site.dir("nova", "nova.conf")]
        self.migrate("nova", "nova_api", lambda: self.run(
            nm + ["api_db", "sync"], "nova api_db sync"))
        # The cell mappings hold this site's URLs: never cached. They are
        # the two rows map_cell0 and create_cell would insert, written
        # directly: each nova-manage start costs 15-20 s on a busy box.
        insert_cell_mappings(infra.MariaDB(), self.site)
        # ``db sync`` migrates cell0 and cell1 together: cached as a pair.
        self.migrate("nova", ("nova_cell0", "nova"), lambda: self.run(
            nm + ["db", "sync"], "nova db sync"))
        self.log("nova databases migrated")

    def nova_start(self):
        """nova-api, -conductor and -scheduler: they need their databases,
        the message bus and Nova's service user in Keystone's database.
        Keystone need not answer yet (nova-conductor starts on a refused
        connection and makes its placement client later), but a 401 is
        fatal: nova-conductor exits if it starts before the seeding made
        its user (a first ``up``, with no dump of the seeded identity)."""
        if self._identity_ready is not None:
            self._identity_ready.wait()
        for part in ("conductor", "scheduler", "api"):
            self.start("nova-" + part)

    def nova_compute_start(self):
        # nova-compute's first call to the conductor times out after 60 s
        # if the conductor is still starting: start compute once the
        # conductor has reported in.
        self.wait_port("nova")
        self.wait_nova_service("nova-conductor")
        self.start("nova-compute")

    def wait_nova_service(self, binary, timeout=180):
        s = self.admin()
        deadline = time.monotonic() + timeout
        while True:
            services = s.get("compute", "/os-services?binary=%s" % binary,
                             retries=3)["services"]
            if any(x["state"] == "up" for x in services):
                return
            if time.monotonic() > deadline:
                raise SetupError("[%s] %s did not report in within %d s" % (
                    self.site.name, binary, timeout))
            time.sleep(0.5)

    def horizon(self):
        """Horizon with protector-dashboard (site-a only: the dashboard
        reaches the other site through protector-api)."""
        if "horizon" not in self.specs:
            return
        venv = self.venvs["horizon"]
        started = time.monotonic()
        horizon.prepare(venv, self.log)
        os.makedirs(self.site.dir("horizon", "sessions"), mode=0o700,
                    exist_ok=True)
        with open(self.site.dir("horizon", "uwsgi.ini"), "w") as f:
            f.write(horizon.uwsgi_ini(self.site, venv))
        self.start("horizon")
        self.log("horizon prepared and started in %.1f s" % (
            time.monotonic() - started))

    def protector(self):
        manage = protector_bin("protector-manage")
        if not manage or "protector-api" not in self.specs:
            self.log("protector-api/protector-manage not installed in %s: "
                     "skipping Protector" % os.path.dirname(sys.executable))
            return
        self.run([manage, "--config-file",
                  self.site.dir("protector", "protector.conf"), "db", "sync"],
                 "protector-manage db sync", background=True)
        self.start("protector-api")
        if "protector-engine" in self.specs:
            self.start("protector-engine")

    # ---- whole site ----------------------------------------------------
    def build(self):
        self.write_files()
        self._keystone_up = threading.Event()
        self._identity_ready = threading.Event()

        def keystone_first():
            try:
                self.keystone()
            finally:
                # Failed or not: the deferred starts go on, and the
                # failure is raised below.
                self._identity_ready.set()
                self._keystone_up.set()
        try:
            with concurrent.futures.ThreadPoolExecutor(8) as ex:
                ks = ex.submit(keystone_first)
                pl = ex.submit(self.placement)
                others = [ex.submit(f) for f in (
                    self.glance, self.neutron, self.cinder, self.protector,
                    self.horizon)]
                nova_db = ex.submit(self.nova_db)

                def nova():
                    nova_db.result()
                    pl.result()
                    self.nova_start()
                    ks.result()
                    self.wait_port("placement")
                    self.nova_compute_start()
                nv = ex.submit(nova)
                for fut in [ks, pl, nova_db, nv] + others:
                    fut.result()
        finally:
            self._keystone_up = self._identity_ready = None
        # Three independent waits: the compute node's registration (Nova
        # alone), the seeding (the APIs it writes to) then Cinder's
        # backend report, and the APIs nothing else here needs.
        def seed():
            for service in ("glance", "neutron", "cinder", "nova"):
                self.wait_port(service)
            self.seed_resources()
            self.log("seeded image, network, flavors, volume/group types")
            self.wait_volume_backend()

        def apis():
            if "protector-api" in self.specs:
                self.wait_port("protector")
            if "horizon" in self.specs:
                rest.wait_http(self.site.url("horizon") + "/auth/login/",
                               timeout=180)
            self.log("all APIs answer")
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            for fut in [ex.submit(f) for f in (self.wait_compute, seed,
                                                 apis)]:
                fut.result()
        self.log("site ready")

    # ---- seeding -------------------------------------------------------
    def admin(self):
        return rest.Session(self.site.auth_url, "admin",
                            self.site.password("admin"), "admin")

    def seed_identity(self):
        site = self.site
        s = self.admin()
        roles = {r["name"]: r["id"] for r in
                 s.get("identity", "/roles")["roles"]}
        if "service" not in roles:
            roles["service"] = s.post("identity", "/roles", {
                "role": {"name": "service"}})["role"]["id"]
        projects = {}
        for name, desc in (("service", "Service users"),
                           ("demo", "Demo tenant of the Protector lab")):
            projects[name] = s.post("identity", "/projects", {"project": {
                "name": name, "domain_id": "default",
                "description": desc}})["project"]["id"]
        # Independent requests, a few at a time: Keystone runs two workers
        # and each request is mostly waiting on MariaDB.
        pool = concurrent.futures.ThreadPoolExecutor(4)

        def create_user(name):
            body = {"name": name, "domain_id": "default",
                    "password": site.password(name)}
            if name == "demo":
                body["default_project_id"] = projects["demo"]
            return name, s.post("identity", "/users",
                                {"user": body})["user"]["id"]

        def grant(args):
            project, user, role = args
            s.put("identity", "/projects/%s/users/%s/roles/%s" % (
                projects[project], users[user], roles[role]))

        def register(entry):
            name, stype, url = entry
            sid = s.post("identity", "/services", {"service": {
                "name": name, "type": stype,
                "description": "%s (protector-lab)" % name}})["service"]["id"]
            for interface in ("public", "internal", "admin"):
                s.post("identity", "/endpoints", {"endpoint": {
                    "service_id": sid, "interface": interface,
                    "region_id": layout.REGION, "url": url}})

        with pool:
            catalog = pool.map(register, site.endpoints())
            users = dict(pool.map(create_user,
                                  ("demo",) + layout.SERVICE_USERS))
            grants = [("demo", "demo", "member")]
            for name in layout.SERVICE_USERS:
                grants += [("service", name, "admin"),
                           ("service", name, "service")]
            list(pool.map(grant, grants))
            list(catalog)
        self.ids.update({"projects": projects, "users": users,
                         "roles": roles})

    def seed_resources(self):
        site = self.site
        s = self.admin()
        demo_project = self.ids["projects"]["demo"]
        # Image (public): a 1 MiB stand-in for cirros.
        image = s.post("image", "/v2/images", {
            "name": IMAGE_NAME, "disk_format": "raw",
            "container_format": "bare", "visibility": "public",
            "min_disk": 0, "min_ram": 0})
        s.request("PUT", "image", "/v2/images/%s/file" % image["id"],
                  data=_image_bytes(),
                  headers={"Content-Type": "application/octet-stream"})
        # Network + subnet owned by the demo project, named per site.
        net = s.post("network", "/v2.0/networks", {"network": {
            "name": site.network_name, "project_id": demo_project,
            "admin_state_up": True}}, retries=5)["network"]
        s.post("network", "/v2.0/subnets", {"subnet": {
            "name": site.subnet_name, "network_id": net["id"],
            "project_id": demo_project, "ip_version": 4,
            "cidr": site.subnet_cidr, "enable_dhcp": False}})
        # Flavors, named per site.
        for name, ram, vcpus, disk in site.flavors:
            s.post("compute", "/flavors", {"flavor": {
                "name": name, "ram": ram, "vcpus": vcpus, "disk": disk,
                "os-flavor-access:is_public": True}}, retries=5)
        # Replicated volume types (doc/lab.md) and a consistency group type.
        for name, desc in VOLUME_TYPES.items():
            mode = name.split("-", 1)[1]
            s.post("volumev3", "/types", {"volume_type": {
                "name": name, "description": desc,
                "os-volume-type-access:is_public": True,
                "extra_specs": {
                    "replication_enabled": "<is> True",
                    "replication_type": "<in> %s" % mode,
                    "volume_backend_name": site.backend_name}}}, retries=5)
        s.post("volumev3", "/group_types", {"group_type": {
            "name": GROUP_TYPE_NAME,
            "description": "Generic group with consistent snapshots",
            "is_public": True,
            "group_specs": group_specs(self.fa)
        }}, headers={"OpenStack-API-Version": "volume 3.11"})
        self.ids.update({"image": image["id"], "network": net["id"]})

    def wait_compute(self, timeout=180):
        """nova-compute's node in the cell's database, mapped to cell1
        (what 'nova-manage cell_v2 discover_hosts' writes), then listed
        by Nova's API. Nova lists only mapped hosts, and nova-scheduler's
        own discovery (every 5 s) took up to 35 s after the node appeared
        on a busy CPU, then the lab ran nova-manage (10-20 s more)."""
        host = self.site.compute_host
        db = infra.MariaDB()
        deadline = time.monotonic() + timeout

        def late(what):
            if time.monotonic() > deadline:
                raise SetupError("[%s] nova-compute %s within %d s; see %s" % (
                    self.site.name, what, timeout, self.site.dir("log")))
        while not compute_node_exists(db, self.site, host):
            late("did not register")
            time.sleep(0.5)
        map_compute_host(db, self.site, host)
        s = self.admin()
        while not any(h["hypervisor_hostname"] for h in
                      s.get("compute", "/os-hypervisors")["hypervisors"]):
            late("is not listed by Nova")
            time.sleep(0.5)
        self.log("compute %s registered and mapped" % host)

    def wait_volume_backend(self, timeout=120):
        s = self.admin()
        deadline = time.monotonic() + timeout
        while True:
            pools = s.get("volumev3", "/scheduler-stats/get_pools")["pools"]
            if any(p["name"].startswith(self.site.cinder_host + "@")
                   for p in pools):
                return
            if time.monotonic() > deadline:
                raise SetupError("[%s] the Cinder scheduler did not see the "
                                 "%s backend within %d s" % (
                                     self.site.name, self.site.backend_name,
                                     timeout))
            time.sleep(1)

    # ---- profile switch (lab.Lab.switch) ----------------------------------
    def write_profile_files(self):
        """The files that differ between the profiles: cinder.conf (the
        volume backend) and protector.conf (the storage driver)."""
        files = config_files(self.site, self.venvs, self.fa)
        for path in (self.site.dir("cinder", "cinder.conf"),
                     self.site.dir("protector", "protector.conf")):
            with open(path, "w") as f:
                f.write(files[path])

    def set_group_specs(self):
        """The consistency group type's specs for this builder's profile:
        the pure profile's replication key added, or removed."""
        s = self.admin()
        headers = {"OpenStack-API-Version": "volume 3.11"}
        types = s.get("volumev3", "/group_types", headers=headers)
        gtype = [t for t in types["group_types"]
                 if t["name"] == GROUP_TYPE_NAME][0]
        wanted = group_specs(self.fa)
        path = "/group_types/%s/group_specs" % gtype["id"]
        s.post("volumev3", path, {"group_specs": wanted}, headers=headers)
        for key in set(gtype.get("group_specs") or {}) - set(wanted):
            s.delete("volumev3", "%s/%s" % (path, key), headers=headers)

    def wait_backend_reported(self, since, timeout=120):
        """The backend's capabilities reported to the scheduler at or after
        ``since`` (a naive UTC ``datetime``): the restarted driver is
        initialized (an uninitialized one reports nothing) and is what the
        scheduler now knows, not the one it replaced."""
        s = self.admin()
        deadline = time.monotonic() + timeout
        while True:
            pools = s.get("volumev3",
                          "/scheduler-stats/get_pools?detail=true")["pools"]
            if any(p["name"].startswith(self.site.cinder_host + "@") and
                   _utc((p.get("capabilities") or {}).get("timestamp")) >=
                   since for p in pools):
                return
            if time.monotonic() > deadline:
                raise SetupError("[%s] the restarted cinder-volume did not "
                                 "report its backend within %d s; see %s" % (
                                     self.site.name, timeout,
                                     self.site.dir("log")))
            time.sleep(1)


def _utc(stamp):
    """A timestamp of Cinder's (naive UTC, ISO 8601, to the second or
    finer) as a naive datetime; the earliest one when there is none."""
    if not stamp:
        return datetime.datetime.min
    return datetime.datetime.strptime(str(stamp)[:19].replace(" ", "T"),
                                      "%Y-%m-%dT%H:%M:%S")


def group_specs(fa=None):
    """The consistency group type's specs. Cinder's Pure driver (pure
    profile) refuses a consistency group of replicated volume types unless
    the group type also asks for group replication."""
    specs = {"consistent_group_snapshot_enabled": "<is> True"}
    if fa:
        specs["consistent_group_replication_enabled"] = "<is> True"
    return specs


# Nova's fixed uuid of cell0 (nova.objects.CellMapping.CELL0_UUID).
CELL0_UUID = "00000000-0000-0000-0000-000000000000"


def insert_cell_mappings(db, site):
    """The rows ``nova-manage cell_v2 map_cell0`` and ``create_cell
    --name cell1`` insert into ``nova_api.cell_mappings``: cell0 has no
    message queue (``none:///``), cell1 uses the site's transport URL and
    the ``[database] connection`` of nova.conf. Idempotent."""
    import uuid as uuid_mod
    table = "`%s`.cell_mappings" % site.db_name("nova_api")
    rows = ((CELL0_UUID, "cell0", "none:///", site.db_url("nova_cell0")),
            (str(uuid_mod.uuid4()), "cell1", site.transport_url,
             site.db_url("nova")))
    existing = {r[0] for r in db.execute("SELECT name FROM %s" % table)}
    for cell_uuid, name, transport, connection in rows:
        if name in existing:
            continue
        db.execute_params(
            "INSERT INTO %s (created_at, uuid, name, transport_url, "
            "database_connection, disabled) VALUES (UTC_TIMESTAMP(), "
            "%%s, %%s, %%s, %%s, 0)" % table,
            (cell_uuid, name, transport, connection))


def compute_node_exists(db, site, host):
    """Whether nova-compute on ``host`` has made its compute node in the
    cell's database (what discover_hosts looks for)."""
    return bool(db.execute_params(
        "SELECT id FROM `%s`.compute_nodes WHERE host = %%s AND "
        "deleted = 0" % site.db_name("nova"), (host,)))


def map_compute_host(db, site, host):
    """What ``nova-manage cell_v2 discover_hosts`` does for one compute
    host whose compute node exists: its row in ``nova_api.host_mappings``
    (cell1), then the node marked mapped in the cell's database, so
    nova-scheduler's periodic discovery skips it. Idempotent: ``host`` is
    unique there, and the scheduler may have mapped it meanwhile."""
    api = "`%s`" % site.db_name("nova_api")
    db.execute_params(
        "INSERT IGNORE INTO %s.host_mappings (created_at, cell_id, host) "
        "SELECT UTC_TIMESTAMP(), id, %%s FROM %s.cell_mappings "
        "WHERE name = 'cell1'" % (api, api), (host,))
    db.execute_params(
        "UPDATE `%s`.compute_nodes SET mapped = 1 WHERE host = %%s "
        "AND deleted = 0" % site.db_name("nova"), (host,))


def _image_bytes():
    header = b"protector-lab stand-in for cirros (not bootable)\n"
    return header + b"\0" * (IMAGE_SIZE - len(header))

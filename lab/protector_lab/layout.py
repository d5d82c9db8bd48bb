"""Where everything of a lab site lives: ports, names, passwords, paths.

Pure data, no I/O: the config generators (``config``), the orchestration
(``site``) and the unit tests all derive from one ``Site`` object, so a port
or a password is defined in exactly one place.

Ports are the services' standard ports plus a per-site offset (site-a +1000,
site-b +1100 by default), which keeps the lab clear of anything running on
the standard ports of the machine. ``PROTECTOR_LAB_PORT_OFFSETS="1000,1100"``
changes the offsets.
"""
import dataclasses
import os

# Standard port of each HTTP service; a site adds its offset.
BASE_PORTS = {
    "keystone": 5000,
    "glance": 9292,
    "cinder": 8776,
    "nova": 8774,
    "placement": 8778,
    "neutron": 9696,
    "protector": 8788,
    # Horizon with protector-dashboard (site-a only: horizon.py).
    "horizon": 8080,
}

SITE_NAMES = ("site-a", "site-b")
DEFAULT_OFFSETS = (1000, 1100)

# The services a user can stop or start, and the processes each one is.
SERVICES = {
    "keystone": ["keystone"],
    "glance": ["glance"],
    "placement": ["placement"],
    "neutron": ["neutron"],
    "cinder": ["cinder-api", "cinder-scheduler", "cinder-volume"],
    "nova": ["nova-api", "nova-conductor", "nova-scheduler", "nova-compute"],
    "protector-api": ["protector-api"],
    "protector-engine": ["protector-engine"],
    "horizon": ["horizon"],
}

# Process -> the port it serves (processes without a port are absent).
PROCESS_PORTS = {
    "keystone": "keystone",
    "glance": "glance",
    "placement": "placement",
    "neutron": "neutron",
    "cinder-api": "cinder",
    "nova-api": "nova",
    "protector-api": "protector",
    "horizon": "horizon",
}

# OpenStack service users of a site (all hold admin + service in the
# service project, as a deployment tool would set them up).
SERVICE_USERS = ("glance", "cinder", "nova", "placement", "neutron",
                 "protector")

MARIADB = ("127.0.0.1", 3306)
RABBITMQ = ("127.0.0.1", 5672)
REGION = "RegionOne"
DB_NAMES = ("keystone", "glance", "cinder", "placement", "nova_api",
            "nova_cell0", "nova", "neutron", "protector")


def offsets_from_env(environ=None):
    environ = os.environ if environ is None else environ
    raw = environ.get("PROTECTOR_LAB_PORT_OFFSETS")
    if not raw:
        return DEFAULT_OFFSETS
    parts = [int(p) for p in raw.replace(" ", "").split(",") if p]
    if len(parts) != len(SITE_NAMES):
        raise ValueError("PROTECTOR_LAB_PORT_OFFSETS needs %d comma-separated "
                         "integers, got %r" % (len(SITE_NAMES), raw))
    return tuple(parts)


@dataclasses.dataclass(frozen=True)
class Site:
    """One lab site: ``name`` is ``site-a`` or ``site-b``."""

    name: str
    offset: int
    root: str          # the site's directory under the lab state dir

    # ---- identity of the site ------------------------------------------
    @property
    def letter(self):
        return self.name.rsplit("-", 1)[-1]

    @property
    def index(self):
        return SITE_NAMES.index(self.name) + 1 if self.name in SITE_NAMES \
            else ord(self.letter[0]) - ord("a") + 1

    @property
    def key(self):
        """``site_a``: the form used in database, vhost and user names."""
        return self.name.replace("-", "_")

    # ---- ports and URLs --------------------------------------------------
    def port(self, service):
        return BASE_PORTS[service] + self.offset

    def url(self, service):
        return "http://127.0.0.1:%d" % self.port(service)

    @property
    def auth_url(self):
        return self.url("keystone") + "/v3"

    @property
    def protector_endpoint(self):
        return self.url("protector") + "/v1/%(tenant_id)s"

    def endpoints(self):
        """(service name, service type, URL) of the catalog, Keystone aside.

        Cinder is registered under both of its current types so that OSC,
        openstacksdk and Nova all find it.
        """
        return [
            ("glance", "image", self.url("glance")),
            ("cinderv3", "volumev3",
             self.url("cinder") + "/v3/%(project_id)s"),
            ("cinder", "block-storage",
             self.url("cinder") + "/v3/%(project_id)s"),
            ("nova", "compute", self.url("nova") + "/v2.1"),
            ("placement", "placement", self.url("placement")),
            ("neutron", "network", self.url("neutron")),
            ("protector", "protector", self.protector_endpoint),
        ]

    # ---- credentials -----------------------------------------------------
    def password(self, user):
        """Every user's password names its site, so a test that sends one
        site's credentials to the other fails loudly."""
        return "%s-%s" % (user, self.name)

    @property
    def db_prefix(self):
        return "lab_%s_" % self.key

    def db_name(self, name):
        return self.db_prefix + name

    @property
    def db_user(self):
        return "lab_%s" % self.key

    @property
    def db_password(self):
        return "lab-%s-db" % self.name

    def db_url(self, name):
        return "mysql+pymysql://%s:%s@%s:%d/%s?charset=utf8" % (
            self.db_user, self.db_password, MARIADB[0], MARIADB[1],
            self.db_name(name))

    @property
    def rabbit_vhost(self):
        return "lab_%s" % self.key

    @property
    def rabbit_user(self):
        return "lab_%s" % self.key

    @property
    def rabbit_password(self):
        return "lab-%s-mq" % self.name

    @property
    def transport_url(self):
        return "rabbit://%s:%s@%s:%d/%s" % (
            self.rabbit_user, self.rabbit_password, RABBITMQ[0], RABBITMQ[1],
            self.rabbit_vhost)

    # ---- names that differ between sites (so mappings matter) -----------
    @property
    def network_name(self):
        return "net-%s" % self.letter

    @property
    def subnet_name(self):
        return "subnet-%s" % self.letter

    @property
    def subnet_cidr(self):
        return "10.%d.0.0/24" % (10 * self.index)

    @property
    def flavors(self):
        """(name, ram MiB, vcpus, disk GiB): m1.* on site-a, m2.* on site-b."""
        prefix = "m%d" % self.index
        return [("%s.tiny" % prefix, 256, 1, 1),
                ("%s.small" % prefix, 512, 1, 2),
                ("%s.medium" % prefix, 1024, 2, 5)]

    @property
    def backend_name(self):
        """Cinder backend (section and ``volume_backend_name``)."""
        return "lab-%s" % self.letter

    @property
    def cinder_host(self):
        return "%s-cinder" % self.name

    @property
    def compute_host(self):
        return "%s-compute" % self.name

    # ---- paths -----------------------------------------------------------
    def dir(self, *parts):
        return os.path.join(self.root, *parts)

    def pidfile(self, process):
        return self.dir("run", process + ".pid")

    def logfile(self, process):
        return self.dir("log", process + ".log")


def sites(state_dir, offsets=None):
    offsets = offsets_from_env() if offsets is None else offsets
    return [Site(name, off, os.path.join(state_dir, name))
            for name, off in zip(SITE_NAMES, offsets)]


def default_state_dir(environ=None):
    """``$PROTECTOR_LAB_DIR``, else ``<repo>/.lab`` (git-ignored)."""
    environ = os.environ if environ is None else environ
    if environ.get("PROTECTOR_LAB_DIR"):
        return os.path.abspath(environ["PROTECTOR_LAB_DIR"])
    here = os.path.dirname(os.path.abspath(__file__))
    probe = here
    while probe != os.path.dirname(probe):
        if os.path.isdir(os.path.join(probe, ".git")) or os.path.isfile(
                os.path.join(probe, ".git")):
            return os.path.join(probe, ".lab")
        probe = os.path.dirname(probe)
    # Installed outside a checkout: fall back to the current directory.
    return os.path.join(os.getcwd(), ".lab")

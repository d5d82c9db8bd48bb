"""What a test (or a script) needs to know about a running lab.

    from protector_lab.info import LabInfo
    lab = LabInfo.load()                 # $PROTECTOR_LAB_DIR or <repo>/.lab
    lab.clouds_yaml                      # path for OS_CLIENT_CONFIG_FILE
    a = lab.site("site-a")               # or lab.site_a / lab.site_b
    a.auth_url, a.admin, a.demo          # credentials as keystoneauth dicts
    a.protector_url                      # http://127.0.0.1:9788
    lab.connect("site-a-admin")          # openstacksdk Connection

Everything is derived from the lab's own state and ``layout``; nothing here
starts or stops anything (``LabInfo.stop``/``start`` call the lab).
"""
import dataclasses
import json
import os

from protector_lab import layout
from protector_lab import site as site_mod


@dataclasses.dataclass(frozen=True)
class SiteInfo:
    name: str
    site: layout.Site
    ids: dict

    @property
    def auth_url(self):
        return self.site.auth_url

    @property
    def region(self):
        return layout.REGION

    def credentials(self, user, project):
        return {"auth_url": self.auth_url, "username": user,
                "password": self.site.password(user),
                "project_name": project, "user_domain_name": "Default",
                "project_domain_name": "Default"}

    @property
    def admin(self):
        return self.credentials("admin", "admin")

    @property
    def demo(self):
        return self.credentials("demo", "demo")

    @property
    def protector_service(self):
        """The protector service user (admin in the service project)."""
        return self.credentials("protector", "service")

    @property
    def cloud(self):
        """clouds.yaml entry of the demo user."""
        return self.name

    @property
    def admin_cloud(self):
        return self.name + "-admin"

    @property
    def demo_project_id(self):
        return self.ids.get("projects", {}).get("demo")

    @property
    def protector_url(self):
        return self.site.url("protector")

    @property
    def protector_endpoint(self):
        """As registered in Keystone: ``.../v1/%(tenant_id)s``."""
        return self.site.protector_endpoint

    def url(self, service):
        return self.site.url(service)

    @property
    def ports(self):
        return {svc: self.site.port(svc) for svc in layout.BASE_PORTS}

    # Seeded resources (names differ between the sites on purpose).
    @property
    def network_name(self):
        return self.site.network_name

    @property
    def subnet_name(self):
        return self.site.subnet_name

    @property
    def flavor_names(self):
        return [f[0] for f in self.site.flavors]

    @property
    def image_name(self):
        return site_mod.IMAGE_NAME

    @property
    def volume_types(self):
        return list(site_mod.VOLUME_TYPES)

    @property
    def group_type(self):
        return site_mod.GROUP_TYPE_NAME

    @property
    def backend_name(self):
        return self.site.backend_name

    @property
    def volume_host(self):
        """Host for Cinder manage: ``site-a-cinder@lab-a#lab-a``."""
        return "%s@%s#%s" % (self.site.cinder_host, self.backend_name,
                             self.backend_name)


class LabInfo:
    def __init__(self, state_dir, state):
        self.state_dir = state_dir
        self.state = state
        self._lab = None

    @classmethod
    def load(cls, state_dir=None):
        from protector_lab import lab as lab_mod
        lab = lab_mod.Lab(state_dir or layout.default_state_dir(),
                          log=lambda msg: None)
        state = lab.load()
        if not state or not state.get("ready"):
            raise RuntimeError("no ready lab in %s (protector-lab up)" %
                               lab.state_dir)
        info = cls(lab.state_dir, state)
        info._lab = lab
        return info

    @property
    def clouds_yaml(self):
        return os.path.join(self.state_dir, "clouds.yaml")

    @property
    def site_names(self):
        return sorted(self.state["sites"])

    def site(self, name):
        s = self._lab.site(name, self.state)
        return SiteInfo(name, s, self.state["sites"][name].get("ids", {}))

    @property
    def site_a(self):
        return self.site("site-a")

    @property
    def site_b(self):
        return self.site("site-b")

    @property
    def osc(self):
        """The ``openstack`` command of the lab's OSC venv."""
        return os.path.join(self.state["venvs"]["osc"], "bin", "openstack")

    def env(self):
        """Environment for subprocesses using clouds.yaml."""
        env = dict(os.environ)
        env["OS_CLIENT_CONFIG_FILE"] = self.clouds_yaml
        env["PROTECTOR_LAB_DIR"] = self.state_dir
        return env

    def connect(self, cloud):
        """openstacksdk Connection for a clouds.yaml entry of this lab."""
        import openstack.config
        import openstack.connection
        loader = openstack.config.OpenStackConfig(
            config_files=[self.clouds_yaml])
        return openstack.connection.Connection(
            config=loader.get_one(cloud=cloud))

    def stop(self, site, service=None):
        self._lab.stop(site, service)

    def start(self, site, service=None):
        self._lab.start(site, service)

    def status(self):
        return self._lab.status()

    @property
    def profile(self):
        return self.state.get("profile", "default")

    @property
    def flasharray(self):
        """The pure profile's simulated arrays, or None: ``{"control_url",
        "cert", "arrays": {site: {"name", "url", "endpoint", "token"}}}``.
        The tokens are secrets: pass them on, never print them."""
        fa = self.state.get("flasharray")
        if self.profile != "pure" or not fa:
            return None
        with open(os.path.join(self.state_dir, "flasharray",
                               "tokens.json")) as f:
            tokens = json.load(f)
        return {"control_url": "http://127.0.0.1:%d" % fa["control_port"],
                "cert": fa["cert"],
                "arrays": {site: dict(arr, url="https://" + arr["endpoint"],
                                      token=tokens[arr["name"]])
                           for site, arr in fa["arrays"].items()}}

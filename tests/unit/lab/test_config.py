"""Config generation of the lab: ports, names, and the generated files.

No service runs here: the files are generated into strings (or a temp dir)
and parsed back.
"""
import configparser

import pytest
import yaml
from oslo_config import cfg

from protector_lab import config
from protector_lab import layout
from protector_lab import site as site_mod


@pytest.fixture
def sites(tmp_path):
    return layout.sites(str(tmp_path), offsets=layout.DEFAULT_OFFSETS)


@pytest.fixture
def venvs(tmp_path):
    return {name: str(tmp_path / "venvs" / name)
            for name in ("ks", "osc", "glance", "cinder", "nova", "neutron",
                         "horizon")}


def parse(text):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.read_string(text)
    return parser


def test_ports_use_offsets_and_never_overlap(sites):
    a, b = sites
    assert a.port("keystone") == 6000 and b.port("keystone") == 6100
    assert a.port("protector") == 9788 and b.port("protector") == 9888
    ports_a = {a.port(s) for s in layout.BASE_PORTS}
    ports_b = {b.port(s) for s in layout.BASE_PORTS}
    assert len(ports_a) == len(layout.BASE_PORTS)
    assert ports_a.isdisjoint(ports_b)


def test_offsets_from_env():
    assert layout.offsets_from_env({}) == layout.DEFAULT_OFFSETS
    assert layout.offsets_from_env(
        {"PROTECTOR_LAB_PORT_OFFSETS": "2000, 2200"}) == (2000, 2200)
    with pytest.raises(ValueError):
        layout.offsets_from_env({"PROTECTOR_LAB_PORT_OFFSETS": "2000"})


def test_state_dir_from_env(tmp_path):
    assert layout.default_state_dir(
        {"PROTECTOR_LAB_DIR": str(tmp_path)}) == str(tmp_path)
    assert layout.default_state_dir({}).endswith(".lab")


def test_names_and_secrets_differ_between_sites(sites):
    a, b = sites
    for attr in ("network_name", "subnet_name", "subnet_cidr",
                 "backend_name", "db_prefix", "rabbit_vhost", "db_password",
                 "rabbit_password"):
        assert getattr(a, attr) != getattr(b, attr), attr
    assert {f[0] for f in a.flavors}.isdisjoint({f[0] for f in b.flavors})
    assert a.password("admin") != b.password("admin")
    assert a.network_name == "net-a" and b.flavors[1][0] == "m2.small"


def test_database_names_carry_the_site_prefix(sites):
    a = sites[0]
    assert a.db_name("nova_api") == "lab_site_a_nova_api"
    assert a.db_url("keystone") == (
        "mysql+pymysql://lab_site_a:lab-site-a-db@127.0.0.1:3306/"
        "lab_site_a_keystone?charset=utf8")
    assert a.transport_url == (
        "rabbit://lab_site_a:lab-site-a-mq@127.0.0.1:5672/lab_site_a")


def test_every_generated_file_parses(sites, venvs):
    for site in sites:
        files = site_mod.config_files(site, venvs)
        for path, text in files.items():
            assert path.startswith(site.root)
            if path.endswith("uwsgi.ini"):
                # uWSGI repeats keys ('env'); check the section only.
                assert text.startswith("[uwsgi]\n")
            elif path.endswith((".conf", ".ini")):
                parse(text)
            elif path.endswith(".yaml"):
                assert isinstance(yaml.safe_load(text), dict)


def test_uwsgi_closes_connections_and_binds_loopback(sites, venvs):
    a = sites[0]
    files = site_mod.uwsgi_files(a, venvs)
    assert len(files) == 5
    for text in files.values():
        assert "add-header = Connection: close" in text
        assert "http-socket = 127.0.0.1:" in text
        assert "daemonize" not in text   # the lab keeps the pid itself
    nova = files[a.dir("nova", "uwsgi.ini")]
    # nova-api reads its paste config from the same list of files.
    assert "OS_NOVA_CONFIG_FILES=api-paste.ini;nova.conf;nova-api.conf" \
        in nova
    ks = files[a.dir("keystone", "uwsgi.ini")]
    assert "http-socket = 127.0.0.1:6000" in ks
    assert "module = keystone.wsgi.api:application" in ks


def test_keystone_caches_in_its_one_process(sites, venvs):
    """Keystone's cache is on (a new token's roles are computed once, not
    by every validation) and in process memory, so there is one Keystone
    process: a second would serve what the first invalidated (a revoked
    trust's token, a removed role)."""
    a = sites[0]
    ks = parse(config.keystone_conf(a))
    assert ks["cache"]["enabled"] == "true"
    assert ks["cache"]["backend"] == "dogpile.cache.memory"
    uwsgi = site_mod.uwsgi_files(a, venvs)[a.dir("keystone", "uwsgi.ini")]
    assert "processes = 1\n" in uwsgi


def test_nova_conf(sites):
    a = sites[0]
    nova = parse(config.nova_conf(a))
    assert nova["DEFAULT"]["compute_driver"] == \
        "fake.FakeDriverWithoutFakeNodes"
    assert nova["service_user"]["send_service_user_token"] == "true"
    assert nova["database"]["connection"].startswith("mysql+pymysql://")
    assert nova["api_database"]["connection"].endswith(
        "/lab_site_a_nova_api?charset=utf8")
    assert nova["keystone_authtoken"]["auth_url"] == "http://127.0.0.1:6000"
    assert nova["DEFAULT"]["transport_url"] == a.transport_url


def test_cinder_conf_and_policy(sites):
    b = sites[1]
    cinder = parse(config.cinder_conf(b))
    # A capability report the scheduler missed at start is repeated
    # within 10 s, not a minute.
    assert cinder["DEFAULT"]["backend_stats_polling_interval"] == "10"
    assert cinder["DEFAULT"]["enabled_backends"] == "lab-b"
    assert cinder["lab-b"]["volume_driver"] == \
        "protector_lab_shims.cinder_driver.LabVolumeDriver"
    assert cinder["lab-b"]["volume_backend_name"] == "lab-b"
    assert cinder["DEFAULT"]["osapi_volume_listen_port"] == "9876"
    policy = yaml.safe_load(config.cinder_policy())
    # doc/deployment.md, "Cinder policy on each site".
    assert policy == {
        "volume_extension:volume_manage": "rule:admin_or_owner",
        "volume_extension:volume_unmanage": "rule:admin_or_owner",
        "volume_extension:services:index": "rule:admin_or_owner",
        # Protector reads replication_type with the tenant's token.
        "volume_extension:types_extra_specs:read_sensitive":
            "rule:admin_or_owner"}


def test_neutron_uses_bindall(sites):
    ml2 = parse(config.ml2_conf(sites[0]))
    assert ml2["ml2"]["mechanism_drivers"] == "bindall"
    neutron = parse(config.neutron_conf(sites[0]))
    assert neutron["DEFAULT"]["core_plugin"] == "ml2"
    assert neutron["DEFAULT"]["notify_nova_on_port_status_changes"] == \
        "false"


def test_protector_conf_is_valid_for_protector(sites, tmp_path):
    """Parsed with Protector's own option definitions."""
    from protector.common import config as protector_config
    a = sites[0]
    path = tmp_path / "protector.conf"
    path.write_text(config.protector_conf(a))
    conf = cfg.ConfigOpts()
    protector_config.parse_args(["--config-file", str(path)], conf=conf,
                                default_config_files=[],
                                setup_logging=False)
    assert conf.api.bind_host == "127.0.0.1"
    assert conf.api.bind_port == 9788
    assert conf.api.workers == 1
    assert conf.api.auth_strategy == "keystone"
    assert conf.database.connection == a.db_url("protector")
    assert conf.use_mock_storage is True
    assert conf.use_mock_cinder is False
    assert conf.service_credentials.default_trust_roles == ["member"]
    assert conf.oslo_policy.policy_file.endswith("protector/policy.yaml")
    raw = parse(path.read_text())
    assert raw["keystone_authtoken"]["username"] == "protector"
    assert raw["keystone_authtoken"]["password"] == "protector-site-a"


def test_catalog_registers_protector_as_deployment_md_says(sites):
    a = sites[0]
    endpoints = {stype: url for _name, stype, url in a.endpoints()}
    assert endpoints["protector"] == "http://127.0.0.1:9788/v1/%(tenant_id)s"
    assert endpoints["volumev3"].endswith(":9776/v3/%(project_id)s")
    assert endpoints["compute"] == "http://127.0.0.1:9774/v2.1"


def test_clouds_yaml(sites):
    clouds = yaml.safe_load(config.clouds(sites))["clouds"]
    assert set(clouds) == {"site-a", "site-b", "site-a-admin",
                           "site-b-admin"}
    assert clouds["site-a"]["auth"]["username"] == "demo"
    assert clouds["site-a"]["auth"]["project_name"] == "demo"
    assert clouds["site-b-admin"]["auth"] == {
        "auth_url": "http://127.0.0.1:6100/v3", "username": "admin",
        "password": "admin-site-b", "project_name": "admin",
        "user_domain_name": "Default", "project_domain_name": "Default"}


def test_protector_engine_hook(sites, venvs, monkeypatch):
    a = sites[0]
    monkeypatch.setattr(site_mod, "protector_bin",
                        lambda name: "/x/bin/" + name)
    specs = site_mod.process_specs(a, venvs)
    assert specs["protector-engine"]["cmd"] == [
        "/x/bin/protector-engine", "--config-file",
        a.dir("protector", "protector.conf")]
    monkeypatch.setattr(
        site_mod, "protector_bin",
        lambda name: None if name == "protector-engine" else "/x/" + name)
    specs = site_mod.process_specs(a, venvs)
    assert "protector-engine" not in specs
    assert specs["protector-api"]["port"] == 9788


def test_every_service_maps_to_known_processes(sites, venvs, monkeypatch):
    monkeypatch.setattr(site_mod, "protector_bin",
                        lambda name: "/x/bin/" + name)
    specs = site_mod.process_specs(sites[0], venvs)
    mapped = [p for procs in layout.SERVICES.values() for p in procs]
    assert sorted(mapped) == sorted(specs)
    for name, port_service in layout.PROCESS_PORTS.items():
        assert specs[name]["port"] == sites[0].port(port_service)


def test_horizon_runs_on_site_a_only(sites, venvs, monkeypatch):
    monkeypatch.setattr(site_mod, "protector_bin",
                        lambda name: "/x/bin/" + name)
    a, b = sites
    assert site_mod.process_specs(a, venvs)["horizon"]["port"] == \
        a.port("horizon") == 9080
    assert "horizon" not in site_mod.process_specs(b, venvs)
    without = {k: v for k, v in venvs.items() if k != "horizon"}
    assert "horizon" not in site_mod.process_specs(a, without)

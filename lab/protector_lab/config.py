"""Configuration files of a lab site, generated from its ``layout.Site``.

Every function returns file content as text and touches nothing, so the
unit tests check them without any service installed. The settings that are
not obvious carry a comment saying which failure they avoid; the background
is in doc/lab.md.
"""
import base64
import hashlib
import json

import yaml

from protector_lab import layout


def db(url):
    """A [database]-style section with small connection pools.

    Two sites run about 25 processes that each pool connections to the
    machine's one MariaDB (shared with the test suite; ``up`` raises its
    max_connections to 500, infra.ensure_connections); oslo.db's default
    overflow of 50 per process could still exhaust it under load, so cap
    every pool.
    """
    return {"connection": url, "max_pool_size": "3", "max_overflow": "7",
            "pool_timeout": "60"}


def ini(sections):
    """Render ``{section: {key: value}}`` (insertion order kept) as INI."""
    out = []
    for section, values in sections.items():
        out.append("[%s]" % section)
        for key, value in values.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value)
            out.append("%s = %s" % (key, value))
        out.append("")
    return "\n".join(out)


def service_auth(site, user):
    """keystoneauth password options for a service user of ``site``."""
    return {
        "auth_url": site.url("keystone"),
        "auth_type": "password",
        "project_domain_name": "Default",
        "user_domain_name": "Default",
        "region_name": layout.REGION,
        "project_name": "service",
        "username": user,
        "password": site.password(user),
    }


def authtoken(site, user):
    """[keystone_authtoken] for an API service running as ``user``."""
    section = {"www_authenticate_uri": site.url("keystone"),
               # Nova sends a service token with its calls to Cinder and
               # Neutron; require the service role on it.
               "service_token_roles_required": True}
    section.update(service_auth(site, user))
    return section


def uwsgi_ini(site, process, venv, module, service, environ,
              processes=1, threads=1):
    """uWSGI in the foreground (protector-lab keeps its pid), HTTP socket.

    ``add-header = Connection: close``: uWSGI's http-socket closes
    keep-alive connections that keystoneauth reuses, which shows up as
    ``ConnectionResetError(104)`` on POSTs without it.
    """
    lines = ["[uwsgi]",
             "http-socket = 127.0.0.1:%d" % site.port(service),
             "module = %s" % module,
             "virtualenv = %s" % venv]
    lines += ["env = %s=%s" % (k, v) for k, v in environ.items()]
    lines += ["processes = %d" % processes,
              "threads = %d" % threads,
              "enable-threads = true",
              "master = true",
              "lazy-apps = true",
              "die-on-term = true",
              "need-app = true",
              "add-header = Connection: close",
              "http-chunked-input = true",
              "http-auto-chunked = true",
              "buffer-size = 65535",
              # Do not wait a minute for busy workers on stop (nova-api's
              # keep their RPC threads alive).
              "worker-reload-mercy = 5",
              "reload-mercy = 5",
              "procname-prefix-spaced = lab-%s-%s" % (site.name, process),
              ""]
    return "\n".join(lines)


def keystone_conf(site):
    d = site.dir("keystone")
    return ini({
        "DEFAULT": {"log_file": site.dir("log", "keystone-app.log")},
        "database": db(site.db_url("keystone")),
        "token": {"provider": "fernet"},
        "fernet_tokens": {"key_repository": d + "/fernet-keys"},
        "fernet_receipts": {"key_repository": d + "/fernet-keys"},
        "credential": {"key_repository": d + "/credential-keys"},
        # Keystone's own cache, as every deployment runs it (memcached
        # there): without it each token validation recomputes the token's
        # roles from the assignment tables, ~0.5 s of this CPU per new
        # token and per service that checks it, and a DR operation's
        # trust-scoped tokens are all new. In process memory, so Keystone
        # runs as one uWSGI process (site.uwsgi_files): a second process
        # would keep serving what the first one invalidated.
        "cache": {"enabled": True, "backend": "dogpile.cache.memory"},
        # bcrypt's minimum cost: every password authentication of every
        # service user costs ~5 ms instead of ~250 ms of a shared 2-core CPU.
        "identity": {"password_hash_algorithm": "bcrypt",
                     "password_hash_rounds": 4},
    })


def glance_conf(site):
    d = site.dir("glance")
    sections = {
        "DEFAULT": {"log_file": site.dir("log", "glance-app.log"),
                    "enabled_backends": "fs:file"},
        "database": db(site.db_url("glance")),
        "glance_store": {"default_backend": "fs"},
        "fs": {"filesystem_store_datadir": d + "/images"},
        "os_glance_staging_store": {"filesystem_store_datadir":
                                    d + "/staging"},
        "os_glance_tasks_store": {"filesystem_store_datadir": d + "/tasks"},
        "paste_deploy": {"flavor": "keystone",
                         "config_file": d + "/glance-api-paste.ini"},
        "keystone_authtoken": authtoken(site, "glance"),
        "oslo_concurrency": {"lock_path": d + "/lock"},
    }
    return ini(sections)


def placement_conf(site):
    return ini({
        "DEFAULT": {"log_file": site.dir("log", "placement-app.log")},
        "placement_database": db(site.db_url("placement")),
        "api": {"auth_strategy": "keystone"},
        "keystone_authtoken": authtoken(site, "placement"),
    })


def neutron_conf(site):
    d = site.dir("neutron")
    return ini({
        "DEFAULT": {
            "log_file": site.dir("log", "neutron-app.log"),
            "core_plugin": "ml2",
            "service_plugins": "router",
            "auth_strategy": "keystone",
            "transport_url": site.transport_url,
            "api_paste_config": d + "/api-paste.ini",
            # No Nova notifications: nothing waits for vif-plugged events
            # with the fake virt driver.
            "notify_nova_on_port_status_changes": False,
            "notify_nova_on_port_data_changes": False,
            "state_path": d + "/state",
        },
        "database": db(site.db_url("neutron")),
        "oslo_concurrency": {"lock_path": d + "/lock"},
        "oslo_messaging_notifications": {"driver": "noop"},
        "keystone_authtoken": authtoken(site, "neutron"),
    })


def ml2_conf(site):
    # API-only Neutron: no agents; the 'bindall' shim binds every port.
    return ini({
        "ml2": {"type_drivers": "flat,vlan",
                "tenant_network_types": "vlan",
                "mechanism_drivers": "bindall",
                "extension_drivers": "port_security"},
        "ml2_type_vlan": {"network_vlan_ranges": "physnet1:100:200"},
        "ml2_type_flat": {"flat_networks": "public"},
    })


CINDER_DRIVER = "protector_lab_shims.cinder_driver.LabVolumeDriver"
# The pure profile: Cinder's real PureISCSIDriver, only its data path (image
# copies, no iSCSI here) replaced.
CINDER_PURE_DRIVER = "protector_lab_shims.cinder_pure.LabPureISCSIDriver"


def cinder_backend(site, fa=None):
    """The site's backend section: the lab driver, or (``fa``: the pure
    profile's settings from ``fa_lab.FlashArrays.site_settings``) Cinder's
    Pure iSCSI driver against the site's simulated array, replicating
    (async) to the peer site's array."""
    d = site.dir("cinder")
    if not fa:
        return {"volume_driver": CINDER_DRIVER,
                "volume_backend_name": site.backend_name,
                "lab_state_file": d + "/state/lab-backend.json"}
    return {
        "volume_driver": CINDER_PURE_DRIVER,
        "volume_backend_name": site.backend_name,
        "san_ip": fa["endpoint"],
        "pure_api_token": fa["token"],
        "replication_device": "backend_id:%s,san_ip:%s,api_token:%s,"
                              "type:async" % (fa["peer_array"],
                                              fa["peer_endpoint"],
                                              fa["peer_token"]),
        # The simulator's self-signed certificate; py-pure-client does not
        # verify by default (driver_ssl_cert_verify = False).
        "driver_ssl_cert_verify": False,
        "pure_eradicate_on_delete": True,
        "pure_replica_interval_default": 300,
        "use_multipath_for_image_xfer": False,
    }


def cinder_conf(site, fa=None):
    d = site.dir("cinder")
    backend = site.backend_name
    return ini({
        "DEFAULT": {
            "log_dir": site.dir("log"),
            "state_path": d + "/state",
            "my_ip": "127.0.0.1",
            "host": site.cinder_host,
            "transport_url": site.transport_url,
            "auth_strategy": "keystone",
            "enabled_backends": backend,
            "osapi_volume_listen": "127.0.0.1",
            "osapi_volume_listen_port": site.port("cinder"),
            "osapi_volume_workers": 1,
            "api_paste_config": d + "/api-paste.ini",
            "resource_query_filters_file": d + "/resource_filters.json",
            # Keep the scheduler's view of the backend fresh so a restarted
            # cinder-volume is usable within seconds.
            "report_interval": 5,
            "periodic_interval": 10,
            # cinder-volume publishes its backend's capabilities when it
            # starts, then every this many seconds (60 by default). A
            # cinder-scheduler started at the same moment can miss the
            # first: the scheduler then saw no backend for a minute.
            "backend_stats_polling_interval": 10,
            "graceful_shutdown_timeout": 5,
        },
        "database": db(site.db_url("cinder")),
        "oslo_concurrency": {"lock_path": d + "/lock"},
        "oslo_policy": {"policy_file": d + "/policy.yaml"},
        backend: cinder_backend(site, fa),
        "oslo_messaging_notifications": {"driver": "noop"},
        "coordination": {"backend_url": "file://%s/lock" % d},
        "keystone_authtoken": authtoken(site, "cinder"),
        "nova": service_auth(site, "nova"),
    })


# doc/deployment.md, "Cinder policy on each site": the protector service
# acts for tenants through trusts with the member role, so these must not
# be admin-only.
CINDER_POLICY = {
    "volume_extension:volume_manage": "rule:admin_or_owner",
    "volume_extension:volume_unmanage": "rule:admin_or_owner",
    # (Cinder's database layer still lists services for admins only;
    # Protector then asks with its service user: storage_tasks.py.)
    "volume_extension:services:index": "rule:admin_or_owner",
    # Protector checks replication_type (not a user-visible extra spec) of
    # the group's volume type with the tenant's token.
    "volume_extension:types_extra_specs:read_sensitive":
        "rule:admin_or_owner",
}


def cinder_policy():
    return ("# Protector (doc/deployment.md): allow the member role "
            "(through a trust) to\n"
            "# manage/unmanage volumes and list volume services.\n" +
            "".join('"%s": "%s"\n' % kv for kv in CINDER_POLICY.items()))


def nova_conf(site):
    d = site.dir("nova")
    return ini({
        "DEFAULT": {
            "log_dir": site.dir("log"),
            "state_path": d + "/state",
            "instances_path": d + "/instances",
            "transport_url": site.transport_url,
            # Not fake.FakeDriver: that one forgets its node identity and a
            # restarted nova-compute refuses to start.
            "compute_driver": "fake.FakeDriverWithoutFakeNodes",
            "host": site.compute_host,
            "my_ip": "127.0.0.1",
            "heal_instance_info_cache_interval": -1,
            # A lab stop/down should not wait a minute per process.
            "graceful_shutdown_timeout": 5,
        },
        "api": {"auth_strategy": "keystone"},
        "api_database": db(site.db_url("nova_api")),
        "database": db(site.db_url("nova")),
        "wsgi": {"api_paste_config": d + "/api-paste.ini"},
        "oslo_concurrency": {"lock_path": d + "/lock"},
        "oslo_messaging_notifications": {"driver": "noop"},
        "conductor": {"workers": 1},
        "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": 5},
        "vnc": {"enabled": False},
        "keystone_authtoken": authtoken(site, "nova"),
        "placement": service_auth(site, "placement"),
        "neutron": service_auth(site, "neutron"),
        "cinder": dict(service_auth(site, "cinder"),
                       os_region_name=layout.REGION),
        "glance": {"region_name": layout.REGION},
        # Cinder refuses Nova's detach without a service token
        # (CVE-2023-2088 hardening): ConflictNovaUsingAttachment.
        "service_user": dict(service_auth(site, "nova"),
                             send_service_user_token=True),
    })


def nova_api_conf(site):
    """Extra config file of the nova-api uWSGI app: its own log file.

    With only ``log_dir`` oslo.log names the file after the program, which
    under uWSGI is ``<frozen importlib._bootstrap>.log``.
    """
    return ini({"DEFAULT": {"log_file": site.dir("log", "nova-api.log")}})


def lab_fernet_key(site_name):
    """A stable Fernet key for a lab site (lab secrets are not secret)."""
    digest = hashlib.sha256(("protector-lab-" + site_name).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def protector_storage(site, fa=None):
    """[storage]: the mock driver, or (pure profile) the ``pure`` driver
    verifying the simulator's certificate; short polls for the lab."""
    out = {"driver": "pure" if fa else "mock",
           "token_encryption_key": lab_fernet_key(site.name)}
    if fa:
        out.update({"pure_verify_ssl": True, "pure_ca_bundle": fa["cert"],
                    "pure_poll_interval": 1,
                    "pure_replication_timeout": 300})
    return out


def protector_conf(site, workers=1, mock_storage=None, fa=None):
    d = site.dir("protector")
    if mock_storage is None:
        mock_storage = not fa
    return ini({
        "DEFAULT": {
            "debug": False,
            "log_dir": site.dir("log"),
            "state_path": d + "/state",
            "transport_url": site.transport_url,
            "use_mock_cinder": False,
            "use_mock_storage": mock_storage,
        },
        "api": {"bind_host": "127.0.0.1",
                "bind_port": site.port("protector"),
                "workers": workers,
                "auth_strategy": "keystone"},
        "database": db(site.db_url("protector")),
        # Explicit driver (use_mock_storage already selects 'mock'; the
        # [storage] driver default is 'pure') and a fixed per-site key so
        # replication policies and the engine's stored peer token can be
        # encrypted at rest (without a key, policy create answers 503).
        "storage": protector_storage(site, fa),
        # Names the engine in logs and operation records.
        "engine": {"host": "%s-engine" % site.name},
        "keystone_authtoken": authtoken(site, "protector"),
        # The lab's Keystone has no '_member_' role.
        "service_credentials": {"default_trust_roles": "member"},
        "oslo_policy": {"policy_file": d + "/policy.yaml"},
    })


def clouds(sites):
    """clouds.yaml: ``<site>`` is the demo user, ``<site>-admin`` admin."""
    result = {}
    for site in sites:
        for suffix, user, project in (("", "demo", "demo"),
                                      ("-admin", "admin", "admin")):
            result[site.name + suffix] = {
                "auth": {"auth_url": site.auth_url,
                         "username": user,
                         "password": site.password(user),
                         "project_name": project,
                         "user_domain_name": "Default",
                         "project_domain_name": "Default"},
                "region_name": layout.REGION,
                "identity_api_version": 3,
                "interface": "public",
            }
    return yaml.safe_dump({"clouds": result}, default_flow_style=False,
                          sort_keys=False)


def resource_filters_default():
    """Fallback for Cinder's resource_filters.json if the wheel lacks it."""
    return json.dumps({"volume": ["name", "status", "metadata",
                                  "bootable", "migration_status",
                                  "availability_zone", "group_id"]})

"""[DEFAULT] options that belong to Protector itself.

``debug`` and ``log_dir`` come from oslo.log, ``transport_url`` from
oslo.messaging; they are registered by their libraries.
"""
from oslo_config import cfg

default_opts = [
    cfg.StrOpt(
        "state_path",
        default="/var/lib/protector",
        help="Top-level directory for Protector's local state. The mock "
        "storage driver keeps its SQLite files in "
        "``$state_path/mock_storage``; the file lock backend keeps its locks "
        "in ``$state_path/locks``. The directory must be writable by the "
        "user the services run as.",
    ),
    cfg.BoolOpt(
        "use_mock_cinder",
        default=False,
        help="Simulate Cinder consistency-group operations in SQLite instead "
        "of calling Cinder's generic volume group API. For end-to-end tests "
        "on clouds without a group-capable Cinder backend; never enable it "
        "in production. The simulated groups are kept in "
        "``$state_path/mock_storage/cinder.sqlite``. Only the group "
        "operations are simulated: volume types, volumes and instances "
        "still come from the real Cinder and Nova of each site.",
    ),
    cfg.StrOpt(
        "site_name",
        help="Name under which this site is registered (in the sites list "
        "of both sites). Normally not needed: the local site is the "
        "registered site whose auth_url is this service's Keystone "
        "([keystone_authtoken] www_authenticate_uri or auth_url). Set it "
        "when both registered sites share one Keystone (test setups), so "
        "the service can tell which one it is and which one is the peer "
        "it pushes protection group metadata to.",
    ),
    cfg.BoolOpt(
        "use_mock_storage",
        default=False,
        help="Simulate FlashArray replication with SQLite state under "
        "``$state_path/mock_storage``. Volume replication is simulated by "
        "creating bootable volumes from the Glance image of the same name on "
        "the target site, so that image must exist on both sites. For "
        "testing without physical arrays; never enable it in production.",
    ),
]


def register_opts(conf):
    conf.register_opts(default_opts)


def list_opts():
    return {"DEFAULT": default_opts}

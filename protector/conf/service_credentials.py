"""[service_credentials] options: how Protector acts on behalf of tenants."""
from oslo_config import cfg

service_credentials_group = cfg.OptGroup(
    "service_credentials", title="Service credentials",
    help="How protector-engine acts on behalf of tenants through Keystone "
    "trusts. The trustee is the protector service user configured in "
    "[keystone_authtoken].")

service_credentials_opts = [
    cfg.ListOpt(
        "default_trust_roles",
        default=["member", "_member_"],
        help="Roles delegated when a Keystone trust is created for a "
        "tenant. Both 'member' and '_member_' are listed for compatibility "
        "across OpenStack versions. Every listed role must exist in the "
        "site's Keystone and be enough (with the Cinder policy changes of "
        "the deployment guide) for DR operations. Change this only if your "
        "cloud uses other role names.",
    ),
]


def register_opts(conf):
    conf.register_group(service_credentials_group)
    conf.register_opts(service_credentials_opts,
                       group=service_credentials_group)


def list_opts():
    return {service_credentials_group: service_credentials_opts}

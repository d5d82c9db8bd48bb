"""[cloud] options: how Protector talks to the OpenStack APIs of a site."""
from oslo_config import cfg

cloud_group = cfg.OptGroup(
    "cloud", title="Cloud access",
    help="Timeouts and retries for calls to the Keystone, Nova, Cinder, "
    "Neutron and Glance APIs of the registered sites, and to the peer "
    "site's protector-api.")

cloud_opts = [
    cfg.FloatOpt(
        "request_timeout", default=30.0, min=1.0,
        help="Seconds to wait for one HTTP response from a site's API "
        "before treating the service as unreachable."),
    cfg.IntOpt(
        "connect_retries", default=2, min=0,
        help="How many times a failed connection to a site's API is "
        "retried (with back-off) before the site is reported unreachable."),
    cfg.IntOpt(
        "status_code_retries", default=2, min=0,
        help="How many times a request answered with 502, 503 or 504 is "
        "retried before the error is reported."),
    cfg.StrOpt(
        "interface", default="public",
        choices=["public", "internal", "admin"],
        help="Which endpoint interface of a site's service catalog to use. "
        "Both sites must reach the chosen endpoints of each other."),
]


def register_opts(conf):
    conf.register_group(cloud_group)
    conf.register_opts(cloud_opts, group=cloud_group)


def list_opts():
    return {cloud_group: cloud_opts}

"""[api] options: how protector-api listens and serves."""
from oslo_config import cfg

api_group = cfg.OptGroup(
    "api", title="API service options",
    help="Options for the protector-api WSGI service.")

api_opts = [
    cfg.HostAddressOpt(
        "bind_host",
        default="0.0.0.0",
        help="Address protector-api listens on. Use 0.0.0.0 for all IPv4 "
        "addresses; the peer site must be able to reach it.",
    ),
    cfg.PortOpt(
        "bind_port",
        default=8788,
        help="Port protector-api listens on. Must match the port of the "
        "'protector' endpoints registered in Keystone; both sites must "
        "expose it to each other.",
    ),
    cfg.IntOpt(
        "workers",
        min=1,
        help="Number of protector-api worker processes. Defaults to the "
        "number of CPUs of the host.",
    ),
    cfg.IntOpt(
        "max_request_body_size",
        default=1024 * 1024,
        min=1024,
        help="Largest request body, in bytes, that protector-api accepts. "
        "Larger requests get 413.",
    ),
    cfg.StrOpt(
        "auth_strategy",
        default="keystone",
        choices=[("keystone", "Validate tokens with keystonemiddleware "
                  "auth_token ([keystone_authtoken])."),
                 ("noauth2", "Development only: trust "
                  "'X-Auth-Token: <user>:<project>' without checking it.")],
        help="How protector-api authenticates requests.",
    ),
    cfg.IntOpt(
        "max_limit",
        default=1000,
        min=1,
        help="Largest number of items a list request returns.",
    ),
    cfg.IntOpt(
        "peer_signature_max_age",
        default=300,
        min=10,
        help="Seconds a signed request of the peer site's Protector stays "
        "valid (its internal calls: metadata push, source-site "
        "sub-operations, tenant-mapping mirror). Older requests, or ones "
        "dated this far in the future, are refused, and a nonce is "
        "remembered this long so a replay within the window is refused "
        "too. Keep the two sites' clocks in sync (NTP).",
    ),
]


def register_opts(conf):
    conf.register_group(api_group)
    conf.register_opts(api_opts, group=api_group)


def list_opts():
    return {api_group: api_opts}

"""Loading configuration and logging for every Protector entry point."""
from oslo_config import cfg
from oslo_log import log as logging
from oslo_policy import opts as policy_opts

from protector import conf as protector_conf
from protector import version

DOMAIN = "protector"

_registered = set()


def register_all(conf=cfg.CONF):
    """Register every option group Protector reads, once per conf object."""
    if id(conf) in _registered:
        return
    protector_conf.register_opts(conf)
    logging.register_options(conf)
    policy_opts.set_defaults(conf, policy_file="policy.yaml")
    _registered.add(id(conf))


def parse_args(argv, conf=cfg.CONF, default_config_files=None,
               setup_logging=True):
    """Parse the command line and config files, then set up logging."""
    register_all(conf)
    conf(argv, project=DOMAIN, version=version.version_string,
         default_config_files=default_config_files)
    if setup_logging:
        logging.setup(conf, DOMAIN)
    return conf

"""Loading configuration and logging for every Protector entry point."""
import re

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


INLINE_COMMENT = re.compile(r"\s#")


class ConfigError(SystemExit):
    """A configuration value that cannot be used: the message names the
    option, the file and the fix (printed by every entry point, exit 1)."""

    def __init__(self, message):
        super().__init__("protector: configuration error: %s" % message)


def _where(conf, group, name):
    try:
        location = conf.get_location(name, group)
        return getattr(location, "detail", None) or "the command line"
    except Exception:
        return "the configuration"


def _check(conf, group, name, values):
    option = "[%s] %s" % (group or "DEFAULT", name)
    try:
        value = getattr(values, name)
    except (cfg.ConfigFileValueError, ValueError) as exc:
        hint = " oslo.config files have no inline comments: put '#' " \
            "comments on a line of their own." if "#" in str(exc) else ""
        raise ConfigError("%s in %s is not valid (%s).%s" % (
            option, _where(conf, group, name), exc, hint))
    except cfg.Error:
        return None
    if isinstance(value, cfg.ConfigOpts.GroupAttr):
        return value
    info = conf._get_opt_info(name, group)
    if isinstance(value, str) and not info["opt"].secret and \
            INLINE_COMMENT.search(value):
        raise ConfigError(
            "%s in %s is %r, which looks like a value followed by an "
            "inline comment; oslo.config files have none: put '#' "
            "comments on a line of their own." % (
                option, _where(conf, group, name), value))
    return None


def check_values(conf):
    """Read every option once, so a bad value fails here, at start, with a
    message naming it, instead of deep inside a worker with a traceback.
    oslo.config has no inline comments: ``bind_port = 8788  # port``
    reads the comment as part of the value (doc/deployment.md)."""
    for name in sorted(conf):
        group = _check(conf, None, name, conf)
        if group is not None:
            for option in sorted(group):
                _check(conf, name, option, group)


def parse_args(argv, conf=cfg.CONF, default_config_files=None,
               setup_logging=True):
    """Parse the command line and config files, check every value, then
    set up logging."""
    register_all(conf)
    conf(argv, project=DOMAIN, version=version.version_string,
         default_config_files=default_config_files)
    check_values(conf)
    if setup_logging:
        logging.setup(conf, DOMAIN)
    return conf

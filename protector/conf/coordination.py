"""[coordination] options: distributed locks between engines (tooz)."""
from oslo_config import cfg

coordination_group = cfg.OptGroup(
    "coordination", title="Coordination",
    help="The tooz backend that gives protector-engine its per-protection-"
    "group locks, so that two engines never run operations on one group "
    "at the same time.")

coordination_opts = [
    cfg.StrOpt(
        "backend_url",
        default="file://$state_path/locks",
        help="tooz backend URL. The default, a directory of lock files, "
        "works for engines on one host only. With engines on several hosts "
        "use a shared backend, for example 'redis://controller:6379' or "
        "'etcd3+http://controller:2379'.",
    ),
]


def register_opts(conf):
    conf.register_group(coordination_group)
    conf.register_opts(coordination_opts, group=coordination_group)


def list_opts():
    return {coordination_group: coordination_opts}

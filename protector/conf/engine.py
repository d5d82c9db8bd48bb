"""[engine] options: how protector-engine finds, runs and resumes work."""
import socket

from oslo_config import cfg

engine_group = cfg.OptGroup(
    "engine", title="Engine service options",
    help="Options for protector-engine, which runs DR operations.")

engine_opts = [
    cfg.StrOpt(
        "host",
        default=socket.gethostname(),
        sample_default="<hostname>",
        help="Name of this engine. It is recorded on every operation the "
        "engine runs and in the services table (health). Each engine must "
        "have its own name: an engine that starts under the name of an "
        "engine that died takes over that engine's running operations at "
        "once, without waiting for their heartbeat to go stale.",
    ),
    cfg.FloatOpt(
        "poll_interval",
        default=5.0,
        min=0.1,
        help="Seconds between two looks at the database for queued "
        "operations and for operations abandoned by a dead engine. The "
        "engine polls whether or not a message bus is configured: a bus "
        "message ([DEFAULT] transport_url) only wakes it earlier.",
    ),
    cfg.FloatOpt(
        "heartbeat_interval",
        default=10.0,
        min=0.1,
        help="Seconds between two heartbeats of the engine (its row in the "
        "services table, and every operation it runs).",
    ),
    cfg.IntOpt(
        "stale_after",
        default=60,
        min=1,
        help="Seconds without a heartbeat after which a running operation "
        "is considered abandoned by a dead engine and another engine "
        "resumes it, and after which the health report shows the engine "
        "as down. Keep it several times heartbeat_interval.",
    ),
    cfg.IntOpt(
        "max_operations",
        default=8,
        min=1,
        help="How many operations (of different protection groups) one "
        "engine runs at the same time.",
    ),
    cfg.IntOpt(
        "max_parallel_instances",
        default=100,
        min=1,
        help="At most how many instances the engine handles at the same "
        "time on one site: rebuilt by a recreate step (which builds "
        "builds_per_compute_host per up and enabled nova-compute service "
        "of the target, within this bound), stopped or deleted by the "
        "other steps. Each is a thread of the engine; HTTP connections "
        "stay at most 32 per service endpoint whatever this is.",
    ),
    cfg.IntOpt(
        "builds_per_compute_host",
        default=10,
        min=1,
        help="Instances one nova-compute service of the target builds at "
        "the same time: Nova's max_concurrent_builds (10 by default). A "
        "recreate step builds this many per up and enabled nova-compute "
        "service (counted with Protector's service user where the "
        "tenant's trust may not list them), or this many in all when "
        "they cannot be counted.",
    ),
    cfg.IntOpt(
        "max_parallel_volumes",
        default=20,
        min=1,
        help="How many volumes a promote step makes ready in Cinder at the "
        "same time on the target site (mock storage: create and wait; a "
        "virtual machine has one or more volumes, so this is larger than "
        "max_parallel_instances).",
    ),
    cfg.IntOpt(
        "peer_credential_lifetime",
        default=86400,
        min=600,
        help="Seconds until the Keystone application credential that a "
        "planned failover or failback makes in the source site's Keystone "
        "(from the caller's X-Protector-Peer-Token) expires. The engine "
        "uses it to reach the source site's protector-api during the "
        "operation and deletes it when the operation ends; the expiry only "
        "matters for one an engine never came back to delete. An operation "
        "resumed after this long fails with protector.peer.token_invalid.",
    ),
    cfg.IntOpt(
        "lifecycle_stale_after",
        default=300,
        min=30,
        help="Seconds after its last change (updated_at) at which a "
        "protection group of this site still in status 'creating' or "
        "'deleting' is taken as interrupted: the protector-api process "
        "that was creating or deleting it stopped half way. "
        "protector-engine checks for such groups when it starts and then "
        "every this many seconds, and: marks a 'creating' group 'error' "
        "(its status_reason says that 'openstack dr protection-group "
        "delete <group>' removes what the create made); finishes a "
        "'deleting' group whose peer site already accepted the deletion "
        "(deletes this site's consistency group through the project's "
        "trust, then the group); and puts a 'deleting' group whose peer "
        "was never told back to 'active' (nothing was deleted; the delete "
        "can be run again). Keep it well above the longest create or "
        "delete takes (Cinder group creation and deletion on both sites): "
        "a value too low declares a slow create interrupted (it then "
        "fails and removes what it made). 'protection-group show' quotes "
        "it in next_action.",
    ),
    cfg.IntOpt(
        "site_check_interval",
        default=60,
        min=0,
        help="Seconds between two checks, by protector-engine, of every "
        "registered site, which keep the sites' status (active, "
        "unreachable, error), status_reason and last_checked_at current "
        "between 'openstack dr site validate' runs. The check is cheap: "
        "a GET of the site's Keystone root and of its protector-api's "
        "versions document (at its protector_url), each with a short "
        "timeout. It runs when the engine starts, then every this many "
        "seconds; 0 turns it off (only 'site validate' then sets the "
        "status). A site that 'site validate' found in error (Nova, "
        "Cinder or Neutron failing) keeps that status until the next "
        "validate.",
    ),
    cfg.IntOpt(
        "rpo_check_interval",
        default=60,
        min=0,
        help="Seconds between two RPO checks, by protector-engine, of "
        "every protection group with a replication policy (all "
        "projects), which keep the RPO state the list of protection "
        "groups shows (rpo_status, replication_lag_seconds, "
        "rpo_checked_at; microversion 1.5) current. The check is the one "
        "'protection-group show' makes: the storage driver reads the "
        "replication lag on the arrays (short timeouts, groups in "
        "parallel) and compares it with the policy's rpo_minutes. It "
        "runs when the engine starts, then every this many seconds; 0 "
        "turns it off (the list then shows what 'protection-group show' "
        "last found, or 'unknown').",
    ),
]


def register_opts(conf):
    conf.register_group(engine_group)
    conf.register_opts(engine_opts, group=engine_group)


def list_opts():
    return {engine_group: engine_opts}

"""[storage] options: array drivers and the secrets they need."""
from oslo_config import cfg

storage_group = cfg.OptGroup(
    "storage", title="Storage arrays",
    help="How Protector talks to the storage arrays that replicate the "
    "volumes of protection groups.")

storage_opts = [
    cfg.StrOpt(
        "driver",
        default="pure",
        help="Storage driver used when [DEFAULT] use_mock_storage is "
        "False: 'pure' (Pure Storage FlashArray, REST 2.x). "
        "use_mock_storage = True always selects the 'mock' driver.",
    ),
    cfg.StrOpt(
        "token_encryption_key",
        secret=True,
        help="Fernet key (32 url-safe base64-encoded bytes) that encrypts "
        "the FlashArray API tokens of replication policies in the "
        "database. Generate one with: python3 -c 'from "
        "cryptography.fernet import Fernet; print(Fernet.generate_key()"
        ".decode())'. Without a key, replication policies that carry API "
        "tokens are refused (HTTP 503, code "
        "protector.policy.encryption_unconfigured): Protector never stores "
        "a token in clear text or under a key it made up. Several keys, "
        "comma-separated, allow rotation: the first encrypts, all decrypt.",
    ),
    cfg.BoolOpt(
        "pure_verify_ssl",
        default=True,
        help="Pure driver: verify the FlashArrays' HTTPS certificates. "
        "Set pure_ca_bundle for arrays with self-signed certificates "
        "rather than turning this off.",
    ),
    cfg.StrOpt(
        "pure_ca_bundle",
        help="Pure driver: PEM file of the CA certificate(s) the "
        "FlashArrays' HTTPS certificates are checked against (for example "
        "the FlashArray simulator's cert.pem). Unset: the system CA store.",
    ),
    cfg.IntOpt(
        "pure_api_timeout",
        default=30,
        min=1,
        help="Pure driver: seconds to wait for a FlashArray REST reply.",
    ),
    cfg.IntOpt(
        "pure_api_retries",
        default=3,
        min=0,
        help="Pure driver: retries of a FlashArray request that fails on "
        "the network before the array is reported unreachable.",
    ),
    cfg.IntOpt(
        "pure_replication_timeout",
        default=1800,
        min=0,
        help="Pure driver: seconds to wait for an on-demand protection "
        "group snapshot (planned failover, test failover, failback "
        "resync) to finish replicating before the step fails with "
        "protector.storage.replication_timeout (it can be resumed).",
    ),
    cfg.IntOpt(
        "pure_poll_interval",
        default=5,
        min=1,
        help="Pure driver: seconds between checks of a replication "
        "transfer's progress.",
    ),
    cfg.StrOpt(
        "mock_image_name",
        default="cirros",
        help="Mock storage only ([DEFAULT] use_mock_storage): the Glance "
        "image a bootable volume is \"replicated\" from on the target site "
        "when the member's volume does not name its own image. The image "
        "must exist under this name on both sites.",
    ),
    cfg.IntOpt(
        "copy_ready_timeout",
        default=600,
        min=1,
        deprecated_name="mock_volume_timeout",
        help="Seconds the rebuild of an instance waits for each of its "
        "volume copies to become available in Cinder before it boots it "
        "(the promote step only asks for the copies; mock storage creates "
        "them from an image, which takes the longest).",
    ),
]


def register_opts(conf):
    conf.register_group(storage_group)
    conf.register_opts(storage_opts, group=storage_group)


def list_opts():
    return {storage_group: storage_opts}

"""SQLAlchemy models for every resource Protector keeps.

The schema covers the whole product (sites, protection groups, members and
their volumes, consistency groups, replication policies, operations and their
steps, recovery resources, tenant mappings, metadata sync state, trusts and
service heartbeats), so later features fill in behaviour without reshaping
tables. Constraints and indexes are named explicitly so migrations can refer
to them on every backend. Changes go through alembic migrations only.
"""

from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import mysql

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uniq_%(table_name)s0%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class TimestampMixin:
    # As oslo.db's TimestampMixin (a lambda: SQLAlchemy would pass the
    # execution context to a callable taking a positional argument).
    created_at = sa.Column(sa.DateTime, nullable=False,
                           default=lambda: timeutils.utcnow())
    updated_at = sa.Column(sa.DateTime, nullable=True,
                           onupdate=lambda: timeutils.utcnow())


ID = sa.String(36)
NAME = sa.String(255)
PROJECT = sa.String(64)  # Keystone project IDs are up to 64 characters
STATUS = sa.String(32)
# MEDIUMTEXT on MySQL: captured instance configs and step results can exceed
# TEXT's 64 KiB.
LONGTEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
# DATETIME(6) on MySQL/MariaDB (plain DATETIME keeps whole seconds).
PRECISE_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


class Site(TimestampMixin, Base):
    """An OpenStack cloud Protector coordinates with (admin-scoped)."""

    __tablename__ = "sites"
    __table_args__ = (sa.UniqueConstraint("name"),)

    id = sa.Column(ID, primary_key=True)
    name = sa.Column(NAME, nullable=False)
    description = sa.Column(sa.String(1024), nullable=True)
    site_type = sa.Column(sa.String(16), nullable=False)  # primary|secondary
    auth_url = sa.Column(sa.String(1024), nullable=False)
    region_name = sa.Column(NAME, nullable=True)
    # Override of the peer's protector endpoint; normally taken from the
    # site's Keystone catalog (service type 'protector').
    protector_url = sa.Column(sa.String(1024), nullable=True)
    status = sa.Column(STATUS, nullable=False)  # active|unreachable|error
    status_reason = sa.Column(sa.Text, nullable=True)
    capabilities = sa.Column(sa.Text, nullable=True)  # JSON
    last_checked_at = sa.Column(sa.DateTime, nullable=True)


class SiteKey(TimestampMixin, Base):
    """The pairing key this site shares with a peer site: the peer's
    Protector signs its internal calls with it (``common/peer_auth.py``).
    One per peer site; ``openstack dr site pair`` makes or replaces it."""

    __tablename__ = "site_keys"
    __table_args__ = (
        sa.UniqueConstraint("site_id"),
        sa.UniqueConstraint("key_id"),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    site_id = sa.Column(ID, sa.ForeignKey("sites.id", ondelete="CASCADE"),
                        nullable=False)
    key_id = sa.Column(ID, nullable=False)
    # Fernet-encrypted with [storage] token_encryption_key.
    secret_encrypted = sa.Column(sa.Text, nullable=False)


class PeerNonce(Base):
    """Nonces of signed peer requests seen recently: a replay is
    refused. Rows expire with the signature's validity window."""

    __tablename__ = "peer_nonces"
    __table_args__ = (sa.Index(None, "expires_at"),)

    nonce = sa.Column(sa.String(64), primary_key=True)
    key_id = sa.Column(ID, nullable=False)
    expires_at = sa.Column(sa.DateTime, nullable=False)


class ProtectionGroup(TimestampMixin, Base):
    """The unit of DR: VMs, their volumes and where they currently run."""

    __tablename__ = "protection_groups"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "name"),
        # The list's order within a project (created_at, id): a page is
        # read in index order, not sorted out of all the project's groups
        # (migration 0004, doc/benchmarks.md).
        sa.Index(None, "project_id", "created_at", "id"),
        sa.Index(None, "status"),
    )

    id = sa.Column(ID, primary_key=True)
    project_id = sa.Column(PROJECT, nullable=False)
    name = sa.Column(NAME, nullable=False)
    description = sa.Column(sa.String(1024), nullable=True)
    status = sa.Column(STATUS, nullable=False)
    status_reason = sa.Column(sa.Text, nullable=True)
    replication_type = sa.Column(sa.String(16), nullable=False)  # async|sync
    primary_site_id = sa.Column(
        ID, sa.ForeignKey("sites.id"), nullable=False)
    secondary_site_id = sa.Column(
        ID, sa.ForeignKey("sites.id"), nullable=False)
    current_primary_site_id = sa.Column(
        ID, sa.ForeignKey("sites.id"), nullable=False)
    volume_type_id = sa.Column(ID, nullable=False)
    volume_type_name = sa.Column(NAME, nullable=True)
    # The peer site's volume type for this group (names may match, ids do not).
    remote_volume_type_id = sa.Column(ID, nullable=True)
    failover_count = sa.Column(sa.Integer, nullable=False, default=0)
    last_failover_at = sa.Column(sa.DateTime, nullable=True)
    # Metadata sync (doc/architecture.md 4): every modification bumps the
    # version; the checksum covers the synced document.
    metadata_version = sa.Column(sa.Integer, nullable=False, default=0)
    metadata_checksum = sa.Column(sa.String(64), nullable=True)
    # The operation that holds the group (one at a time), if any.
    current_operation_id = sa.Column(ID, nullable=True)
    # Test failover currently instantiated (must be cleaned up first).
    active_test_operation_id = sa.Column(ID, nullable=True)
    # Seconds a recovery waits between two boot tiers (member priorities),
    # after every VM of the earlier tier is ACTIVE or failed (doc/engine.md
    # "Boot tiers").
    tier_delay = sa.Column(sa.Integer, nullable=False, default=0,
                           server_default="0")


class ConsistencyGroup(TimestampMixin, Base):
    """The Cinder generic volume groups (one per site) backing a PG."""

    __tablename__ = "consistency_groups"
    __table_args__ = (sa.UniqueConstraint("protection_group_id"),)

    id = sa.Column(ID, primary_key=True)
    protection_group_id = sa.Column(
        ID, sa.ForeignKey("protection_groups.id", ondelete="CASCADE"),
        nullable=False)
    name = sa.Column(NAME, nullable=False)
    volume_type_id = sa.Column(ID, nullable=False)
    volume_type_name = sa.Column(NAME, nullable=True)
    backend_name = sa.Column(NAME, nullable=True)
    group_type_id = sa.Column(ID, nullable=True)
    primary_cg_id = sa.Column(ID, nullable=True)
    secondary_cg_id = sa.Column(ID, nullable=True)
    status = sa.Column(STATUS, nullable=False)


class Member(TimestampMixin, Base):
    """A Nova instance protected by a PG, with what it takes to rebuild it."""

    __tablename__ = "members"
    __table_args__ = (
        sa.UniqueConstraint("protection_group_id", "instance_id"),
        sa.Index(None, "instance_id"),
    )

    id = sa.Column(ID, primary_key=True)
    protection_group_id = sa.Column(
        ID, sa.ForeignKey("protection_groups.id", ondelete="CASCADE"),
        nullable=False)
    project_id = sa.Column(PROJECT, nullable=False)
    instance_id = sa.Column(ID, nullable=False)
    instance_name = sa.Column(NAME, nullable=True)
    status = sa.Column(STATUS, nullable=False)
    # Flavor, boot layout, ports/fixed IPs, security groups, keypair,
    # metadata, AZ, server group: JSON captured at member-add time.
    instance_config = sa.Column(LONGTEXT, nullable=True)
    # Where the instance currently runs (changes on failover/failback).
    current_site_id = sa.Column(ID, sa.ForeignKey("sites.id"), nullable=True)
    current_instance_id = sa.Column(ID, nullable=True)
    # Boot tier, 1 (first) to 5 (last): a recovery starts the members of a
    # tier once every VM of the tiers before it is ACTIVE or failed.
    priority = sa.Column(sa.Integer, nullable=False, default=3,
                         server_default="3")


class MemberVolume(TimestampMixin, Base):
    """A Cinder volume of a member, enrolled in the consistency group."""

    __tablename__ = "member_volumes"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "volume_id"),
        sa.Index(None, "volume_id"),
    )

    id = sa.Column(ID, primary_key=True)
    member_id = sa.Column(
        ID, sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False)
    volume_id = sa.Column(ID, nullable=False)
    volume_name = sa.Column(NAME, nullable=True)
    size_gb = sa.Column(sa.Integer, nullable=True)
    volume_type_id = sa.Column(ID, nullable=True)
    device = sa.Column(sa.String(64), nullable=True)
    boot_index = sa.Column(sa.Integer, nullable=True)
    bootable = sa.Column(sa.Boolean, nullable=False, default=False)
    # Backend identity used by the storage driver (e.g. FlashArray volume
    # name); carried because Cinder ids differ between sites.
    backend_ref = sa.Column(NAME, nullable=True)
    current_volume_id = sa.Column(ID, nullable=True)


class ReplicationPolicy(TimestampMixin, Base):
    """Binds a PG to the arrays of both sites. Tokens are encrypted."""

    __tablename__ = "replication_policies"
    __table_args__ = (sa.UniqueConstraint("protection_group_id"),)

    id = sa.Column(ID, primary_key=True)
    protection_group_id = sa.Column(
        ID, sa.ForeignKey("protection_groups.id", ondelete="CASCADE"),
        nullable=False)
    primary_fa_url = sa.Column(sa.String(1024), nullable=True)
    primary_fa_api_token_encrypted = sa.Column(sa.Text, nullable=True)
    secondary_fa_url = sa.Column(sa.String(1024), nullable=True)
    secondary_fa_api_token_encrypted = sa.Column(sa.Text, nullable=True)
    pure_pg_name = sa.Column(NAME, nullable=True)
    replication_interval = sa.Column(sa.Integer, nullable=True)  # seconds
    rpo_minutes = sa.Column(sa.Integer, nullable=True)


class MetadataSync(TimestampMixin, Base):
    """What this site knows of the peer's copy of a PG's metadata."""

    __tablename__ = "metadata_sync"
    __table_args__ = (sa.UniqueConstraint("protection_group_id"),)

    id = sa.Column(ID, primary_key=True)
    protection_group_id = sa.Column(
        ID, sa.ForeignKey("protection_groups.id", ondelete="CASCADE"),
        nullable=False)
    peer_site_id = sa.Column(ID, sa.ForeignKey("sites.id"), nullable=False)
    remote_version = sa.Column(sa.Integer, nullable=True)
    # SYNCED | FAILED | UNREACHABLE | PENDING
    status = sa.Column(STATUS, nullable=False)
    last_sync_at = sa.Column(sa.DateTime, nullable=True)
    last_attempt_at = sa.Column(sa.DateTime, nullable=True)
    last_duration_ms = sa.Column(sa.Integer, nullable=True)
    last_error = sa.Column(sa.Text, nullable=True)


class GroupRpoStatus(Base):
    """The last RPO check of a protection group (``storage/rpo.py``),
    written by protector-engine's periodic check (``engine/rpo_status.py``)
    and by ``protection-group show``; the list reads it (microversion 1.5).

    A table of its own, not columns of ``protection_groups``: it is
    rewritten every ``[engine] rpo_check_interval`` seconds for every
    group, and those writes must neither take the group's row (operations
    claim it with conditional updates, creates and deletes are
    compare-and-swaps on its ``updated_at``) nor change its
    ``updated_at``; a row per group goes with the group (ON DELETE
    CASCADE). No ``created_at``/``updated_at``: ``checked_at`` is its
    time."""

    __tablename__ = "group_rpo_status"

    protection_group_id = sa.Column(
        ID, sa.ForeignKey("protection_groups.id", ondelete="CASCADE"),
        primary_key=True)
    # ok | breached | unknown
    rpo_status = sa.Column(sa.String(16), nullable=False)
    replication_lag_seconds = sa.Column(sa.Integer, nullable=True)
    rpo_minutes = sa.Column(sa.Integer, nullable=True)
    rpo_detail = sa.Column(sa.Text, nullable=True)
    checked_at = sa.Column(sa.DateTime, nullable=False)


class Operation(TimestampMixin, Base):
    """A tracked DR operation (failover, failback, test failover, ...)."""

    __tablename__ = "operations"
    __table_args__ = (
        sa.Index(None, "project_id"),
        sa.Index(None, "protection_group_id"),
        sa.Index(None, "status"),
    )

    # Microseconds on MariaDB too: "the group's newest operation" (what
    # retry and rollback may act on) must not tie when a rollback is
    # queued in the same second as the failure it undoes.
    created_at = sa.Column(PRECISE_TIME, nullable=False,
                           default=lambda: timeutils.utcnow())
    id = sa.Column(ID, primary_key=True)
    project_id = sa.Column(PROJECT, nullable=False)
    user_id = sa.Column(sa.String(64), nullable=True)
    protection_group_id = sa.Column(
        ID, sa.ForeignKey("protection_groups.id", ondelete="SET NULL"),
        nullable=True)
    # Kept so history stays readable after the group is deleted.
    protection_group_name = sa.Column(NAME, nullable=True)
    operation_type = sa.Column(sa.String(32), nullable=False)
    # queued|running|completed|failed
    status = sa.Column(STATUS, nullable=False)
    source_site_id = sa.Column(ID, nullable=True)
    target_site_id = sa.Column(ID, nullable=True)
    progress = sa.Column(sa.Integer, nullable=False, default=0)
    parameters = sa.Column(LONGTEXT, nullable=True)  # JSON
    result = sa.Column(LONGTEXT, nullable=True)  # JSON
    error_code = sa.Column(sa.String(128), nullable=True)
    error_message = sa.Column(sa.Text, nullable=True)
    # A source-site step of a planned failover runs as a sub-operation.
    parent_operation_id = sa.Column(ID, nullable=True)
    # Which engine owns it and when it last showed life (resume on crash).
    engine_host = sa.Column(NAME, nullable=True)
    heartbeat_at = sa.Column(sa.DateTime, nullable=True)
    started_at = sa.Column(sa.DateTime, nullable=True)
    completed_at = sa.Column(sa.DateTime, nullable=True)


class OperationStep(TimestampMixin, Base):
    """One named step of an operation, with its own state and result."""

    __tablename__ = "operation_steps"
    __table_args__ = (sa.UniqueConstraint("operation_id", "name"),)

    id = sa.Column(ID, primary_key=True)
    operation_id = sa.Column(
        ID, sa.ForeignKey("operations.id", ondelete="CASCADE"),
        nullable=False)
    name = sa.Column(sa.String(64), nullable=False)
    position = sa.Column(sa.Integer, nullable=False)
    # pending|running|completed|failed|skipped
    status = sa.Column(STATUS, nullable=False)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    result = sa.Column(LONGTEXT, nullable=True)  # JSON
    error_message = sa.Column(sa.Text, nullable=True)
    started_at = sa.Column(sa.DateTime, nullable=True)
    completed_at = sa.Column(sa.DateTime, nullable=True)


class RecoveryResource(TimestampMixin, Base):
    """A cloud or array resource an operation created.

    Written before the resource is created (status 'creating') and updated
    after, so a resumed step finds what a crashed run made instead of making
    it twice, and test cleanup removes exactly what the test created.
    """

    __tablename__ = "recovery_resources"
    __table_args__ = (
        sa.UniqueConstraint("operation_id", "resource_type", "logical_key"),
        sa.Index(None, "protection_group_id"),
    )

    id = sa.Column(ID, primary_key=True)
    operation_id = sa.Column(
        ID, sa.ForeignKey("operations.id", ondelete="CASCADE"),
        nullable=False)
    protection_group_id = sa.Column(ID, nullable=True)
    site_id = sa.Column(ID, nullable=True)
    # server|volume|port|network|subnet|array_volume|array_snapshot|...
    resource_type = sa.Column(sa.String(32), nullable=False)
    # Stable key within the operation (e.g. "member:<id>:volume:<id>").
    logical_key = sa.Column(sa.String(255), nullable=False)
    resource_id = sa.Column(sa.String(255), nullable=True)
    status = sa.Column(STATUS, nullable=False)  # creating|created|deleted
    details = sa.Column(sa.Text, nullable=True)  # JSON


class TenantMapping(TimestampMixin, Base):
    """Project ID on this site <-> project ID on a remote site."""

    __tablename__ = "tenant_mappings"
    __table_args__ = (
        sa.UniqueConstraint("local_tenant", "remote_site_id"),
    )

    id = sa.Column(ID, primary_key=True)
    local_tenant = sa.Column(PROJECT, nullable=False)
    remote_site_id = sa.Column(
        ID, sa.ForeignKey("sites.id"), nullable=False)
    remote_tenant = sa.Column(PROJECT, nullable=False)
    description = sa.Column(sa.String(1024), nullable=True)


class Trust(TimestampMixin, Base):
    """A Keystone trust a tenant user delegated to the protector user."""

    __tablename__ = "trusts"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "project_id", "user_id"),
    )

    id = sa.Column(ID, primary_key=True)
    site_id = sa.Column(ID, sa.ForeignKey("sites.id", ondelete="CASCADE"),
                        nullable=False)
    project_id = sa.Column(PROJECT, nullable=False)
    user_id = sa.Column(sa.String(64), nullable=False)
    trust_id = sa.Column(sa.String(64), nullable=False)
    roles = sa.Column(sa.String(255), nullable=True)


class Service(TimestampMixin, Base):
    """Heartbeats of running Protector services (for health)."""

    __tablename__ = "services"
    __table_args__ = (sa.UniqueConstraint("host", "binary"),)

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    host = sa.Column(NAME, nullable=False)
    binary = sa.Column(sa.String(64), nullable=False)
    last_seen_at = sa.Column(sa.DateTime, nullable=True)
    version = sa.Column(sa.String(64), nullable=True)

"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 01:38:19.303160
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('services',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('binary', sa.String(length=64), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('host', 'binary', name=op.f('uniq_services0host_binary'))
    )
    op.create_table('sites',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=1024), nullable=True),
    sa.Column('site_type', sa.String(length=16), nullable=False),
    sa.Column('auth_url', sa.String(length=1024), nullable=False),
    sa.Column('region_name', sa.String(length=255), nullable=True),
    sa.Column('protector_url', sa.String(length=1024), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('capabilities', sa.Text(), nullable=True),
    sa.Column('last_checked_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('name', name=op.f('uniq_sites0name'))
    )
    op.create_table('protection_groups',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=1024), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('replication_type', sa.String(length=16), nullable=False),
    sa.Column('primary_site_id', sa.String(length=36), nullable=False),
    sa.Column('secondary_site_id', sa.String(length=36), nullable=False),
    sa.Column('current_primary_site_id', sa.String(length=36), nullable=False),
    sa.Column('volume_type_id', sa.String(length=36), nullable=False),
    sa.Column('volume_type_name', sa.String(length=255), nullable=True),
    sa.Column('remote_volume_type_id', sa.String(length=36), nullable=True),
    sa.Column('failover_count', sa.Integer(), nullable=False),
    sa.Column('last_failover_at', sa.DateTime(), nullable=True),
    sa.Column('metadata_version', sa.Integer(), nullable=False),
    sa.Column('metadata_checksum', sa.String(length=64), nullable=True),
    sa.Column('current_operation_id', sa.String(length=36), nullable=True),
    sa.Column('active_test_operation_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['current_primary_site_id'], ['sites.id'], name=op.f('fk_protection_groups_current_primary_site_id_sites')),
    sa.ForeignKeyConstraint(['primary_site_id'], ['sites.id'], name=op.f('fk_protection_groups_primary_site_id_sites')),
    sa.ForeignKeyConstraint(['secondary_site_id'], ['sites.id'], name=op.f('fk_protection_groups_secondary_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protection_groups')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uniq_protection_groups0project_id_name'))
    )
    with op.batch_alter_table('protection_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_protection_groups_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_protection_groups_status'), ['status'], unique=False)

    op.create_table('tenant_mappings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('local_tenant', sa.String(length=64), nullable=False),
    sa.Column('remote_site_id', sa.String(length=36), nullable=False),
    sa.Column('remote_tenant', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=1024), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['remote_site_id'], ['sites.id'], name=op.f('fk_tenant_mappings_remote_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_mappings')),
    sa.UniqueConstraint('local_tenant', 'remote_site_id', name=op.f('uniq_tenant_mappings0local_tenant_remote_site_id'))
    )
    op.create_table('trusts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('trust_id', sa.String(length=64), nullable=False),
    sa.Column('roles', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_trusts_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trusts')),
    sa.UniqueConstraint('site_id', 'project_id', 'user_id', name=op.f('uniq_trusts0site_id_project_id_user_id'))
    )
    op.create_table('consistency_groups',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('protection_group_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('volume_type_id', sa.String(length=36), nullable=False),
    sa.Column('volume_type_name', sa.String(length=255), nullable=True),
    sa.Column('backend_name', sa.String(length=255), nullable=True),
    sa.Column('group_type_id', sa.String(length=36), nullable=True),
    sa.Column('primary_cg_id', sa.String(length=36), nullable=True),
    sa.Column('secondary_cg_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['protection_group_id'], ['protection_groups.id'], name=op.f('fk_consistency_groups_protection_group_id_protection_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consistency_groups')),
    sa.UniqueConstraint('protection_group_id', name=op.f('uniq_consistency_groups0protection_group_id'))
    )
    op.create_table('members',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('protection_group_id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('instance_name', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('instance_config', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=True),
    sa.Column('current_site_id', sa.String(length=36), nullable=True),
    sa.Column('current_instance_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['current_site_id'], ['sites.id'], name=op.f('fk_members_current_site_id_sites')),
    sa.ForeignKeyConstraint(['protection_group_id'], ['protection_groups.id'], name=op.f('fk_members_protection_group_id_protection_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('protection_group_id', 'instance_id', name=op.f('uniq_members0protection_group_id_instance_id'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_instance_id'), ['instance_id'], unique=False)

    op.create_table('metadata_sync',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('protection_group_id', sa.String(length=36), nullable=False),
    sa.Column('peer_site_id', sa.String(length=36), nullable=False),
    sa.Column('remote_version', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('last_sync_at', sa.DateTime(), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_duration_ms', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['peer_site_id'], ['sites.id'], name=op.f('fk_metadata_sync_peer_site_id_sites')),
    sa.ForeignKeyConstraint(['protection_group_id'], ['protection_groups.id'], name=op.f('fk_metadata_sync_protection_group_id_protection_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metadata_sync')),
    sa.UniqueConstraint('protection_group_id', name=op.f('uniq_metadata_sync0protection_group_id'))
    )
    op.create_table('operations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('protection_group_id', sa.String(length=36), nullable=True),
    sa.Column('protection_group_name', sa.String(length=255), nullable=True),
    sa.Column('operation_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('source_site_id', sa.String(length=36), nullable=True),
    sa.Column('target_site_id', sa.String(length=36), nullable=True),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('parameters', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=True),
    sa.Column('result', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=True),
    sa.Column('error_code', sa.String(length=128), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('parent_operation_id', sa.String(length=36), nullable=True),
    sa.Column('engine_host', sa.String(length=255), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['protection_group_id'], ['protection_groups.id'], name=op.f('fk_operations_protection_group_id_protection_groups'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operations'))
    )
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operations_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_operations_protection_group_id'), ['protection_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_operations_status'), ['status'], unique=False)

    op.create_table('replication_policies',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('protection_group_id', sa.String(length=36), nullable=False),
    sa.Column('primary_fa_url', sa.String(length=1024), nullable=True),
    sa.Column('primary_fa_api_token_encrypted', sa.Text(), nullable=True),
    sa.Column('secondary_fa_url', sa.String(length=1024), nullable=True),
    sa.Column('secondary_fa_api_token_encrypted', sa.Text(), nullable=True),
    sa.Column('pure_pg_name', sa.String(length=255), nullable=True),
    sa.Column('replication_interval', sa.Integer(), nullable=True),
    sa.Column('rpo_minutes', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['protection_group_id'], ['protection_groups.id'], name=op.f('fk_replication_policies_protection_group_id_protection_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_replication_policies')),
    sa.UniqueConstraint('protection_group_id', name=op.f('uniq_replication_policies0protection_group_id'))
    )
    op.create_table('member_volumes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('volume_id', sa.String(length=36), nullable=False),
    sa.Column('volume_name', sa.String(length=255), nullable=True),
    sa.Column('size_gb', sa.Integer(), nullable=True),
    sa.Column('volume_type_id', sa.String(length=36), nullable=True),
    sa.Column('device', sa.String(length=64), nullable=True),
    sa.Column('boot_index', sa.Integer(), nullable=True),
    sa.Column('bootable', sa.Boolean(), nullable=False),
    sa.Column('backend_ref', sa.String(length=255), nullable=True),
    sa.Column('current_volume_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_volumes_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_volumes')),
    sa.UniqueConstraint('member_id', 'volume_id', name=op.f('uniq_member_volumes0member_id_volume_id'))
    )
    with op.batch_alter_table('member_volumes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_volumes_volume_id'), ['volume_id'], unique=False)

    op.create_table('operation_steps',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('operation_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('result', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_operation_steps_operation_id_operations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operation_steps')),
    sa.UniqueConstraint('operation_id', 'name', name=op.f('uniq_operation_steps0operation_id_name'))
    )
    op.create_table('recovery_resources',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('operation_id', sa.String(length=36), nullable=False),
    sa.Column('protection_group_id', sa.String(length=36), nullable=True),
    sa.Column('site_id', sa.String(length=36), nullable=True),
    sa.Column('resource_type', sa.String(length=32), nullable=False),
    sa.Column('logical_key', sa.String(length=255), nullable=False),
    sa.Column('resource_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_recovery_resources_operation_id_operations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_resources')),
    sa.UniqueConstraint('operation_id', 'resource_type', 'logical_key', name=op.f('uniq_recovery_resources0operation_id_resource_type_logical_key'))
    )
    with op.batch_alter_table('recovery_resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_resources_protection_group_id'), ['protection_group_id'], unique=False)


"""group_rpo_status: the last RPO check of each protection group

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-20 00:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # A table, not columns of protection_groups: protector-engine rewrites
    # it every [engine] rpo_check_interval seconds for every group, and
    # those writes must not take the group's row (operations claim it,
    # creates and deletes compare-and-swap its updated_at) nor change its
    # updated_at. One row per group, gone with the group (CASCADE). No
    # row: never checked (the list says 'unknown', 'not checked yet').
    op.create_table(
        'group_rpo_status',
        sa.Column('protection_group_id', sa.String(length=36),
                  nullable=False),
        sa.Column('rpo_status', sa.String(length=16), nullable=False),
        sa.Column('replication_lag_seconds', sa.Integer(), nullable=True),
        sa.Column('rpo_minutes', sa.Integer(), nullable=True),
        sa.Column('rpo_detail', sa.Text(), nullable=True),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['protection_group_id'], ['protection_groups.id'],
            name=op.f('fk_group_rpo_status_protection_group_id_'
                      'protection_groups'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('protection_group_id',
                                name=op.f('pk_group_rpo_status')),
    )

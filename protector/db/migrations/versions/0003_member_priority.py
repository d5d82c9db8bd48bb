"""boot tiers: members.priority (1-5, default 3), protection_groups.tier_delay

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-10 00:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # Existing members get the middle tier, existing groups no delay: a
    # recovery runs as before (every member in one tier).
    op.add_column('members', sa.Column('priority', sa.Integer(),
                                       server_default='3', nullable=False))
    op.add_column('protection_groups',
                  sa.Column('tier_delay', sa.Integer(), server_default='0',
                            nullable=False))

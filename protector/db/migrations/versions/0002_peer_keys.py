"""site pairing keys, peer request nonces, operation times in microseconds

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 00:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'site_keys',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('site_id', sa.String(length=36), nullable=False),
        sa.Column('key_id', sa.String(length=36), nullable=False),
        sa.Column('secret_encrypted', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
                                name=op.f('fk_site_keys_site_id_sites'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_site_keys')),
        sa.UniqueConstraint('key_id', name=op.f('uniq_site_keys0key_id')),
        sa.UniqueConstraint('site_id', name=op.f('uniq_site_keys0site_id')),
    )
    op.create_table(
        'peer_nonces',
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=36), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('nonce', name=op.f('pk_peer_nonces')),
    )
    op.create_index(op.f('ix_peer_nonces_expires_at'), 'peer_nonces',
                    ['expires_at'], unique=False)
    if op.get_bind().dialect.name == 'mysql':
        op.alter_column('operations', 'created_at',
                        existing_type=sa.DateTime(),
                        type_=mysql.DATETIME(fsp=6), existing_nullable=False)

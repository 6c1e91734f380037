"""rate limits counted in the database

Without Redis every limit was counted in each worker process, so "30 orders a minute" was 30
times the number of workers, and a spoofed address could store 60 refused notifications a
minute in each. The counts now live in one table every worker shares; a window's rows are
deleted once it has passed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rate_counts',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_rate_counts')),
    )
    op.create_index(op.f('ix_rate_counts_expires_at'), 'rate_counts', ['expires_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_rate_counts_expires_at'), table_name='rate_counts')
    op.drop_table('rate_counts')

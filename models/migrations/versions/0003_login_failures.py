"""wrong sign-ins under names that are no account

An account locks after five wrong passwords and then answers 429; a name that was no account
answered 401 for ever, so six tries told whether a name existed. Such names now count their
failures here and lock out the same way.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_failures',
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('username', name=op.f('pk_login_failures')),
    )
    op.create_index('ix_login_failures_updated', 'login_failures', ['updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_failures_updated', table_name='login_failures')
    op.drop_table('login_failures')

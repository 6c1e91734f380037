"""wrong sign-ins under names that are no account; failures forgotten after a day

An account locks after five wrong passwords and then answers 429; a name that was no account
answered 401 for ever, so six tries told whether a name existed. Such names now count their
failures here and lock out the same way; and for both, failures are forgotten a day after the
last one (accounts.last_failed_at), so that waiting tells nothing either.

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
        sa.Column('last_failed_at', sa.DateTime(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('username', name=op.f('pk_login_failures')),
    )
    op.create_index('ix_login_failures_last_failed', 'login_failures', ['last_failed_at'],
                    unique=False)
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_failed_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('last_failed_at')
    op.drop_index('ix_login_failures_last_failed', table_name='login_failures')
    op.drop_table('login_failures')

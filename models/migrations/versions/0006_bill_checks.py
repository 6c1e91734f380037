"""checks of WeChat Pay's daily trade bill

`warmfund bill check` stores each run (both sides' counts and sums), what it found, and, while
it runs, the bill's lines, so that the comparison with the ledger is a join rather than a copy
of the bill in memory. A day's payments are found by paid_at alone, hence its own index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bill_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bill_date', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('problem', sa.String(length=300), nullable=False),
        sa.Column('started_by', sa.String(length=64), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('bill_count', sa.Integer(), nullable=True),
        sa.Column('bill_paid_fen', sa.BigInteger(), nullable=True),
        sa.Column('bill_refund_fen', sa.BigInteger(), nullable=True),
        sa.Column('bill_fee_fen', sa.BigInteger(), nullable=True),
        sa.Column('ledger_count', sa.Integer(), nullable=True),
        sa.Column('ledger_paid_fen', sa.BigInteger(), nullable=True),
        sa.Column('ledger_refund_fen', sa.BigInteger(), nullable=True),
        sa.Column('findings_count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_checks')),
    )
    op.create_index('ix_bill_checks_date', 'bill_checks', ['bill_date', 'id'], unique=False)
    op.create_table(
        'bill_findings',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('check_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=28), nullable=False),
        sa.Column('out_trade_no', sa.String(length=64), nullable=False),
        sa.Column('out_refund_no', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['check_id'], ['bill_checks.id'],
                                name=op.f('fk_bill_findings_check_id_bill_checks')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_findings')),
    )
    op.create_index(op.f('ix_bill_findings_check_id'), 'bill_findings', ['check_id'],
                    unique=False)
    op.create_table(
        'bill_lines',
        sa.Column('check_id', sa.Integer(), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('out_trade_no', sa.String(length=64), nullable=False),
        sa.Column('transaction_id', sa.String(length=64), nullable=False),
        sa.Column('openid', sa.String(length=128), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('out_refund_no', sa.String(length=64), nullable=False),
        sa.Column('trade_time', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['check_id'], ['bill_checks.id'],
                                name=op.f('fk_bill_lines_check_id_bill_checks')),
        sa.PrimaryKeyConstraint('check_id', 'line', name=op.f('pk_bill_lines')),
    )
    op.create_index('ix_bill_lines_trade', 'bill_lines', ['check_id', 'out_trade_no'],
                    unique=False)
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.create_index('ix_donations_paid_at', ['paid_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_index('ix_donations_paid_at')
    op.drop_index('ix_bill_lines_trade', table_name='bill_lines')
    op.drop_table('bill_lines')
    op.drop_index(op.f('ix_bill_findings_check_id'), table_name='bill_findings')
    op.drop_table('bill_findings')
    op.drop_index('ix_bill_checks_date', table_name='bill_checks')
    op.drop_table('bill_checks')

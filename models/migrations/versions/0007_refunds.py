"""refunds: one row per refund of a donation, and what refunds gave back (refunded_fen)

A donation could only be paid; refunds now leave warmfund (an admin's 退款) or are reported by
WeChat Pay (made on the merchant platform). Each has a row, keyed by its unique out_refund_no,
and the donation keeps the sum that successful refunds returned.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refunded_fen', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('refunded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('refund_reason', sa.String(length=80), server_default='',
                                      nullable=False))
        batch_op.create_check_constraint('refunded_not_negative', 'refunded_fen >= 0')
    op.create_table(
        'refunds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('out_refund_no', sa.String(length=64), nullable=False),
        sa.Column('donation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('amount_fen', sa.Integer(), nullable=False),
        sa.Column('total_fen', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('outside', sa.Boolean(), nullable=False),
        sa.Column('refund_id', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('succeeded_at', sa.DateTime(), nullable=True),
        sa.Column('settled_at', sa.DateTime(), nullable=True),
        sa.Column('checked_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('processing', 'success', 'closed', 'abnormal')",
                           name=op.f('ck_refunds_status_valid')),
        sa.CheckConstraint('amount_fen > 0', name=op.f('ck_refunds_refund_positive')),
        sa.ForeignKeyConstraint(['donation_id'], ['donations.id'],
                                name=op.f('fk_refunds_donation_id_donations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
        sa.UniqueConstraint('out_refund_no', name=op.f('uq_refunds_out_refund_no')),
        sa.UniqueConstraint('refund_id', name=op.f('uq_refunds_refund_id')),
    )
    op.create_index('ix_refunds_donation', 'refunds', ['donation_id'], unique=False)
    op.create_index('ix_refunds_status_checked', 'refunds', ['status', 'checked_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_refunds_status_checked', table_name='refunds')
    op.drop_index('ix_refunds_donation', table_name='refunds')
    op.drop_table('refunds')
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_constraint('ck_donations_refunded_not_negative', type_='check')
        batch_op.drop_column('refund_reason')
        batch_op.drop_column('refunded_at')
        batch_op.drop_column('refunded_fen')

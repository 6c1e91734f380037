"""bill lines keep a refund's refund_id and 退款状态

The bill check now compares the bill's refund rows with the ledger's refunds, and records a
refund that only the bill knows of. It records one only when the row says 退款状态 SUCCESS,
and with WeChat Pay's own refund number, so the staged line keeps both. bill_lines holds rows
only while a check runs, so existing rows need no values. The ledger's refunds of a day are
looked up in the bill by out_refund_no, hence a second index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bill_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_id', sa.String(length=64), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('refund_status', sa.String(length=16), server_default='',
                                      nullable=False))
    # A day's refunds in the ledger are looked up in the bill by out_refund_no.
    op.create_index('ix_bill_lines_refund', 'bill_lines', ['check_id', 'out_refund_no'])


def downgrade() -> None:
    op.drop_index('ix_bill_lines_refund', table_name='bill_lines')
    with op.batch_alter_table('bill_lines', schema=None) as batch_op:
        batch_op.drop_column('refund_status')
        batch_op.drop_column('refund_id')

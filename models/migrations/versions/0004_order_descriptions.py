"""an order's description, kept as it was sent

An order whose creation reply was lost is sent to WeChat Pay again with the same
out_trade_no, and WeChat Pay refuses it unless every field is the same. The description was
built from the campaign's and unit's names each time, so a rename in between made every retry
fail until the order expired. It is now stored when the order is placed; orders placed before
this migration (NULL) are described from the current names, as before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 05:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_description', sa.String(length=127), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_column('order_description')

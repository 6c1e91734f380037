"""running totals in shards

Every payment adds to its campaign's total row and to the subtree rows of the top units, so on
PostgreSQL concurrent payments used to queue on those few rows. A total is now kept in up to
TOTAL_SHARDS rows (shard = donation id modulo TOTAL_SHARDS), and read as their sum.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 20:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('totals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shard', sa.SmallInteger(), nullable=False,
                                      server_default='0'))
        batch_op.drop_constraint('pk_totals', type_='primary')
        batch_op.create_primary_key('pk_totals', ['campaign_id', 'scope', 'unit_id', 'shard'])


def downgrade() -> None:
    # Fold the shards back into one row per total before the column goes.
    op.execute(sa.text(
        "CREATE TEMPORARY TABLE folded_totals AS SELECT campaign_id, scope, unit_id, "
        "SUM(total_fen) AS total_fen, SUM(donation_count) AS donation_count, "
        "SUM(donor_count) AS donor_count FROM totals GROUP BY campaign_id, scope, unit_id"))
    op.execute(sa.text("DELETE FROM totals"))
    with op.batch_alter_table('totals', schema=None) as batch_op:
        batch_op.drop_constraint('pk_totals', type_='primary')
        batch_op.drop_column('shard')
        batch_op.create_primary_key('pk_totals', ['campaign_id', 'scope', 'unit_id'])
    op.execute(sa.text(
        "INSERT INTO totals (campaign_id, scope, unit_id, total_fen, donation_count, "
        "donor_count) SELECT campaign_id, scope, unit_id, total_fen, donation_count, "
        "donor_count FROM folded_totals"))
    op.execute(sa.text("DROP TABLE folded_totals"))

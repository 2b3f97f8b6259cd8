"""a call-off's standstill's last day, kept from placement.awarded  (issue #15)"""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0003", "0002", None, None


def upgrade() -> None:
    # Placements awarded before: no standstill (null).
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("standstill_ends_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_column("standstill_ends_on")

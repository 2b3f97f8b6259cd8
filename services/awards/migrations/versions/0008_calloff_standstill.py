"""a call-off's standstill by the DPS's regime, kept with the award  (issue #15)"""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0008", "0007", None, None


def upgrade() -> None:
    # Awards made before: no standstill was applied (null date, no basis recorded).
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("standstill_ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("standstill_basis", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.drop_column("standstill_basis")
        batch_op.drop_column("standstill_ends_on")

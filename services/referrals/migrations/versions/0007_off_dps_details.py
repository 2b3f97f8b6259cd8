"""an off-DPS exception names its provider, terms and minimum checks  (issue #16)"""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0007", "0006", None, None


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.add_column(sa.Column("off_dps_details", sa.JSON(), nullable=True))  # null: recorded before


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.drop_column("off_dps_details")

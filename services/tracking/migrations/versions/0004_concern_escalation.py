"""a low-attendance concern counts the weeks it has been low while open (its escalation)  (issue #16)"""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0004", "0003", None, None


def upgrade() -> None:
    # Concerns raised before: one week each.
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weeks_low", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.drop_column("weeks_low")

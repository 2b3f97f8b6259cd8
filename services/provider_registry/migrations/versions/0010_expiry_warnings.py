"""Compliance documents remember the last expiry warning given (30, 14, 7 days; 0: expired)  (issue #18)

Existing documents start with none given: a document already within a threshold is warned once at the next
daily check."""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0010", "0009", None, None


def upgrade() -> None:
    with op.batch_alter_table("compliance_documents") as batch_op:
        batch_op.add_column(sa.Column("warned_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("compliance_documents") as batch_op:
        batch_op.drop_column("warned_days")

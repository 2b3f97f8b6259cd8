"""The sixth-day duty's first school day on each referral  (issue #16)"""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0008", "0007", None, None


def upgrade() -> None:
    # existing referrals keep their deadline; school day 1 is not known for them (null)
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("first_school_day", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("first_school_day")

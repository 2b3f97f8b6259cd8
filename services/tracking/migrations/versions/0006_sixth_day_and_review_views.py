"""each child's sixth-day deadline; a review's child's and family's views  (issue #16)"""
import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision, down_revision, branch_labels, depends_on = "0006", "0005", None, None


def upgrade() -> None:
    op.create_table(
        "sixth_day_duties",
        sa.Column("child_ref", sa.Uuid(), nullable=False),
        sa.Column("full_time_provision_by", sa.Date(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("lot", sa.Integer(), nullable=False),
        sa.Column("reason_for_ap", sa.String(200), nullable=False),
        sa.Column("looked_after", sa.Boolean(), nullable=False),
        sa.Column("first_school_day", sa.Date(), nullable=True),
        sa.Column("noted_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child_ref", "full_time_provision_by", name=op.f("pk_sixth_day_duties")),
    )
    op.create_index("ix_sixth_day_duties_team", "sixth_day_duties", ["team", "full_time_provision_by"])
    # Reviews recorded before: no views recorded (empty).
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("child_views", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("family_views", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_table("sixth_day_duties")  # and its index
    with op.batch_alter_table("reviews") as batch_op:
        for column in ("family_views", "child_views"):
            batch_op.drop_column(column)

"""erasure requests and the placements that hold a child's record  (issue #17)"""
import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision, down_revision, branch_labels, depends_on = "0005", "0004", None, None


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_ref", sa.Uuid(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("removed", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
    )
    op.create_index("ix_erasure_requests_child_ref", "erasure_requests", ["child_ref"])
    op.create_table(
        "child_placements",
        sa.Column("placement_id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("placement_id", name=op.f("pk_child_placements")),
    )
    op.create_index("ix_child_placements_referral", "child_placements", ["referral_id"])


def downgrade() -> None:
    op.drop_index("ix_child_placements_referral", table_name="child_placements")
    op.drop_table("child_placements")
    op.drop_index("ix_erasure_requests_child_ref", table_name="erasure_requests")
    op.drop_table("erasure_requests")

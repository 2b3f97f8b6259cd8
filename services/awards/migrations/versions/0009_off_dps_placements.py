"""off-DPS exceptions kept for the manager's approval  (issue #16)"""
import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision, down_revision, branch_labels, depends_on = "0009", "0008", None, None


def upgrade() -> None:
    op.create_table(
        "off_dps_placements",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("placement_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("dps_id", sa.Uuid(), nullable=False),
        sa.Column("lot", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("provider_name", sa.String(300), nullable=False),
        sa.Column("setting_kind", sa.String(30), nullable=False),
        sa.Column("urn", sa.String(20), nullable=True),
        sa.Column("ukprn", sa.String(20), nullable=True),
        sa.Column("declared_full_time_pupils", sa.Integer(), nullable=False),
        sa.Column("hours_per_week", sa.Numeric(6, 2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("weekly_cost_pence", sa.BigInteger(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("child_ref", sa.Uuid(), nullable=True),
        sa.Column("reason_for_ap", sa.String(200), nullable=False),
        sa.Column("ehcp", sa.Boolean(), nullable=False),
        sa.Column("looked_after", sa.Boolean(), nullable=False),
        sa.Column("full_time", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_off_dps_placements")),
        sa.UniqueConstraint("placement_id", name=op.f("uq_off_dps_placements_placement_id")),
    )
    op.create_index("ix_off_dps_placements_status_recorded", "off_dps_placements", ["status", "recorded_at"])
    op.create_index("ix_off_dps_placements_child_ref", "off_dps_placements", ["child_ref"])


def downgrade() -> None:
    op.drop_index("ix_off_dps_placements_child_ref", table_name="off_dps_placements")
    op.drop_index("ix_off_dps_placements_status_recorded", table_name="off_dps_placements")
    op.drop_table("off_dps_placements")

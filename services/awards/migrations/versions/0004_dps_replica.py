"""awards' copy of each DPS record; memberships, pricing, referrals and awards by DPS; override codes  (issue #15)"""
import uuid

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision, down_revision, branch_labels, depends_on = "0004", "0003", None, None

FIRST_DPS_ID = uuid.UUID("8d7f4c1e-2b6a-4e0f-9c3d-5a1b2c3d4e01")  # shared.catalogue.FIRST_DPS_ID, written out
KEYED = {"provider_lots": ("provider_id", "lot"), "pricing_lines": ("provider_id", "lot", "pricing_line_id")}


def upgrade() -> None:
    op.create_table(
        "dps_records",
        sa.Column("dps_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("regime", sa.String(30), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("term_ends_on", sa.Date(), nullable=False),
        sa.Column("statutory_end", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("lots", sa.JSON(), nullable=False),
        sa.Column("award_criteria", sa.JSON(), nullable=False),
        sa.Column("agreed_minimum_window_days", sa.Integer(), nullable=True),
        sa.Column("agreed_in_sla_version", sa.String(50), nullable=True),
        sa.Column("sla_version", sa.String(50), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("dps_id", name=op.f("pk_dps_records")),
    )
    for name, key in KEYED.items():
        # Existing memberships and schedules are the first DPS's; the key gains the DPS.
        op.add_column(name, sa.Column("dps_id", sa.Uuid(), nullable=True))
        op.execute(sa.table(name, sa.column("dps_id", sa.Uuid())).update().values(dps_id=FIRST_DPS_ID))
        with op.batch_alter_table(name, recreate="always") as batch:
            batch.alter_column("dps_id", existing_type=sa.Uuid(), nullable=False)
            batch.drop_constraint(f"pk_{name}", type_="primary")
            batch.create_primary_key(f"pk_{name}", ["dps_id", *key])
    op.add_column("referrals", sa.Column("dps_id", sa.Uuid(), nullable=True))
    op.add_column("awards", sa.Column("override_reason_code", sa.String(50), nullable=True))
    op.add_column("awards", sa.Column("dps_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    for name, columns in (("awards", ("dps_id", "override_reason_code")), ("referrals", ("dps_id",))):
        with op.batch_alter_table(name) as batch:
            for column in columns:
                batch.drop_column(column)
    for name, key in KEYED.items():
        op.execute(sa.table(name, sa.column("dps_id", sa.Uuid())).delete().where(
            sa.column("dps_id") != FIRST_DPS_ID))
        with op.batch_alter_table(name, recreate="always") as batch:
            batch.drop_constraint(f"pk_{name}", type_="primary")
            batch.create_primary_key(f"pk_{name}", list(key))
            batch.drop_column("dps_id")
    op.drop_table("dps_records")

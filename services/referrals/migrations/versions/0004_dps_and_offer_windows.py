"""referrals: DPS records, SLA acceptances, memberships per DPS, a referral's DPS and offer window basis  (issue #15)"""
import uuid

import sqlalchemy as sa
from alembic import op

import shared.db

revision, down_revision, branch_labels, depends_on = "0004", "0003", None, None

# shared.catalogue.FIRST_DPS_ID: every row from before DPS records belongs to the first DPS.
FIRST_DPS_ID = uuid.UUID("8d7f4c1e-2b6a-4e0f-9c3d-5a1b2c3d4e01")


def _first_dps(table: str) -> None:
    op.execute(sa.table(table, sa.column("dps_id", sa.Uuid())).update().values(dps_id=FIRST_DPS_ID))


def upgrade() -> None:
    op.create_table(
        "dps_records",
        sa.Column("dps_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("regime", sa.String(length=40), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("term_ends_on", sa.Date(), nullable=True),
        sa.Column("statutory_end", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lots", sa.JSON(), nullable=False),
        sa.Column("agreed_minimum_window_days", sa.Integer(), nullable=True),
        sa.Column("agreed_in_sla_version", sa.String(length=100), nullable=True),
        sa.Column("sla_version", sa.String(length=100), nullable=True),
        sa.Column("at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dps_id", name=op.f("pk_dps_records")),
    )
    op.create_table(
        "sla_acceptances",
        sa.Column("dps_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("sla_version", sa.String(length=100), nullable=False),
        sa.Column("accepted_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dps_id", "provider_id", "sla_version", name=op.f("pk_sla_acceptances")),
    )
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.add_column(sa.Column("dps_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("urgency", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("window_basis_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("window_basis_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("window_basis_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("republished_from", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("no_eligible_offers_at", shared.db.UTCDateTime(timezone=True), nullable=True))
    _first_dps("referrals")
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.alter_column("dps_id", existing_type=sa.Uuid(), nullable=False)

    with op.batch_alter_table("memberships") as batch_op:
        batch_op.add_column(sa.Column("dps_id", sa.Uuid(), nullable=True))
    _first_dps("memberships")
    with op.batch_alter_table("memberships", recreate="always") as batch_op:
        batch_op.alter_column("dps_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_constraint("pk_memberships", type_="primary")
        batch_op.create_primary_key("pk_memberships", ["dps_id", "provider_id", "lot"])


def downgrade() -> None:
    op.execute(sa.table("memberships", sa.column("dps_id", sa.Uuid()))
               .delete().where(sa.column("dps_id", sa.Uuid()) != FIRST_DPS_ID))
    with op.batch_alter_table("memberships", recreate="always") as batch_op:
        batch_op.drop_constraint("pk_memberships", type_="primary")
        batch_op.create_primary_key("pk_memberships", ["provider_id", "lot"])
        batch_op.drop_column("dps_id")
    with op.batch_alter_table("referrals") as batch_op:
        for column in ("no_eligible_offers_at", "republished_from", "window_basis_reason", "window_basis_days",
                       "window_basis_kind", "urgency", "dps_id"):
            batch_op.drop_column(column)
    op.drop_table("sla_acceptances")
    op.drop_table("dps_records")

"""evaluators' declarations of interests; bids found ineligible at a block award  (issue #15)"""
import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision, down_revision, branch_labels, depends_on = "0006", "0005", None, None


def upgrade() -> None:
    op.create_table(
        "interest_declarations",
        sa.Column("opportunity_id", sa.Uuid(), nullable=False),
        sa.Column("evaluator_id", sa.String(length=200), nullable=False),
        sa.Column("conflict", sa.Boolean(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["opportunity_id"], ["opportunities.opportunity_id"],
                                name=op.f("fk_interest_declarations_opportunity_id_opportunities")),
        sa.PrimaryKeyConstraint("opportunity_id", "evaluator_id", name=op.f("pk_interest_declarations")),
    )
    # Existing awards were made before the check: none of their bids was found ineligible (null).
    op.add_column("opportunities", sa.Column("ineligible_at_award", sa.JSON(), nullable=True))


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("ALTER TABLE opportunities DROP COLUMN ineligible_at_award")  # SQLite 3.35 and later
    else:
        op.drop_column("opportunities", "ineligible_at_award")
    op.drop_table("interest_declarations")

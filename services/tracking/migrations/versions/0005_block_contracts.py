"""tracking keeps awards' confirmed block contracts; a block place commits nothing of its own  (issue #16)"""
import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision, down_revision, branch_labels, depends_on = "0005", "0004", None, None


def upgrade() -> None:
    op.create_table(
        "block_contracts",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("opportunity_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("lot", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=50), nullable=True),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("price_pence", sa.BigInteger(), nullable=False),
        sa.Column("contract_start", sa.Date(), nullable=False),
        sa.Column("contract_end", sa.Date(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_block_contracts")),
    )
    with op.batch_alter_table("block_contracts", schema=None) as batch_op:
        batch_op.create_index("ix_block_contracts_provider", ["provider_id"], unique=False)
        batch_op.create_index("ix_block_contracts_team", ["team"], unique=False)
    # A block place's placement no longer commits its share: its contract commits the whole value
    # (from the contract's block_contract.confirmed, kept from now on).
    op.execute("DELETE FROM committed_spend WHERE placement_id IN "
               "(SELECT placement_id FROM placements WHERE source = 'block_place')")


def downgrade() -> None:
    with op.batch_alter_table("block_contracts", schema=None) as batch_op:
        batch_op.drop_index("ix_block_contracts_team")
        batch_op.drop_index("ix_block_contracts_provider")
    op.drop_table("block_contracts")

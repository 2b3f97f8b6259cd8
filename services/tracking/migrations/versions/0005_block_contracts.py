"""tracking keeps awards' confirmed block contracts; a block place commits nothing of its own  (issue #16)"""
import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision, down_revision, branch_labels, depends_on = "0005", "0004", None, None

# block_contracts: (column, type, nullable) in the models' order; the team is null when the manager ran it
COLUMNS = (("contract_id", sa.Uuid(), False), ("opportunity_id", sa.Uuid(), False), ("provider_id", sa.Uuid(), False),
           ("lot", sa.Integer(), False), ("team", sa.String(length=50), True), ("places", sa.Integer(), False),
           ("price_pence", sa.BigInteger(), False), ("contract_start", sa.Date(), False),
           ("contract_end", sa.Date(), False), ("confirmed_at", UTCDateTime(timezone=True), False))
INDEXES = {"ix_block_contracts_provider": ["provider_id"], "ix_block_contracts_team": ["team"]}


def upgrade() -> None:
    op.create_table("block_contracts", *(sa.Column(name, kind, nullable=null) for name, kind, null in COLUMNS),
                    sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_block_contracts")))
    for name, columns in INDEXES.items():
        op.create_index(name, "block_contracts", columns, unique=False)
    # A block place's placement no longer commits its share: its contract commits the whole value
    # (from the contract's block_contract.confirmed, kept from now on).
    op.execute("DELETE FROM committed_spend WHERE placement_id IN "
               "(SELECT placement_id FROM placements WHERE source = 'block_place')")


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="block_contracts")
    op.drop_table("block_contracts")

"""providers' organisation identifiers (org-id.guide schemes) for the open data  (issue #15)"""
import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision, down_revision, branch_labels, depends_on = "0005", "0004", None, None


def upgrade() -> None:
    # Existing providers have none until the registry next tells awards (NULL: none known).
    op.add_column("providers", sa.Column("identifiers", sa.JSON(), nullable=True))
    op.add_column("providers", sa.Column("identifiers_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("identifiers_at")
        batch.drop_column("identifiers")

"""an unregistered setting's declared roll, for the registration rule  (issue #16)"""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0009", "0008", None, None


def upgrade() -> None:
    # Existing providers have declared none (NULL): awards counts this council's placements alone until they do.
    op.add_column("providers", sa.Column("declared_roll", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("declared_roll")

"""Whether each provider's notification addresses were announced (provider.contacts_changed)  (issue #18)

Existing providers have not been announced: the registry's daily job tells the
notifications service of them once, so a provider admitted before that service
existed still hears of new referrals."""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0012", "0011", None, None


def upgrade() -> None:
    with op.batch_alter_table("providers") as batch_op:
        batch_op.add_column(sa.Column("contacts_announced", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("providers") as batch_op:
        batch_op.alter_column("contacts_announced", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch_op:
        batch_op.drop_column("contacts_announced")

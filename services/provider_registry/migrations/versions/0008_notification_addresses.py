"""Providers' notification addresses: where the DPS sends their messages  (issue #18)

Existing providers start with their safeguarding lead's address, as a new
provider does at admission; the provider changes it from there."""
import json

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0008", "0007", None, None


def upgrade() -> None:
    with op.batch_alter_table("providers") as batch_op:
        batch_op.add_column(sa.Column("notification_addresses", sa.JSON(), nullable=False, server_default="[]"))
    connection = op.get_bind()
    providers = sa.table("providers", sa.column("id", sa.Uuid()), sa.column("safeguarding_lead", sa.JSON()),
                         sa.column("notification_addresses", sa.JSON()))
    for row in connection.execute(sa.select(providers.c.id, providers.c.safeguarding_lead)).all():
        lead = row.safeguarding_lead if isinstance(row.safeguarding_lead, dict) else \
            json.loads(row.safeguarding_lead or "{}")
        addresses = [lead["email"]] if lead.get("email") else []
        connection.execute(sa.update(providers).where(providers.c.id == row.id)
                           .values(notification_addresses=addresses))
    with op.batch_alter_table("providers") as batch_op:
        batch_op.alter_column("notification_addresses", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch_op:
        batch_op.drop_column("notification_addresses")

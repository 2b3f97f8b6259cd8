"""Which reminders the daily job published: reviews due and overdue, the sixth day at risk and missed  (issue #18)"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision, down_revision, branch_labels, depends_on = "0007", "0006", None, None


def upgrade() -> None:
    op.create_table("reminders_published", *shared.db.reminder_columns())  # its primary key: pk_reminders_published


def downgrade() -> None:
    op.drop_table("reminders_published")

"""Which reminders the daily job published: applications due for decision and overdue  (issue #18)"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision, down_revision, branch_labels, depends_on = "0011", "0010", None, None


def upgrade() -> None:
    op.create_table("reminders_published", *shared.db.reminder_columns())  # its primary key: pk_reminders_published


def downgrade() -> None:
    op.drop_table("reminders_published")

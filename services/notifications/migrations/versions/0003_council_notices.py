"""Notices for officers and the manager: who published a referral, offers versus declines, dead letters  (issue #18)"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import shared.db

revision, down_revision, branch_labels, depends_on = "0003", "0002", None, None


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("published_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("closed_notified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_referrals_closed", ["closed_notified", "deadline"])
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="offer"))
    # a referral whose deadline passed before this notice existed is not announced now
    referrals = sa.table("referrals", sa.column("deadline", shared.db.UTCDateTime()),
                         sa.column("closed_notified", sa.Boolean()))
    op.execute(referrals.update().where(referrals.c.deadline < datetime.now(UTC)).values(closed_notified=True))
    op.create_table(
        "dead_letter_depths",
        sa.Column("queue", sa.String(200), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("checked_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("queue", name=op.f("pk_dead_letter_depths")),
    )


def downgrade() -> None:
    op.drop_table("dead_letter_depths")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_index("ix_referrals_closed")
        batch.drop_column("closed_notified")
        batch.drop_column("published_by")

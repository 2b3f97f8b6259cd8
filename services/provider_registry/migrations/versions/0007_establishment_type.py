"""A registered school's establishment type, for the AP census's scope  (issue #16 item 6)

Existing registered schools migrate with none (not said yet): the census return lists them to be put
right rather than guess whether a school is independent or a pupil referral unit.
"""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0007", "0006", None, None


def upgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("establishment_type", sa.String(30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("establishment_type")

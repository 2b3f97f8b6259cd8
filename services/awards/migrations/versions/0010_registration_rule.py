"""the registration rule as the law has it: setting kind, declared roll, school age and SEN  (issue #16)"""
import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision, down_revision, branch_labels, depends_on = "0010", "0009", None, None


def upgrade() -> None:
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("setting_kind", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("declared_full_time_pupils", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("declared_any_ehcp", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("declared_any_looked_after", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("declared_any_sen", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("roll_declared_at", UTCDateTime(), nullable=True))
    # Existing providers: the kind is what the registration status said until the registry next tells us
    # (an FE college or training provider was copied as unregistered: the stricter reading until then).
    op.execute("UPDATE providers SET setting_kind = registration_status WHERE registration_status IS NOT NULL")
    # Existing referrals: null school age reads as of compulsory school age (the rule applies), no SEN known.
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compulsory_school_age", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("has_sen", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_column("has_sen")
        batch_op.drop_column("compulsory_school_age")
    with op.batch_alter_table("providers", schema=None) as batch_op:
        for name in ("roll_declared_at", "declared_any_sen", "declared_any_looked_after", "declared_any_ehcp",
                     "declared_full_time_pupils", "setting_kind"):
            batch_op.drop_column(name)

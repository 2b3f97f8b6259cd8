"""The AP census: the child's census details, the setting's and the placement's facts  (issue #16 item 6)

Every new column is nullable: existing children have no census details yet (the return lists what each
row lacks), existing providers learn their setting from the registry's next event, and existing
placements their provider and hours from tracking's next one.
"""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0006", "0005", None, None

CHILD = (("surname", sa.String(35)), ("forename", sa.String(35)), ("sex", sa.String(1)),
         ("ethnicity", sa.String(4)), ("sen_provision", sa.String(1)), ("fsm_eligible", sa.Boolean()))
PROVIDER = (("setting_kind", sa.String(30)), ("establishment_type", sa.String(30)), ("ukprn", sa.String(8)))
PLACEMENT = (("provider_id", sa.Uuid()), ("hours_per_week", sa.Numeric(5, 2)), ("full_time", sa.Boolean()))
TABLES = (("referral_children", CHILD), ("providers", PROVIDER), ("child_placements", PLACEMENT))


def upgrade() -> None:
    for table, columns in TABLES:
        with op.batch_alter_table(table) as batch:
            for name, kind in columns:
                batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for table, columns in TABLES:
        with op.batch_alter_table(table) as batch:
            for name, _ in reversed(columns):
                batch.drop_column(name)

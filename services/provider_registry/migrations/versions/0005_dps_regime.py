"""DPS records: a UUID id, regime, statutory end, criteria, window, rounds; rows name their DPS  (issue #15)

The one DPS there was becomes the first DPS record (shared.catalogue.FIRST_DPS_ID,
written out here): a DPS under the Public Contracts Regulations 2015, with the
statutory end of SI 2024/716 regulation 5(4) (default 2029-02-23; the registry's
daily job applies DPS_PCR2015_STATUTORY_END), the default call-off award criteria,
no agreed minimum window, no rounds and no warnings given.  Every existing lot,
membership, application and SLA acceptance is of it.
"""
import uuid
from datetime import date

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0005", "0004", None, None

FIRST_DPS_ID = uuid.UUID("8d7f4c1e-2b6a-4e0f-9c3d-5a1b2c3d4e01")
STATUTORY_END = date(2029, 2, 23)
AWARD_CRITERIA = [
    {"code": "value", "name": "Value for money", "description": "Best value for money at the volume asked for"},
    {"code": "travel", "name": "Travel", "description": "Travel time and transport for this child"},
    {"code": "continuity", "name": "Continuity", "description": "Continuity with a current or recent provider"},
    {"code": "specialism", "name": "Specialism",
     "description": "Specialist provision for the child's primary need"},
    {"code": "start", "name": "Start", "description": "Earliest start (the sixth-day duty)"},
]
# table -> its primary key after this migration (the DPS's id comes first where it is part of it)
KEYED_BY_DPS = {
    "lots": ["dps_id", "number"],
    "memberships": ["provider_id", "dps_id", "lot"],
    "sla_acceptances": ["provider_id", "dps_id", "version"],
}


def upgrade() -> None:
    with op.batch_alter_table("dps") as batch:
        batch.add_column(sa.Column("new_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("regime", sa.String(40), nullable=True))
        batch.add_column(sa.Column("statutory_end", sa.Date(), nullable=True))
        batch.add_column(sa.Column("award_criteria", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("agreed_minimum_window_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("agreed_in_sla_version", sa.String(50), nullable=True))
        batch.add_column(sa.Column("rounds", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("warnings_given", sa.JSON(), nullable=True))
    dps = sa.table("dps", sa.column("new_id", sa.Uuid()), sa.column("regime", sa.String()),
                   sa.column("statutory_end", sa.Date()), sa.column("award_criteria", sa.JSON()),
                   sa.column("rounds", sa.JSON()), sa.column("warnings_given", sa.JSON()))
    op.execute(dps.update().values(new_id=FIRST_DPS_ID, regime="pcr2015_dps", statutory_end=STATUTORY_END,
                                   award_criteria=AWARD_CRITERIA, rounds=[], warnings_given=[]))
    with op.batch_alter_table("dps", recreate="always") as batch:
        batch.drop_constraint("pk_dps", type_="primary")
        batch.drop_column("id")
        batch.alter_column("new_id", new_column_name="id", existing_type=sa.Uuid(), nullable=False)
        for name, type_ in (("regime", sa.String(40)), ("award_criteria", sa.JSON()), ("rounds", sa.JSON()),
                            ("warnings_given", sa.JSON())):
            batch.alter_column(name, existing_type=type_, nullable=False)
    with op.batch_alter_table("dps", recreate="always") as batch:  # on the renamed column (SQLite loses it otherwise)
        batch.create_primary_key("pk_dps", ["id"])

    for name, key in KEYED_BY_DPS.items():
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("dps_id", sa.Uuid(), nullable=True))
        op.execute(sa.table(name, sa.column("dps_id", sa.Uuid())).update().values(dps_id=FIRST_DPS_ID))
        with op.batch_alter_table(name, recreate="always") as batch:
            batch.drop_constraint(f"pk_{name}", type_="primary")
            batch.alter_column("dps_id", existing_type=sa.Uuid(), nullable=False)
            batch.create_primary_key(f"pk_{name}", key)

    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("dps_id", sa.Uuid(), nullable=True))
    op.execute(sa.table("applications", sa.column("dps_id", sa.Uuid())).update().values(dps_id=FIRST_DPS_ID))
    with op.batch_alter_table("applications") as batch:
        batch.alter_column("dps_id", existing_type=sa.Uuid(), nullable=False)


def downgrade() -> None:
    """Back to one DPS: every other record, and what was of it, goes."""
    for name in ("applications", *KEYED_BY_DPS):
        table = sa.table(name, sa.column("dps_id", sa.Uuid()))
        op.execute(table.delete().where(table.c.dps_id != FIRST_DPS_ID))
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("dps_id")
    old_keys = {"lots": ["number"], "memberships": ["provider_id", "lot"],
                "sla_acceptances": ["provider_id", "version"]}
    for name, key in old_keys.items():
        with op.batch_alter_table(name, recreate="always") as batch:
            batch.drop_constraint(f"pk_{name}", type_="primary")
            batch.drop_column("dps_id")
            batch.create_primary_key(f"pk_{name}", key)
    dps = sa.table("dps", sa.column("id", sa.Uuid()))
    op.execute(dps.delete().where(dps.c.id != FIRST_DPS_ID))
    with op.batch_alter_table("dps") as batch:
        batch.add_column(sa.Column("old_id", sa.Integer(), nullable=True))
    op.execute(sa.table("dps", sa.column("old_id", sa.Integer())).update().values(old_id=1))
    with op.batch_alter_table("dps", recreate="always") as batch:
        batch.drop_constraint("pk_dps", type_="primary")
        batch.drop_column("id")
        for name in ("regime", "statutory_end", "award_criteria", "agreed_minimum_window_days",
                     "agreed_in_sla_version", "rounds", "warnings_given"):
            batch.drop_column(name)
        batch.alter_column("old_id", new_column_name="id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("dps", recreate="always") as batch:
        batch.create_primary_key("pk_dps", ["id"])

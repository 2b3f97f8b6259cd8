"""dps.revision goes: the DPS is read per unit of work, no process keeps a copy"""
import uuid

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0004", "0003", None, None


def upgrade() -> None:
    with op.batch_alter_table('dps', schema=None) as batch_op:
        batch_op.drop_column('revision')


def downgrade() -> None:
    with op.batch_alter_table('dps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Uuid(), nullable=True))
    dps = sa.table('dps', sa.column('revision', sa.Uuid()))
    op.execute(dps.update().values(revision=uuid.uuid4()))
    with op.batch_alter_table('dps', schema=None) as batch_op:
        batch_op.alter_column('revision', existing_type=sa.Uuid(), nullable=False)

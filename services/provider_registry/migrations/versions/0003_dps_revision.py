"""dps.revision: a new value on every change of the DPS or its lots

Each process keeps the DPS and its lots in memory and reads only this column
(with the provider, or on its own) to know its copy is still the current one.
A random UUID rather than a counter: a value is never reused, so a copy made
under one revision is right for every database that shows that revision.
"""
import uuid

import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0003", "0002", None, None


def upgrade() -> None:
    with op.batch_alter_table('dps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Uuid(), nullable=True))
    dps = sa.table('dps', sa.column('revision', sa.Uuid()))
    op.execute(dps.update().values(revision=uuid.uuid4()))
    with op.batch_alter_table('dps', schema=None) as batch_op:
        batch_op.alter_column('revision', existing_type=sa.Uuid(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('dps', schema=None) as batch_op:
        batch_op.drop_column('revision')

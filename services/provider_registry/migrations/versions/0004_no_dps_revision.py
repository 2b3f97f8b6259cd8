"""dps.revision goes: the DPS is read per unit of work, no process keeps a copy

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 19:00:00
"""
import uuid

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


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

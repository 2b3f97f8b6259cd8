"""a mini-competition mapped by the ORM: scores name their opportunity; the
opportunity row carries a version (optimistic concurrency)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 19:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

SCORE_TABLES = ('evaluator_scores', 'moderated_scores')


def upgrade() -> None:
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    bids = sa.table('bids', sa.column('bid_id', sa.Uuid()), sa.column('opportunity_id', sa.Uuid()))
    for name in SCORE_TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('opportunity_id', sa.Uuid(), nullable=True))
        scores = sa.table(name, sa.column('bid_id', sa.Uuid()), sa.column('opportunity_id', sa.Uuid()))
        op.execute(scores.update().values(opportunity_id=sa.select(bids.c.opportunity_id)
                                          .where(bids.c.bid_id == scores.c.bid_id).scalar_subquery()))
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{name}_opportunity_id'), ['opportunity_id'], unique=False)


def downgrade() -> None:
    for name in SCORE_TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{name}_opportunity_id'))
            batch_op.drop_column('opportunity_id')
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_column('version')

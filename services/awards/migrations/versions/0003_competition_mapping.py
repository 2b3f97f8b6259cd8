"""a mini-competition mapped by the ORM: scores name their opportunity; the
opportunity row carries a version (optimistic concurrency)
"""
import sqlalchemy as sa
from alembic import op

revision, down_revision, branch_labels, depends_on = "0003", "0002", None, None


SCORE_TABLES = ('evaluator_scores', 'moderated_scores')


def upgrade() -> None:
    # Plain ADD COLUMN works on SQLite and PostgreSQL alike; a batch (copy and
    # move) of opportunities would fail on SQLite, as bids refer to it.
    op.add_column('opportunities', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    bids = sa.table('bids', sa.column('bid_id', sa.Uuid()), sa.column('opportunity_id', sa.Uuid()))
    for name in SCORE_TABLES:
        op.add_column(name, sa.Column('opportunity_id', sa.Uuid(), nullable=True))
        scores = sa.table(name, sa.column('bid_id', sa.Uuid()), sa.column('opportunity_id', sa.Uuid()))
        op.execute(scores.update().values(opportunity_id=sa.select(bids.c.opportunity_id)
                                          .where(bids.c.bid_id == scores.c.bid_id).scalar_subquery()))
        op.create_index(op.f(f'ix_{name}_opportunity_id'), name, ['opportunity_id'], unique=False)


def _drop_column(table: str, column: str) -> None:
    if op.get_context().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')  # SQLite 3.35 and later
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    for name in SCORE_TABLES:
        op.drop_index(op.f(f'ix_{name}_opportunity_id'), table_name=name)
        _drop_column(name, 'opportunity_id')
    _drop_column('opportunities', 'version')

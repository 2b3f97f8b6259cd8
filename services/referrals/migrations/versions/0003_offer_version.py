"""an offer has its own version

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 19:00:00

An offer is its own row with its own optimistic version: a provider's offer
no longer bumps the referral's version, so providers answering one referral
at once never conflict (issue #14).
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('version')

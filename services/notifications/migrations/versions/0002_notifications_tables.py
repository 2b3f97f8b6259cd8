"""The notifications service's tables: providers' addresses, open referrals, deliveries, preferences  (issue #18)"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision, down_revision, branch_labels, depends_on = "0002", "0001", None, None


def upgrade() -> None:

    op.create_table('deliveries',
    sa.Column('delivery_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('template', sa.String(length=80), nullable=False),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('recipient_key', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('delivery_id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('event_id', 'template', 'address', name='uq_deliveries_once')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_created', ['created_at'], unique=False)
        batch_op.create_index('ix_deliveries_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('preferences',
    sa.Column('recipient_key', sa.String(length=100), nullable=False),
    sa.Column('template', sa.String(length=80), nullable=False),
    sa.Column('turned_off_by', sa.String(length=200), nullable=False),
    sa.Column('turned_off_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('recipient_key', 'template', name=op.f('pk_preferences'))
    )
    op.create_table('providers',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('provider_name', sa.String(length=200), nullable=False),
    sa.Column('addresses', sa.JSON(), nullable=False),
    sa.Column('updated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_providers'))
    )
    op.create_table('referrals',
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=50), nullable=False),
    sa.Column('deadline', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hours_per_week', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('invited_provider_ids', sa.JSON(), nullable=False),
    sa.Column('reminded', sa.Boolean(), nullable=False),
    sa.Column('published_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('referral_id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_deadline', ['reminded', 'deadline'], unique=False)

    op.create_table('responses',
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('responded_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('referral_id', 'provider_id', name=op.f('pk_responses'))
    )



def downgrade() -> None:

    op.drop_table('responses')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_deadline')

    op.drop_table('referrals')
    op.drop_table('providers')
    op.drop_table('preferences')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_due')
        batch_op.drop_index('ix_deliveries_created')

    op.drop_table('deliveries')


"""referrals tables"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision, down_revision, branch_labels, depends_on = "0002", "0001", None, None


def upgrade() -> None:
    op.create_table('children',
    sa.Column('child_ref', sa.Uuid(), nullable=False),
    sa.Column('upn', sa.String(length=13), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('child_ref', name=op.f('pk_children')),
    sa.UniqueConstraint('upn', name=op.f('uq_children_upn'))
    )
    op.create_table('memberships',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('status_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('capacity_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('provider_id', 'lot', name=op.f('pk_memberships'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('ix_memberships_lot_status', ['lot', 'status'], unique=False)

    op.create_table('pricing_schedules',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('pricing_lines', sa.JSON(), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pricing_schedules')),
    sa.UniqueConstraint('provider_id', 'lot', 'version', 'effective_from', 'at', name='uq_pricing_schedules_version')
    )
    with op.batch_alter_table('pricing_schedules', schema=None) as batch_op:
        batch_op.create_index('ix_pricing_schedules_provider_lot', ['provider_id', 'lot'], unique=False)

    op.create_table('providers',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('registration_status', sa.String(length=50), nullable=True),
    sa.Column('urn', sa.String(length=50), nullable=True),
    sa.Column('ofsted_grade', sa.String(length=50), nullable=True),
    sa.Column('name_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('registration_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_providers'))
    )
    op.create_table('referrals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=50), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('deadline', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('exclusion_start', sa.Date(), nullable=True),
    sa.Column('full_time_provision_by', sa.Date(), nullable=True),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.String(length=200), nullable=True),
    sa.Column('published_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('window_closed_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=200), nullable=True),
    sa.Column('assessment_completed_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('awarded_offer_id', sa.Uuid(), nullable=True),
    sa.Column('awarded_allocation_id', sa.Uuid(), nullable=True),
    sa.Column('awarded_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('cancelled_by', sa.String(length=200), nullable=True),
    sa.Column('cancelled_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('off_dps_reason', sa.Text(), nullable=True),
    sa.Column('off_dps_by', sa.String(length=200), nullable=True),
    sa.Column('off_dps_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_lot', ['lot'], unique=False)
        batch_op.create_index('ix_referrals_off_dps_at', ['off_dps_at'], unique=False)
        batch_op.create_index('ix_referrals_status_deadline', ['status', 'deadline'], unique=False)
        batch_op.create_index('ix_referrals_team_status', ['team', 'status'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_url', sa.String(length=2000), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('gave_up_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['next_attempt_at'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_provider', ['provider_id', 'created_at'], unique=False)

    op.create_table('webhooks',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('registered_by', sa.String(length=200), nullable=False),
    sa.Column('registered_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('secret_issued_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_webhooks'))
    )
    op.create_table('declines',
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_declines_referral_id_referrals')),
    sa.PrimaryKeyConstraint('referral_id', 'provider_id', name=op.f('pk_declines'))
    )
    op.create_table('invitations',
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('invited_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_invitations_referral_id_referrals')),
    sa.PrimaryKeyConstraint('referral_id', 'provider_id', name=op.f('pk_invitations'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index('ix_invitations_provider', ['provider_id'], unique=False)

    op.create_table('offers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('pricing_line_id', sa.Uuid(), nullable=False),
    sa.Column('unit_price_pence', sa.BigInteger(), nullable=False),
    sa.Column('units_per_week', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('weeks', sa.Integer(), nullable=False),
    sa.Column('total_pence', sa.BigInteger(), nullable=False),
    sa.Column('maximum_price_pence', sa.BigInteger(), nullable=False),
    sa.Column('proposed_start', sa.Date(), nullable=False),
    sa.Column('staffing_ratio', sa.String(length=20), nullable=False),
    sa.Column('delivery_site', sa.Text(), nullable=False),
    sa.Column('delivery_postcode', sa.String(length=10), nullable=False),
    sa.Column('how_it_meets_needs', sa.Text(), nullable=False),
    sa.Column('place_available', sa.Boolean(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('submitted_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_offers_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers')),
    sa.UniqueConstraint('provider_id', 'idempotency_key', name='uq_offers_provider_idempotency_key')
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index('ix_offers_provider', ['provider_id'], unique=False)
        batch_op.create_index('ix_offers_referral', ['referral_id'], unique=False)
        batch_op.create_index('ux_offers_live', ['referral_id', 'provider_id'], unique=True, postgresql_where=sa.text('withdrawn_at IS NULL'), sqlite_where=sa.text('withdrawn_at IS NULL'))

    op.create_table('referral_children',
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('child_ref', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('upn', sa.String(length=13), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['child_ref'], ['children.child_ref'], name=op.f('fk_referral_children_child_ref_children')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_children_referral_id_referrals')),
    sa.PrimaryKeyConstraint('referral_id', name=op.f('pk_referral_children'))
    )
    with op.batch_alter_table('referral_children', schema=None) as batch_op:
        batch_op.create_index('ix_referral_children_child_ref', ['child_ref'], unique=False)
        batch_op.create_index('ix_referral_children_upn', ['upn'], unique=False)

    op.create_table('referral_questions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_questions_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_questions'))
    )
    with op.batch_alter_table('referral_questions', schema=None) as batch_op:
        batch_op.create_index('ix_referral_questions_referral', ['referral_id'], unique=False)

    op.create_table('assessments',
    sa.Column('offer_id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('meets_needs', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('criteria_met', sa.JSON(), nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_assessments_offer_id_offers')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_assessments_referral_id_referrals')),
    sa.PrimaryKeyConstraint('offer_id', name=op.f('pk_assessments'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_referral', ['referral_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_referral')

    op.drop_table('assessments')
    with op.batch_alter_table('referral_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_questions_referral')

    op.drop_table('referral_questions')
    with op.batch_alter_table('referral_children', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_children_upn')
        batch_op.drop_index('ix_referral_children_child_ref')

    op.drop_table('referral_children')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ux_offers_live', postgresql_where=sa.text('withdrawn_at IS NULL'), sqlite_where=sa.text('withdrawn_at IS NULL'))
        batch_op.drop_index('ix_offers_referral')
        batch_op.drop_index('ix_offers_provider')

    op.drop_table('offers')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_invitations_provider')

    op.drop_table('invitations')
    op.drop_table('declines')
    op.drop_table('webhooks')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_provider')
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_team_status')
        batch_op.drop_index('ix_referrals_status_deadline')
        batch_op.drop_index('ix_referrals_off_dps_at')
        batch_op.drop_index('ix_referrals_lot')

    op.drop_table('referrals')
    op.drop_table('providers')
    with op.batch_alter_table('pricing_schedules', schema=None) as batch_op:
        batch_op.drop_index('ix_pricing_schedules_provider_lot')

    op.drop_table('pricing_schedules')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_memberships_lot_status')

    op.drop_table('memberships')
    op.drop_table('children')

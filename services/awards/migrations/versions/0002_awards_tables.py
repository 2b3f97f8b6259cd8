"""awards tables"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision, down_revision, branch_labels, depends_on = "0002", "0001", None, None


def upgrade() -> None:
    op.create_table('ended_placements',
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=False),
    sa.Column('end_reason', sa.String(length=200), nullable=True),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('placement_id', name=op.f('pk_ended_placements'))
    )
    op.create_table('opportunities',
    sa.Column('opportunity_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('team', sa.String(length=50), nullable=True),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('contract_start', sa.Date(), nullable=False),
    sa.Column('contract_end', sa.Date(), nullable=False),
    sa.Column('opens_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('scale', sa.JSON(), nullable=False),
    sa.Column('split', sa.JSON(), nullable=False),
    sa.Column('tie_break', sa.JSON(), nullable=False),
    sa.Column('standstill_working_days', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('awarded_by', sa.String(length=200), nullable=True),
    sa.Column('awarded_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('standstill_ends_on', sa.Date(), nullable=True),
    sa.Column('evaluation', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('opportunity_id', name=op.f('pk_opportunities'))
    )
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunities_lot'), ['lot'], unique=False)

    op.create_table('pricing_lines',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('pricing_line_id', sa.Uuid(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=50), nullable=False),
    sa.Column('staffing_ratio', sa.String(length=50), nullable=True),
    sa.Column('maximum_price_pence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('provider_id', 'lot', 'pricing_line_id', name=op.f('pk_pricing_lines'))
    )
    op.create_table('provider_lots',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('membership_status', sa.String(length=20), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('status_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('capacity_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pricing_version', sa.Integer(), nullable=True),
    sa.Column('pricing_effective_from', sa.Date(), nullable=True),
    sa.Column('pricing_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('provider_id', 'lot', name=op.f('pk_provider_lots'))
    )
    with op.batch_alter_table('provider_lots', schema=None) as batch_op:
        batch_op.create_index('ix_provider_lots_lot_status', ['lot', 'membership_status'], unique=False)

    op.create_table('providers',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('provider_name', sa.String(length=300), nullable=False),
    sa.Column('name_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('registration_status', sa.String(length=30), nullable=True),
    sa.Column('urn', sa.String(length=20), nullable=True),
    sa.Column('ofsted_grade', sa.String(length=50), nullable=True),
    sa.Column('registration_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_providers'))
    )
    op.create_table('referrals',
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=True),
    sa.Column('team', sa.String(length=50), nullable=True),
    sa.Column('child_ref', sa.Uuid(), nullable=True),
    sa.Column('reason_for_ap', sa.String(length=200), nullable=True),
    sa.Column('hours_per_week', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('full_time', sa.Boolean(), nullable=True),
    sa.Column('ehcp', sa.Boolean(), nullable=True),
    sa.Column('looked_after', sa.Boolean(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('expected_weeks', sa.Integer(), nullable=True),
    sa.Column('closed_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('referral_id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_team_lot', ['team', 'lot'], unique=False)

    op.create_table('awards',
    sa.Column('award_id', sa.Uuid(), nullable=False),
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('offer_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=50), nullable=False),
    sa.Column('pricing_line_id', sa.Uuid(), nullable=False),
    sa.Column('unit_price_pence', sa.BigInteger(), nullable=False),
    sa.Column('units_per_week', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('hours_per_week', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('weeks', sa.Integer(), nullable=False),
    sa.Column('total_pence', sa.BigInteger(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('full_time', sa.Boolean(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('awarded_by', sa.String(length=200), nullable=False),
    sa.Column('awarded_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ranking', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.referral_id'], name=op.f('fk_awards_referral_id_referrals')),
    sa.PrimaryKeyConstraint('award_id', name=op.f('pk_awards')),
    sa.UniqueConstraint('placement_id', name=op.f('uq_awards_placement_id')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_awards_referral_id'))
    )
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.create_index('ix_awards_awarded_at', ['awarded_at'], unique=False)
        batch_op.create_index('ix_awards_provider_lot', ['provider_id', 'lot'], unique=False)

    op.create_table('bids',
    sa.Column('bid_id', sa.Uuid(), nullable=False),
    sa.Column('opportunity_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('price_pence', sa.BigInteger(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('submitted_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.opportunity_id'], name=op.f('fk_bids_opportunity_id_opportunities')),
    sa.PrimaryKeyConstraint('bid_id', name=op.f('pk_bids')),
    sa.UniqueConstraint('opportunity_id', 'provider_id', name='uq_bids_opportunity_provider')
    )
    op.create_table('block_contracts',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('opportunity_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('price_pence', sa.BigInteger(), nullable=False),
    sa.Column('contract_start', sa.Date(), nullable=False),
    sa.Column('contract_end', sa.Date(), nullable=False),
    sa.Column('confirmed_by', sa.String(length=200), nullable=False),
    sa.Column('confirmed_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.opportunity_id'], name=op.f('fk_block_contracts_opportunity_id_opportunities')),
    sa.PrimaryKeyConstraint('contract_id', name=op.f('pk_block_contracts')),
    sa.UniqueConstraint('opportunity_id', name=op.f('uq_block_contracts_opportunity_id'))
    )
    with op.batch_alter_table('block_contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_block_contracts_provider_id'), ['provider_id'], unique=False)

    op.create_table('invitations',
    sa.Column('opportunity_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.opportunity_id'], name=op.f('fk_invitations_opportunity_id_opportunities')),
    sa.PrimaryKeyConstraint('opportunity_id', 'provider_id', name=op.f('pk_invitations'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_provider_id'), ['provider_id'], unique=False)

    op.create_table('offers',
    sa.Column('offer_id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('pricing_line_id', sa.Uuid(), nullable=False),
    sa.Column('unit_price_pence', sa.BigInteger(), nullable=False),
    sa.Column('units_per_week', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('weeks', sa.Integer(), nullable=False),
    sa.Column('total_pence', sa.BigInteger(), nullable=False),
    sa.Column('proposed_start', sa.Date(), nullable=False),
    sa.Column('staffing_ratio', sa.String(length=50), nullable=True),
    sa.Column('submitted_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('meets_needs', sa.Boolean(), nullable=True),
    sa.Column('assessment_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.referral_id'], name=op.f('fk_offers_referral_id_referrals')),
    sa.PrimaryKeyConstraint('offer_id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_referral_id'), ['referral_id'], unique=False)

    op.create_table('block_allocations',
    sa.Column('allocation_id', sa.Uuid(), nullable=False),
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=50), nullable=False),
    sa.Column('hours_per_week', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('weeks', sa.Integer(), nullable=True),
    sa.Column('cost_pence', sa.BigInteger(), nullable=False),
    sa.Column('full_time', sa.Boolean(), nullable=False),
    sa.Column('allocated_by', sa.String(length=200), nullable=False),
    sa.Column('allocated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['block_contracts.contract_id'], name=op.f('fk_block_allocations_contract_id_block_contracts')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.referral_id'], name=op.f('fk_block_allocations_referral_id_referrals')),
    sa.PrimaryKeyConstraint('allocation_id', name=op.f('pk_block_allocations')),
    sa.UniqueConstraint('placement_id', name=op.f('uq_block_allocations_placement_id')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_block_allocations_referral_id'))
    )
    with op.batch_alter_table('block_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_block_allocations_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('ix_block_allocations_provider_lot', ['provider_id', 'lot'], unique=False)

    op.create_table('evaluator_scores',
    sa.Column('bid_id', sa.Uuid(), nullable=False),
    sa.Column('criterion', sa.String(length=200), nullable=False),
    sa.Column('evaluator_id', sa.String(length=200), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.bid_id'], name=op.f('fk_evaluator_scores_bid_id_bids')),
    sa.PrimaryKeyConstraint('bid_id', 'criterion', 'evaluator_id', name=op.f('pk_evaluator_scores'))
    )
    op.create_table('moderated_scores',
    sa.Column('bid_id', sa.Uuid(), nullable=False),
    sa.Column('criterion', sa.String(length=200), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('moderated_by', sa.String(length=200), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.bid_id'], name=op.f('fk_moderated_scores_bid_id_bids')),
    sa.PrimaryKeyConstraint('bid_id', 'criterion', name=op.f('pk_moderated_scores'))
    )


def downgrade() -> None:
    op.drop_table('moderated_scores')
    op.drop_table('evaluator_scores')
    with op.batch_alter_table('block_allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_block_allocations_provider_lot')
        batch_op.drop_index(batch_op.f('ix_block_allocations_contract_id'))

    op.drop_table('block_allocations')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_referral_id'))

    op.drop_table('offers')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_provider_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('block_contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_block_contracts_provider_id'))

    op.drop_table('block_contracts')
    op.drop_table('bids')
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_index('ix_awards_provider_lot')
        batch_op.drop_index('ix_awards_awarded_at')

    op.drop_table('awards')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_team_lot')

    op.drop_table('referrals')
    op.drop_table('providers')
    with op.batch_alter_table('provider_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_provider_lots_lot_status')

    op.drop_table('provider_lots')
    op.drop_table('pricing_lines')
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunities_lot'))

    op.drop_table('opportunities')
    op.drop_table('ended_placements')

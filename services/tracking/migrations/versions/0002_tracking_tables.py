"""tracking tables"""
import sqlalchemy as sa
from alembic import op

import shared.db

revision, down_revision, branch_labels, depends_on = "0002", "0001", None, None


def upgrade() -> None:
    op.create_table('memberships',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('as_of', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider_id', 'lot', name=op.f('pk_memberships'))
    )
    op.create_table('placements',
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('award_id', sa.Uuid(), nullable=True),
    sa.Column('offer_id', sa.Uuid(), nullable=True),
    sa.Column('contract_id', sa.Uuid(), nullable=True),
    sa.Column('allocation_id', sa.Uuid(), nullable=True),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('child_ref', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=50), nullable=False),
    sa.Column('reason_for_ap', sa.String(length=200), nullable=False),
    sa.Column('hours_per_week', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('full_time', sa.Boolean(), nullable=False),
    sa.Column('agreed_cost_pence', sa.BigInteger(), nullable=False),
    sa.Column('unit_price_pence', sa.BigInteger(), nullable=True),
    sa.Column('units_per_week', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('weeks', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('expected_end_date', sa.Date(), nullable=False),
    sa.Column('safeguarding', sa.String(length=30), nullable=False),
    sa.Column('provision', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('start_confirmed_by', sa.String(length=20), nullable=True),
    sa.Column('overlap_reason', sa.Text(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=30), nullable=True),
    sa.Column('next_step', sa.String(length=40), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('last_review_on', sa.Date(), nullable=True),
    sa.Column('review_due_on', sa.Date(), nullable=True),
    sa.Column('flagged_for_review', sa.Boolean(), nullable=False),
    sa.Column('review_flags', sa.JSON(), nullable=False),
    sa.Column('awarded_by', sa.String(length=200), nullable=True),
    sa.Column('awarded_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('placement_id', name=op.f('pk_placements'))
    )
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.create_index('ix_placements_active_period', ['started_on', 'end_date'], unique=False)
        batch_op.create_index('ix_placements_child_ref', ['child_ref'], unique=False)
        batch_op.create_index('ix_placements_lot', ['lot'], unique=False)
        batch_op.create_index('ix_placements_provider_status', ['provider_id', 'status'], unique=False)
        batch_op.create_index('ix_placements_referral', ['referral_id'], unique=False)
        batch_op.create_index('ix_placements_status_review_due', ['status', 'review_due_on'], unique=False)
        batch_op.create_index('ix_placements_team_status', ['team', 'status'], unique=False)

    op.create_table('providers',
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('as_of', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_providers'))
    )
    op.create_table('attendance_returns',
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('week_commencing', sa.Date(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=50), nullable=False),
    sa.Column('sessions_offered', sa.Integer(), nullable=False),
    sa.Column('attended', sa.Integer(), nullable=False),
    sa.Column('authorised_absence', sa.Integer(), nullable=False),
    sa.Column('unauthorised_absence', sa.Integer(), nullable=False),
    sa.Column('corrections', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('attended <= sessions_offered', name=op.f('ck_attendance_returns_attended_within_offered')),
    sa.CheckConstraint('sessions_offered >= 0 AND attended >= 0 AND authorised_absence >= 0 AND unauthorised_absence >= 0', name=op.f('ck_attendance_returns_counts_not_negative')),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.placement_id'], name=op.f('fk_attendance_returns_placement_id_placements')),
    sa.PrimaryKeyConstraint('placement_id', 'week_commencing', name=op.f('pk_attendance_returns'))
    )
    with op.batch_alter_table('attendance_returns', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_provider_week', ['provider_id', 'week_commencing'], unique=False)
        batch_op.create_index('ix_attendance_team_week', ['team', 'week_commencing'], unique=False)
        batch_op.create_index('ix_attendance_week', ['week_commencing'], unique=False)

    op.create_table('committed_spend',
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=50), nullable=False),
    sa.Column('pence', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.placement_id'], name=op.f('fk_committed_spend_placement_id_placements')),
    sa.PrimaryKeyConstraint('placement_id', 'month', name=op.f('pk_committed_spend'))
    )
    with op.batch_alter_table('committed_spend', schema=None) as batch_op:
        batch_op.create_index('ix_spend_month', ['month'], unique=False)
        batch_op.create_index('ix_spend_provider_month', ['provider_id', 'month'], unique=False)
        batch_op.create_index('ix_spend_team_month', ['team', 'month'], unique=False)

    op.create_table('concerns',
    sa.Column('concern_id', sa.Uuid(), nullable=False),
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('lot', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('week_commencing', sa.Date(), nullable=False),
    sa.Column('rate', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('raised_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=200), nullable=True),
    sa.Column('acknowledgement', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.placement_id'], name=op.f('fk_concerns_placement_id_placements')),
    sa.PrimaryKeyConstraint('concern_id', name=op.f('pk_concerns')),
    sa.UniqueConstraint('placement_id', 'kind', 'week_commencing', name='uq_concerns_placement_kind_week')
    )
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.create_index('ix_concerns_open', ['acknowledged_at', 'raised_at'], unique=False)
        batch_op.create_index('ix_concerns_provider', ['provider_id'], unique=False)
        batch_op.create_index('ix_concerns_team_raised', ['team', 'raised_at'], unique=False)

    op.create_table('outcomes',
    sa.Column('outcome_id', sa.Uuid(), nullable=False),
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('attainment', sa.JSON(), nullable=False),
    sa.Column('qualifications', sa.JSON(), nullable=False),
    sa.Column('engagement', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.placement_id'], name=op.f('fk_outcomes_placement_id_placements')),
    sa.PrimaryKeyConstraint('outcome_id', name=op.f('pk_outcomes'))
    )
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.create_index('ix_outcomes_placement', ['placement_id', 'recorded_on'], unique=False)

    op.create_table('reviews',
    sa.Column('review_id', sa.Uuid(), nullable=False),
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('review_date', sa.Date(), nullable=False),
    sa.Column('attendance', sa.String(length=20), nullable=False),
    sa.Column('attitude', sa.String(length=20), nullable=False),
    sa.Column('attainment', sa.String(length=20), nullable=False),
    sa.Column('behaviour', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.placement_id'], name=op.f('fk_reviews_placement_id_placements')),
    sa.PrimaryKeyConstraint('review_id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_placement', ['placement_id', 'review_date'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_placement')

    op.drop_table('reviews')
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.drop_index('ix_outcomes_placement')

    op.drop_table('outcomes')
    with op.batch_alter_table('concerns', schema=None) as batch_op:
        batch_op.drop_index('ix_concerns_team_raised')
        batch_op.drop_index('ix_concerns_provider')
        batch_op.drop_index('ix_concerns_open')

    op.drop_table('concerns')
    with op.batch_alter_table('committed_spend', schema=None) as batch_op:
        batch_op.drop_index('ix_spend_team_month')
        batch_op.drop_index('ix_spend_provider_month')
        batch_op.drop_index('ix_spend_month')

    op.drop_table('committed_spend')
    with op.batch_alter_table('attendance_returns', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_week')
        batch_op.drop_index('ix_attendance_team_week')
        batch_op.drop_index('ix_attendance_provider_week')

    op.drop_table('attendance_returns')
    op.drop_table('providers')
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_index('ix_placements_team_status')
        batch_op.drop_index('ix_placements_status_review_due')
        batch_op.drop_index('ix_placements_referral')
        batch_op.drop_index('ix_placements_provider_status')
        batch_op.drop_index('ix_placements_lot')
        batch_op.drop_index('ix_placements_child_ref')
        batch_op.drop_index('ix_placements_active_period')

    op.drop_table('placements')
    op.drop_table('memberships')

"""The tracking service's tables (SQLAlchemy Core), in its own database.

Reports are answered by SQL GROUP BY over these tables, so the columns they
filter and group on are plain, indexed columns:
- `placements` carries the award's terms, its state and the next review due;
- `attendance_returns` repeats the placement's provider, lot and team (they
  never change) so attendance is grouped without a join;
- `committed_spend` holds each placement's agreed cost spread over the
  calendar months (the domain's `commitment_by_month`: to its end if it
  ended early, none if cancelled), rewritten whenever the
  placement's period changes, so spend by provider, lot and month is a SUM
  (a block place's placement commits nothing: its contract, in
  `block_contracts`, commits its whole value).
"""

from datetime import datetime

import sqlalchemy as sa

from services.tracking.domain import values
from services.tracking.domain.placement import ReviewFlag
from shared.db import Choice, UTCDateTime, new_metadata
from shared.reminders import reminders_table

metadata = new_metadata()


# Column types that read and write the domain's values (the DDL is the plain
# type underneath: no migration).  The enums are StrEnums, so the reports'
# rows still read as the strings the API and CSV show.

class Flags(sa.TypeDecorator):
    """A placement's review flags: [{reason, at}]."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return [{"reason": f.reason, "at": f.at.isoformat()} for f in value or []]

    def process_result_value(self, value, dialect):
        return [ReviewFlag(f["reason"], datetime.fromisoformat(f["at"])) for f in value or []]


class Attainment(sa.TypeDecorator):
    """An outcome's levels by subject: {"english": "grade 4"} <-> ((Subject, level), ...)."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return {values.Subject(subject).value: level for subject, level in value or ()}

    def process_result_value(self, value, dialect):
        return tuple((values.Subject(subject), level) for subject, level in (value or {}).items())


class Qualifications(sa.TypeDecorator):
    """Qualifications gained: [{name, level, grade}]."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return [vars(q) for q in value or ()]

    def process_result_value(self, value, dialect):
        return tuple(values.Qualification(**q) for q in value or [])

placements = sa.Table(
    "placements", metadata,
    sa.Column("placement_id", sa.Uuid, primary_key=True),  # given by awards
    sa.Column("source", Choice(values.PlacementSource, 20), nullable=False),  # call_off | block_place | off_dps
    sa.Column("award_id", sa.Uuid, nullable=True),
    sa.Column("offer_id", sa.Uuid, nullable=True),
    sa.Column("contract_id", sa.Uuid, nullable=True),
    sa.Column("allocation_id", sa.Uuid, nullable=True),
    sa.Column("referral_id", sa.Uuid, nullable=False),
    sa.Column("child_ref", sa.Uuid, nullable=False),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("reason_for_ap", sa.String(200), nullable=False),
    sa.Column("hours_per_week", sa.Numeric(6, 2), nullable=False),
    sa.Column("full_time", sa.Boolean, nullable=False),
    sa.Column("agreed_cost_pence", sa.BigInteger, nullable=False),
    sa.Column("unit_price_pence", sa.BigInteger, nullable=True),
    sa.Column("units_per_week", sa.Numeric(8, 2), nullable=True),
    sa.Column("weeks", sa.Numeric(6, 2), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),  # planned
    sa.Column("expected_end_date", sa.Date, nullable=False),
    sa.Column("safeguarding", Choice(values.Safeguarding, 30), nullable=False),
    sa.Column("provision", Choice(values.Provision, 20), nullable=False),
    sa.Column("status", Choice(values.PlacementStatus, 20), nullable=False),
    sa.Column("started_on", sa.Date, nullable=True),
    sa.Column("start_confirmed_by", Choice(values.StartConfirmedBy, 20), nullable=True),
    sa.Column("overlap_reason", sa.Text, nullable=True),
    sa.Column("end_date", sa.Date, nullable=True),
    sa.Column("end_reason", Choice(values.EndReason, 30), nullable=True),
    sa.Column("next_step", Choice(values.NextStep, 40), nullable=True),
    sa.Column("cancel_reason", sa.Text, nullable=True),
    sa.Column("standstill_ends_on", sa.Date, nullable=True),  # the call-off's standstill's last day (null: none)
    sa.Column("last_review_on", sa.Date, nullable=True),
    sa.Column("review_due_on", sa.Date, nullable=True),  # null unless running
    sa.Column("flagged_for_review", sa.Boolean, nullable=False, default=False),
    sa.Column("review_flags", Flags, nullable=False, default=list),  # [{reason, at}]
    sa.Column("awarded_by", sa.String(200), nullable=True),
    sa.Column("awarded_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_placements_child_ref", "child_ref"),
    sa.Index("ix_placements_provider_status", "provider_id", "status"),
    sa.Index("ix_placements_team_status", "team", "status"),
    sa.Index("ix_placements_lot", "lot"),
    sa.Index("ix_placements_status_review_due", "status", "review_due_on"),
    sa.Index("ix_placements_active_period", "started_on", "end_date"),
    sa.Index("ix_placements_referral", "referral_id"),
)

attendance_returns = sa.Table(
    "attendance_returns", metadata,
    sa.Column("placement_id", sa.Uuid, sa.ForeignKey("placements.placement_id"), primary_key=True),
    sa.Column("week_commencing", sa.Date, primary_key=True),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("sessions_offered", sa.Integer, nullable=False),
    sa.Column("attended", sa.Integer, nullable=False),
    sa.Column("authorised_absence", sa.Integer, nullable=False),
    sa.Column("unauthorised_absence", sa.Integer, nullable=False),
    sa.Column("corrections", sa.Integer, nullable=False, default=0),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("attended <= sessions_offered", name="attended_within_offered"),
    sa.CheckConstraint("sessions_offered >= 0 AND attended >= 0 AND authorised_absence >= 0 "
                       "AND unauthorised_absence >= 0", name="counts_not_negative"),
    sa.Index("ix_attendance_provider_week", "provider_id", "week_commencing"),
    sa.Index("ix_attendance_team_week", "team", "week_commencing"),
    sa.Index("ix_attendance_week", "week_commencing"),
)

concerns = sa.Table(
    "concerns", metadata,
    sa.Column("concern_id", sa.Uuid, primary_key=True),
    sa.Column("placement_id", sa.Uuid, sa.ForeignKey("placements.placement_id"), nullable=False),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("kind", Choice(values.ConcernKind, 30), nullable=False),
    sa.Column("week_commencing", sa.Date, nullable=False),
    sa.Column("rate", sa.Numeric(5, 4), nullable=True),
    sa.Column("raised_at", UTCDateTime, nullable=False),
    sa.Column("acknowledged_at", UTCDateTime, nullable=True),
    sa.Column("acknowledged_by", sa.String(200), nullable=True),
    sa.Column("acknowledgement", sa.Text, nullable=True),
    # low attendance: the weeks found low while it was open (its escalation); week_commencing is the latest
    sa.Column("weeks_low", sa.Integer, nullable=False, default=1, server_default="1"),
    # a concern of one kind is raised at most once for a week
    sa.UniqueConstraint("placement_id", "kind", "week_commencing", name="uq_concerns_placement_kind_week"),
    sa.Index("ix_concerns_team_raised", "team", "raised_at"),
    sa.Index("ix_concerns_provider", "provider_id"),
    sa.Index("ix_concerns_open", "acknowledged_at", "raised_at"),
)

reviews = sa.Table(
    "reviews", metadata,
    sa.Column("review_id", sa.Uuid, primary_key=True),
    sa.Column("placement_id", sa.Uuid, sa.ForeignKey("placements.placement_id"), nullable=False),
    sa.Column("review_date", sa.Date, nullable=False),
    sa.Column("attendance", Choice(values.Progress, 20), nullable=False),
    sa.Column("attitude", Choice(values.Progress, 20), nullable=False),
    sa.Column("attainment", Choice(values.Progress, 20), nullable=False),
    sa.Column("behaviour", Choice(values.Progress, 20), nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    # the child's and the family's views, in their words (reviews recorded before: none recorded)
    sa.Column("child_views", sa.Text, nullable=False, server_default=""),
    sa.Column("family_views", sa.Text, nullable=False, server_default=""),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Index("ix_reviews_placement", "placement_id", "review_date"),
)

outcomes = sa.Table(
    "outcomes", metadata,
    sa.Column("outcome_id", sa.Uuid, primary_key=True),
    sa.Column("placement_id", sa.Uuid, sa.ForeignKey("placements.placement_id"), nullable=False),
    sa.Column("stage", Choice(values.OutcomeStage, 20), nullable=False),
    sa.Column("recorded_on", sa.Date, nullable=False),
    sa.Column("attainment", Attainment, nullable=False),  # {"english": "grade 4", ...}
    sa.Column("qualifications", Qualifications, nullable=False),  # [{name, level, grade}]
    sa.Column("engagement", sa.Integer, nullable=True),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Index("ix_outcomes_placement", "placement_id", "recorded_on"),
)

# Each child's sixth-day deadline, from referrals' `referral.closed` (domain.SixthDayDuty): one row per
# child and deadline (a re-published referral for the same duty carries the same deadline).
sixth_day_duties = sa.Table(
    "sixth_day_duties", metadata,
    sa.Column("child_ref", sa.Uuid, primary_key=True),
    sa.Column("full_time_provision_by", sa.Date, primary_key=True),  # the sixth school day
    sa.Column("referral_id", sa.Uuid, nullable=False),  # the latest referral for it
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("reason_for_ap", sa.String(200), nullable=False),
    sa.Column("looked_after", sa.Boolean, nullable=False),
    sa.Column("first_school_day", sa.Date, nullable=True),
    sa.Column("noted_at", UTCDateTime, nullable=False),
    sa.Index("ix_sixth_day_duties_team", "team", "full_time_provision_by"),
)

committed_spend = sa.Table(
    "committed_spend", metadata,
    sa.Column("placement_id", sa.Uuid, sa.ForeignKey("placements.placement_id"), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),  # the first day of the month
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("pence", sa.BigInteger, nullable=False),
    sa.Index("ix_spend_month", "month"),
    sa.Index("ix_spend_provider_month", "provider_id", "month"),
    sa.Index("ix_spend_team_month", "team", "month"),
)

# Awards' confirmed block contracts: each commits its whole value over its
# period, places filled or not (domain.block_contract_commitment); the
# reports add it up beside committed_spend (a block place's placement commits
# nothing of its own).
block_contracts = sa.Table(
    "block_contracts", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),  # given by awards
    sa.Column("opportunity_id", sa.Uuid, nullable=False),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("team", sa.String(50), nullable=True),  # the team that ran the mini-competition (null: the manager)
    sa.Column("places", sa.Integer, nullable=False),
    sa.Column("price_pence", sa.BigInteger, nullable=False),  # the whole value, all its places
    sa.Column("contract_start", sa.Date, nullable=False),
    sa.Column("contract_end", sa.Date, nullable=False),
    sa.Column("confirmed_at", UTCDateTime, nullable=False),
    sa.Index("ix_block_contracts_provider", "provider_id"),
    sa.Index("ix_block_contracts_team", "team"),
)

# What the registry told us about providers: names for the reports, and each
# lot membership's latest status, so a placement awarded after a suspension
# arrived (events from two exchanges may cross) is flagged too.
providers = sa.Table(
    "providers", metadata,
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("as_of", UTCDateTime, nullable=False),
)

memberships = sa.Table(
    "memberships", metadata,
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("lot", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),  # admitted | suspended | removed
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("as_of", UTCDateTime, nullable=False),
)

# Which reminders the daily job published (issue #18; shared/reminders.py): each once per subject (a
# placement for a review, a referral for the sixth day), kind and due date.
reminders_published = reminders_table(metadata)

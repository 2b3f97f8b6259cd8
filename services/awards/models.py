"""The awards service's tables (SQLAlchemy Core), in its own database.

Three groups:
- copies of what other services told us (registry, closed referrals, ended
  placements): written only by the consumers;
- call-offs: one award per referral (a unique constraint, not only a check);
- mini-competitions: opportunities, sealed bids, scores, block contracts and
  the places allocated from them.

Each copied fact keeps the `at` of the event that last set it, so an older
event arriving late never overwrites a newer one.
"""

import sqlalchemy as sa

from services.awards.domain.off_dps import OffDpsStatus
from shared.db import Choice, UTCDateTime, new_metadata

metadata = new_metadata()

# --- copies from the provider registry

dps_records = sa.Table(
    # dps.configured: each DPS record (the first, and any successor beside it).
    "dps_records", metadata,
    sa.Column("dps_id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("regime", sa.String(30), nullable=False),  # pcr2015_dps | pa2023_dynamic_market | pa2023_open_framework
    sa.Column("start", sa.Date, nullable=False), sa.Column("term_ends_on", sa.Date, nullable=False),  # advertised
    sa.Column("statutory_end", sa.Date, nullable=True),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("lots", sa.JSON, nullable=False),
    sa.Column("award_criteria", sa.JSON, nullable=False),  # [{"code", "name", "description"}]
    sa.Column("agreed_minimum_window_days", sa.Integer, nullable=True),
    sa.Column("agreed_in_sla_version", sa.String(50), nullable=True),
    sa.Column("sla_version", sa.String(50), nullable=True),
    sa.Column("at", UTCDateTime, nullable=True),
)

providers = sa.Table(
    "providers", metadata,
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("provider_name", sa.String(300), nullable=False, default=""),
    sa.Column("name_at", UTCDateTime, nullable=True),
    sa.Column("registration_status", sa.String(30), nullable=True),  # registered_school | unregistered
    # registered_school | fe_or_training_provider | unregistered (the registry's setting_kind)
    sa.Column("setting_kind", sa.String(30), nullable=True),
    sa.Column("urn", sa.String(20), nullable=True),
    sa.Column("ofsted_grade", sa.String(50), nullable=True),
    # An unregistered setting's declared roll (the registration rule): full-time pupils of compulsory school age
    # from every commissioner, whether any has an EHCP, is looked after or has SEN, and when it was declared.
    sa.Column("declared_full_time_pupils", sa.Integer, nullable=True),
    sa.Column("declared_any_ehcp", sa.Boolean, nullable=True),
    sa.Column("declared_any_looked_after", sa.Boolean, nullable=True),
    sa.Column("declared_any_sen", sa.Boolean, nullable=True),
    sa.Column("roll_declared_at", UTCDateTime, nullable=True),
    sa.Column("registration_at", UTCDateTime, nullable=True),
    # [{"scheme": "GB-COH", "id": "01234567"}, ...]: org-id.guide identifiers, published with the provider (OCDS)
    sa.Column("identifiers", sa.JSON, nullable=True),
    sa.Column("identifiers_at", UTCDateTime, nullable=True),
)

provider_lots = sa.Table(
    # One provider's standing on one lot.  Awards lock this row (FOR UPDATE) while
    # they count places, so two awards cannot both take a provider's last place.
    # Per DPS: a provider is admitted to a successor DPS separately.
    "provider_lots", metadata,
    sa.Column("dps_id", sa.Uuid, primary_key=True),
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("lot", sa.Integer, primary_key=True),
    sa.Column("membership_status", sa.String(20), nullable=True),  # admitted | suspended | removed
    sa.Column("status_reason", sa.Text, nullable=True),
    sa.Column("status_at", UTCDateTime, nullable=True),
    sa.Column("ends_on", sa.Date, nullable=True),
    sa.Column("capacity", sa.Integer, nullable=False, default=0),
    sa.Column("capacity_at", UTCDateTime, nullable=True),
    sa.Column("pricing_version", sa.Integer, nullable=True),
    sa.Column("pricing_effective_from", sa.Date, nullable=True),
    sa.Column("pricing_at", UTCDateTime, nullable=True),
    sa.Index("ix_provider_lots_lot_status", "lot", "membership_status"),
)

pricing_lines = sa.Table(
    "pricing_lines", metadata,
    sa.Column("dps_id", sa.Uuid, primary_key=True),
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("lot", sa.Integer, primary_key=True),
    sa.Column("pricing_line_id", sa.Uuid, primary_key=True),
    sa.Column("description", sa.String(300), nullable=False),
    sa.Column("unit", sa.String(50), nullable=False),
    sa.Column("staffing_ratio", sa.String(50), nullable=True),
    sa.Column("maximum_price_pence", sa.BigInteger, nullable=False),
)

# --- copies from referrals and tracking

referrals = sa.Table(
    # A referral awards has heard of: closed (with its offers) or cancelled.
    # The details are null when the cancellation arrived before the closing.
    "referrals", metadata,
    sa.Column("referral_id", sa.Uuid, primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),  # closed | cancelled
    sa.Column("dps_id", sa.Uuid, nullable=True),  # null: the first DPS (referrals from before there were two)
    sa.Column("lot", sa.Integer, nullable=True),
    sa.Column("team", sa.String(50), nullable=True),
    sa.Column("child_ref", sa.Uuid, nullable=True),
    sa.Column("reason_for_ap", sa.String(200), nullable=True),
    sa.Column("hours_per_week", sa.Numeric(6, 2), nullable=True),
    sa.Column("full_time", sa.Boolean, nullable=True),
    sa.Column("ehcp", sa.Boolean, nullable=True),
    sa.Column("looked_after", sa.Boolean, nullable=True),
    # of compulsory school age on the start date (null: an older referral, read as yes); special educational needs
    sa.Column("compulsory_school_age", sa.Boolean, nullable=True),
    sa.Column("has_sen", sa.Boolean, nullable=True),
    sa.Column("start_date", sa.Date, nullable=True),
    sa.Column("expected_weeks", sa.Integer, nullable=True),
    # the offer window and its recorded basis: {kind: standard | agreed_minimum | urgency, days, reason}
    sa.Column("window_basis", sa.JSON, nullable=True),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    sa.Column("cancelled_at", UTCDateTime, nullable=True),
    sa.Column("cancel_reason", sa.Text, nullable=True),
    sa.Index("ix_referrals_team_lot", "team", "lot"),
)

offers = sa.Table(
    "offers", metadata,
    sa.Column("offer_id", sa.Uuid, primary_key=True),
    sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.referral_id"), nullable=False, index=True),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("pricing_line_id", sa.Uuid, nullable=False),
    sa.Column("unit_price_pence", sa.BigInteger, nullable=False),
    sa.Column("units_per_week", sa.Numeric(8, 2), nullable=False),
    sa.Column("weeks", sa.Integer, nullable=False),
    sa.Column("total_pence", sa.BigInteger, nullable=False),
    sa.Column("proposed_start", sa.Date, nullable=False),
    sa.Column("staffing_ratio", sa.String(50), nullable=True),
    sa.Column("submitted_at", UTCDateTime, nullable=False),
    sa.Column("meets_needs", sa.Boolean, nullable=True),
    sa.Column("assessment_reason", sa.Text, nullable=True),
)

ended_placements = sa.Table(
    # placement.ended from tracking: a place in use no more.
    "ended_placements", metadata,
    sa.Column("placement_id", sa.Uuid, primary_key=True),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("ended_on", sa.Date, nullable=False),
    sa.Column("end_reason", sa.String(200), nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
)

# --- call-offs

awards = sa.Table(
    "awards", metadata,
    sa.Column("award_id", sa.Uuid, primary_key=True),
    sa.Column("placement_id", sa.Uuid, nullable=False, unique=True),
    # Exactly one award per referral, whatever two officers do at once.
    sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.referral_id"), nullable=False, unique=True),
    sa.Column("offer_id", sa.Uuid, nullable=False),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("pricing_line_id", sa.Uuid, nullable=False),
    sa.Column("unit_price_pence", sa.BigInteger, nullable=False),
    sa.Column("units_per_week", sa.Numeric(8, 2), nullable=False),
    sa.Column("hours_per_week", sa.Numeric(6, 2), nullable=False),
    sa.Column("weeks", sa.Integer, nullable=False),
    sa.Column("total_pence", sa.BigInteger, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("full_time", sa.Boolean, nullable=False),
    sa.Column("override_reason_code", sa.String(50), nullable=True),  # a published award criterion's code
    sa.Column("override_reason", sa.Text, nullable=True),  # the officer's words
    # The standstill by the DPS's regime: its last day (null: none) and its basis in words.
    sa.Column("standstill_ends_on", sa.Date, nullable=True),
    sa.Column("standstill_basis", sa.Text, nullable=True),
    sa.Column("dps_id", sa.Uuid, nullable=True),  # null: the first DPS
    sa.Column("awarded_by", sa.String(200), nullable=False),
    sa.Column("awarded_at", UTCDateTime, nullable=False),
    sa.Column("ranking", sa.JSON, nullable=False),  # the snapshot the award was made from
    sa.Index("ix_awards_provider_lot", "provider_id", "lot"),
    sa.Index("ix_awards_awarded_at", "awarded_at"),
)

# --- mini-competitions and block contracts

opportunities = sa.Table(
    "opportunities", metadata,
    sa.Column("opportunity_id", sa.Uuid, primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("team", sa.String(50), nullable=True),  # the service area that runs it (null: the manager)
    sa.Column("lot", sa.Integer, nullable=False, index=True),
    sa.Column("places", sa.Integer, nullable=False),
    sa.Column("contract_start", sa.Date, nullable=False),
    sa.Column("contract_end", sa.Date, nullable=False),
    sa.Column("opens_at", UTCDateTime, nullable=False),
    sa.Column("deadline", UTCDateTime, nullable=False),
    sa.Column("criteria", sa.JSON, nullable=False),
    sa.Column("scale", sa.JSON, nullable=False),
    sa.Column("split", sa.JSON, nullable=False),
    sa.Column("tie_break", sa.JSON, nullable=False),
    sa.Column("standstill_working_days", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("awarded_by", sa.String(200), nullable=True),
    sa.Column("awarded_at", UTCDateTime, nullable=True),
    sa.Column("standstill_ends_on", sa.Date, nullable=True),
    sa.Column("evaluation", sa.JSON, nullable=True),  # the snapshot the award was made from
    # bids whose provider was not admitted, or was suspended, when the award was made: bid id -> why
    sa.Column("ineligible_at_award", sa.JSON, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),  # optimistic concurrency (orm.py)
)

invitations = sa.Table(
    "invitations", metadata,
    sa.Column("opportunity_id", sa.Uuid, sa.ForeignKey("opportunities.opportunity_id"), primary_key=True),
    sa.Column("provider_id", sa.Uuid, primary_key=True, index=True),
)

bids = sa.Table(
    "bids", metadata,
    sa.Column("bid_id", sa.Uuid, primary_key=True),
    sa.Column("opportunity_id", sa.Uuid, sa.ForeignKey("opportunities.opportunity_id"), nullable=False),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("price_pence", sa.BigInteger, nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("submitted_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("opportunity_id", "provider_id", name="uq_bids_opportunity_provider"),
)

evaluator_scores = sa.Table(
    "evaluator_scores", metadata,
    sa.Column("bid_id", sa.Uuid, sa.ForeignKey("bids.bid_id"), primary_key=True),
    sa.Column("opportunity_id", sa.Uuid, nullable=True, index=True),  # the bid's: the competition loads its scores
    sa.Column("criterion", sa.String(200), primary_key=True),
    sa.Column("evaluator_id", sa.String(200), primary_key=True),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("at", UTCDateTime, nullable=False),
)

interest_declarations = sa.Table(
    # Each evaluator's declaration of interests in one mini-competition, before scoring it.
    "interest_declarations", metadata,
    sa.Column("opportunity_id", sa.Uuid, sa.ForeignKey("opportunities.opportunity_id"), primary_key=True),
    sa.Column("evaluator_id", sa.String(200), primary_key=True),
    sa.Column("conflict", sa.Boolean, nullable=False),
    sa.Column("details", sa.Text, nullable=False, default=""),
    sa.Column("at", UTCDateTime, nullable=False),
)

moderated_scores = sa.Table(
    "moderated_scores", metadata,
    sa.Column("bid_id", sa.Uuid, sa.ForeignKey("bids.bid_id"), primary_key=True),
    sa.Column("opportunity_id", sa.Uuid, nullable=True, index=True),  # the bid's: the competition loads its scores
    sa.Column("criterion", sa.String(200), primary_key=True),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("moderated_by", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

block_contracts = sa.Table(
    "block_contracts", metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("opportunity_id", sa.Uuid, sa.ForeignKey("opportunities.opportunity_id"), nullable=False,
              unique=True),
    sa.Column("provider_id", sa.Uuid, nullable=False, index=True),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("places", sa.Integer, nullable=False),
    sa.Column("price_pence", sa.BigInteger, nullable=False),
    sa.Column("contract_start", sa.Date, nullable=False),
    sa.Column("contract_end", sa.Date, nullable=False),
    sa.Column("confirmed_by", sa.String(200), nullable=False),
    sa.Column("confirmed_at", UTCDateTime, nullable=False),
)

block_allocations = sa.Table(
    "block_allocations", metadata,
    sa.Column("allocation_id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, sa.ForeignKey("block_contracts.contract_id"), nullable=False, index=True),
    sa.Column("placement_id", sa.Uuid, nullable=False, unique=True),
    # A referral takes one place, of one block, or one call-off: never two.
    sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.referral_id"), nullable=False, unique=True),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("hours_per_week", sa.Numeric(6, 2), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("weeks", sa.Integer, nullable=True),
    sa.Column("cost_pence", sa.BigInteger, nullable=False),
    sa.Column("full_time", sa.Boolean, nullable=False),
    sa.Column("allocated_by", sa.String(200), nullable=False),
    sa.Column("allocated_at", UTCDateTime, nullable=False),
    sa.Index("ix_block_allocations_provider_lot", "provider_id", "lot"),
)


# --- off-DPS exceptions (referrals' off_dps_exception.recorded), for the manager's approval

off_dps_placements = sa.Table(
    "off_dps_placements", metadata,
    sa.Column("referral_id", sa.Uuid, primary_key=True),  # one exception per referral
    sa.Column("placement_id", sa.Uuid, nullable=False, unique=True),  # the placement tracking follows, if approved
    sa.Column("version", sa.Integer, nullable=False),  # optimistic lock: one decision
    sa.Column("dps_id", sa.Uuid, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("provider_id", sa.Uuid, nullable=False),  # the off-DPS provider's own id: never a registry one
    sa.Column("provider_name", sa.String(300), nullable=False),
    sa.Column("setting_kind", sa.String(30), nullable=False),
    sa.Column("urn", sa.String(20), nullable=True),
    sa.Column("ukprn", sa.String(20), nullable=True),
    sa.Column("declared_full_time_pupils", sa.Integer, nullable=False),
    sa.Column("hours_per_week", sa.Numeric(6, 2), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("weekly_cost_pence", sa.BigInteger, nullable=False),
    sa.Column("weeks", sa.Integer, nullable=False),
    sa.Column("checks", sa.JSON, nullable=False),  # {name: {"confirmed", "by", "on"}}
    sa.Column("child_ref", sa.Uuid, nullable=True),
    sa.Column("reason_for_ap", sa.String(200), nullable=False),
    sa.Column("ehcp", sa.Boolean, nullable=False),
    sa.Column("looked_after", sa.Boolean, nullable=False),
    sa.Column("full_time", sa.Boolean, nullable=False),
    sa.Column("status", Choice(OffDpsStatus, 20), nullable=False),  # pending | approved | refused
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.Column("refusal_reason", sa.Text, nullable=True),
    sa.Index("ix_off_dps_placements_status_recorded", "status", "recorded_at"),
    sa.Index("ix_off_dps_placements_child_ref", "child_ref"),
)

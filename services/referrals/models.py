"""The referrals service's tables (SQLAlchemy Core), in its own database.

Three groups:
- the registry copy (`providers`, `memberships`, `pricing_schedules`), kept
  from the provider registry's events and only ever read by the rules;
- the referral and what hangs off it; the child's identifying details live
  in `referral_children` (and `children`, which gives each UPN its opaque
  `child_ref`), apart from the pseudonymised profile in `referrals`, so nothing
  that serves providers ever reads them;
- provider webhooks and their `webhook_deliveries`, an outbox of HTTP calls
  that the scheduled job works through.
"""

import enum
import uuid

import sqlalchemy as sa

from services.referrals.domain import ReferralStatus, details_data, details_from_data
from services.referrals.domain.erasure import ErasureStatus
from services.referrals.messages import profile_data, profile_from_json
from shared.db import UTCDateTime, new_metadata

metadata = new_metadata()


# --- the domain's values, as stored ---------------------------------------------

class EnumValue(sa.TypeDecorator):
    """An enum stored as its value (a string); a plain string binds as itself (Core queries)."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum_class: type[enum.Enum], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value, dialect):
        return value.value if isinstance(value, enum.Enum) else value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum_class(value)


class ProfileJSON(sa.TypeDecorator):
    """The pseudonymised profile as JSON (`messages.profile_data` and back)."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value if value is None or isinstance(value, dict) else profile_data(value)

    def process_result_value(self, value, dialect):
        return None if value is None else profile_from_json(value)


class OffDpsDetailsJSON(sa.TypeDecorator):
    """An off-DPS exception's provider, terms and checks as JSON (`domain.details_data` and back)."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value if value is None or isinstance(value, dict) else details_data(value)

    def process_result_value(self, value, dialect):
        return None if value is None else details_from_data(value)


class ByQuestion(sa.TypeDecorator):
    """A mapping keyed by question id (answers, criteria met): JSON has string keys."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else {str(k): v for k, v in value.items()}

    def process_result_value(self, value, dialect):
        return None if value is None else {uuid.UUID(k): v for k, v in value.items()}


# --- the registry copy -----------------------------------------------------

providers = sa.Table(
    "providers", metadata,
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(300), nullable=True),
    sa.Column("registration_status", sa.String(50), nullable=True),  # registered_school | unregistered
    sa.Column("urn", sa.String(50), nullable=True),
    sa.Column("ofsted_grade", sa.String(50), nullable=True),
    # the AP census's facts of the setting (registered_school | fe_or_training_provider | unregistered; a
    # registered school's establishment type; the UKPRN from the identifiers), null until an event says
    sa.Column("setting_kind", sa.String(30), nullable=True),
    sa.Column("establishment_type", sa.String(30), nullable=True),
    sa.Column("ukprn", sa.String(8), nullable=True),
    sa.Column("name_at", UTCDateTime, nullable=True),
    sa.Column("registration_at", UTCDateTime, nullable=True),  # the event time last applied
)

dps_records = sa.Table(
    "dps_records", metadata,  # dps.configured: each DPS record as the registry last described it
    sa.Column("dps_id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("regime", sa.String(40), nullable=False),
    sa.Column("start", sa.Date, nullable=True),
    sa.Column("term_ends_on", sa.Date, nullable=True),
    sa.Column("statutory_end", sa.Date, nullable=True),
    sa.Column("ends_on", sa.Date, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("lots", sa.JSON, nullable=False),
    sa.Column("agreed_minimum_window_days", sa.Integer, nullable=True),
    sa.Column("agreed_in_sla_version", sa.String(100), nullable=True),
    sa.Column("sla_version", sa.String(100), nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),  # the event time last applied: older events lose
)

sla_acceptances = sa.Table(
    "sla_acceptances", metadata,  # provider.sla_accepted: each SLA version a provider accepted, per DPS
    sa.Column("dps_id", sa.Uuid, primary_key=True),
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("sla_version", sa.String(100), primary_key=True),
    sa.Column("accepted_at", UTCDateTime, nullable=False),
)

memberships = sa.Table(
    "memberships", metadata,  # one provider's standing on one lot of one DPS
    sa.Column("dps_id", sa.Uuid, primary_key=True),
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("lot", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),  # admitted | suspended | removed
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("status_at", UTCDateTime, nullable=False),  # the event time last applied: older events lose
    sa.Column("capacity", sa.Integer, nullable=True),
    sa.Column("capacity_at", UTCDateTime, nullable=True),
    sa.Column("ends_on", sa.Date, nullable=True),
    sa.Index("ix_memberships_lot_status", "lot", "status"),
)

pricing_schedules = sa.Table(
    "pricing_schedules", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),  # with admission: its pricing_version if sent, else 0
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("pricing_lines", sa.JSON, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("provider_id", "lot", "version", "effective_from", "at",
                        name="uq_pricing_schedules_version"),
    sa.Index("ix_pricing_schedules_provider_lot", "provider_id", "lot"),
)

# --- referrals -------------------------------------------------------------------

referrals = sa.Table(
    "referrals", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),  # optimistic lock: bumped when the referral's row changes
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("dps_id", sa.Uuid, nullable=False),
    sa.Column("status", EnumValue(ReferralStatus, 30), nullable=False),
    sa.Column("deadline", UTCDateTime, nullable=False),
    sa.Column("exclusion_start", sa.Date, nullable=True),
    sa.Column("full_time_provision_by", sa.Date, nullable=True),  # the sixth school day
    sa.Column("first_school_day", sa.Date, nullable=True),  # school day 1 of that duty
    sa.Column("profile", ProfileJSON, nullable=False),  # the pseudonymised profile only
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("published_by", sa.String(200), nullable=True),
    sa.Column("published_at", UTCDateTime, nullable=True),
    sa.Column("window_closed_at", UTCDateTime, nullable=True),
    sa.Column("closed_by", sa.String(200), nullable=True),
    sa.Column("assessment_completed_at", UTCDateTime, nullable=True),
    sa.Column("awarded_offer_id", sa.Uuid, nullable=True),
    sa.Column("awarded_allocation_id", sa.Uuid, nullable=True),
    sa.Column("awarded_at", UTCDateTime, nullable=True),
    sa.Column("cancel_reason", sa.Text, nullable=True),
    sa.Column("cancelled_by", sa.String(200), nullable=True),
    sa.Column("cancelled_at", UTCDateTime, nullable=True),
    sa.Column("off_dps_reason", sa.Text, nullable=True),
    sa.Column("off_dps_by", sa.String(200), nullable=True),
    sa.Column("off_dps_at", UTCDateTime, nullable=True),
    sa.Column("off_dps_details", OffDpsDetailsJSON, nullable=True),  # provider, terms, minimum checks
    # the urgency of a child without education, in words: a basis for a window shorter than 10 days
    sa.Column("urgency", sa.Text, nullable=True),
    sa.Column("window_basis_kind", sa.String(20), nullable=True),  # standard | agreed_minimum | urgency
    sa.Column("window_basis_days", sa.Integer, nullable=True),
    sa.Column("window_basis_reason", sa.Text, nullable=True),
    sa.Column("republished_from", sa.Uuid, nullable=True),
    sa.Column("no_eligible_offers_at", UTCDateTime, nullable=True),  # awards found none of the offers eligible
    sa.Index("ix_referrals_status_deadline", "status", "deadline"),
    sa.Index("ix_referrals_team_status", "team", "status"),
    sa.Index("ix_referrals_lot", "lot"),
    sa.Index("ix_referrals_off_dps_at", "off_dps_at"),
)

children = sa.Table(
    "children", metadata,
    sa.Column("child_ref", sa.Uuid, primary_key=True),
    sa.Column("upn", sa.String(13), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

referral_children = sa.Table(
    "referral_children", metadata,
    sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("child_ref", sa.Uuid, sa.ForeignKey("children.child_ref"), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("date_of_birth", sa.Date, nullable=False),
    sa.Column("upn", sa.String(13), nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    # what the AP census asks beyond the above (council only; null until recorded): DfE's codes
    sa.Column("surname", sa.String(35), nullable=True),
    sa.Column("forename", sa.String(35), nullable=True),
    sa.Column("sex", sa.String(1), nullable=True),
    sa.Column("ethnicity", sa.String(4), nullable=True),
    sa.Column("sen_provision", sa.String(1), nullable=True),
    sa.Column("fsm_eligible", sa.Boolean, nullable=True),
    sa.Index("ix_referral_children_child_ref", "child_ref"),
    sa.Index("ix_referral_children_upn", "upn"),
)

referral_questions = sa.Table(
    "referral_questions", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Index("ix_referral_questions_referral", "referral_id"),
)

invitations = sa.Table(
    "invitations", metadata,
    sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("invited_at", UTCDateTime, nullable=False),
    sa.Index("ix_invitations_provider", "provider_id"),
)

offers = sa.Table(
    "offers", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("pricing_line_id", sa.Uuid, nullable=False),
    sa.Column("unit_price_pence", sa.BigInteger, nullable=False),
    sa.Column("units_per_week", sa.Numeric(8, 2), nullable=False),
    sa.Column("weeks", sa.Integer, nullable=False),
    sa.Column("total_pence", sa.BigInteger, nullable=False),
    sa.Column("maximum_price_pence", sa.BigInteger, nullable=False),
    sa.Column("proposed_start", sa.Date, nullable=False),
    sa.Column("staffing_ratio", sa.String(20), nullable=False),
    sa.Column("delivery_site", sa.Text, nullable=False),
    sa.Column("delivery_postcode", sa.String(10), nullable=False),
    sa.Column("how_it_meets_needs", sa.Text, nullable=False),
    sa.Column("place_available", sa.Boolean, nullable=False),
    sa.Column("answers", ByQuestion, nullable=False),  # question id -> answer
    sa.Column("submitted_at", UTCDateTime, nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=True),
    sa.Column("withdrawn_at", UTCDateTime, nullable=True),
    # A provider system's retried POST carries the same key: it gets the same offer.
    sa.Column("idempotency_key", sa.String(200), nullable=True),
    sa.Column("request_fingerprint", sa.String(64), nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),  # optimistic lock of this offer alone
    sa.UniqueConstraint("provider_id", "idempotency_key", name="uq_offers_provider_idempotency_key"),
    sa.Index("ix_offers_referral", "referral_id"),
    sa.Index("ix_offers_provider", "provider_id"),
    # One live offer per provider per referral, even under concurrent requests.
    sa.Index("ux_offers_live", "referral_id", "provider_id", unique=True,
             postgresql_where=sa.text("withdrawn_at IS NULL"), sqlite_where=sa.text("withdrawn_at IS NULL")),
)

declines = sa.Table(
    "declines", metadata,
    sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

assessments = sa.Table(
    "assessments", metadata,
    sa.Column("offer_id", sa.Uuid, sa.ForeignKey("offers.id"), primary_key=True),
    sa.Column("referral_id", sa.Uuid, sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("meets_needs", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("criteria_met", ByQuestion, nullable=False),  # question id -> bool
    sa.Column("by", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_assessments_referral", "referral_id"),
)

# --- provider webhooks -----------------------------------------------------------

webhooks = sa.Table(
    "webhooks", metadata,
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("registered_by", sa.String(200), nullable=False),
    sa.Column("registered_at", UTCDateTime, nullable=False),
    sa.Column("secret_issued_at", UTCDateTime, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("provider_id", sa.Uuid, nullable=False),
    sa.Column("referral_id", sa.Uuid, nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # exactly the bytes signed and sent
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),  # null once delivered or given up
    sa.Column("last_attempt_at", UTCDateTime, nullable=True),
    sa.Column("last_url", sa.String(2000), nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    sa.Column("gave_up_at", UTCDateTime, nullable=True),
    sa.Index("ix_webhook_deliveries_due", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_provider", "provider_id", "created_at"),
)

# --- rectification and erasure (services/referrals/erasure.py) ----------------------------------

erasure_requests = sa.Table(
    # A request to erase a child's data and the manager's decision: by the opaque child_ref, never the identity.
    "erasure_requests", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("child_ref", sa.Uuid, nullable=False),
    sa.Column("grounds", sa.Text, nullable=False),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("status", EnumValue(ErasureStatus, 20), nullable=False),  # pending | granted | refused
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.Column("decision_reason", sa.Text, nullable=True),
    sa.Column("removed", sa.JSON, nullable=True),  # counts by kind of record, once carried out
    sa.Index("ix_erasure_requests_child_ref", "child_ref"),
)

child_placements = sa.Table(
    # Placements of referred children, as tracking's events tell them: the holds on erasure, the AP census.
    "child_placements", metadata,
    sa.Column("placement_id", sa.Uuid, primary_key=True),
    sa.Column("referral_id", sa.Uuid, nullable=False),
    sa.Column("started_on", sa.Date, nullable=True),
    sa.Column("ended_on", sa.Date, nullable=True),
    # the AP census's facts of the placement (placement.started): where, and how many hours a week
    sa.Column("provider_id", sa.Uuid, nullable=True),
    sa.Column("hours_per_week", sa.Numeric(5, 2), nullable=True),
    sa.Column("full_time", sa.Boolean, nullable=True),  # as referrals decided it and placement.started carries it
    sa.Index("ix_child_placements_referral", "referral_id"),
)

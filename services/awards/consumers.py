"""Events this service reads from others, turned into its own commands.

Each schema holds only the fields awards reads (docs/events.md); anything
else in the event is ignored.  Data that fails its schema raises
ValidationError and is dead-lettered.  Every effect is an upsert guarded by the
event's `at`, so a repeated or late event never undoes a newer one.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from services.awards import erasure, handlers
from services.awards.domain import Regime, SettingKind
from shared.catalogue import FIRST_DPS_ID
from shared.events import Envelope
from shared.messaging.consumer import Handler, reading

LOT = validate.Range(min=1, max=4)
PENCE = validate.Range(min=0, max=10**12)
HOURS = validate.Range(min=0, max=168)  # in a week
REGISTRATION = validate.OneOf(["registered_school", "unregistered"])
SETTING_KIND = validate.OneOf([k.value for k in SettingKind])


class _Read(Schema):
    class Meta:
        unknown = EXCLUDE


class Text(fields.Raw):
    """A short code the registry may send as a number or a string (URN, Ofsted grade)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return None
        if len(str(value)) > 20:
            raise ValidationError("longer than 20 characters")
        return str(value)


# --- provider_registry


class OrganisationIdentifier(_Read):
    """An org-id.guide identifier: GB-COH (Companies House), GB-CHC (Charity Commission), GB-URN (DfE URN),
    GB-UKPRN (UKPRN); the registry checks the numbers, awards publishes them."""

    scheme = fields.String(required=True, validate=validate.Length(min=1, max=20))
    id = fields.String(required=True, validate=validate.Length(min=1, max=50))


class PricingLine(_Read):
    pricing_line_id = fields.UUID(required=True)
    description = fields.String(required=True, validate=validate.Length(max=300))
    unit = fields.String(required=True, validate=validate.Length(max=50))
    staffing_ratio = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    maximum_price_pence = fields.Integer(required=True, strict=True, validate=PENCE)


class DeclaredRoll(_Read):
    """An unregistered setting's declared roll (the registration rule)."""

    full_time_pupils = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100_000))
    any_ehcp = fields.Boolean(required=True)
    any_looked_after = fields.Boolean(required=True)
    any_sen = fields.Boolean(required=True)
    declared_at = fields.AwareDateTime(required=True)


class _Setting(_Read):
    """The kind of setting (an older event has only the registration status) and its declared roll."""

    registration_status = fields.String(required=True, validate=REGISTRATION)
    setting_kind = fields.String(load_default=None, allow_none=True, validate=SETTING_KIND)
    declared_roll = fields.Nested(DeclaredRoll, load_default=None, allow_none=True)


class _ProviderOnLot(_Read):
    dps_id = fields.UUID(load_default=FIRST_DPS_ID)  # missing: an event from before there were two DPS records
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True, validate=validate.Length(max=300))
    lot = fields.Integer(required=True, strict=True, validate=LOT)
    at = fields.AwareDateTime(required=True)


class MembershipAdmitted(_ProviderOnLot, _Setting):
    urn = Text(load_default=None, allow_none=True)
    pricing_lines = fields.List(fields.Nested(PricingLine), required=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100_000))
    ends_on = fields.Date(load_default=None, allow_none=True)
    identifiers = fields.List(fields.Nested(OrganisationIdentifier), load_default=None, allow_none=True)


class MembershipChanged(_ProviderOnLot):
    status = fields.String(required=True, validate=validate.OneOf(["admitted", "suspended", "removed"]))
    reason = fields.String(load_default=None, allow_none=True)


class PricingScheduleEffective(_ProviderOnLot):
    version = fields.Integer(load_default=None, allow_none=True)
    effective_from = fields.Date(load_default=None, allow_none=True)
    pricing_lines = fields.List(fields.Nested(PricingLine), required=True)


class CapacityChanged(_ProviderOnLot):
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100_000))


class RegistrationChanged(_Setting):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True, validate=validate.Length(max=300))
    urn = Text(load_default=None, allow_none=True)
    ofsted_grade = Text(load_default=None, allow_none=True)
    identifiers = fields.List(fields.Nested(OrganisationIdentifier), load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


class AwardCriterion(_Read):
    code = fields.String(required=True, validate=validate.Length(min=1, max=50))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class DpsConfigured(_Read):
    dps_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(max=300))
    regime = fields.String(required=True, validate=validate.OneOf([r.value for r in Regime]))
    start = fields.Date(required=True)
    term_ends_on = fields.Date(required=True)
    statutory_end = fields.Date(load_default=None, allow_none=True)
    ends_on = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["open", "closed"]))
    lots = fields.List(fields.Integer(strict=True, validate=LOT), required=True)
    award_criteria = fields.List(fields.Nested(AwardCriterion), required=True)
    agreed_minimum_window_days = fields.Integer(load_default=None, allow_none=True,
                                                validate=validate.Range(min=0, max=366))
    agreed_in_sla_version = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    sla_version = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    at = fields.AwareDateTime(required=True)  # the envelope's occurred_at when the data has none


def _stamped(handler: Handler) -> Handler:
    """An event whose data carries no `at`: the envelope's time orders it (newest wins)."""

    def handle(uow, envelope: Envelope) -> None:
        if "at" not in envelope.data:
            envelope = replace(envelope, data={**envelope.data, "at": envelope.occurred_at.isoformat()})
        handler(uow, envelope)

    handle.__name__ = handler.__name__
    return handle


# --- referrals


class ClosedOffer(_Read):
    offer_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    pricing_line_id = fields.UUID(required=True)
    unit_price_pence = fields.Integer(required=True, strict=True, validate=PENCE)
    units_per_week = fields.Decimal(required=True, validate=HOURS)
    weeks = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=520))
    total_pence = fields.Integer(required=True, strict=True, validate=PENCE)
    proposed_start = fields.Date(required=True)
    staffing_ratio = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    submitted_at = fields.AwareDateTime(required=True)
    meets_needs = fields.Boolean(required=True, allow_none=True)
    assessment_reason = fields.String(load_default=None, allow_none=True)


class WindowBasis(_Read):
    kind = fields.String(required=True, validate=validate.OneOf(("standard", "agreed_minimum", "urgency")))
    days = fields.Integer(required=True, validate=validate.Range(min=0, max=3650))
    reason = fields.String(load_default="", allow_none=True, validate=validate.Length(max=10_000))


class ReferralClosed(_Read):
    referral_id = fields.UUID(required=True)
    dps_id = fields.UUID(load_default=FIRST_DPS_ID)
    lot = fields.Integer(required=True, strict=True, validate=LOT)
    team = fields.String(required=True, validate=validate.Length(min=1, max=50))
    child_ref = fields.UUID(required=True)
    reason_for_ap = fields.String(required=True, validate=validate.Length(max=200))
    hours_per_week = fields.Decimal(required=True, validate=HOURS)
    # Full-time is decided by referrals, where the facts are; awards trusts it.
    full_time = fields.Boolean(load_default=None, allow_none=True)
    ehcp = fields.Boolean(required=True)
    looked_after = fields.Boolean(required=True)
    # The registration rule's facts, decided by referrals from the child's date of birth (never sent): missing
    # in an older event, read as of compulsory school age (the rule applies) and no SEN known.
    compulsory_school_age = fields.Boolean(load_default=None, allow_none=True)
    has_sen = fields.Boolean(load_default=None, allow_none=True)
    start_date = fields.Date(required=True)
    expected_weeks = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=520))
    window_basis = fields.Nested(WindowBasis, load_default=None, allow_none=True)
    offers = fields.List(fields.Nested(ClosedOffer), required=True)
    at = fields.AwareDateTime(required=True)

    @post_load
    def _full_time(self, data, **kwargs):
        if data["full_time"] is None:
            # TRANSITION: a referral.closed from a referrals service that does not yet
            # carry `full_time`: its rule of today (lot 1, or more than 18 hours a week),
            # here and nowhere else.  Remove once every producer sends it.
            data["full_time"] = data["lot"] == 1 or data["hours_per_week"] > Decimal(18)
        return data


class ReferralCancelled(_Read):
    referral_id = fields.UUID(required=True)
    reason = fields.String(load_default="", allow_none=True)
    at = fields.AwareDateTime(required=True)


class OffDpsProvider(_Read):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    setting_kind = fields.String(required=True, validate=validate.OneOf(
        ["registered_school", "fe_or_training_provider", "unregistered"]))
    urn = Text(load_default=None, allow_none=True)
    ukprn = Text(load_default=None, allow_none=True)
    full_time_pupils = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100_000))


class OffDpsTerms(_Read):
    hours_per_week = fields.Decimal(required=True, validate=HOURS)
    start_date = fields.Date(required=True)
    weekly_cost_pence = fields.Integer(required=True, strict=True, validate=PENCE)
    weeks = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=520))


class OffDpsCheck(_Read):
    confirmed = fields.Boolean(required=True)
    by = fields.String(required=True, validate=validate.Length(min=1, max=200))
    on = fields.Date(required=True)


class OffDpsExceptionRecorded(_Read):
    """The exception and what the placement needs; `provider`, `terms` and `checks` are missing from an
    exception recorded before they were asked (awards keeps nothing of it)."""

    referral_id = fields.UUID(required=True)
    dps_id = fields.UUID(load_default=FIRST_DPS_ID, allow_none=True)
    lot = fields.Integer(required=True, strict=True, validate=LOT)
    team = fields.String(required=True, validate=validate.Length(min=1, max=50))
    reason = fields.String(required=True, validate=validate.Length(max=10_000))
    recorded_by = fields.String(required=True, validate=validate.Length(max=200))
    child_ref = fields.UUID(load_default=None, allow_none=True)
    reason_for_ap = fields.String(load_default="", allow_none=True, validate=validate.Length(max=200))
    ehcp = fields.Boolean(load_default=False, allow_none=True)
    looked_after = fields.Boolean(load_default=False, allow_none=True)
    full_time = fields.Boolean(load_default=False, allow_none=True)
    provider = fields.Nested(OffDpsProvider, load_default=None, allow_none=True)
    terms = fields.Nested(OffDpsTerms, load_default=None, allow_none=True)
    checks = fields.Dict(keys=fields.String(validate=validate.OneOf(["registration_status", "dbs", "insurance"])),
                         values=fields.Nested(OffDpsCheck), load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


# --- tracking


class PlacementEnded(_Read):
    placement_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True, strict=True, validate=LOT)
    ended_on = fields.Date(required=True)
    end_reason = fields.String(load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


def event_handlers() -> dict[str, Handler]:
    membership = reading(MembershipChanged(), handlers.membership_changed)
    return {
        "dps.configured": _stamped(reading(DpsConfigured(), handlers.dps_configured)),
        "membership.admitted": reading(MembershipAdmitted(), handlers.membership_admitted),
        "membership.suspended": membership,
        "membership.reinstated": membership,
        "membership.removed": membership,
        "pricing_schedule.effective": reading(PricingScheduleEffective(), handlers.pricing_schedule_effective),
        "capacity.changed": reading(CapacityChanged(), handlers.capacity_changed),
        "provider.registration_changed": reading(RegistrationChanged(), handlers.registration_changed),
        "referral.closed": reading(ReferralClosed(), handlers.referral_closed),
        "referral.cancelled": reading(ReferralCancelled(), handlers.referral_cancelled),
        "off_dps_exception.recorded": reading(OffDpsExceptionRecorded(), handlers.off_dps_exception_recorded),
        "placement.ended": reading(PlacementEnded(), handlers.placement_ended),
        "child.corrected": reading(erasure.ChildCorrected(), erasure.child_corrected),
        "child.erased": reading(erasure.ChildErased(), erasure.child_erased),
    }

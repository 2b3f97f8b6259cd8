"""What referrals publishes on `dps.referrals`: the schema of each event's
`data` (docs/events.md is the contract), and `translate`, the service's one
mapping from a domain event to what it publishes (outbox `Message`s) and what
it writes in the audit trail (`AuditEntry`s).  The unit of work applies it to
every event of every referral it saw when it commits.

Nothing here can carry a child's identifying details: every schema is built
from the pseudonymised profile; `child_ref` (an opaque UUID) is the only link to
the child: `referral.closed`, `child.corrected` and `child.erased` carry it
(and awards passes it on with `placement.awarded` and `block_place.allocated`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from marshmallow import Schema, fields

from services.referrals import domain
from services.referrals.domain.erasure import ChildErased, ErasureDecided, ErasureRequested
from services.referrals.domain.events import (
    NoEligibleOffersReported,
    OfferAssessed,
    PlacedInBlock,
    QuestionAdded,
    QuestionRemoved,
    ReferralAwarded,
    ReferralCreated,
    ReferralRevised,
    WindowClosed,
    WindowExtended,
)
from services.referrals.domain.rectification import ChildCorrected
from shared.actor import Actor
from shared.schemas import Number, cached
from shared.unit_of_work import AuditEntry, Message

DEADLINE = Actor.system("deadline")  # the window closing by itself
AWARDS = Actor.system("awards")  # what the awards service told us


def utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


# --- the pseudonymised profile, as events and providers see it ----------------------

class ProfileData(Schema):
    age = fields.Integer()
    year_group = fields.Integer(allow_none=True)
    primary_need = fields.String()
    ehcp = fields.Boolean()
    looked_after = fields.Boolean()
    reason = fields.String()
    needs_and_risks = fields.String()
    aims = fields.String()
    success_measures = fields.Dict(keys=fields.String(), values=fields.String())
    curriculum = fields.String()
    qualification_route = fields.String()
    hours_per_week = Number()
    pattern = fields.String()
    start_date = fields.Date()
    expected_weeks = fields.Integer()
    postcode_district = fields.String()
    transport_needed = fields.Boolean()
    has_sen = fields.Boolean()


def profile_data(profile: domain.Profile) -> dict:
    """The profile as plain JSON-ready data (the one place it is flattened)."""
    return cached(ProfileData).dump({
        **{name: getattr(profile, name) for name in cached(ProfileData).fields},
        "reason": profile.reason.value,
        "success_measures": {m.value: text for m, text in profile.success_measures.items()},
    })


def profile_from_json(data: dict) -> domain.Profile:
    return domain.Profile(
        age=data["age"], year_group=data.get("year_group"), primary_need=data["primary_need"], ehcp=data["ehcp"],
        looked_after=data["looked_after"], reason=data["reason"], needs_and_risks=data["needs_and_risks"],
        aims=data["aims"], success_measures=dict(data["success_measures"]), curriculum=data["curriculum"],
        qualification_route=data["qualification_route"], hours_per_week=Decimal(str(data["hours_per_week"])),
        pattern=data["pattern"], start_date=date.fromisoformat(data["start_date"]),
        expected_weeks=data["expected_weeks"], postcode_district=data["postcode_district"],
        transport_needed=data["transport_needed"], has_sen=data.get("has_sen", False))


class QuestionData(Schema):
    question_id = fields.UUID()
    text = fields.String()


def questions_data(shared: domain.ProfileForProviders) -> list[dict]:
    return cached(QuestionData, many=True).dump([{"question_id": q.id, "text": q.text} for q in shared.questions])


# --- events ------------------------------------------------------------------------

class WindowBasisData(Schema):
    """The offer window and its recorded basis: standard (10 days or more), agreed_minimum or urgency."""

    kind = fields.String()
    days = fields.Integer()
    reason = fields.String()


def window_basis_data(basis: domain.WindowBasis | None) -> dict | None:
    return None if basis is None else cached(WindowBasisData).dump(basis)


class ReferralPublishedData(Schema):
    referral_id = fields.UUID()
    dps_id = fields.UUID()
    lot = fields.Integer()
    team = fields.String()
    deadline = fields.AwareDateTime()
    invited_provider_ids = fields.List(fields.UUID())
    no_eligible_providers = fields.Boolean()
    full_time_provision_by = fields.Date(allow_none=True)
    first_day_aim = fields.Date(allow_none=True)
    compulsory_school_age = fields.Boolean()  # on the start date (the registration rule); never the date of birth
    hours_per_week = Number()
    expected_weeks = fields.Integer()
    window_basis = fields.Raw(metadata={"dumped_by": WindowBasisData})
    republished_from = fields.UUID(allow_none=True)
    published_by = fields.String()  # the officer who published it (their token's sub): who hears of its offers
    questions = fields.Raw(metadata={"dumped_by": QuestionData(many=True)})
    profile = fields.Raw(metadata={"dumped_by": ProfileData})
    at = fields.AwareDateTime()


class WindowExtendedData(Schema):
    """What each invited provider's system is told when an officer extends the window (by webhook)."""

    referral_id = fields.UUID()
    dps_id = fields.UUID()
    lot = fields.Integer()
    previous_deadline = fields.AwareDateTime()
    deadline = fields.AwareDateTime()
    window_basis = fields.Raw(metadata={"dumped_by": WindowBasisData})
    at = fields.AwareDateTime()


def window_extended_data(event: WindowExtended) -> dict:
    return cached(WindowExtendedData).dump({
        "referral_id": event.referral_id, "dps_id": event.dps_id, "lot": event.lot,
        "previous_deadline": utc(event.previous_deadline), "deadline": utc(event.deadline),
        "window_basis": window_basis_data(event.window_basis), "at": utc(event.at)})


class OfferData(Schema):
    """offer.submitted and offer.changed: no terms, no price (offers are sealed)."""

    referral_id = fields.UUID()
    offer_id = fields.UUID()
    provider_id = fields.UUID()
    lot = fields.Integer()
    at = fields.AwareDateTime()


class OfferWithdrawnData(OfferData):
    pass


class OfferDeclinedData(Schema):
    referral_id = fields.UUID()
    provider_id = fields.UUID()
    lot = fields.Integer()
    reason = fields.String()
    at = fields.AwareDateTime()


class ClosedOfferData(Schema):
    offer_id = fields.UUID()
    provider_id = fields.UUID()
    pricing_line_id = fields.UUID()
    unit_price_pence = fields.Integer()
    maximum_price_pence = fields.Integer()
    units_per_week = Number()
    weeks = fields.Integer()
    total_pence = fields.Integer()
    proposed_start = fields.Date()
    staffing_ratio = fields.String()
    submitted_at = fields.AwareDateTime()
    changed_at = fields.AwareDateTime(allow_none=True)
    meets_needs = fields.Boolean()
    assessment_reason = fields.String()


class DeclineData(Schema):
    provider_id = fields.UUID()
    reason = fields.String()


class ReferralClosedData(Schema):
    referral_id = fields.UUID()
    dps_id = fields.UUID()
    lot = fields.Integer()
    team = fields.String()
    child_ref = fields.UUID()
    reason_for_ap = fields.String()
    hours_per_week = Number()
    full_time = fields.Boolean()
    ehcp = fields.Boolean()
    looked_after = fields.Boolean()
    compulsory_school_age = fields.Boolean()  # on the start date (the registration rule); never the date of birth
    has_sen = fields.Boolean()
    start_date = fields.Date()
    expected_weeks = fields.Integer()
    full_time_provision_by = fields.Date(allow_none=True)  # the sixth school day (null: no such duty)
    first_school_day = fields.Date(allow_none=True)  # school day 1 of it: a looked-after child's aim
    no_suitable_offer = fields.Boolean()
    invited_provider_ids = fields.List(fields.UUID())
    window_basis = fields.Raw(allow_none=True, metadata={"dumped_by": WindowBasisData})
    window_closed_at = fields.AwareDateTime()
    offers = fields.List(fields.Nested(ClosedOfferData))
    declines = fields.List(fields.Nested(DeclineData))
    at = fields.AwareDateTime()


class ReferralCancelledData(Schema):
    referral_id = fields.UUID()
    dps_id = fields.UUID()
    lot = fields.Integer()
    invited_provider_ids = fields.List(fields.UUID())
    reason = fields.String()
    republished_as = fields.UUID(allow_none=True)
    at = fields.AwareDateTime()


class OffDpsProviderData(Schema):
    name = fields.String()
    setting_kind = fields.String()
    urn = fields.String(allow_none=True)
    ukprn = fields.String(allow_none=True)
    full_time_pupils = fields.Integer()


class OffDpsTermsData(Schema):
    hours_per_week = Number()
    start_date = fields.Date()
    weekly_cost_pence = fields.Integer()
    weeks = fields.Integer()


class CheckData(Schema):
    confirmed = fields.Boolean()
    by = fields.String()
    on = fields.Date()


class OffDpsChecksData(Schema):
    registration_status = fields.Nested(CheckData)
    dbs = fields.Nested(CheckData)
    insurance = fields.Nested(CheckData)


class OffDpsExceptionData(Schema):
    """The exception with what awards needs to approve it (the provider, the terms, the checks) and what the
    placement carries of the child (opaquely: child_ref and the profile's facts, never an identity)."""

    referral_id = fields.UUID()
    dps_id = fields.UUID(allow_none=True)
    lot = fields.Integer()
    team = fields.String()
    reason = fields.String()
    recorded_by = fields.String()
    child_ref = fields.UUID(allow_none=True)
    reason_for_ap = fields.String(allow_none=True)
    ehcp = fields.Boolean(allow_none=True)
    looked_after = fields.Boolean(allow_none=True)
    full_time = fields.Boolean(allow_none=True)  # at the placement's hours (referrals' rule, is_full_time)
    provider = fields.Nested(OffDpsProviderData, allow_none=True)
    terms = fields.Nested(OffDpsTermsData, allow_none=True)
    checks = fields.Nested(OffDpsChecksData, allow_none=True)
    at = fields.AwareDateTime()


NAMES_THE_CHILD = (domain.ReferralClosed, domain.OffDpsExceptionRecorded)
"""The events whose message carries the child's opaque child_ref (the unit of work looks it up)."""


def _off_dps_exception(event: domain.OffDpsExceptionRecorded, child_ref: UUID | None) -> dict:
    data = {"referral_id": event.referral_id, "dps_id": event.dps_id, "lot": event.lot, "team": event.team,
            "reason": event.reason, "recorded_by": str(event.by), "child_ref": child_ref, "at": utc(event.at)}
    if event.details is not None and event.profile is not None:
        profile = event.profile.profile
        data.update(domain.details_fields(event.details), reason_for_ap=profile.reason.value, ehcp=profile.ehcp,
                    looked_after=profile.looked_after,
                    full_time=domain.is_full_time(event.lot, event.details.terms.hours_per_week))
    return data


class ChildCorrectedData(Schema):
    """A correction of a child's profile facts that awards and tracking copy: only those changed are sent."""

    child_ref = fields.UUID(required=True)
    ehcp = fields.Boolean()
    looked_after = fields.Boolean()
    at = fields.AwareDateTime(required=True)


class ChildErasedData(Schema):
    """A child's data was erased (the manager granted the request): delete what you hold of this child_ref."""

    child_ref = fields.UUID(required=True)
    at = fields.AwareDateTime(required=True)


# What dps.referrals carries: event type -> the schema its data is dumped with (`message_for` uses
# nothing else; the AsyncAPI document is generated from it).
DATA_SCHEMAS: dict[str, type[Schema]] = {
    "referral.published": ReferralPublishedData,
    "offer.submitted": OfferData,
    "offer.changed": OfferData,
    "offer.withdrawn": OfferWithdrawnData,
    "offer.declined": OfferDeclinedData,
    "referral.closed": ReferralClosedData,
    "referral.cancelled": ReferralCancelledData,
    "referral.window_extended": WindowExtendedData,
    "off_dps_exception.recorded": OffDpsExceptionData,
    "child.corrected": ChildCorrectedData,
    "child.erased": ChildErasedData,
}


def _dump(type_: str, values: dict) -> tuple[str, dict]:
    return type_, cached(DATA_SCHEMAS[type_]).dump(values)


def _closed_offer(offer: domain.AssessedOffer) -> dict:
    terms = offer.terms
    return {"offer_id": offer.offer_id, "provider_id": offer.provider_id, "pricing_line_id": terms.pricing_line_id,
            "unit_price_pence": terms.unit_price_pence, "maximum_price_pence": offer.maximum_price_pence,
            "units_per_week": terms.units_per_week, "weeks": terms.weeks, "total_pence": offer.total_pence,
            "proposed_start": terms.proposed_start, "staffing_ratio": terms.staffing_ratio,
            "submitted_at": utc(offer.submitted_at), "changed_at": utc(offer.changed_at),
            "meets_needs": offer.assessment.meets_needs, "assessment_reason": offer.assessment.reason}


def translate(event: domain.Event, *, child_ref: UUID | None = None) -> Iterator[Message | AuditEntry]:
    """What one domain event becomes: the message published (if any) and the audit entry.
    `child_ref` is needed for `NAMES_THE_CHILD` only (the events that name the child, opaquely)."""
    message = message_for(event, child_ref=child_ref)
    if message is not None:
        yield Message(*message)
    entry = audit_entry(event)
    if entry is not None:
        yield entry


def audit_entry(event: domain.Event) -> AuditEntry | None:
    """The line of the audit trail an event writes (the actor is the unit of work's unless named)."""
    match event:
        case ReferralCreated():
            return AuditEntry("referral.created", "referral", event.referral_id,
                              details={"lot": event.lot, "team": event.team})
        case ReferralRevised():
            return AuditEntry("referral.revised", "referral", event.referral_id,
                              details={"changed": list(event.changed)})
        case QuestionAdded():
            return AuditEntry("referral.question_added", "referral", event.referral_id,
                              details={"question_id": str(event.question_id)})
        case QuestionRemoved():
            return AuditEntry("referral.question_removed", "referral", event.referral_id,
                              details={"question_id": str(event.question_id)})
        case domain.ReferralPublished():
            return AuditEntry("referral.published", "referral", event.referral_id, details={
                "invited_provider_ids": [str(p) for p in event.invited], "lot": event.lot,
                "dps_id": str(event.dps_id), "window_basis": window_basis_data(event.window_basis),
                "republished_from": str(event.republished_from) if event.republished_from else None})
        case WindowExtended():
            return AuditEntry("referral.window_extended", "referral", event.referral_id, details={
                "previous_deadline": utc(event.previous_deadline).isoformat(),
                "deadline": utc(event.deadline).isoformat(), "window_basis": window_basis_data(event.window_basis),
                "told_provider_ids": [str(p) for p in event.invited]})
        case NoEligibleOffersReported():
            return AuditEntry("referral.no_eligible_offers", "referral", event.referral_id,
                              details={"reasons": list(event.reasons)}, actor=AWARDS)
        case domain.ReferralCancelled():
            return AuditEntry("referral.cancelled", "referral", event.referral_id, reason=event.reason)
        case WindowClosed(by=None):
            return AuditEntry("referral.window_closed", "referral", event.referral_id,
                              reason="the deadline for offers passed",
                              details={"deadline": event.deadline.isoformat()}, actor=DEADLINE)
        case WindowClosed():
            return AuditEntry("referral.closed_early", "referral", event.referral_id,
                              reason="every invited provider has answered")
        case domain.OfferSubmitted():
            return AuditEntry("offer.submitted", "offer", event.offer_id, details={
                "referral_id": str(event.referral_id), "provider_id": str(event.provider_id),
                "unit_price_pence": event.unit_price_pence, "total_pence": event.total_pence})
        case domain.OfferChanged():
            return AuditEntry("offer.changed", "offer", event.offer_id, details={
                "referral_id": str(event.referral_id), "unit_price_pence": event.unit_price_pence,
                "total_pence": event.total_pence})
        case domain.OfferWithdrawn():
            return AuditEntry("offer.withdrawn", "offer", event.offer_id,
                              details={"referral_id": str(event.referral_id)})
        case domain.OfferDeclined():
            return AuditEntry("referral.declined", "referral", event.referral_id, reason=event.reason,
                              details={"provider_id": str(event.provider_id)})
        case OfferAssessed():
            a = event.assessment
            return AuditEntry("offer.assessed", "offer", a.offer_id, reason=a.reason, details={
                "referral_id": str(event.referral_id), "meets_needs": a.meets_needs,
                "criteria_met": {str(k): v for k, v in a.criteria_met.items()}})
        case domain.ReferralClosed():
            return AuditEntry("referral.assessment_completed", "referral", event.referral_id,
                              details={"no_suitable_offer": event.no_suitable_offer})
        case domain.OffDpsExceptionRecorded():
            return AuditEntry("referral.off_dps_exception", "referral", event.referral_id, reason=event.reason)
        case ReferralAwarded():
            return AuditEntry("referral.awarded", "referral", event.referral_id, details={
                "offer_id": str(event.offer_id), "award_id": str(event.award_id) if event.award_id else None},
                actor=AWARDS)
        case PlacedInBlock():
            return AuditEntry("referral.placed_in_block", "referral", event.referral_id,
                              details={"allocation_id": str(event.allocation_id)}, actor=AWARDS)
        # a child's data: the fields' names and counts, never the values
        case ChildCorrected():
            return AuditEntry("child.corrected", "child", event.child_ref, details={
                "changed": list(event.changed), "referral_ids": [str(i) for i in event.referral_ids]})
        case ErasureRequested():
            return AuditEntry("erasure.requested", "child", event.child_ref,
                              details={"request_id": str(event.request_id)})
        case ErasureDecided():
            return AuditEntry("erasure.granted" if event.granted else "erasure.refused", "child", event.child_ref,
                              reason=event.reason, details={"request_id": str(event.request_id),
                                                            "holds": list(event.holds)})
        case ChildErased():
            return AuditEntry("child.erased", "child", event.child_ref,
                              details={"request_id": str(event.request_id), "removed": event.removed})
    return None


def message_for(event: domain.Event, *, child_ref: UUID | None = None) -> tuple[str, dict] | None:
    """The (type, data) of the outbox message for one domain event; None for one published to nobody."""
    match event:
        case domain.ReferralPublished():
            shared = event.profile
            return _dump("referral.published", {
                "referral_id": event.referral_id, "dps_id": event.dps_id, "lot": event.lot, "team": shared.team,
                "deadline": utc(shared.deadline), "invited_provider_ids": list(event.invited),
                "no_eligible_providers": event.no_eligible_providers,
                "full_time_provision_by": shared.full_time_provision_by, "first_day_aim": shared.first_day_aim,
                "compulsory_school_age": shared.compulsory_school_age,
                "hours_per_week": shared.profile.hours_per_week, "expected_weeks": shared.profile.expected_weeks,
                "window_basis": window_basis_data(event.window_basis), "republished_from": event.republished_from,
                "published_by": str(event.by), "questions": questions_data(shared),
                "profile": profile_data(shared.profile), "at": utc(event.at)})
        case domain.OfferSubmitted() | domain.OfferChanged():
            kind = "offer.submitted" if isinstance(event, domain.OfferSubmitted) else "offer.changed"
            return _dump(kind, {"referral_id": event.referral_id, "offer_id": event.offer_id,
                                           "provider_id": event.provider_id, "lot": event.lot,
                                           "at": utc(event.at)})
        case domain.OfferWithdrawn():
            return _dump("offer.withdrawn", {
                "referral_id": event.referral_id, "offer_id": event.offer_id, "provider_id": event.provider_id,
                "lot": event.lot, "at": utc(event.at)})
        case domain.OfferDeclined():
            return _dump("offer.declined", {
                "referral_id": event.referral_id, "provider_id": event.provider_id, "lot": event.lot,
                "reason": event.reason, "at": utc(event.at)})
        case domain.ReferralClosed():
            if child_ref is None:
                raise ValueError("referral.closed needs the child's child_ref")
            profile = event.profile.profile
            return _dump("referral.closed", {
                "referral_id": event.referral_id, "dps_id": event.dps_id, "lot": event.lot,
                "team": event.profile.team, "child_ref": child_ref, "reason_for_ap": profile.reason.value,
                "hours_per_week": profile.hours_per_week,
                "full_time": domain.is_full_time(event.lot, profile.hours_per_week), "ehcp": profile.ehcp,
                "looked_after": profile.looked_after, "start_date": profile.start_date,
                "compulsory_school_age": event.profile.compulsory_school_age, "has_sen": profile.has_sen,
                "expected_weeks": profile.expected_weeks, "no_suitable_offer": event.no_suitable_offer,
                "full_time_provision_by": event.profile.full_time_provision_by,
                "first_school_day": event.first_school_day,
                "invited_provider_ids": list(event.invited), "window_basis": window_basis_data(event.window_basis),
                "window_closed_at": utc(event.window_closed_at),
                "offers": [_closed_offer(o) for o in event.offers],
                "declines": [{"provider_id": d.provider_id, "reason": d.reason} for d in event.declines],
                "at": utc(event.at)})
        case domain.ReferralCancelled():
            return _dump("referral.cancelled", {
                "referral_id": event.referral_id, "dps_id": event.dps_id, "lot": event.lot,
                "invited_provider_ids": list(event.invited), "reason": event.reason,
                "republished_as": event.republished_as, "at": utc(event.at)})
        case WindowExtended():
            return "referral.window_extended", window_extended_data(event)
        case domain.OffDpsExceptionRecorded():
            return _dump("off_dps_exception.recorded", _off_dps_exception(event, child_ref))
        case ChildCorrected() if event.facts:  # only what other services keep: no identity ever travels
            return _dump("child.corrected",
                         {"child_ref": event.child_ref, **event.facts, "at": utc(event.at)})
        case ChildErased():
            return _dump("child.erased", {"child_ref": event.child_ref, "at": utc(event.at)})
    return None

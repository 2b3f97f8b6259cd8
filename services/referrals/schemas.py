"""Request and response schemas of the HTTP API, and the views they dump.

Two views of a referral, built by two separate functions so they can never
mix: `council_view` (officers of the team and the manager: the child's
identifying details included) and `provider_view` (the pseudonymised profile and
the referral's terms only: no field for a name, date of birth, UPN, address
or child_ref).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate

from services.referrals.domain import LOTS, ReasonForAP, ReferralStatus, SuccessMeasure
from services.referrals.domain.erasure import ErasureStatus
from services.referrals.domain.off_dps import SETTING_KINDS as OFF_DPS_SETTING_KINDS
from services.referrals.messages import Number, ProfileData, QuestionData, WindowBasisData
from shared.auth import validate_team
from shared.paging import Paging
from shared.schemas import AwareDateTime, BirthDate, Date, Integer, enum_of

STATUSES = [s.value for s in ReferralStatus]
# Bounds that keep numbers inside the columns; the rules (above 0, the price cap) are the domain's.
MAX_PENCE = 100_000_000
MAX_UNITS_PER_WEEK = 168  # hours in a week
MAX_WEEKS = 260


def _lot(strict: bool = True, **kwargs) -> fields.Integer:
    # Strict in a JSON body (1.0 or "1" is not a lot); a query string is always text.
    return Integer(strict=strict, validate=validate.OneOf(list(LOTS)), **kwargs)


def _text(**kwargs) -> fields.String:
    return fields.String(validate=validate.Length(max=10_000), **kwargs)


def _urgency(**kwargs) -> fields.String:
    return _text(allow_none=True, metadata={
        "description": "The urgency of a child without education, in words: the recorded basis for an offer "
                       "window shorter than 10 days"}, **kwargs)


# --- the referral form -----------------------------------------------------------------

class CensusDetailsIn(Schema):
    """What DfE's AP census asks of the child beyond its identity (council only; optional until the return;
    a revision of the child that leaves one out keeps it)."""

    surname = fields.String(allow_none=True, validate=validate.Length(min=1, max=35),
                            metadata={"description": "The legal surname (the AP census)"})
    forename = fields.String(allow_none=True, validate=validate.Length(min=1, max=35))
    sex = fields.String(allow_none=True, validate=validate.Length(max=10),
                        metadata={"description": "DfE's code: F, M or U"})
    ethnicity = fields.String(allow_none=True, validate=validate.Length(max=10),
                              metadata={"description": "DfE's main ethnicity code (WBRI, MWBC, ..., REFU, NOBT)"})
    sen_provision = fields.String(allow_none=True, validate=validate.Length(max=10),
                                  metadata={"description": "DfE's code: N none, K SEN support, E EHC plan"})
    fsm_eligible = fields.Boolean(allow_none=True,
                                  metadata={"description": "Eligible for free school meals"})


class ChildIn(CensusDetailsIn):
    """The child's identifying details: kept apart, seen only by the council."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    date_of_birth = BirthDate(required=True)
    upn = fields.String(required=True, validate=validate.Length(min=1, max=20))
    address = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ProfileIn(Schema):
    """The pseudonymised profile providers see."""

    age = Integer(required=True, strict=True)
    year_group = Integer(strict=True, load_default=None, allow_none=True)
    primary_need = _text(required=True)
    ehcp = fields.Boolean(required=True)
    looked_after = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in ReasonForAP]))
    needs_and_risks = _text(required=True)
    aims = _text(required=True, metadata={"description": "Required: AP is an intervention, not a destination"})
    success_measures = fields.Dict(keys=fields.String(validate=validate.OneOf([m.value for m in SuccessMeasure])),
                                   values=_text(), required=True,
                                   metadata={"description": "What success looks like: attendance, attitude, "
                                                            "attainment, behaviour (at least one)"})
    curriculum = _text(required=True)
    qualification_route = _text(required=True)
    hours_per_week = Number(required=True, metadata={"description": "1 to 40"})
    pattern = _text(required=True)
    start_date = Date(required=True)
    expected_weeks = Integer(required=True, strict=True, validate=validate.Range(max=MAX_WEEKS))
    postcode_district = fields.String(required=True, validate=validate.Length(max=10))
    transport_needed = fields.Boolean(required=True)
    has_sen = fields.Boolean(load_default=False, metadata={
        "description": "Special educational needs (SEN support or an EHCP; true whenever ehcp is)"})


class ReferralIn(Schema):
    lot = _lot(required=True)
    deadline = AwareDateTime(required=True, metadata={"description": "Deadline for offers (future)"})
    exclusion_start = Date(load_default=None, allow_none=True,
                           metadata={"description": "First day of a permanent exclusion (required for one); for "
                                                    "another non-medical reason the first day the child has no "
                                                    "school place (default: the day of the referral). The sixth "
                                                    "school day counts from it"})
    child = fields.Nested(ChildIn, required=True)
    profile = fields.Nested(ProfileIn, required=True)
    questions = fields.List(_text(), load_default=list,
                            metadata={"description": "Further quality criteria every offer must answer"})
    dps_id = fields.UUID(load_default=None, allow_none=True,
                         metadata={"description": "The DPS to publish on (default: the only open DPS with the "
                                                  "lot, else the first DPS)"})
    urgency = _urgency(load_default=None)


class ReferralRevision(Schema):
    lot = _lot()
    deadline = AwareDateTime()
    exclusion_start = Date()
    child = fields.Nested(ChildIn)
    profile = fields.Nested(ProfileIn)
    urgency = _urgency()


class WindowIn(Schema):
    """A new window: an extension of an open one, or a re-publication of a closed referral."""

    deadline = AwareDateTime(required=True, metadata={"description": "The new deadline for offers"})
    urgency = _urgency(load_default=None)


class RepublishIn(WindowIn):
    dps_id = fields.UUID(load_default=None, allow_none=True,
                         metadata={"description": "Another DPS with the lot (a successor); default: the same"})


class QuestionIn(Schema):
    text = _text(required=True)


class ReasonIn(Schema):
    reason = _text(required=True)


class OffDpsProviderIn(Schema):
    """The provider an off-DPS placement is bought from: not on the DPS, so named here."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    setting_kind = fields.String(required=True, validate=validate.OneOf(OFF_DPS_SETTING_KINDS), metadata={
        "description": "As the registry's setting_kind: a registered school has a URN, a college or training "
                       "provider a UKPRN"})
    urn = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    ukprn = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    full_time_pupils = Integer(required=True, strict=True, metadata={
        "description": "Pupils of compulsory school age it educates full-time, from every commissioner, as it "
                       "declares (the registration rule counts the whole roll)"})


class OffDpsTermsIn(Schema):
    hours_per_week = Number(required=True)
    start_date = Date(required=True)
    weekly_cost_pence = Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_PENCE))
    weeks = Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_WEEKS))


class CheckIn(Schema):
    """A minimum check done: yes, by whom, on which day."""

    confirmed = fields.Boolean(required=True)
    by = fields.String(required=True, validate=validate.Length(min=1, max=200))
    on = Date(required=True)


class OffDpsChecksIn(Schema):
    registration_status = fields.Nested(CheckIn, required=True, metadata={
        "description": "The setting's registration status checked (registered school, or unregistered and "
                       "within the registration rule)"})
    dbs = fields.Nested(CheckIn, required=True, metadata={"description": "Enhanced DBS checks confirmed"})
    insurance = fields.Nested(CheckIn, required=True, metadata={"description": "Insurance confirmed"})


class OffDpsExceptionIn(ReasonIn):
    provider = fields.Nested(OffDpsProviderIn, required=True)
    terms = fields.Nested(OffDpsTermsIn, required=True)
    checks = fields.Nested(OffDpsChecksIn, required=True)


class AssessmentIn(Schema):
    meets_needs = fields.Boolean(required=True)
    reason = _text(required=True)
    criteria_met = fields.Dict(keys=fields.UUID(), values=fields.Boolean(), load_default=dict,
                               metadata={"description": "Each further question's id: met or not"})


class CouncilReferralQuery(Paging):
    team = fields.String(validate=validate_team)
    status = fields.String(validate=validate.OneOf(STATUSES))
    lot = _lot(strict=False)
    upn = fields.String(validate=validate.Length(max=20))
    child_ref = fields.UUID()


class ExceptionQuery(Paging):
    team = fields.String(validate=validate_team)
    lot = _lot(strict=False)
    since = AwareDateTime()


class MembershipQuery(Paging):
    lot = _lot(strict=False)
    provider_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(["admitted", "suspended", "removed"]))


class DeliveryQuery(Paging):
    provider_id = fields.UUID()
    referral_id = fields.UUID()
    state = fields.String(validate=validate.OneOf(["pending", "delivered", "failed"]))


# --- offers and declines (providers) -------------------------------------------------------------

def _hundredths(value: Decimal) -> None:
    try:
        exact = value == value.quantize(Decimal("0.01"))
    except InvalidOperation:  # too many digits to hold
        exact = False
    if not exact:
        raise ValidationError("give units per week to at most two decimal places")


class OfferIn(Schema):
    pricing_line_id = fields.UUID(required=True, metadata={"description": "A line of your schedule for the lot"})
    unit_price_pence = Integer(required=True, strict=True, validate=validate.Range(max=MAX_PENCE),
                                      metadata={"description": "At most the line's maximum price"})
    units_per_week = Number(required=True, validate=[validate.Range(max=MAX_UNITS_PER_WEEK), _hundredths],
                            metadata={"description": "More than 0, at most 168, two decimal places"})
    weeks = Integer(required=True, strict=True, validate=validate.Range(max=MAX_WEEKS))
    proposed_start = Date(required=True)
    staffing_ratio = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20),
                                   metadata={"description": "The quoted line's staffing ratio (taken from the "
                                                            "line when left out)"})
    delivery_site = _text(required=True)
    delivery_postcode = fields.String(required=True, validate=validate.Length(max=10))
    how_it_meets_needs = _text(required=True)
    place_available = fields.Boolean(required=True)
    answers = fields.Dict(keys=fields.UUID(), values=_text(), load_default=dict,
                          metadata={"description": "An answer to each further question, by question id"})


class ProviderReferralQuery(Paging):
    open_only = fields.Boolean(load_default=True)
    lot = _lot(strict=False)


class ProviderOfferQuery(Paging):
    referral_id = fields.UUID()
    live = fields.Boolean()


class WebhookIn(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    rotate_secret = fields.Boolean(load_default=False)


# --- responses ------------------------------------------------------------------------------------

class QuestionOut(QuestionData):
    """A question providers answer, as the events carry it."""


class ProfileOut(ProfileData):
    """The pseudonymised profile as the events carry it (already dumped by
    `profile_data`, so its start date is ISO text here)."""

    start_date = fields.String()


class ChildOut(Schema):
    name = fields.String()
    date_of_birth = Date()
    upn = fields.String()
    address = fields.String()
    surname = fields.String(allow_none=True)
    forename = fields.String(allow_none=True)
    sex = fields.String(allow_none=True)
    ethnicity = fields.String(allow_none=True)
    sen_provision = fields.String(allow_none=True)
    fsm_eligible = fields.Boolean(allow_none=True)


class ExceptionOut(Schema):
    referral_id = fields.UUID()
    team = fields.String()
    lot = Integer()
    status = fields.String()
    reason = fields.String()
    recorded_by = fields.String()
    recorded_at = AwareDateTime()
    provider = fields.Nested(OffDpsProviderIn, allow_none=True)  # null: recorded before these were asked
    terms = fields.Nested(OffDpsTermsIn, allow_none=True)
    checks = fields.Nested(OffDpsChecksIn, allow_none=True)


class CouncilReferralOut(Schema):
    referral_id = fields.UUID()
    team = fields.String()
    lot = Integer()
    status = fields.String(metadata=enum_of(ReferralStatus))
    deadline = AwareDateTime()
    exclusion_start = Date(allow_none=True)
    full_time_provision_by = Date(allow_none=True,
                                  metadata={"description": "The sixth school day: full-time provision by then at "
                                                           "the latest (every reason but medical and post-16)"})
    first_day_aim = Date(allow_none=True, metadata={"description": "A looked-after child's aim: full-time "
                                                                   "provision from the first school day"})
    child_ref = fields.UUID()
    child = fields.Nested(ChildOut)
    profile = fields.Nested(ProfileOut)
    questions = fields.List(fields.Nested(QuestionOut))
    invited_provider_ids = fields.List(fields.UUID())
    no_eligible_providers = fields.Boolean()
    invited_count = Integer()
    answered_count = Integer(metadata={"description": "Invited providers that offered or declined "
                                                             "(who, and what, stays sealed until closed)"})
    created_by = fields.String()
    created_at = AwareDateTime()
    published_at = AwareDateTime(allow_none=True)
    window_closed_at = AwareDateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    assessment_completed_at = AwareDateTime(allow_none=True)
    awarded_offer_id = fields.UUID(allow_none=True)
    awarded_allocation_id = fields.UUID(allow_none=True)
    awarded_at = AwareDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    off_dps_exception = fields.Nested(ExceptionOut, allow_none=True)
    dps_id = fields.UUID()
    urgency = fields.String(allow_none=True)
    window_basis = fields.Nested(WindowBasisData, allow_none=True,
                                 metadata={"description": "The offer window and its recorded basis (once published)"})
    republished_from = fields.UUID(allow_none=True)
    no_eligible_offers_at = AwareDateTime(allow_none=True, metadata={
        "description": "When awards reported none of the offers eligible: off the DPS, re-publish or cancel"})


class QuotableLineOut(Schema):
    """A line of the provider's own pricing schedule, as referrals holds it."""

    pricing_line_id = fields.UUID()
    description = fields.String()
    unit = fields.String()
    maximum_price_pence = Integer()
    staffing_ratio = fields.String(allow_none=True)


class ProviderReferralOut(Schema):
    """All a provider sees of a referral: never who the child is."""

    referral_id = fields.UUID()
    lot = Integer()
    team = fields.String()
    status = fields.String(metadata={"description": "open, closed or cancelled"})
    deadline = AwareDateTime()
    full_time_provision_by = Date(allow_none=True, metadata={"description": "the sixth school day: full-time "
                                                                           "provision by then at the latest"})
    first_day_aim = Date(allow_none=True, metadata={"description": "a looked-after child: the council aims for "
                                                                   "full-time provision from this first school day"})
    profile = fields.Nested(ProfileOut)
    questions = fields.List(fields.Nested(QuestionOut))
    my_live_offer_id = fields.UUID(allow_none=True)
    declined = fields.Boolean()
    my_pricing_lines = fields.List(fields.Nested(QuotableLineOut), metadata={
        "description": "One referral only: the lines of your schedule in force for its lot, which an offer quotes"})


class AssessmentOut(Schema):
    meets_needs = fields.Boolean()
    reason = fields.String()
    criteria_met = fields.Dict(keys=fields.String(), values=fields.Boolean())
    assessed_by = fields.String()
    assessed_at = AwareDateTime()


class OfferOut(Schema):
    offer_id = fields.UUID()
    referral_id = fields.UUID()
    provider_id = fields.UUID()
    status = fields.String(metadata={"description": "live or withdrawn"})
    pricing_line_id = fields.UUID()
    unit_price_pence = Integer()
    maximum_price_pence = Integer()
    units_per_week = Number()
    weeks = Integer()
    total_pence = Integer()
    proposed_start = Date()
    staffing_ratio = fields.String()
    delivery_site = fields.String()
    delivery_postcode = fields.String()
    how_it_meets_needs = fields.String()
    place_available = fields.Boolean()
    answers = fields.Dict(keys=fields.String(), values=fields.String())
    submitted_at = AwareDateTime()
    changed_at = AwareDateTime(allow_none=True)
    withdrawn_at = AwareDateTime(allow_none=True)


class CouncilOfferOut(OfferOut):
    assessment = fields.Nested(AssessmentOut, allow_none=True)


class DeclineOut(Schema):
    provider_id = fields.UUID()
    reason = fields.String()
    at = AwareDateTime()


class CreatedOut(Schema):
    referral_id = fields.UUID()


class QuestionCreatedOut(Schema):
    question_id = fields.UUID()


class PublishedOut(Schema):
    referral_id = fields.UUID()
    invited_provider_ids = fields.List(fields.UUID())
    no_eligible_providers = fields.Boolean()


class MembershipOut(Schema):
    dps_id = fields.UUID()
    provider_id = fields.UUID()
    provider_name = fields.String(allow_none=True)
    lot = Integer()
    status = fields.String()
    reason = fields.String(allow_none=True)
    status_at = AwareDateTime()
    capacity = Integer(allow_none=True)
    ends_on = Date(allow_none=True)
    registration_status = fields.String(allow_none=True)
    urn = fields.String(allow_none=True)


class WebhookOut(Schema):
    url = fields.String()
    registered_at = AwareDateTime()
    secret_issued_at = AwareDateTime()
    secret = fields.String(metadata={"description": "Shown only when issued (first registration or rotation): "
                                                    "whsec_ and the base64 of the key's bytes (Standard Webhooks)"})
    signature_header = fields.String(metadata={
        "description": "How deliveries to this webhook are signed, for its secret (Standard Webhooks: "
                       "webhook-id, webhook-timestamp, webhook-signature; docs/webhooks.md has a verifier)"})


class DeliveryOut(Schema):
    delivery_id = fields.UUID(attribute="id")
    provider_id = fields.UUID()
    referral_id = fields.UUID()
    event_type = fields.String()
    state = fields.String()
    attempts = Integer()
    created_at = AwareDateTime()
    next_attempt_at = AwareDateTime(allow_none=True)
    last_attempt_at = AwareDateTime(allow_none=True)
    last_status = Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    delivered_at = AwareDateTime(allow_none=True)
    gave_up_at = AwareDateTime(allow_none=True)
    body = fields.String(allow_none=True, metadata={
        "description": "The JSON body exactly as signed and sent; null once withheld"})
    withheld = fields.String(allow_none=True, metadata={
        "description": "Why the body is no longer shown to you (the referral closed to you, and when)"})


# --- rectification and erasure of a child's data (services/referrals/erasure.py) ---------------------------

class ChildCorrectionIn(Schema):
    """Only the details to correct: the child's identity and census details, and the profile facts other
    services copy."""

    surname = fields.String(allow_none=True, validate=validate.Length(min=1, max=35))
    forename = fields.String(allow_none=True, validate=validate.Length(min=1, max=35))
    sex = fields.String(allow_none=True, validate=validate.Length(max=10))
    ethnicity = fields.String(allow_none=True, validate=validate.Length(max=10))
    sen_provision = fields.String(allow_none=True, validate=validate.Length(max=10))
    fsm_eligible = fields.Boolean(allow_none=True)
    name = fields.String(validate=validate.Length(min=1, max=300))
    date_of_birth = BirthDate()
    upn = fields.String(validate=validate.Length(min=1, max=20))
    address = fields.String(validate=validate.Length(min=1, max=1000))
    ehcp = fields.Boolean()
    looked_after = fields.Boolean()


class ChildCorrectionOut(Schema):
    child_ref = fields.UUID()
    changed = fields.List(fields.String(), metadata={"description": "The fields corrected (never their values)"})


class ErasureRequestIn(Schema):
    grounds = fields.String(required=True, validate=validate.Length(min=1, max=10_000),
                            metadata={"description": "Why erasure is asked for, and by whom"})


class ErasureDecisionIn(Schema):
    grant = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=10_000))


class ErasureRequestOut(Schema):
    request_id = fields.UUID(attribute="id")
    child_ref = fields.UUID()
    grounds = fields.String()
    requested_by = fields.String()
    requested_at = AwareDateTime()
    status = fields.Function(lambda request: request.status.value,
                             metadata={"type": "string", "enum": [s.value for s in ErasureStatus]})
    decided_by = fields.String(allow_none=True)
    decided_at = AwareDateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    removed = fields.Dict(keys=fields.String(), values=Integer(), allow_none=True,
                          metadata={"description": "Once granted: how many records of each kind were deleted"})


# --- the January AP census (services/referrals/census.py) -------------------------------------------------

class CensusQuery(Schema):
    year = Integer(required=True, validate=validate.Range(min=2000, max=2100),
                   metadata={"description": "The census of January of this year"})
    format = fields.String(validate=validate.OneOf(["json", "csv"]),
                           metadata={"description": "csv: DfE's items as a CSV (UTF-8 with BOM, CRLF); "
                                                    "or send Accept: text/csv"})


class CensusProblemOut(Schema):
    item = fields.String(metadata={"description": "The item's column"})
    reason = fields.String()


class CensusPupilOut(Schema):
    child_ref = fields.UUID()
    placement_id = fields.UUID()
    team = fields.String()
    items = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "DfE's items by column, as the CSV has them"})
    problems = fields.List(fields.Nested(CensusProblemOut),
                           metadata={"description": "What the row lacks or gets wrong: put right before sending"})


class CensusLeftOutOut(Schema):
    child_ref = fields.UUID()
    placement_id = fields.UUID()
    team = fields.String()
    reason = fields.String(metadata={"description": "Why the child is not the AP census's"})


class CensusOut(Schema):
    year = Integer()
    census_day = Date()
    items = fields.List(fields.String(), metadata={"description": "The columns, in DfE's order"})
    pupils = fields.List(fields.Nested(CensusPupilOut))
    left_out = fields.List(fields.Nested(CensusLeftOutOut),
                           metadata={"description": "In a placement on census day but not in the AP census"})

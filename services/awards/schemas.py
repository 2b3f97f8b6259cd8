"""Request and response schemas of the awards API (marshmallow).

Money is integer pence (a float such as 10.5 is refused), times are
timezone-aware (a naive time is refused), ids are UUIDs.  Weights, splits,
hours and scores shown to people are JSON numbers.
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.awards.domain import Regime, TieBreak
from services.awards.messages import JsonNumber
from shared.auth import validate_team
from shared.paging import Paging
from shared.schemas import AwareDateTime, Date, Integer, enum_of

LOT = validate.Range(min=1, max=4)
# Up to ten billion pounds: far beyond any block, well inside the database's integers.
PENCE = {"strict": True, "validate": validate.Range(min=1, max=10**12)}


# --- requests


class ReferralsQuery(Paging):
    team = fields.String(validate=validate_team)
    lot = Integer(validate=LOT)
    state = fields.String(validate=validate.OneOf(["closed", "cancelled"]))


class AwardRequest(Schema):
    offer_id = fields.UUID(required=True)
    reason_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50), metadata={
        "description": "Required when the offer is not the top-ranked one: the code of one of the award criteria "
                       "the DPS published (GET /v1/dps)"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                           metadata={"description": "Required with reason_code: why, in words"})


class AwardsQuery(Paging):
    provider_id = fields.UUID()
    referral_id = fields.UUID()
    lot = Integer(validate=LOT)
    team = fields.String(validate=validate_team)


class ProvidersQuery(Paging):
    lot = Integer(validate=LOT)


class CriterionIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    weight = fields.Decimal(required=True, metadata={"description": "Weights of all criteria sum to 1"})
    minimum_score = Integer(strict=True, load_default=None, allow_none=True)
    question = fields.String(load_default="", validate=validate.Length(max=2000))


class ScaleIn(Schema):
    maximum = Integer(strict=True, required=True, validate=validate.Range(min=1, max=100))
    descriptors = fields.Dict(keys=Integer(), values=fields.String(), load_default=None, allow_none=True)


class SplitIn(Schema):
    quality = fields.Decimal(required=True)
    price = fields.Decimal(required=True)


class OpportunityRequest(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    team = fields.String(load_default=None, allow_none=True, validate=validate_team,
                         metadata={"description": "The service area (the manager's choice; an officer's own team)"})
    lot = Integer(strict=True, required=True, validate=LOT)
    places = Integer(strict=True, required=True, validate=validate.Range(min=1, max=1000))
    contract_start = Date(required=True)
    contract_end = Date(required=True)
    opens_at = AwareDateTime(required=True)
    deadline = AwareDateTime(required=True)
    criteria = fields.List(fields.Nested(CriterionIn), required=True, validate=validate.Length(min=1, max=30))
    scale = fields.Nested(ScaleIn, load_default=None, allow_none=True,
                          metadata={"description": "0-5 with the council's descriptors by default"})
    split = fields.Nested(SplitIn, load_default=None, allow_none=True,
                          metadata={"description": "50/50 quality/price by default"})
    tie_break = fields.List(fields.String(validate=validate.OneOf([t.value for t in TieBreak])), load_default=None,
                            allow_none=True, metadata={"description": "higher_quality, then lower_price by default"})
    standstill_working_days = Integer(strict=True, load_default=None, allow_none=True,
                                             validate=validate.Range(min=0, max=60))


class OpportunitiesQuery(Paging):
    lot = Integer(validate=LOT)
    team = fields.String(validate=validate_team)


class BidRequest(Schema):
    price_pence = Integer(required=True, **PENCE)
    answers = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(max=20000)),
                          required=True, metadata={"description": "An answer to each quality criterion, by name"})


class ScoreRequest(Schema):
    criterion = fields.String(required=True)
    score = Integer(strict=True, required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=5000))


class DeclarationRequest(Schema):
    conflict = fields.Boolean(required=True, metadata={
        "description": "true: a conflict of interest in this mini-competition (the evaluator may not score it)"})
    details = fields.String(load_default="", validate=validate.Length(max=5000),
                            metadata={"description": "What the conflict is (required with a conflict)"})


class ModerationRequest(Schema):
    criterion = fields.String(required=True)
    score = Integer(strict=True, required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=5000),
                           metadata={"description": "Why this score was agreed (required)"})


class AllocationRequest(Schema):
    referral_id = fields.UUID(required=True)
    start_date = Date(load_default=None, allow_none=True,
                             metadata={"description": "By default the referral's start, or the contract's"})


class ContractsQuery(Paging):
    provider_id = fields.UUID()
    lot = Integer(validate=LOT)


class OffDpsQuery(Paging):
    team = fields.String(validate=validate_team)
    status = fields.String(validate=validate.OneOf(["pending", "approved", "refused"]))


class OffDpsRefusal(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=10_000),
                           metadata={"description": "Why the manager refuses the off-DPS exception"})


class QuarterQuery(Schema):
    year = Integer(required=True, validate=validate.Range(min=2000, max=2100))
    quarter = Integer(required=True, validate=validate.Range(min=1, max=4))


class PublishedQuarterQuery(Schema):
    """A quarter whose call-offs are published; none: the last quarter that is over."""

    year = Integer(validate=validate.Range(min=2000, max=2100))
    quarter = Integer(validate=validate.Range(min=1, max=4))

    @validates_schema
    def _both_or_neither(self, data, **kwargs):
        for given, missing in (("year", "quarter"), ("quarter", "year")):
            if given in data and missing not in data:
                raise ValidationError(f"give the {missing} with the {given}, or neither (the last quarter over)",
                                      field_name=missing)


# --- responses


class AwardNoticeOut(Schema):
    """One quarter's contract award notices of call-offs: grouped (PCR 2015 regulation 50), or counted (the
    Procurement Act 2023's notice for each call-off)."""

    quarter = fields.String(metadata={"description": "2025-Q1: calendar quarters, January to March the first"})
    year = fields.Integer()
    number = fields.Integer()
    first_day = Date()
    last_day = Date()
    published_from = Date(metadata={"description": "The quarter's call-offs are in the open data from this day"})
    notice_due = Date(allow_none=True, metadata={
        "description": "The grouped notice is due by this day, 30 days after the quarter (PCR 2015); null under the "
                       "Procurement Act 2023, where each call-off's notice comes before its contract"})
    call_offs = fields.Integer()
    total_pence = fields.Integer()
    regulation = fields.String()
    regime = fields.String(metadata={"description": "pcr2015_dps, or pa2023 (a dynamic market or open framework)"})


class ReferralOut(Schema):
    referral_id = fields.UUID()
    state = fields.String()
    lot = Integer(allow_none=True)
    team = fields.String(allow_none=True)
    reason_for_ap = fields.String(allow_none=True)
    hours_per_week = JsonNumber(allow_none=True)
    full_time = fields.Boolean(allow_none=True)
    start_date = Date(allow_none=True)
    expected_weeks = Integer(allow_none=True)
    closed_at = AwareDateTime(allow_none=True)
    cancelled_at = AwareDateTime(allow_none=True)
    award_id = fields.UUID(allow_none=True)
    allocation_id = fields.UUID(allow_none=True)


class ReasonOut(Schema):
    rule = fields.String()
    message = fields.String()


class RankedOfferOut(Schema):
    rank = Integer(allow_none=True, metadata={"description": "1 is the best value; null when not eligible"})
    cost_at_volume_pence = Integer(allow_none=True, metadata={
        "description": "What the offer costs at the ranking's volume (the hours a week and weeks the referral "
                       "asked for) at its unit price: what offers are ranked by"})
    eligible = fields.Boolean()
    reasons = fields.List(fields.Nested(ReasonOut))
    offer_id = fields.UUID()
    provider_id = fields.UUID()
    provider_name = fields.String(allow_none=True)
    pricing_line_id = fields.UUID()
    unit_price_pence = Integer()
    units_per_week = JsonNumber()
    weeks = Integer()
    total_pence = Integer()
    start_date = Date()
    submitted_at = AwareDateTime()
    meets_needs = fields.Boolean(allow_none=True)
    assessment_reason = fields.String()


class VolumeOut(Schema):
    hours_per_week = JsonNumber()
    weeks = Integer()
    description = fields.String()


class RankingOut(Schema):
    referral_id = fields.UUID()
    lot = Integer()
    made_at = AwareDateTime()
    volume = fields.Nested(VolumeOut, allow_none=True, metadata={
        "description": "Every offer is costed at this volume, like for like (null in rankings made before)"})
    award_id = fields.UUID(allow_none=True, metadata={"description": "Set once awarded: this is then the "
                                                                     "ranking the award was made from"})
    entries = fields.List(fields.Nested(RankedOfferOut))


class AwardOut(Schema):
    award_id = fields.UUID()
    placement_id = fields.UUID()
    referral_id = fields.UUID()
    offer_id = fields.UUID()
    provider_id = fields.UUID()
    provider_name = fields.String(allow_none=True)
    lot = Integer()
    team = fields.String()
    pricing_line_id = fields.UUID()
    unit_price_pence = Integer()
    units_per_week = JsonNumber()
    hours_per_week = JsonNumber()
    weeks = Integer()
    total_pence = Integer()
    start_date = Date()
    full_time = fields.Boolean()
    override_reason = fields.String(allow_none=True)
    override_reason_code = fields.String(allow_none=True, metadata={
        "description": "The published award criterion the top-ranked offer was passed over for"})
    standstill_ends_on = Date(allow_none=True, metadata={
        "description": "The last day of the call-off's standstill, by the DPS's regime (null: none); the placement "
                       "may start from the day after"})
    standstill_basis = fields.String(allow_none=True, metadata={
        "description": "The standstill's rule in words (Procurement Act 2023 s.51, or PCR 2015 regulations 86-87 "
                       "and whether the council uses it)"})
    awarded_by = fields.String()
    awarded_at = AwareDateTime()
    window_basis = fields.Dict(allow_none=True, metadata={
        "description": "Council only: the offer window and its recorded basis (kind: standard, agreed_minimum or "
                       "urgency; days; reason in words), kept with the award"})
    ranking = fields.Nested(RankingOut, metadata={"description": "Council only: the snapshot the award was made "
                                                                 "from"})


class OfferResultOut(Schema):
    referral_id = fields.UUID()
    offer_id = fields.UUID()
    provider_id = fields.UUID()
    outcome = fields.String(metadata={"description": "awarded or unsuccessful"})
    rank = Integer(allow_none=True, metadata={"description": "Among the eligible offers; null when not eligible"})
    eligible_offers = Integer()
    reasons = fields.List(fields.String(), metadata={"description": "Why the offer was not eligible"})
    reason = fields.String(metadata={"description": "What the provider is told (as on offer.unsuccessful)"})
    cost_at_volume_pence = Integer(allow_none=True)
    volume = fields.Nested(VolumeOut, allow_none=True)
    winner_provider_id = fields.UUID()
    winner_provider_name = fields.String(allow_none=True)
    decided_at = AwareDateTime()
    standstill_ends_on = Date(allow_none=True, metadata={
        "description": "The last day of the standstill, where there is one: the contract is not entered into "
                       "before the day after"})


class AwardCriterionOut(Schema):
    code = fields.String(metadata={"description": "What an award passing over the top offer names (reason_code)"})
    name = fields.String()
    description = fields.String()


class DpsOut(Schema):
    dps_id = fields.UUID()
    name = fields.String()
    regime = fields.String(metadata=enum_of(Regime))
    start = Date()
    term_ends_on = Date()
    statutory_end = Date(allow_none=True)
    ends_on = Date(metadata={"description": "The last day a call-off may be awarded"})
    status = fields.String()
    lots = fields.List(Integer())
    award_criteria = fields.List(fields.Nested(AwardCriterionOut), metadata={
        "description": "The published call-off award criteria: an override names one by its code"})
    agreed_minimum_window_days = Integer(allow_none=True)


class ProviderStandingOut(Schema):
    dps_id = fields.UUID()
    provider_id = fields.UUID()
    provider_name = fields.String()
    lot = Integer()
    membership_status = fields.String(allow_none=True)
    registration_status = fields.String(allow_none=True)
    capacity = Integer()
    places_in_use = Integer()
    places_free = Integer()


class CriterionOut(Schema):
    name = fields.String()
    weight = JsonNumber()
    minimum_score = Integer(allow_none=True)
    question = fields.String()


class ScaleOut(Schema):
    maximum = Integer()
    descriptors = fields.Dict(keys=fields.String(), values=fields.String())


class SplitOut(Schema):
    quality = JsonNumber()
    price = JsonNumber()


class OpportunityOut(Schema):
    opportunity_id = fields.UUID()
    title = fields.String()
    description = fields.String(allow_none=True)
    team = fields.String(allow_none=True)
    lot = Integer()
    places = Integer()
    contract_start = Date()
    contract_end = Date()
    opens_at = AwareDateTime()
    deadline = AwareDateTime()
    criteria = fields.List(fields.Nested(CriterionOut))
    scale = fields.Nested(ScaleOut)
    split = fields.Nested(SplitOut)
    tie_break = fields.List(fields.String())
    standstill_working_days = Integer()
    status = fields.String(metadata=enum_of(["not_open", "open", "evaluation", "standstill", "awarded", "confirmed"]))
    invited = fields.List(fields.UUID(), metadata={"description": "Council only"})
    awarded_at = AwareDateTime(allow_none=True)
    standstill_ends_on = Date(allow_none=True)
    contract_id = fields.UUID(allow_none=True)


class BidOut(Schema):
    bid_id = fields.UUID()
    opportunity_id = fields.UUID()
    provider_id = fields.UUID()
    price_pence = Integer()
    answers = fields.Dict(keys=fields.String(), values=fields.String())
    submitted_at = AwareDateTime()


class EvaluatorScoreOut(Schema):
    bid_id = fields.UUID()
    criterion = fields.String()
    evaluator_id = fields.String()
    score = Integer()
    reason = fields.String()
    at = AwareDateTime()


class ModeratedScoreOut(Schema):
    bid_id = fields.UUID()
    criterion = fields.String()
    score = Integer()
    reason = fields.String()
    moderated_by = fields.String()
    at = AwareDateTime()


class DeclarationOut(Schema):
    evaluator_id = fields.String()
    conflict = fields.Boolean()
    details = fields.String()
    at = AwareDateTime()


class ScoresOut(Schema):
    evaluator_scores = fields.List(fields.Nested(EvaluatorScoreOut))
    moderated = fields.List(fields.Nested(ModeratedScoreOut))


class AgreedScoreOut(Schema):
    score = Integer()
    reason = fields.String()


class BidResultOut(Schema):
    bid_id = fields.UUID()
    provider_id = fields.UUID()
    price_pence = Integer()
    rank = Integer(allow_none=True)
    excluded = fields.List(fields.String())
    quality = JsonNumber(allow_none=True)
    price = JsonNumber(allow_none=True)
    total = JsonNumber(allow_none=True)
    scores = fields.Dict(keys=fields.String(), values=fields.Nested(AgreedScoreOut))


class EvaluationOut(Schema):
    opportunity_id = fields.UUID()
    awarded = fields.Boolean()
    standstill_ends_on = Date(allow_none=True)
    lowest_price_pence = Integer(allow_none=True)
    results = fields.List(fields.Nested(BidResultOut))


class FeedbackOut(Schema):
    criterion = fields.String()
    weight = JsonNumber()
    score = Integer()
    descriptor = fields.String()
    reason = fields.String()


class SummaryOut(Schema):
    opportunity_id = fields.UUID()
    provider_id = fields.UUID()
    successful = fields.Boolean()
    rank = Integer(allow_none=True)
    bids_ranked = Integer()
    excluded = fields.List(fields.String())
    scores = fields.List(fields.Nested(FeedbackOut))
    quality = JsonNumber(allow_none=True)
    price = JsonNumber(allow_none=True)
    total = JsonNumber(allow_none=True)
    winner_provider_id = fields.UUID()
    winner_name = fields.String(allow_none=True)
    winner_scores = fields.List(fields.Nested(FeedbackOut))
    winner_quality = JsonNumber()
    winner_price = JsonNumber()
    winner_total = JsonNumber()
    standstill_ends_on = Date()
    reasons = fields.List(fields.String(), metadata={"description": "Why this bid won or did not, against the winner"})
    told_under = fields.String(metadata={"description": "The law that says what each bidder is told"})


class ContractOut(Schema):
    contract_id = fields.UUID()
    opportunity_id = fields.UUID()
    provider_id = fields.UUID()
    lot = Integer()
    places = Integer()
    places_left = Integer()
    price_pence = Integer()
    contract_start = Date()
    contract_end = Date()
    confirmed_by = fields.String()
    confirmed_at = AwareDateTime()


class AllocationOut(Schema):
    allocation_id = fields.UUID()
    contract_id = fields.UUID()
    placement_id = fields.UUID()
    referral_id = fields.UUID()
    provider_id = fields.UUID()
    lot = Integer()
    team = fields.String()
    hours_per_week = JsonNumber()
    start_date = Date()
    weeks = Integer(allow_none=True)
    cost_pence = Integer()
    full_time = fields.Boolean()
    allocated_by = fields.String()
    allocated_at = AwareDateTime()
    ended_on = Date(allow_none=True)




class OffDpsCheckOut(Schema):
    confirmed = fields.Boolean()
    by = fields.String()
    on = fields.String(metadata={"description": "The day it was checked (ISO 8601 date)"})


class OffDpsPlacementOut(Schema):
    """An off-DPS exception for the manager: the provider, the terms, the checks, the decision."""

    referral_id = fields.UUID()
    placement_id = fields.UUID(metadata={"description": "The placement tracking follows once approved"})
    status = fields.String(metadata={"enum": ["pending", "approved", "refused"]})
    lot = Integer()
    team = fields.String()
    reason = fields.String(metadata={"description": "The officer's: why no DPS provider can meet the needs"})
    recorded_by = fields.String()
    recorded_at = AwareDateTime()
    provider_id = fields.UUID(metadata={"description": "The off-DPS provider's own id (never a registry one)"})
    provider_name = fields.String()
    setting_kind = fields.String()
    urn = fields.String(allow_none=True)
    ukprn = fields.String(allow_none=True)
    declared_full_time_pupils = Integer()
    hours_per_week = JsonNumber()
    start_date = Date()
    weekly_cost_pence = Integer()
    weeks = Integer()
    total_pence = Integer()
    full_time = fields.Boolean()
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(OffDpsCheckOut))
    registration_refusals = fields.List(fields.String(), metadata={
        "description": "While pending: every way approving would break the registration rule (empty: none)"})
    decided_by = fields.String(allow_none=True)
    decided_at = AwareDateTime(allow_none=True)
    refusal_reason = fields.String(allow_none=True)

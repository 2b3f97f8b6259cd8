"""Request and response schemas of the tracking API (marshmallow): one source
for validation and for the OpenAPI document.  Counts are strict integers,
never negative; dates are YYYY-MM-DD; choices are the domain's own words."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from services.tracking import domain
from services.tracking.views import DIMENSIONS
from shared.paging import Paging
from shared.schemas import AwareDateTime, Date, Integer, enum_of


def _choice(kind, *, exclude=()) -> validate.OneOf:
    return validate.OneOf([member.value for member in kind if member not in exclude])


def _count(**kwargs) -> fields.Integer:
    return Integer(strict=True, validate=validate.Range(min=0, max=1000), **kwargs)


def _text(max_length: int = 2000, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


# -- requests ---------------------------------------------------------------------------

class PlacementQuery(Paging):
    status = fields.String(validate=_choice(domain.PlacementStatus))
    provider_id = fields.UUID()
    lot = Integer(validate=validate.Range(min=1, max=4))
    team = fields.String()
    child_ref = fields.UUID(metadata={"description": "council users only"})
    needs_review = fields.Boolean(metadata={"description": "flagged, or running past the review date"})


class StartRequest(Schema):
    started_on = Date(required=True)
    overlap_reason = _text(allow_none=True, metadata={
        "description": "officers only: why the child may start while on another full-time main placement"})


class EndRequest(Schema):
    end_date = Date(required=True)
    end_reason = fields.String(required=True, validate=_choice(domain.EndReason, exclude=(domain.EndReason.CANCELLED,)))
    next_step = fields.String(required=True, validate=_choice(domain.NextStep))
    note = _text(allow_none=True)


class CancelRequest(Schema):
    reason = _text(required=True, metadata={"description": "why the child never started"})
    next_step = fields.String(required=True, validate=_choice(domain.NextStep),
                              metadata={"description": "where the child goes instead"})


class ArrangementsRequest(Schema):
    safeguarding = fields.String(validate=_choice(domain.Safeguarding))
    provision = fields.String(validate=_choice(domain.Provision))
    overlap_reason = _text(allow_none=True)
    reason = _text(allow_none=True)

    @validates_schema
    def _something_to_set(self, data, **_kwargs):
        if data.get("safeguarding") is None and data.get("provision") is None:
            raise ValidationError("give safeguarding, provision or both", field_name="safeguarding")


class AttendanceRequest(Schema):
    week_commencing = Date(required=True, metadata={"description": "the Monday of the week"})
    sessions_offered = _count(required=True)
    attended = _count(required=True)
    authorised_absence = _count(required=True)
    unauthorised_absence = _count(required=True)


class ConcernQuery(Paging):
    open = fields.Boolean(metadata={"description": "true: not yet acknowledged; false: acknowledged"})
    placement_id = fields.UUID()
    provider_id = fields.UUID()
    kind = fields.String(validate=_choice(domain.ConcernKind))


class AcknowledgeRequest(Schema):
    note = _text(required=True, metadata={"description": "what is being done about it"})


class ReviewRequest(Schema):
    review_date = Date(required=True)
    attendance = fields.String(required=True, validate=_choice(domain.Progress))
    attitude = fields.String(required=True, validate=_choice(domain.Progress))
    attainment = fields.String(required=True, validate=_choice(domain.Progress))
    behaviour = fields.String(required=True, validate=_choice(domain.Progress))
    notes = _text(10000, required=True, metadata={"description": "progress against the placement's aims"})
    child_views = _text(10000, required=True, metadata={"description": "the child's views, in their words"})
    family_views = _text(10000, required=True, metadata={"description": "the family's views, in their words"})


class QualificationSchema(Schema):
    name = _text(200, required=True)
    level = _text(100, required=True)
    grade = _text(50, required=True)


class OutcomeRequest(Schema):
    stage = fields.String(required=True, validate=_choice(domain.OutcomeStage))
    recorded_on = Date(required=True)
    attainment = fields.Dict(keys=fields.String(validate=_choice(domain.Subject)), values=_text(100),
                             load_default=dict, metadata={"description": "working-at level or grade per subject"})
    qualifications = fields.List(fields.Nested(QualificationSchema), load_default=list)
    engagement = Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=5))


# -- report queries -----------------------------------------------------------------------

class _Report(Schema):
    format = fields.String(validate=validate.OneOf(["json", "csv"]),
                           metadata={"description": "csv for a download (or send Accept: text/csv)"})


class _ReportRows(_Report, Paging):
    """A report's rows page like every list; its CSV download is whole."""


class ActiveQuery(_ReportRows):
    on = Date(metadata={"description": "default today"})
    by = DelimitedList(fields.String(validate=validate.OneOf(list(DIMENSIONS))),
                       load_default=lambda: list(DIMENSIONS),
                       metadata={"description": "comma-separated: lot, team, provider, reason"})


class SpendQuery(_ReportRows):
    from_month = Date(data_key="from", metadata={"description": "first month (any day in it)"})
    to_month = Date(data_key="to", metadata={"description": "last month (any day in it)"})
    provider_id = fields.UUID()


class AccountabilityQuery(_ReportRows):
    provider_id = fields.UUID()


class OverdueQuery(_ReportRows):
    on = Date(metadata={"description": "default today"})


class SixthDayQuery(_ReportRows):
    on = Date(metadata={"description": "the day the standing is judged on (default today)"})
    status = fields.String(validate=_choice(domain.SixthDayStatus),
                           metadata={"description": "only the children met, at_risk or missed"})


class CensusQuery(_Report):
    year = Integer(required=True, validate=validate.Range(min=2000, max=2100))


class ChartQuery(Schema):
    provider_id = fields.UUID(metadata={"description": "one provider; omitted: the whole DPS"})


class ChartTableQuery(ChartQuery, _ReportRows):
    """A table a chart is drawn from: for one provider or the whole DPS."""


# -- responses ----------------------------------------------------------------------------

class FlagSchema(Schema):
    reason = fields.String()
    at = fields.String()


class PlacementSchema(Schema):
    placement_id = fields.UUID()
    source = fields.String(metadata={"enum": [s.value for s in domain.PlacementSource]})
    referral_id = fields.UUID()
    award_id = fields.UUID(allow_none=True)
    contract_id = fields.UUID(allow_none=True)
    allocation_id = fields.UUID(allow_none=True)
    child_ref = fields.UUID(allow_none=True, metadata={"description": "null for providers (as are the "
                                                                       "overlap and cancel reasons)"})
    provider_id = fields.UUID()
    provider_name = fields.String(allow_none=True)
    lot = Integer()
    team = fields.String()
    reason_for_ap = fields.String()
    hours_per_week = fields.Float()
    full_time = fields.Boolean()
    agreed_cost_pence = Integer()
    start_date = Date()
    expected_end_date = Date()
    standstill_ends_on = Date(allow_none=True, metadata={
        "description": "The last day of the call-off's standstill (null: none): the placement starts after it"})
    safeguarding = fields.String()
    provision = fields.String()
    status = fields.String(metadata=enum_of(domain.PlacementStatus))
    started_on = Date(allow_none=True)
    start_confirmed_by = fields.String(allow_none=True)
    overlap_reason = fields.String(allow_none=True)
    end_date = Date(allow_none=True)
    end_reason = fields.String(allow_none=True, metadata=enum_of(domain.EndReason))
    next_step = fields.String(allow_none=True, metadata=enum_of(domain.NextStep))
    cancel_reason = fields.String(allow_none=True)
    last_review_on = Date(allow_none=True)
    review_due_on = Date(allow_none=True)
    flagged_for_review = fields.Boolean()
    review_flags = fields.List(fields.Nested(FlagSchema))
    awarded_at = AwareDateTime()


class PlacementDetailSchema(PlacementSchema):
    review_overdue = fields.Boolean()
    attendance_rate = fields.Float(allow_none=True, metadata={"description": "over every week returned"})
    recent_attendance_rate = fields.Float(allow_none=True, metadata={"description": "over the latest weeks"})
    weeks_returned = Integer()
    open_concerns = Integer()


class AttendanceWeekSchema(Schema):
    week_commencing = Date()
    sessions_offered = Integer()
    attended = Integer()
    authorised_absence = Integer()
    unauthorised_absence = Integer()
    rate = fields.Float(allow_none=True)
    corrections = Integer()
    recorded_at = AwareDateTime()


class ConcernSchema(Schema):
    concern_id = fields.UUID()
    placement_id = fields.UUID()
    provider_id = fields.UUID()
    provider_name = fields.String(allow_none=True)
    lot = Integer()
    team = fields.String()
    kind = fields.String(metadata=enum_of(domain.ConcernKind))
    week_commencing = Date()
    rate = fields.Float(allow_none=True)  # low attendance: the window's rate up to its latest week
    weeks_low = Integer(metadata={"description": "Low attendance: weeks found low while the concern was open "
                                                 "(its escalation; 1 when raised)"})
    raised_at = AwareDateTime()
    acknowledged_at = AwareDateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    acknowledgement = fields.String(allow_none=True)


class AttendanceSchema(Schema):
    placement_id = fields.UUID()
    attendance_rate = fields.Float(allow_none=True)
    recent_attendance_rate = fields.Float(allow_none=True)
    weeks = fields.List(fields.Nested(AttendanceWeekSchema))


class AttendanceRecordedSchema(Schema):
    placement_id = fields.UUID()
    week = fields.Nested(AttendanceWeekSchema)
    correction = fields.Boolean()
    attendance_rate = fields.Float(allow_none=True)
    recent_attendance_rate = fields.Float(allow_none=True)
    concerns_raised = fields.List(fields.Nested(ConcernSchema))


class ReviewSchema(Schema):
    review_id = fields.UUID()
    placement_id = fields.UUID()
    review_date = Date()
    attendance = fields.String()
    attitude = fields.String()
    attainment = fields.String()
    behaviour = fields.String()
    notes = fields.String()
    child_views = fields.String()
    family_views = fields.String()
    recorded_by = fields.String()
    recorded_at = AwareDateTime()
    next_review_due = Date(allow_none=True)


class OutcomeSchema(Schema):
    outcome_id = fields.UUID()
    placement_id = fields.UUID()
    stage = fields.String()
    recorded_on = Date()
    attainment = fields.Dict(keys=fields.String(), values=fields.String())
    qualifications = fields.List(fields.Nested(QualificationSchema))
    engagement = Integer(allow_none=True)
    next_step = fields.String(allow_none=True, metadata=enum_of(domain.NextStep))
    recorded_by = fields.String()
    recorded_at = AwareDateTime()


# -- report rows (also the CSV columns, in this order) ----------------------------------------

class ActiveRowSchema(Schema):
    lot = Integer()
    lot_name = fields.String()
    team = fields.String()
    provider_id = fields.UUID()
    provider_name = fields.String(allow_none=True)
    reason_for_ap = fields.String()
    placements = Integer()


class SpendRowSchema(Schema):
    month_start = Date(metadata={"description": "the month, as its first day"})
    provider_id = fields.UUID()
    provider_name = fields.String(allow_none=True)
    lot = Integer()
    committed_pence = Integer(metadata={
        "description": "call-offs' agreed costs spread over their days, and block contracts' whole values"})


class AccountabilityRowSchema(Schema):
    provider_id = fields.UUID()
    provider_name = fields.String(allow_none=True)
    placements = Integer()
    active = Integer()
    ended = Integer()
    sessions_offered = Integer()
    attended = Integer()
    average_attendance_rate = fields.Float(allow_none=True)
    completion_rate = fields.Float(allow_none=True)
    reintegration_rate = fields.Float(allow_none=True)
    progression_rate = fields.Float(allow_none=True)
    concerns = Integer()


class OverdueRowSchema(Schema):
    placement_id = fields.UUID()
    provider_id = fields.UUID()
    provider_name = fields.String(allow_none=True)
    lot = Integer()
    team = fields.String()
    reason_for_ap = fields.String()
    status = fields.String(metadata=enum_of(domain.PlacementStatus))
    started_on = Date(allow_none=True)
    last_review_on = Date(allow_none=True)
    review_due_on = Date(allow_none=True)
    days_overdue = Integer(allow_none=True)
    flagged_for_review = fields.Boolean()
    flag_reasons = fields.List(fields.String())


class AttendanceWeekRowSchema(Schema):
    week_commencing = Date()
    sessions_offered = Integer()
    attended = Integer()
    attendance_rate = fields.Float(allow_none=True, metadata={"description": "attended / offered (0..1)"})


class SpendMonthRowSchema(Schema):
    month_start = Date(metadata={"description": "the month, as its first day"})
    committed_pence = Integer(metadata={"description": "what is committed in the month (as committed-spend)"})
    spent_pence = Integer(metadata={
        "description": "what the month's days that have passed cost: placements that started, to today or their "
                       "end, and block contracts, places filled or not"})
class SixthDayRowSchema(Schema):
    """A child's sixth day: the deadline, the first day of full-time provision, and the standing."""

    child_ref = fields.UUID()
    referral_id = fields.UUID(metadata={"description": "the latest referral for this duty"})
    team = fields.String()
    lot = Integer()
    reason_for_ap = fields.String()
    looked_after = fields.Boolean()
    full_time_provision_by = Date(metadata={"description": "the deadline: the sixth school day"})
    first_day_aim = Date(allow_none=True, metadata={"description": "a looked-after child's aim: the first "
                                                                   "school day"})
    first_day_aim_met = fields.Boolean(allow_none=True)
    first_full_time_day = Date(allow_none=True, metadata={
        "description": "the first day of full-time provision: one full-time placement, or concurrent placements "
                       "together more than the full-time hours (DPS_FULL_TIME_HOURS)"})
    sixth_day_status = fields.String(metadata={"description": "met, at_risk or missed"})
    missed_by_school_days = Integer(allow_none=True, metadata={
        "description": "school days from the deadline to the first full-time day (or, without one yet, today)"})
    placed_part_time_only = fields.Boolean(metadata={
        "description": "an excluded child whose provision so far is part-time only: flagged"})


class CensusRowSchema(Schema):
    child_ref = fields.UUID()
    placement_id = fields.UUID()
    provider_id = fields.UUID()
    provider_name = fields.String(allow_none=True)
    lot = Integer()
    team = fields.String()
    reason_for_ap = fields.String()
    hours_per_week = fields.Float()
    full_time = fields.Boolean()
    provision = fields.String()
    safeguarding = fields.String()
    source = fields.String()
    started_on = Date()
    expected_end_date = Date()
    end_date = Date(allow_none=True)
    agreed_cost_pence = Integer()


class CensusSchema(Schema):
    year = Integer()
    census_day = Date()
    pupils = fields.List(fields.Nested(CensusRowSchema))

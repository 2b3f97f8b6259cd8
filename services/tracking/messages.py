"""What tracking publishes on `dps.tracking` and writes to its audit trail:
the `data` of each event, as docs/events.md promises it (those fields
exactly; a few more are allowed), and the ONE mapping from a domain event to
what it becomes (`translate`, which the unit of work calls on commit).

Downstream reporting binds its own queue to the exchange (and to dps.awards
and dps.provider_registry): see docs/reporting-events.md.  No tracking event
carries the child's reference (`child_ref` travels on awards' and referrals'
events, never on these), an officer's notes or a review's notes.
"""

from __future__ import annotations

from collections.abc import Iterator

from marshmallow import Schema, fields

from services.tracking import domain
from shared.schemas import cached
from shared.unit_of_work import AuditEntry, Message


class _Data(Schema):
    pass


class _EnumValue(fields.Field):
    """An enum member on the wire as its lower-case value."""

    def __init__(self, enum: type, **kwargs) -> None:
        super().__init__(**kwargs)
        self.json_schema = {"type": "string", "enum": [member.value for member in enum]}

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else getattr(value, "value", value)


class PlacementStartedData(_Data):
    placement_id = fields.UUID(required=True)
    referral_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True)
    team = fields.String(required=True)
    started_on = fields.Date(required=True)
    at = fields.AwareDateTime(required=True)
    # more than the contract asks, for reporting
    reason_for_ap = fields.String()
    hours_per_week = fields.Float()
    full_time = fields.Boolean()
    provision = _EnumValue(domain.Provision)
    safeguarding = _EnumValue(domain.Safeguarding)
    confirmed_by = _EnumValue(domain.StartConfirmedBy)


class PlacementEndedData(_Data):
    placement_id = fields.UUID(required=True)
    referral_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True)
    team = fields.String(required=True)
    ended_on = fields.Date(required=True)
    end_reason = _EnumValue(domain.EndReason, required=True)  # `cancelled` when the child never started
    next_step = _EnumValue(domain.NextStep, required=True)
    at = fields.AwareDateTime(required=True)
    started_on = fields.Date(allow_none=True)  # null for a cancelled award


class AttendanceRecordedData(_Data):
    placement_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True)
    week_commencing = fields.Date(required=True)
    sessions_offered = fields.Integer(required=True)
    attended = fields.Integer(required=True)
    authorised_absence = fields.Integer(required=True)
    unauthorised_absence = fields.Integer(required=True)
    rate = fields.Float(required=True, allow_none=True)  # 0..1, null if nothing offered
    correction = fields.Boolean(required=True)
    at = fields.AwareDateTime(required=True)
    team = fields.String()


class ConcernRaisedData(_Data):
    concern_id = fields.UUID(required=True)
    placement_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True)
    team = fields.String(required=True)
    kind = _EnumValue(domain.ConcernKind, required=True)
    week_commencing = fields.Date(required=True)
    rate = fields.Float(required=True, allow_none=True)  # 0..1, null if nothing offered
    at = fields.AwareDateTime(required=True)


class ProgressData(_Data):
    attendance = _EnumValue(domain.Progress, required=True)
    attitude = _EnumValue(domain.Progress, required=True)
    attainment = _EnumValue(domain.Progress, required=True)
    behaviour = _EnumValue(domain.Progress, required=True)


class ReviewRecordedData(_Data):
    review_id = fields.UUID(required=True)
    placement_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    review_date = fields.Date(required=True)
    progress = fields.Nested(ProgressData, required=True)
    at = fields.AwareDateTime(required=True)
    lot = fields.Integer()
    team = fields.String()
    next_review_due = fields.Date()


class QualificationData(_Data):
    name = fields.String(required=True)
    level = fields.String(required=True)
    grade = fields.String(required=True)


class OutcomeRecordedData(_Data):
    outcome_id = fields.UUID(required=True)
    placement_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    stage = _EnumValue(domain.OutcomeStage, required=True)
    engagement = fields.Integer(required=True, allow_none=True)
    qualifications = fields.List(fields.Nested(QualificationData), required=True)
    next_step = _EnumValue(domain.NextStep, required=True, allow_none=True)
    at = fields.AwareDateTime(required=True)
    lot = fields.Integer()
    team = fields.String()
    recorded_on = fields.Date()
    attainment = fields.Dict(keys=fields.String(), values=fields.String())


class _ReminderData(_Data):
    """What the daily job's reminders (issue #18) carry: the lot, the team, the date due, when it was told."""

    lot = fields.Integer(required=True)
    team = fields.String(required=True)
    due_on = fields.Date(required=True)
    at = fields.AwareDateTime(required=True)


class ReviewReminderData(_ReminderData):
    """`review.due_soon` and `review.overdue`: once per placement and due date."""

    placement_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)


class SixthDayReminderData(_ReminderData):
    """`sixth_day.at_risk` and `sixth_day.missed`: once per child and deadline (`due_on`: the sixth school day)."""

    referral_id = fields.UUID(required=True)


DATA_SCHEMAS: dict[str, type[Schema]] = {
    "placement.started": PlacementStartedData,
    "placement.ended": PlacementEndedData,
    "attendance.recorded": AttendanceRecordedData,
    "concern.raised": ConcernRaisedData,
    "review.recorded": ReviewRecordedData,
    "outcome.recorded": OutcomeRecordedData,
    "review.due_soon": ReviewReminderData,
    "review.overdue": ReviewReminderData,
    "sixth_day.at_risk": SixthDayReminderData,
    "sixth_day.missed": SixthDayReminderData,
}
REMINDERS = ("review.due_soon", "review.overdue", "sixth_day.at_risk", "sixth_day.missed")
"""Published by the daily job (handlers.publish_reminders), not from a domain event."""


def _fields(event: domain.Event, placement: domain.Placement) -> dict:
    """The domain event's values in the contract's words."""
    values = {name: getattr(event, name) for name in event.__dataclass_fields__}
    values.update(referral_id=placement.referral_id, lot=placement.lot,
                  team=placement.commissioning_team)
    values.pop("commissioning_team", None)
    match event:
        case domain.PlacementEnded():
            values["ended_on"] = values.pop("end_date")
        case domain.AttendanceRecorded():
            values["rate"] = values.pop("attendance_rate")
        case domain.ReviewRecorded():
            values["progress"] = {aim: values.pop(aim)
                                  for aim in ("attendance", "attitude", "attainment", "behaviour")}
        case domain.OutcomeRecorded():
            values["attainment"] = {subject.value: level for subject, level in event.attainment}
            values["qualifications"] = [vars(q) for q in event.qualifications]
    return values


def _audit(event: domain.Event) -> AuditEntry:
    """The audit trail's line for a domain event."""
    placement_id = event.placement_id
    match event:
        case domain.PlacementStarted():
            return AuditEntry("placement.started", "placement", placement_id, event.overlap_reason,
                              {"started_on": event.started_on.isoformat(), "confirmed_by": event.confirmed_by.value})
        case domain.PlacementEnded() if event.end_reason is domain.EndReason.CANCELLED:
            return AuditEntry("placement.cancelled", "placement", placement_id, event.note,
                              {"next_step": event.next_step.value})
        case domain.PlacementEnded():
            return AuditEntry("placement.ended", "placement", placement_id, event.note,
                              {"end_date": event.end_date.isoformat(), "end_reason": event.end_reason.value,
                               "next_step": event.next_step.value})
        case domain.AttendanceRecorded():
            return AuditEntry("attendance.recorded", "placement", placement_id, None, {
                "week_commencing": event.week_commencing.isoformat(), "sessions_offered": event.sessions_offered,
                "attended": event.attended, "authorised_absence": event.authorised_absence,
                "unauthorised_absence": event.unauthorised_absence})
        case domain.ConcernRaised():
            return AuditEntry("concern.raised", "concern", event.concern_id, None, {
                "placement_id": str(placement_id), "kind": event.kind.value,
                "week_commencing": event.week_commencing.isoformat(),
                "rate": None if event.rate is None else str(event.rate)})
        case domain.ReviewRecorded():
            return AuditEntry("review.recorded", "placement", placement_id, None,
                              {"review_id": str(event.review_id), "review_date": event.review_date.isoformat()})
        case domain.OutcomeRecorded():
            return AuditEntry("outcome.recorded", "placement", placement_id, None,
                              {"outcome_id": str(event.outcome_id), "stage": event.stage.value})
    raise ValueError(f"no audit line for {type(event).__name__}")


def translate(event: domain.Event, placement: domain.Placement) -> Iterator[Message | AuditEntry]:
    """A placement's domain event: the message on `dps.tracking` and the audit line."""
    yield Message(event.type, cached(DATA_SCHEMAS[event.type]).dump(_fields(event, placement)))
    yield _audit(event)


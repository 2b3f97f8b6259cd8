"""What tracking tells the world, on exchange `dps.tracking`.

Each class is named after its type in `shared/catalogue.py`
(`placement.started` -> `PlacementStarted`) and carries that type as `type`.
No event carries the child's reference or an officer's notes: downstream
reporting needs placements, not children.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from . import values


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]


@dataclass(frozen=True)
class PlacementStarted(Event):
    type: ClassVar[str] = "placement.started"
    placement_id: UUID
    provider_id: UUID
    lot: int
    commissioning_team: str
    reason_for_ap: str
    hours_per_week: Decimal
    full_time: bool
    provision: values.Provision
    safeguarding: values.Safeguarding
    started_on: date
    confirmed_by: values.StartConfirmedBy
    overlap_reason: str | None
    at: datetime


@dataclass(frozen=True)
class PlacementEnded(Event):
    type: ClassVar[str] = "placement.ended"
    placement_id: UUID
    provider_id: UUID
    lot: int
    commissioning_team: str
    started_on: date | None  # None when an awarded placement was cancelled
    end_date: date
    end_reason: values.EndReason
    next_step: values.NextStep
    at: datetime
    note: str | None = None  # the officer's note or why it never started: for the audit trail, not published


@dataclass(frozen=True)
class AttendanceRecorded(Event):
    type: ClassVar[str] = "attendance.recorded"
    placement_id: UUID
    provider_id: UUID
    week_commencing: date
    sessions_offered: int
    attended: int
    authorised_absence: int
    unauthorised_absence: int
    attendance_rate: Decimal | None
    correction: bool  # True when it replaced an earlier return for the same week
    at: datetime


@dataclass(frozen=True)
class ConcernRaised(Event):
    type: ClassVar[str] = "concern.raised"
    concern_id: UUID
    placement_id: UUID
    provider_id: UUID
    commissioning_team: str  # so the team's officers see it at once
    kind: values.ConcernKind
    week_commencing: date
    rate: Decimal | None  # the week's rate (unexplained absence) or the four-week rate
    at: datetime


@dataclass(frozen=True)
class ReviewRecorded(Event):
    type: ClassVar[str] = "review.recorded"
    review_id: UUID
    placement_id: UUID
    provider_id: UUID
    review_date: date
    attendance: values.Progress
    attitude: values.Progress
    attainment: values.Progress
    behaviour: values.Progress
    next_review_due: date
    at: datetime


@dataclass(frozen=True)
class OutcomeRecorded(Event):
    type: ClassVar[str] = "outcome.recorded"
    outcome_id: UUID
    placement_id: UUID
    provider_id: UUID
    stage: values.OutcomeStage
    recorded_on: date
    attainment: tuple[tuple[values.Subject, str], ...]
    qualifications: tuple[values.Qualification, ...]
    engagement: int | None
    next_step: values.NextStep | None  # set once the placement has ended
    at: datetime


EVENT_CLASSES: tuple[type[Event], ...] = (
    PlacementStarted, PlacementEnded, AttendanceRecorded, ConcernRaised, ReviewRecorded,
    OutcomeRecorded,
)

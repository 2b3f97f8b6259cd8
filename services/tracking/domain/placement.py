"""The placement: what happened to a child after the award.

A placement is created from a call-off award or a block place allocation
(status `awarded`), starts when the provider or an officer confirms the
start (`started`), and ends with an end reason and the child's next step
(`ended`).  An award the child never takes up is cancelled by an officer
(`cancelled`), with why and where the child goes instead.  While it runs
the provider returns attendance weekly, officers review it at least every
six school weeks (holidays do not count: the school calendar) with the
child's and the family's views, and outcomes are recorded.  Each change is
recorded in `events` for the service layer to publish.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from shared.calendar import WORKING_DAYS, Calendar
from shared.errors import Conflict, Forbidden, InvalidInput

from . import events, values
from .attendance import (
    AttendanceReturn,
    Concern,
    ConcernPolicy,
    Finding,
    assess_week,
    fell_low_again,
    open_concern,
    overall_rate,
    refuse,
    return_problems,
    window_rate,
)
from .common import (
    Actor,
    active_on,
    check_lot,
    council_date,
    ensure_may_see,
    parse_choice,
    required_text,
    week_commencing,
)
from .values import ConcernKind

REVIEW_INTERVAL = 6
"""Reviews at least every half term: six school weeks from the start or the last review (a week of holiday,
with no school day in it, does not count: DfE, Arranging alternative provision; council policy on the interval)."""

ENGAGEMENT_SCALE = range(1, 6)

DEFAULT_POLICY = ConcernPolicy()  # 80% over four weeks


def expected_end(start_date: date, weeks: Decimal) -> date:
    """The last day of `weeks` weeks from the start (12 weeks from a Monday
    end on the Sunday of the twelfth week)."""
    return start_date + timedelta(days=math.ceil(weeks * 7) - 1)


def flag_reason(provider_name: str, status: str, lot: int, reason: str | None, at: datetime) -> str:
    """Why a placement is flagged when its provider's lot membership was
    suspended or removed (the reason officers read on the placement)."""
    what = "suspended from" if status == "suspended" else "removed from"
    return f"{provider_name} was {what} lot {lot} on {council_date(at).isoformat()}: {reason or 'no reason given'}"


def review_overdue(due: date | None, today: date) -> bool:
    """A running placement (one with a due date) whose review date has passed."""
    return due is not None and today > due


def review_due(started_on: date, last_review_on: date | None, calendar: Calendar = WORKING_DAYS) -> date:
    """The latest day the next review may be held (six school weeks on); overdue from the day after."""
    return calendar.open_weeks_after(last_review_on or started_on, REVIEW_INTERVAL)


@dataclass(eq=False)
class Review:
    review_date: date
    attendance: values.Progress
    attitude: values.Progress
    attainment: values.Progress
    behaviour: values.Progress
    notes: str
    by: str
    recorded_at: datetime
    review_id: UUID = field(default_factory=uuid4)
    child_views: str = ""  # the child's views, in their words
    family_views: str = ""  # the family's views


@dataclass(eq=False)
class Outcome:
    stage: values.OutcomeStage
    recorded_on: date
    attainment: tuple[tuple[values.Subject, str], ...]  # working-at level or grade, as text
    qualifications: tuple[values.Qualification, ...]
    engagement: int | None  # 1 (disengaged) to 5 (fully engaged)
    by: str
    recorded_at: datetime
    outcome_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True)
class ReviewFlag:
    """Why officers must look at a placement now, e.g. its provider was suspended."""

    reason: str
    at: datetime


@dataclass(eq=False)
class Placement:
    """The aggregate: the terms awarded, then everything that happened.

    Built by `from_call_off` / `from_block_place` (or rebuilt from storage
    with every field); each method checks the rules, changes the state and
    appends an event, or raises and changes nothing."""

    placement_id: UUID
    referral_id: UUID
    child_ref: UUID  # opaque: the child's identity stays on the council's side
    provider_id: UUID
    lot: int
    commissioning_team: str
    reason_for_ap: str
    hours_per_week: Decimal
    agreed_cost_pence: int
    start_date: date  # planned
    expected_end_date: date
    safeguarding: values.Safeguarding
    provision: values.Provision
    full_time: bool = False  # as awarded (awards decides; see consumers.full_time_of)
    source: values.PlacementSource = values.PlacementSource.CALL_OFF
    status: values.PlacementStatus = values.PlacementStatus.AWARDED
    started_on: date | None = None
    start_confirmed_by: values.StartConfirmedBy | None = None
    overlap_reason: str | None = None
    end_date: date | None = None
    end_reason: values.EndReason | None = None
    next_step: values.NextStep | None = None
    cancel_reason: str | None = None
    standstill_ends_on: date | None = None  # the call-off's standstill's last day, from placement.awarded
    awarded_at: datetime | None = None  # when the award was made (None: not known, no check)
    review_due_on: date | None = None  # the next review's latest day, on the school calendar (None: not running)
    attendance: dict[date, AttendanceReturn] = field(default_factory=dict)
    concerns: list[Concern] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    review_flags: list[ReviewFlag] = field(default_factory=list)
    events: list[events.Event] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        check_lot(self.lot)
        self.commissioning_team = required_text(self.commissioning_team, "commissioning_team",
                                                "the commissioning team")
        self.reason_for_ap = required_text(self.reason_for_ap, "reason_for_ap", "the reason for AP")
        self.hours_per_week = _hours(self.hours_per_week)
        self.agreed_cost_pence = _pence(self.agreed_cost_pence)
        if self.expected_end_date < self.start_date:
            raise InvalidInput(f"cannot be before the start date {self.start_date}",
                               field="expected_end_date")
        self.safeguarding = parse_choice(values.Safeguarding, self.safeguarding, "safeguarding")
        self.provision = parse_choice(values.Provision, self.provision, "provision")
        self.source = parse_choice(values.PlacementSource, self.source, "source")
        self.status = parse_choice(values.PlacementStatus, self.status, "status")

    @classmethod
    def from_call_off(cls, **terms) -> Placement:
        return cls(**terms, source=values.PlacementSource.CALL_OFF)

    @classmethod
    def from_block_place(cls, **terms) -> Placement:
        return cls(**terms, source=values.PlacementSource.BLOCK_PLACE)

    @classmethod
    def from_off_dps(cls, **terms) -> Placement:
        """An off-DPS exception the manager approved: tracked like any placement.  Its provider is not on
        the DPS and has no account here, so its returns come through the commissioning team's officer
        (`ensure_may_return_attendance`)."""
        return cls(**terms, source=values.PlacementSource.OFF_DPS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Placement) and other.placement_id == self.placement_id

    def __hash__(self) -> int:
        return hash(self.placement_id)

    # What the placement is

    @property
    def is_main_full_time(self) -> bool:
        """The kind of placement a child should have only one of at a time."""
        return self.full_time and self.provision is values.Provision.MAIN

    def active_on(self, day: date) -> bool:
        """Started on or before `day` and not ended by it (ended that day: not active)."""
        return active_on(self.started_on, self.end_date, day)

    # Starting

    def start(self, started_on: date, *, by: Actor, now: datetime,
              others: Iterable[Placement] = (), overlap_reason: str | None = None,
              calendar: Calendar = WORKING_DAYS) -> None:
        """Confirm the child has started.  `others` are the child's other
        placements: a second overlapping full-time main placement is refused
        (Conflict) unless an officer records why in `overlap_reason`."""
        ensure_may_see(by, self.provider_id, self.commissioning_team)
        self._ensure_status(values.PlacementStatus.AWARDED, "start")
        if started_on > council_date(now):
            raise InvalidInput("a start cannot be confirmed before the day it happens",
                               field="started_on")
        if started_on > self.expected_end_date:
            raise InvalidInput(f"is after the expected end date {self.expected_end_date}",
                               field="started_on")
        check_not_before_award(started_on, self.awarded_at)
        check_after_standstill(started_on, self.standstill_ends_on)
        reason = self._check_overlap(started_on, others, overlap_reason, by)
        self.status = values.PlacementStatus.STARTED
        self.started_on = started_on
        self.review_due_on = review_due(started_on, None, calendar)
        self.start_confirmed_by = (values.StartConfirmedBy.PROVIDER if by.is_provider
                                   else values.StartConfirmedBy.OFFICER)
        self.overlap_reason = reason
        self.events.append(events.PlacementStarted(
            placement_id=self.placement_id, provider_id=self.provider_id, lot=self.lot,
            commissioning_team=self.commissioning_team, reason_for_ap=self.reason_for_ap,
            hours_per_week=self.hours_per_week, full_time=self.full_time, provision=self.provision,
            safeguarding=self.safeguarding, started_on=started_on,
            confirmed_by=self.start_confirmed_by, overlap_reason=reason, at=now))

    def _check_overlap(self, started_on: date, others: Iterable[Placement],
                       overlap_reason: str | None, by: Actor) -> str | None:
        clashes = overlapping(self, started_on, others)
        if not clashes:
            return None
        ids = ", ".join(str(p.placement_id) for p in clashes)
        if by.is_provider:
            raise Conflict(f"the child already has a full-time main placement ({ids}) in this "
                           "period; an officer must confirm this start and record why",
                           field="overlap_reason")
        if overlap_reason is None or not overlap_reason.strip():
            raise Conflict(f"the child already has a full-time main placement ({ids}) in this "
                           "period; record an overlap_reason to start a second one",
                           field="overlap_reason")
        return overlap_reason.strip()

    # Ending

    def end(self, end_date: date, *, end_reason: values.EndReason | str, next_step: values.NextStep | str,
            by: Actor, now: datetime, note: str | None = None) -> None:
        ensure_may_see(by, self.provider_id, self.commissioning_team)
        self._ensure_status(values.PlacementStatus.STARTED, "end")
        reason = parse_choice(values.EndReason, end_reason, "end_reason")
        if reason is values.EndReason.CANCELLED:
            raise InvalidInput("a placement that started is ended, not cancelled; give how it "
                               "ended", field="end_reason")
        step = parse_choice(values.NextStep, next_step, "next_step")
        if end_date < self.started_on:
            raise InvalidInput(f"cannot be before the placement started on {self.started_on}",
                               field="end_date")
        if end_date > council_date(now):
            raise InvalidInput("cannot be in the future", field="end_date")
        last_week = max(self.attendance, default=None)
        if last_week is not None and end_date < last_week:
            raise InvalidInput(f"attendance has been returned for the week commencing {last_week}",
                               field="end_date")
        self.status = values.PlacementStatus.ENDED
        self.end_date, self.end_reason, self.next_step = end_date, reason, step
        self.review_flags, self.review_due_on = [], None  # nothing left to review
        self.events.append(events.PlacementEnded(
            placement_id=self.placement_id, provider_id=self.provider_id, lot=self.lot,
            commissioning_team=self.commissioning_team, started_on=self.started_on,
            end_date=end_date, end_reason=reason, next_step=step, at=now, note=note))

    # Cancelling: an award that never starts

    def cancel(self, *, reason: str, next_step: values.NextStep | str, by: Actor,
               now: datetime) -> None:
        """The child never started (the family moved away, a better place came
        up, the provider could not take the child after all): an officer
        closes the award with why and where the child goes instead.  It is
        published as `placement.ended` with end reason `cancelled` and no
        start, so awards frees the place; it commits no spend, and it does not
        count against the provider in accountability."""
        if by.is_provider:
            raise Forbidden("only an officer may cancel an award that never started")
        if self.status is values.PlacementStatus.STARTED:
            raise Conflict("the placement has started: end it with an end reason and next step")
        self._ensure_status(values.PlacementStatus.AWARDED, "be cancelled")
        why = required_text(reason, "reason", "why the placement never started")
        step = parse_choice(values.NextStep, next_step, "next_step")
        self.status = values.PlacementStatus.CANCELLED
        self.end_date = council_date(now)
        self.end_reason, self.next_step, self.cancel_reason = values.EndReason.CANCELLED, step, why
        self.review_flags, self.review_due_on = [], None
        self.events.append(events.PlacementEnded(
            placement_id=self.placement_id, provider_id=self.provider_id, lot=self.lot,
            commissioning_team=self.commissioning_team, started_on=None,
            end_date=self.end_date, end_reason=values.EndReason.CANCELLED, next_step=step, at=now, note=why))

    # values.Safeguarding and main or supplementary provision

    def set_arrangements(self, *, by: Actor, others: Iterable[Placement] = (),
                         safeguarding: values.Safeguarding | str | None = None,
                         provision: values.Provision | str | None = None,
                         overlap_reason: str | None = None) -> None:
        """An officer records who holds safeguarding responsibility and
        whether this is the child's main provision.  Making a running
        full-time placement the main one is the same overlap decision as a
        start: refused unless the officer records why."""
        if by.is_provider:
            raise Forbidden("only an officer records safeguarding and provision")
        if self.status in (values.PlacementStatus.ENDED, values.PlacementStatus.CANCELLED):
            raise Conflict(f"the placement is {self.status.value}; its arrangements are closed")
        new_safeguarding = (self.safeguarding if safeguarding is None
                            else parse_choice(values.Safeguarding, safeguarding, "safeguarding"))
        new_provision = (self.provision if provision is None
                         else parse_choice(values.Provision, provision, "provision"))
        becomes_main = new_provision is values.Provision.MAIN and self.provision is not values.Provision.MAIN
        before = self.provision
        self.provision = new_provision  # the overlap rule looks at what it would become
        try:
            if self.status is values.PlacementStatus.STARTED and becomes_main:
                self.overlap_reason = (self._check_overlap(self.started_on, others,
                                                           overlap_reason, by)
                                       or self.overlap_reason)
        except Conflict:
            self.provision = before
            raise
        self.safeguarding = new_safeguarding

    # Attendance

    def ensure_may_return_attendance(self, by: Actor) -> None:
        """The provider returns its own placement's attendance; an off-DPS provider has no account here,
        so an officer of the commissioning team (or the manager) returns it for that provider."""
        ensure_may_see(by, self.provider_id, self.commissioning_team)
        if by.is_provider:
            return
        if self.source is not values.PlacementSource.OFF_DPS:
            raise Forbidden("attendance is returned by the provider of the placement (an officer returns it "
                            "only for an off-DPS placement, whose provider has no account here)")

    def record_attendance(self, week: AttendanceReturn, *, by: Actor, now: datetime,
                          policy: ConcernPolicy = DEFAULT_POLICY) -> list[Concern]:
        """Take a week's return (a second return for the same week replaces the
        first as a correction) and raise the concerns it calls for."""
        ensure_may_see(by, self.provider_id, self.commissioning_team)
        if self.status in (values.PlacementStatus.AWARDED, values.PlacementStatus.CANCELLED):
            raise Conflict("attendance cannot be returned for a placement that has not started")
        self._check_week(week.week_commencing, council_date(now))
        earlier = self.attendance.get(week.week_commencing)
        correction = earlier is not None
        week.corrections = earlier.corrections + 1 if earlier else 0
        week.recorded_by, week.recorded_at = by.id, now
        self.attendance[week.week_commencing] = week
        self.events.append(events.AttendanceRecorded(
            placement_id=self.placement_id, provider_id=self.provider_id,
            week_commencing=week.week_commencing, sessions_offered=week.sessions_offered,
            attended=week.attended, authorised_absence=week.authorised_absence,
            unauthorised_absence=week.unauthorised_absence, attendance_rate=week.rate,
            correction=correction, at=now))
        return self._raise_concerns(week.week_commencing, policy, now)

    def new_return(self, week: object, *, today: date, **counts: object) -> AttendanceReturn:
        """A week's return for this placement, every problem reported at once: the return's own rules
        and whether the week falls within the placement."""
        problems = return_problems(week, counts)
        if "week_commencing" not in problems and self.started_on is not None:
            problems.update(self._week_problems(week, today))
        refuse(problems)
        return AttendanceReturn(week, **counts)

    def _week_problems(self, week: date, today: date) -> dict[str, list[str]]:
        found = []
        if week > today:
            found.append("is in the future")
        if week < week_commencing(self.started_on):
            found.append(f"is before the placement started on {self.started_on}")
        if self.end_date is not None and week > self.end_date:
            found.append(f"is after the placement ended on {self.end_date}")
        return {"week_commencing": found} if found else {}

    def _check_week(self, week: date, today: date) -> None:
        refuse(self._week_problems(week, today))

    def _raise_concerns(self, week: date, policy: ConcernPolicy, now: datetime) -> list[Concern]:
        raised = {(c.kind, c.week_commencing) for c in self.concerns if c.kind is not ConcernKind.LOW_ATTENDANCE}
        new = [Concern(f.kind, f.week_commencing, f.rate, now)
               for f in assess_week(self.attendance.values(), week, policy, raised)
               if f.kind is not ConcernKind.LOW_ATTENDANCE or self._low_attendance_is_new(f, policy)]
        for concern in new:
            self.concerns.append(concern)
            self.events.append(events.ConcernRaised(
                placement_id=self.placement_id, provider_id=self.provider_id,
                concern_id=concern.concern_id, commissioning_team=self.commissioning_team,
                kind=concern.kind,
                week_commencing=concern.week_commencing, rate=concern.rate, at=now))
        return new

    def _low_attendance_is_new(self, finding: Finding, policy: ConcernPolicy) -> bool:
        """One open low-attendance concern per placement (attendance.py): the open one follows the
        finding; after it is acknowledged, a new one only once attendance has fallen low again."""
        if (still_open := self.open_concern(ConcernKind.LOW_ATTENDANCE)) is not None:
            still_open.follow(finding.week_commencing, finding.rate)
            return False
        last = max((c.week_commencing for c in self.concerns if c.kind is ConcernKind.LOW_ATTENDANCE),
                   default=None)
        return last is None or fell_low_again(self.attendance.values(), last, finding.week_commencing, policy)

    def open_concern(self, kind: ConcernKind) -> Concern | None:
        return open_concern(self.concerns, kind)

    @property
    def attendance_rate(self) -> Decimal | None:
        """Over every week returned: sum attended / sum offered."""
        return overall_rate(self.attendance.values())

    def recent_attendance_rate(self, up_to: date, weeks: int = 4) -> Decimal | None:
        return window_rate(self.attendance.values(), up_to, weeks)

    # Reviews

    @property
    def last_review_on(self) -> date | None:
        return max((r.review_date for r in self.reviews), default=None)

    @property
    def review_due_date(self) -> date | None:
        """None unless the placement is running: nothing to review before the
        start or after the end.  Worked out on the school calendar when it
        started and at each review (`review_due_on`)."""
        if self.status is not values.PlacementStatus.STARTED:
            return None
        return self.review_due_on or review_due(self.started_on, self.last_review_on)

    def is_review_overdue(self, today: date) -> bool:
        return review_overdue(self.review_due_date, today)

    @property
    def flagged_for_review(self) -> bool:
        return bool(self.review_flags)

    def needs_review(self, today: date) -> bool:
        return self.flagged_for_review or self.is_review_overdue(today)

    def flag_for_review(self, reason: str, *, now: datetime) -> bool:
        """E.g. the provider was suspended: its current placements continue,
        but officers must look at each.  The next review clears the flag.
        Told the same twice, it flags once (returns whether it flagged)."""
        if self.status in (values.PlacementStatus.ENDED, values.PlacementStatus.CANCELLED):
            raise Conflict(f"the placement is {self.status.value}; there is nothing to review")
        reason = required_text(reason, "reason", "a reason")
        if any(flag.reason == reason for flag in self.review_flags):
            return False
        self.review_flags = [*self.review_flags, ReviewFlag(reason, now)]
        return True

    def record_review(self, review_date: date, *, attendance: values.Progress | str,
                      attitude: values.Progress | str, attainment: values.Progress | str,
                      behaviour: values.Progress | str, notes: str, child_views: str, family_views: str,
                      by: Actor, now: datetime, calendar: Calendar = WORKING_DAYS) -> Review:
        """Progress against the aims, beside the child's and the family's views (each required: DfE,
        Arranging alternative provision, 2025: reviews hear the child and the parents; "did not wish to
        comment" is a view recorded).  The next review is due six school weeks on."""
        ensure_may_see(by, self.provider_id, self.commissioning_team)
        if self.status is values.PlacementStatus.ENDED:
            raise Conflict("the placement has ended and cannot be reviewed")
        if self.status in (values.PlacementStatus.AWARDED, values.PlacementStatus.CANCELLED):
            raise Conflict("the placement has not started and cannot be reviewed yet")
        self._check_day(review_date, now, "review_date")
        review = Review(
            review_date=review_date,
            attendance=parse_choice(values.Progress, attendance, "attendance"),
            attitude=parse_choice(values.Progress, attitude, "attitude"),
            attainment=parse_choice(values.Progress, attainment, "attainment"),
            behaviour=parse_choice(values.Progress, behaviour, "behaviour"),
            notes=required_text(notes, "notes", "notes against the placement's aims"),
            child_views=required_text(child_views, "child_views", "the child's views"),
            family_views=required_text(family_views, "family_views", "the family's views"),
            by=by.id, recorded_at=now)
        self.reviews.append(review)
        self.review_flags = []
        self.review_due_on = review_due(self.started_on, self.last_review_on, calendar)
        self.events.append(events.ReviewRecorded(
            review_id=review.review_id, placement_id=self.placement_id,
            provider_id=self.provider_id, review_date=review_date,
            attendance=review.attendance, attitude=review.attitude, attainment=review.attainment,
            behaviour=review.behaviour, next_review_due=self.review_due_date, at=now))
        return review

    # Outcomes

    def record_outcome(self, stage: values.OutcomeStage | str, recorded_on: date, *, by: Actor,
                       now: datetime, attainment: Mapping[values.Subject | str, str] | None = None,
                       qualifications: Iterable[values.Qualification] = (),
                       engagement: int | None = None) -> Outcome:
        """Attainment at the start, at a review or at the end; outcomes may
        follow the end (exam results come in August)."""
        ensure_may_see(by, self.provider_id, self.commissioning_team)
        if self.status in (values.PlacementStatus.AWARDED, values.PlacementStatus.CANCELLED):
            raise Conflict("outcomes are recorded once the placement has started")
        self._check_day(recorded_on, now, "recorded_on")
        outcome = Outcome(
            stage=parse_choice(values.OutcomeStage, stage, "stage"), recorded_on=recorded_on,
            attainment=_attainment(attainment or {}),
            qualifications=_qualifications(qualifications), engagement=_engagement(engagement),
            by=by.id, recorded_at=now)
        if not (outcome.attainment or outcome.qualifications or outcome.engagement):
            raise InvalidInput("record attainment, a qualification or engagement",
                               field="attainment")
        self.outcomes.append(outcome)
        self.events.append(events.OutcomeRecorded(
            outcome_id=outcome.outcome_id, placement_id=self.placement_id,
            provider_id=self.provider_id, stage=outcome.stage,
            recorded_on=recorded_on, attainment=outcome.attainment,
            qualifications=outcome.qualifications, engagement=outcome.engagement,
            next_step=self.next_step, at=now))
        return outcome

    # Helpers

    def _ensure_status(self, wanted: values.PlacementStatus, action: str) -> None:
        if self.status is not wanted:
            raise Conflict(f"a placement that is {self.status.value} cannot {action}; "
                           f"it must be {wanted.value}")

    def _check_day(self, day: date, now: datetime, field_name: str) -> None:
        if day > council_date(now):
            raise InvalidInput("cannot be in the future", field=field_name)
        if day < self.started_on:
            raise InvalidInput(f"is before the placement started on {self.started_on}",
                               field=field_name)


AWARD_RULE = ("a placement exists only from its award, so attendance and spend cannot come before it "
              "(council policy, on the award as the start of the contract)")
"""Why a placement may not start before the day it was awarded."""


def check_not_before_award(started_on: date, awarded_at: datetime | None) -> None:
    """A start is dated on or after the award's council date (an unknown award date: any day)."""
    if awarded_at is not None and started_on < council_date(awarded_at):
        raise InvalidInput(f"cannot be before the award on {council_date(awarded_at).isoformat()}, "
                           f"the earliest start ({AWARD_RULE})", field="started_on")


STANDSTILL_RULE = ("the contract is not entered into during the call-off's standstill: Procurement Act 2023 s.51 "
                   "(law), or PCR 2015 regulation 87 where the council uses the voluntary one")
"""Why a placement may not start during its call-off's standstill."""


def check_after_standstill(started_on: date, standstill_ends_on: date | None) -> None:
    """A placement starts only after the last day of its call-off's standstill (none: any day)."""
    if standstill_ends_on is not None and started_on <= standstill_ends_on:
        raise Conflict(f"the placement cannot start on {started_on.isoformat()}: the call-off's standstill runs "
                       f"to the end of {standstill_ends_on.isoformat()}, so the earliest start is "
                       f"{(standstill_ends_on + timedelta(days=1)).isoformat()} ({STANDSTILL_RULE})",
                       field="started_on")


def overlapping(candidate: Placement, started_on: date,
                others: Iterable[Placement]) -> list[Placement]:
    """The child's other full-time main placements whose time at the provider
    overlaps the candidate's, were it to start on `started_on`.  A running
    placement runs until it is ended; one not yet started does not count.
    Days are inclusive: ending and starting on the same day overlap."""
    if not candidate.is_main_full_time:
        return []
    clashes = []
    for other in others:
        if (other.placement_id == candidate.placement_id or other.child_ref != candidate.child_ref
                or not other.is_main_full_time or other.started_on is None):
            continue
        other_ends = other.end_date or date.max
        if other.started_on <= candidate.expected_end_date and started_on <= other_ends:
            clashes.append(other)
    return clashes


def _pence(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("must be a whole, non-negative number of pence",
                           field="agreed_cost_pence")
    return value


def _hours(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str, float)):
        raise InvalidInput("must be a number of hours", field="hours_per_week")
    try:
        hours = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput("must be a number of hours", field="hours_per_week") from None
    if not hours.is_finite() or hours <= 0:
        raise InvalidInput("must be more than 0 hours a week", field="hours_per_week")
    return hours


def _attainment(levels: Mapping[values.Subject | str, str]) -> tuple[tuple[values.Subject, str], ...]:
    pairs = []
    for subject, level in levels.items():
        subject = parse_choice(values.Subject, subject, "attainment")
        if not isinstance(level, str) or not level.strip():
            raise InvalidInput(f"give the working-at level or grade in {subject.value}",
                               field="attainment")
        pairs.append((subject, level.strip()))
    return tuple(sorted(pairs, key=lambda p: list(values.Subject).index(p[0])))


def _qualifications(items: Iterable[values.Qualification | Mapping[str, str]],
                    ) -> tuple[values.Qualification, ...]:
    qualifications = []
    for item in items:
        if isinstance(item, Mapping):
            item = values.Qualification(item.get("name"), item.get("level"), item.get("grade"))
        if not isinstance(item, values.Qualification):
            raise InvalidInput("each qualification has a name, level and grade",
                               field="qualifications")
        qualifications.append(item)
    return tuple(qualifications)


def _engagement(engagement: int | None) -> int | None:
    if engagement is None:
        return None
    if isinstance(engagement, bool) or not isinstance(engagement, int) \
            or engagement not in ENGAGEMENT_SCALE:
        raise InvalidInput("engagement is scored from 1 to 5", field="engagement")
    return engagement

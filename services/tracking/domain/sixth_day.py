"""The sixth day, tracked: did the child have full-time provision by the deadline?

Referrals works out the deadline (the sixth school day of the council's duty,
and for a looked-after child the first-day aim) and sends it on
`referral.closed`; tracking keeps it per child (`SixthDayDuty`) and finds the
**first day of full-time provision** from the child's placements:

- full-time is one placement awards judged full-time (lot 1, or more than the
  full-time hours a week), or two or more part-time placements running on the
  same day whose hours together are more than the full-time hours
  (`DPS_FULL_TIME_HOURS`, default 18: DfE's "more than 18 hours a week");
- only days from the duty's first school day count (an earlier placement that
  was full-time before the exclusion does not meet it);
- a placement is running on a day it has started and not ended by
  (`common.active_on`: one that ended that day no longer counts).

The standing (`standing`): **met** when full-time provision began on or before
the deadline; **at risk** while the deadline has not passed and it has not
begun; **missed** once the deadline has passed without it, by the school days
from the deadline to the first full-time day (or, while still without it, to
today).  School days are the council's school calendar.

An excluded child placed only part-time (in provision today, never full-time
since the duty began; not before its first school day) is flagged
(`part_time_only`): DfE expects full-time provision for an excluded child;
part-time only by exception, and then reviewed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from shared.calendar import Calendar

from .common import active_on

SIXTH_DAY_RULE = ("full-time education by the sixth school day of the council's duty (law: the Education (Provision "
                  "of Full-Time Education for Excluded Pupils) (England) Regulations 2007; DfE, Arranging "
                  "alternative provision, 2025); from the first school day for a looked-after child (council policy)")
DEFAULT_FULL_TIME_HOURS = Decimal(18)
PERMANENT_EXCLUSION = "permanent_exclusion"


class SixthDayStatus(enum.Enum):
    MET = "met"
    AT_RISK = "at_risk"
    MISSED = "missed"


class Provision(Protocol):
    """What the rule reads of a placement."""

    started_on: date | None
    end_date: date | None
    hours_per_week: Decimal
    full_time: bool


@dataclass(eq=False)
class SixthDayDuty:
    """One child's sixth-day deadline, as referrals sent it (keyed by the child and the deadline: a referral
    re-published for the same duty carries the same deadline)."""

    child_ref: UUID
    full_time_provision_by: date  # the sixth school day
    referral_id: UUID
    team: str
    lot: int
    reason_for_ap: str
    looked_after: bool
    first_school_day: date | None  # school day 1: a looked-after child's aim
    noted_at: datetime

    @property
    def first_day_aim(self) -> date | None:
        return self.first_school_day if self.looked_after else None

    @property
    def counts_from(self) -> date:
        """The first day provision counts for this duty."""
        return self.first_school_day or self.full_time_provision_by


def full_time_on(placements: Iterable[Provision], day: date,
                 full_time_hours: Decimal = DEFAULT_FULL_TIME_HOURS) -> bool:
    """Whether the child's placements running on `day` make full-time provision: one full-time placement,
    or hours together more than the full-time hours."""
    running = [p for p in placements if active_on(p.started_on, p.end_date, day)]
    return any(p.full_time for p in running) or sum((p.hours_per_week for p in running), Decimal(0)) > full_time_hours


def first_full_time_day(placements: Iterable[Provision], *, counts_from: date,
                        full_time_hours: Decimal = DEFAULT_FULL_TIME_HOURS) -> date | None:
    """The first day on or after `counts_from` with full-time provision (None: not yet).  The hours change
    only when a placement starts or ends, so the first such day is `counts_from` or a start or end."""
    placements = [p for p in placements if p.started_on is not None]
    changes = {counts_from} | {d for p in placements for d in (p.started_on, p.end_date)
                               if d is not None and d > counts_from}
    return next((day for day in sorted(changes) if full_time_on(placements, day, full_time_hours)), None)


@dataclass(frozen=True)
class Standing:
    status: SixthDayStatus
    missed_by_school_days: int | None  # None unless missed


def standing(deadline: date, first_full_time: date | None, today: date, calendar: Calendar) -> Standing:
    """Met, at risk or missed by N school days (see the module's docstring)."""
    if first_full_time is not None and first_full_time <= deadline:
        return Standing(SixthDayStatus.MET, None)
    if first_full_time is None and today <= deadline:
        return Standing(SixthDayStatus.AT_RISK, None)
    until = first_full_time or today
    return Standing(SixthDayStatus.MISSED, max(calendar.open_days_between(deadline, until), 1))


def part_time_only(reason_for_ap: str, placements: Iterable[Provision], first_full_time: date | None,
                   today: date, counts_from: date | None = None) -> bool:
    """An excluded child in provision today, none of it full-time since the duty began (`counts_from`: before
    the duty's first school day nothing is judged, so nothing is flagged)."""
    return (reason_for_ap == PERMANENT_EXCLUSION and first_full_time is None
            and (counts_from is None or today >= counts_from)
            and any(active_on(p.started_on, p.end_date, today) for p in placements))


@dataclass(frozen=True)
class SixthDayRow:
    """A line of the sixth-day report."""

    child_ref: UUID
    referral_id: UUID
    team: str
    lot: int
    reason_for_ap: str
    looked_after: bool
    full_time_provision_by: date
    first_day_aim: date | None
    first_full_time_day: date | None
    status: SixthDayStatus
    missed_by_school_days: int | None
    first_day_aim_met: bool | None  # None unless looked after
    placed_part_time_only: bool


def sixth_day_row(duty: SixthDayDuty, placements: Iterable[Provision], *, today: date, calendar: Calendar,
                  full_time_hours: Decimal = DEFAULT_FULL_TIME_HOURS) -> SixthDayRow:
    placements = [p for p in placements if p.started_on is not None and p.started_on <= today]  # as it was today
    first = first_full_time_day(placements, counts_from=duty.counts_from, full_time_hours=full_time_hours)
    first = first if first is not None and first <= today else None
    where = standing(duty.full_time_provision_by, first, today, calendar)
    aim = duty.first_day_aim
    return SixthDayRow(
        child_ref=duty.child_ref, referral_id=duty.referral_id, team=duty.team, lot=duty.lot,
        reason_for_ap=duty.reason_for_ap, looked_after=duty.looked_after,
        full_time_provision_by=duty.full_time_provision_by, first_day_aim=aim, first_full_time_day=first,
        status=where.status, missed_by_school_days=where.missed_by_school_days,
        first_day_aim_met=None if aim is None else (first is not None and first <= aim),
        placed_part_time_only=part_time_only(duty.reason_for_ap, placements, first, today, duty.counts_from))

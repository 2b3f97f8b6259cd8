"""Attendance returns and the concerns they raise.

A provider returns, per placement per week (commencing Monday), the sessions
offered, attended, and absent with and without authorisation.  The rate is
attended / offered; a week with nothing offered has no rate (None).

Two rules raise a concern that officers see at once:
- any unauthorised (unexplained) absence in the week returned;
- attendance below the threshold (default 80%) over the latest four weeks
  that have returns, up to and including the week returned: sum attended /
  sum offered.  Fewer than four weeks of returns: over those there are.
  Exactly the threshold is not below it.
A concern of one kind is raised at most once for a week, so a corrected
return for the same week never raises it twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from shared.errors import InvalidInput

from .common import below, rate
from .values import ConcernKind

COUNTS = ("sessions_offered", "attended", "authorised_absence", "unauthorised_absence")


@dataclass(frozen=True)
class AttendanceReturn:
    week_commencing: date
    sessions_offered: int
    attended: int
    authorised_absence: int
    unauthorised_absence: int

    def __post_init__(self) -> None:
        if not isinstance(self.week_commencing, date) or self.week_commencing.weekday() != 0:
            raise InvalidInput("a week commences on a Monday", field="week_commencing")
        for name in COUNTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput("must be a whole number of sessions", field=name)
            if value < 0:
                raise InvalidInput("must not be negative", field=name)
        if self.attended > self.sessions_offered:
            raise InvalidInput(
                f"{self.attended} sessions attended is more than the "
                f"{self.sessions_offered} offered", field="attended")
        accounted = self.attended + self.authorised_absence + self.unauthorised_absence
        if accounted > self.sessions_offered:
            message = (f"attended and absent sessions add up to {accounted}, more than the "
                       f"{self.sessions_offered} offered")
            raise InvalidInput(message, field="unauthorised_absence",
                               errors={"authorised_absence": [message]})

    @property
    def rate(self) -> Decimal | None:
        return rate(self.attended, self.sessions_offered)

    @property
    def has_unexplained_absence(self) -> bool:
        return self.unauthorised_absence > 0


@dataclass(frozen=True)
class ConcernPolicy:
    """The council's configurable concern thresholds."""

    threshold: Decimal = Decimal("0.80")  # a fraction: 0.80 is 80%
    window_weeks: int = 4

    def __post_init__(self) -> None:
        if not Decimal(0) < self.threshold <= Decimal(1):
            raise ValueError("the attendance threshold is a fraction between 0 and 1")
        if self.window_weeks < 1:
            raise ValueError("the attendance window is at least one week")


@dataclass(frozen=True)
class Concern:
    kind: ConcernKind
    week_commencing: date
    rate: Decimal | None
    raised_at: datetime
    concern_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True)
class Finding:
    """A concern the rules say should be raised for a week."""

    kind: ConcernKind
    week_commencing: date
    rate: Decimal | None


def recent_returns(returns: Iterable[AttendanceReturn], up_to: date,
                   weeks: int = 4) -> list[AttendanceReturn]:
    """The latest `weeks` weeks that have returns, up to and including `up_to`,
    newest first."""
    earlier = sorted((r for r in returns if r.week_commencing <= up_to),
                     key=lambda r: r.week_commencing, reverse=True)
    return earlier[:weeks]


def window_totals(returns: Iterable[AttendanceReturn], up_to: date,
                  weeks: int = 4) -> tuple[int, int]:
    """(sum attended, sum offered) over the recent window."""
    window = recent_returns(returns, up_to, weeks)
    return sum(r.attended for r in window), sum(r.sessions_offered for r in window)


def overall_rate(returns: Iterable[AttendanceReturn]) -> Decimal | None:
    """Over every week returned: sum attended / sum offered."""
    returns = list(returns)
    return rate(sum(w.attended for w in returns), sum(w.sessions_offered for w in returns))


def window_rate(returns: Iterable[AttendanceReturn], up_to: date, weeks: int = 4) -> Decimal | None:
    return rate(*window_totals(returns, up_to, weeks))


def assess_week(returns: Iterable[AttendanceReturn], week: date, policy: ConcernPolicy,
                already_raised: Collection[tuple[ConcernKind, date]] = ()) -> list[Finding]:
    """The concerns the return for `week` raises, given every return of the
    placement (that one included) and the (kind, week) concerns already raised."""
    returns = list(returns)
    this_week = next(r for r in returns if r.week_commencing == week)
    findings = []
    if this_week.has_unexplained_absence:
        findings.append(Finding(ConcernKind.UNEXPLAINED_ABSENCE, week, this_week.rate))
    attended, offered = window_totals(returns, week, policy.window_weeks)
    if below(attended, offered, policy.threshold):
        findings.append(Finding(ConcernKind.LOW_ATTENDANCE, week, rate(attended, offered)))
    return [f for f in findings if (f.kind, f.week_commencing) not in already_raised]

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

A low-attendance concern is one open concern per placement: while it is
open and attendance stays low, each later week's return updates it (the
week and the window's rate) and escalates it by counting the weeks low
(`weeks_low`: 1 when raised, one more for each later low week); a
correction of its latest week updates the rate only.  Once acknowledged,
a new one is raised only when attendance falls low again: some week
returned after the acknowledged concern's latest week was not low.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from uuid import UUID, uuid4

from shared.errors import Conflict, Forbidden, InvalidInput

from .common import Actor, below, rate, required_text
from .values import ConcernKind

COUNTS = ("sessions_offered", "attended", "authorised_absence", "unauthorised_absence")


def return_problems(week_commencing: object, counts: dict[str, object]) -> dict[str, list[str]]:
    """Every problem of a week's return, by field (all reported at once)."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    if not isinstance(week_commencing, date) or isinstance(week_commencing, datetime) \
            or week_commencing.weekday() != 0:
        add("week_commencing", "a week commences on a Monday")
    for name in COUNTS:
        value = counts[name]
        if isinstance(value, bool) or not isinstance(value, int):
            add(name, "must be a whole number of sessions")
        elif value < 0:
            add(name, "must not be negative")
    if problems.keys() & set(COUNTS):
        return problems
    offered, attended = counts["sessions_offered"], counts["attended"]
    accounted = attended + counts["authorised_absence"] + counts["unauthorised_absence"]
    if attended > offered:
        add("attended", f"{attended} sessions attended is more than the {offered} offered")
    elif accounted > offered:
        message = f"attended and absent sessions add up to {accounted}, more than the {offered} offered"
        add("authorised_absence", message)
        add("unauthorised_absence", message)
    return problems


def refuse(problems: dict[str, list[str]]) -> None:
    """One refusal naming every field that has a problem (one problem: its own message)."""
    if not problems:
        return
    if len(problems) == 1 and len(next(iter(problems.values()))) == 1:
        [(name, [message])] = problems.items()
        raise InvalidInput(message, field=name)
    # The sums rule names both absence columns with one message: say it once.
    messages = list(dict.fromkeys(m for reasons in problems.values() for m in reasons))
    message = messages[0] if len(messages) == 1 else (
        f"the return is refused: {len(problems)} fields to put right ({', '.join(problems)})")
    raise InvalidInput(message, errors=problems)


@dataclass
class AttendanceReturn:
    """A week's return.  The placement stamps who returned it, when, and how
    many times the week was corrected (`Placement.record_attendance`)."""

    week_commencing: date
    sessions_offered: int
    attended: int
    authorised_absence: int
    unauthorised_absence: int
    corrections: int = field(default=0, compare=False)
    recorded_by: str | None = field(default=None, compare=False)
    recorded_at: datetime | None = field(default=None, compare=False)

    __hash__ = None  # a value, compared by its week and counts

    def __post_init__(self) -> None:
        refuse(return_problems(self.week_commencing, {name: getattr(self, name) for name in COUNTS}))

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

    @classmethod
    def from_settings(cls, threshold: object, window_weeks: object) -> ConcernPolicy:
        """The policy from the council's settings (DPS_ATTENDANCE_THRESHOLD, a
        fraction, and DPS_ATTENDANCE_WINDOW_WEEKS); ValueError if they are bad."""
        try:
            return cls(Decimal(str(threshold)), int(window_weeks))
        except (InvalidOperation, ValueError, TypeError) as exc:
            raise ValueError(f"bad attendance concern settings ({threshold!r}, {window_weeks!r}): {exc}") from None

    def __post_init__(self) -> None:
        if not Decimal(0) < self.threshold <= Decimal(1):
            raise ValueError("the attendance threshold is a fraction between 0 and 1")
        if self.window_weeks < 1:
            raise ValueError("the attendance window is at least one week")


@dataclass(eq=False)
class Concern:
    """Raised by a return; officers acknowledge it, saying what is being done."""

    kind: ConcernKind
    week_commencing: date
    rate: Decimal | None
    raised_at: datetime
    concern_id: UUID = field(default_factory=uuid4)
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledgement: str | None = None
    weeks_low: int = 1  # the escalation: how many weeks' returns found attendance low while it was open

    def follow(self, week: date, window_rate: Decimal | None) -> bool:
        """Attendance is still low in `week`'s return: a later week moves the concern to that week and
        escalates it (one more week low); a correction of its latest week updates the rate; an earlier
        week changes nothing.  Returns whether it escalated."""
        if week < self.week_commencing:
            return False
        self.rate = window_rate
        if week == self.week_commencing:
            return False
        self.week_commencing, self.weeks_low = week, self.weeks_low + 1
        return True

    def acknowledge(self, note: str, *, by: Actor, now: datetime) -> None:
        if by.is_provider:
            raise Forbidden("only an officer may acknowledge a concern")
        if self.acknowledged_at is not None:
            raise Conflict(f"already acknowledged by {self.acknowledged_by}", field="concern_id", location="path")
        self.acknowledged_at, self.acknowledged_by = now, by.id
        self.acknowledgement = required_text(note, "note", "what is being done")


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


def open_concern(concerns: Iterable[Concern], kind: ConcernKind) -> Concern | None:
    """The latest (by week) concern of `kind` not yet acknowledged."""
    return max((c for c in concerns if c.kind is kind and c.acknowledged_at is None),
               key=lambda c: c.week_commencing, default=None)


def fell_low_again(returns: Iterable[AttendanceReturn], since: date, week: date, policy: ConcernPolicy) -> bool:
    """Whether some week returned after `since` and before `week` was not low (the window up to it
    was at or above the threshold), so low attendance in `week` is a new fall."""
    returns = list(returns)
    return any(not below(*window_totals(returns, r.week_commencing, policy.window_weeks), policy.threshold)
               for r in returns if since < r.week_commencing < week)


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

"""Report calculations over plain rows, for the reporting API.

The service layer selects rows (SQL does the heavy grouping over attendance);
these functions hold the definitions, so the numbers mean the same wherever
they are shown:

- average attendance rate: sum attended / sum offered over every week
  returned (weighted by sessions, not an average of weekly rates);
- completion rate: ended with a planned end (completed, or moved on early as
  planned) / ended;
- reintegration rate: ended with next step reintegrated_mainstream / ended;
- progression rate: ended with a positive next step (mainstream, special
  school, further education, training or apprenticeship, employment) / ended;
- rates are Decimal fractions rounded half-up to 4 places, None when there is
  nothing to divide by;
- committed spend: each placement's agreed cost spread evenly over the
  calendar days from its start (the confirmed start, else the planned one) to
  its expected end, both inclusive, in whole pence per month by the largest
  remainder, so the months add up exactly to the agreed cost.  A placement
  that ends before its expected end stops committing at its end: it commits
  the agreed cost's share of the days it ran (half a penny up), spread over
  those days; an award cancelled before it started commits nothing;
- a block contract commits its whole value (the price of all its places,
  filled or not) spread the same way over its period, contract start to
  contract end; a child's placement in one of its places (source
  block_place) commits nothing more, however often a place is reused;
- spent to date ("actual" spend): the same spread, counted only for the days
  that have passed (to today, or the end), and only for placements that
  started; a block contract is spent as its days pass, places filled or not;
- January AP census: placements children were in on census day (`shared.calendar.ap_census_day`:
  the third Thursday of January unless the council was told another), pseudonymous: a cross-check of
  the return referrals builds where the child's identity lives.
"""

from __future__ import annotations

import calendar as _calendar
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from shared.calendar import WORKING_DAYS, Calendar

from .common import active_on, on_roll_on, rate
from .placement import Placement, review_due
from .values import (
    PLANNED_END_REASONS,
    POSITIVE_NEXT_STEPS,
    EndReason,
    NextStep,
    PlacementSource,
    PlacementStatus,
    Provision,
    Safeguarding,
)


@dataclass(frozen=True)
class PlacementRow:
    """One placement as the reports see it (a flat row: no returns, no notes)."""

    placement_id: UUID
    child_ref: UUID
    provider_id: UUID
    lot: int
    commissioning_team: str
    reason_for_ap: str
    status: PlacementStatus
    start_date: date  # planned
    expected_end_date: date
    agreed_cost_pence: int
    hours_per_week: Decimal = Decimal(0)
    provision: Provision = Provision.MAIN
    safeguarding: Safeguarding = Safeguarding.COMMISSIONING_TEAM
    source: PlacementSource = PlacementSource.CALL_OFF
    started_on: date | None = None
    end_date: date | None = None
    end_reason: EndReason | None = None
    next_step: NextStep | None = None
    last_review_on: date | None = None
    flagged_for_review: bool = False

    def __post_init__(self) -> None:
        # rows straight from SQL carry the wire values; read them as the enums
        for name, kind in (("status", PlacementStatus), ("provision", Provision),
                           ("safeguarding", Safeguarding), ("source", PlacementSource), ("end_reason", EndReason),
                           ("next_step", NextStep)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                object.__setattr__(self, name, kind(value))

    @classmethod
    def of(cls, placement: Placement) -> PlacementRow:
        names = {f.name for f in fields(cls)}
        values = {name: getattr(placement, name) for name in names}
        return cls(**values)

    @property
    def period_start(self) -> date:
        return self.started_on or self.start_date

    def active_on(self, day: date) -> bool:
        return active_on(self.started_on, self.end_date, day)


# Accountability

@dataclass(frozen=True)
class PlacementPerformance:
    """A placement with its attendance totals and concern count (grouped in SQL)."""

    provider_id: UUID
    status: PlacementStatus
    end_reason: EndReason | None = None
    next_step: NextStep | None = None
    sessions_offered: int = 0
    attended: int = 0
    concerns: int = 0

    def __post_init__(self) -> None:
        for name, kind in (("status", PlacementStatus), ("end_reason", EndReason),
                           ("next_step", NextStep)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                object.__setattr__(self, name, kind(value))


@dataclass(frozen=True)
class Accountability:
    placements: int
    active: int
    ended: int
    average_attendance_rate: Decimal | None
    completion_rate: Decimal | None
    reintegration_rate: Decimal | None
    progression_rate: Decimal | None
    concerns: int


@dataclass(frozen=True)
class AccountabilityTotals:
    """The counts accountability is computed from: what SQL's GROUP BY gives,
    so the database adds up and these definitions divide."""

    placements: int = 0  # cancelled awards are not counted: nothing was delivered
    active: int = 0
    ended: int = 0
    completed: int = 0  # ended as planned
    reintegrated: int = 0
    progressed: int = 0
    sessions_offered: int = 0
    attended: int = 0
    concerns: int = 0


def accountability_of(totals: AccountabilityTotals) -> Accountability:
    return Accountability(
        placements=totals.placements,
        active=totals.active,
        ended=totals.ended,
        average_attendance_rate=rate(totals.attended, totals.sessions_offered),
        completion_rate=rate(totals.completed, totals.ended),
        reintegration_rate=rate(totals.reintegrated, totals.ended),
        progression_rate=rate(totals.progressed, totals.ended),
        concerns=totals.concerns,
    )


def accountability(rows: Iterable[PlacementPerformance]) -> Accountability:
    """How a set of placements (one provider's, or the whole DPS) went.  An
    award cancelled before the child started does not count for or against
    the provider."""
    rows = [r for r in rows if r.status is not PlacementStatus.CANCELLED]
    ended = [r for r in rows if r.status is PlacementStatus.ENDED]
    return accountability_of(AccountabilityTotals(
        placements=len(rows),
        active=sum(r.status is PlacementStatus.STARTED for r in rows),
        ended=len(ended),
        completed=sum(r.end_reason in PLANNED_END_REASONS for r in ended),
        reintegrated=sum(r.next_step is NextStep.REINTEGRATED_MAINSTREAM for r in ended),
        progressed=sum(r.next_step in POSITIVE_NEXT_STEPS for r in ended),
        sessions_offered=sum(r.sessions_offered for r in rows),
        attended=sum(r.attended for r in rows),
        concerns=sum(r.concerns for r in rows),
    ))


def accountability_by_provider(rows: Iterable[PlacementPerformance]) -> dict[UUID, Accountability]:
    grouped: dict[UUID, list[PlacementPerformance]] = defaultdict(list)
    for row in rows:
        grouped[row.provider_id].append(row)
    return {provider: accountability(group) for provider, group in grouped.items()}


# Committed spend

def month_of(day: date) -> date:
    return day.replace(day=1)


def allocate_by_month(total_pence: int, first_day: date, last_day: date) -> dict[date, int]:
    """Spread `total_pence` over the calendar days first_day..last_day
    (inclusive), giving each month (keyed by its first day) its days' share.

    Each month gets the whole pence of its exact share; the pence left over
    go one each to the months with the largest fractions left, earlier months
    first on a tie, so the months sum exactly to the total.
    """
    if last_day < first_day:
        raise ValueError("the period ends before it starts")
    if total_pence < 0:
        raise ValueError("a cost is not negative")
    days = _days_per_month(first_day, last_day)
    total_days = (last_day - first_day).days + 1
    shares = {month: total_pence * n // total_days for month, n in days.items()}
    remainders = {month: total_pence * n % total_days for month, n in days.items()}
    leftover = total_pence - sum(shares.values())
    for month in sorted(days, key=lambda m: (-remainders[m], m))[:leftover]:
        shares[month] += 1
    return shares


def _days_per_month(first_day: date, last_day: date) -> dict[date, int]:
    days, day = {}, first_day
    while day <= last_day:
        month_end = day.replace(day=_calendar.monthrange(day.year, day.month)[1])
        until = min(month_end, last_day)
        days[month_of(day)] = (until - day).days + 1
        day = until + timedelta(days=1)
    return days


def _cost_to(total_pence: int, first_day: date, last_day: date, until: date) -> dict[date, int]:
    """The share of `total_pence` (spread over first_day..last_day) that falls
    on first_day..until: the days' share at the same rate per day (half a
    penny up), spread over those days; all of it when `until` reaches the
    last day, nothing when it is before the first."""
    if until >= last_day:
        return allocate_by_month(total_pence, first_day, last_day)
    if until < first_day:
        return {}
    ran = (until - first_day).days + 1
    days = (last_day - first_day).days + 1
    return allocate_by_month((2 * total_pence * ran + days) // (2 * days), first_day, until)


def commitment_by_month(agreed_cost_pence: int, first_day: date, expected_end_date: date, *,
                        status: PlacementStatus, end_date: date | None = None,
                        source: PlacementSource = PlacementSource.CALL_OFF) -> dict[date, int]:
    """What one placement commits, per month: the agreed cost spread over
    first_day..expected_end_date, cut short at its end date when it ended
    early (the days' share of the cost, at the same rate per day), nothing
    when it was cancelled before it started, and nothing for a block place
    (its contract commits it: `block_contract_commitment`)."""
    if status is PlacementStatus.CANCELLED or source is PlacementSource.BLOCK_PLACE:
        return {}
    if status is not PlacementStatus.ENDED or end_date is None:
        return allocate_by_month(agreed_cost_pence, first_day, expected_end_date)
    if end_date < first_day:
        raise ValueError("the placement ends before it starts")
    return _cost_to(agreed_cost_pence, first_day, expected_end_date, end_date)


def spent_by_month(agreed_cost_pence: int, first_day: date, expected_end_date: date, *,
                   status: PlacementStatus, today: date, end_date: date | None = None,
                   source: PlacementSource = PlacementSource.CALL_OFF) -> dict[date, int]:
    """What one placement has cost so far, per month: its commitment's share
    of the days from its start to today (or to its end, or its expected end,
    whichever comes first); nothing before it started, and nothing for a
    block place (its contract is spent: `block_contract_spent`)."""
    if status not in (PlacementStatus.STARTED, PlacementStatus.ENDED) or source is PlacementSource.BLOCK_PLACE:
        return {}
    until = today if end_date is None else min(today, end_date)
    return _cost_to(agreed_cost_pence, first_day, expected_end_date, until)


@dataclass(frozen=True)
class BlockContractRow:
    """A confirmed block contract as the reports see it: its whole value
    (`price_pence`, all its places) over its period."""

    contract_id: UUID
    provider_id: UUID
    lot: int
    commissioning_team: str | None  # the team that ran the mini-competition (None: the manager)
    places: int
    price_pence: int
    contract_start: date
    contract_end: date


def block_contract_commitment(contract: BlockContractRow) -> dict[date, int]:
    """A block contract commits its whole value, places filled or not, spread
    over its days from contract start to contract end."""
    return allocate_by_month(contract.price_pence, contract.contract_start, contract.contract_end)


def block_contract_spent(contract: BlockContractRow, today: date) -> dict[date, int]:
    """What a block contract has cost so far: its days to today, places filled or not."""
    return _cost_to(contract.price_pence, contract.contract_start, contract.contract_end, today)


def committed_spend_by_month(rows: Iterable[PlacementRow], by: tuple[str, ...] = ("provider_id", "lot"),
                             contracts: Iterable[BlockContractRow] = ()) -> dict[tuple, int]:
    """Committed pence per (*by, month): e.g. by provider and lot, by lot
    alone (`by=("lot",)`) or over the whole DPS (`by=()`): the call-offs'
    commitments and the block contracts' whole values (a block place adds
    nothing)."""
    totals: dict[tuple, int] = defaultdict(int)
    for row in rows:
        key = tuple(getattr(row, name) for name in by)
        spread = commitment_by_month(row.agreed_cost_pence, row.period_start, row.expected_end_date,
                                     status=row.status, end_date=row.end_date, source=row.source)
        for month, pence in spread.items():
            totals[(*key, month)] += pence
    for contract in contracts:
        key = tuple(getattr(contract, name) for name in by)
        for month, pence in block_contract_commitment(contract).items():
            totals[(*key, month)] += pence
    return dict(totals)


# Active placements, overdue reviews, the census

def active_by(rows: Iterable[PlacementRow], dimension: str | Callable[[PlacementRow], Any],
              on: date) -> dict[Any, int]:
    """How many placements are active on a day, by lot, commissioning_team,
    provider_id, reason_for_ap (or any function of a row)."""
    key = dimension if callable(dimension) else (lambda row: getattr(row, dimension))
    counts: dict[Any, int] = defaultdict(int)
    for row in rows:
        if row.active_on(on):
            counts[key(row)] += 1
    return dict(counts)


def overdue_reviews(rows: Iterable[PlacementRow], today: date,
                    calendar: Calendar = WORKING_DAYS) -> list[tuple[PlacementRow, date | None]]:
    """Running placements past their review date, or flagged for review,
    longest overdue first, with the date the review was due.  An award not yet
    started that is flagged (its provider was suspended) is listed first,
    with no due date: an officer should decide before the child starts."""
    due = []
    for row in rows:
        if row.status is PlacementStatus.AWARDED and row.flagged_for_review:
            due.append((row, None))
        if row.status is not PlacementStatus.STARTED:
            continue
        due_on = review_due(row.started_on, row.last_review_on, calendar)
        if today > due_on or row.flagged_for_review:
            due.append((row, due_on))
    return sorted(due, key=lambda pair: (pair[1] or date.min, str(pair[0].placement_id)))


def census_extract(rows: Iterable[PlacementRow], day: date) -> list[PlacementRow]:
    """Placements (all council-funded) the child was in on census day (one ending that day
    included: `on_roll_on`), by child then start."""
    active = [row for row in rows if on_roll_on(row.started_on, row.end_date, day)]
    return sorted(active,
                  key=lambda row: (str(row.child_ref), row.started_on, str(row.placement_id)))


# Attendance over time (for the chart)

@dataclass(frozen=True)
class WeekOfAttendance:
    week_commencing: date
    sessions_offered: int
    attended: int

    @property
    def rate(self) -> Decimal | None:
        return rate(self.attended, self.sessions_offered)


def attendance_by_week(rows: Iterable[Mapping[str, Any] | Any]) -> list[WeekOfAttendance]:
    """Sum returns (anything with week_commencing, sessions_offered, attended)
    per week, oldest first."""
    offered: dict[date, int] = defaultdict(int)
    attended: dict[date, int] = defaultdict(int)
    for row in rows:
        get = row.get if isinstance(row, Mapping) else (lambda name, r=row: getattr(r, name))
        week = get("week_commencing")
        offered[week] += get("sessions_offered")
        attended[week] += get("attended")
    return [WeekOfAttendance(week, offered[week], attended[week]) for week in sorted(offered)]


# Spend over time, and the chart's one time axis

@dataclass(frozen=True)
class MonthOfSpend:
    month_start: date  # the first day of the month
    committed_pence: int
    spent_pence: int


def spend_months(committed: Mapping[date, int], spent: Mapping[date, int]) -> list[MonthOfSpend]:
    """Committed and spent pence side by side for every month from the first
    with either to the last (a month with neither shows 0), oldest first."""
    known = set(committed) | set(spent)
    if not known:
        return []
    months, month, last = [], min(known), max(known)
    while month <= last:
        months.append(MonthOfSpend(month, committed.get(month, 0), spent.get(month, 0)))
        month = (month + timedelta(days=32)).replace(day=1)
    return months


@dataclass(frozen=True)
class ChartData:
    """What the chart is drawn from: attendance by week and spend by month, on
    one time axis running over the period that has data (first_day..last_day,
    both None when there is none)."""

    weeks: list[WeekOfAttendance]
    months: list[MonthOfSpend]
    first_day: date | None
    last_day: date | None


def chart_data(weeks: Iterable[WeekOfAttendance], months: Iterable[MonthOfSpend]) -> ChartData:
    """The period the chart shows: from the first week returned or the first
    month with spend, whichever is earlier, to the end of the last week or
    month with data (not a fixed window)."""
    weeks, months = sorted(weeks, key=lambda w: w.week_commencing), sorted(months, key=lambda m: m.month_start)
    starts = [w.week_commencing for w in weeks[:1]] + [m.month_start for m in months[:1]]
    ends = [w.week_commencing + timedelta(days=6) for w in weeks[-1:]] + [
        m.month_start.replace(day=_calendar.monthrange(m.month_start.year, m.month_start.month)[1])
        for m in months[-1:]]
    return ChartData(weeks, months, min(starts, default=None), max(ends, default=None))

"""Working days and school days: the one calendar every service counts with.

England and Wales share the same bank holidays; the `holidays` package keeps
them (including one-off days such as a coronation) so we do not.  A school
calendar is the same thing restricted to term dates, with INSET and other
closure days as extra closed dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

COUNCIL_TIMEZONE = ZoneInfo("Europe/London")


def council_date(at: datetime) -> date:
    """The day it is at the council: 23:30 UTC in a London summer is already
    tomorrow.  Deadlines, standstills and "today" count London days."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(COUNCIL_TIMEZONE).date()


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=[year]).keys())


def is_bank_holiday(day: date) -> bool:
    """True on an England and Wales bank holiday (substitute days included)."""
    return day in _bank_holidays(day.year)


@dataclass(frozen=True)
class Term:
    start: date
    end: date  # inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a term cannot end before it starts")

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Calendar:
    """Days that count: Monday to Friday, not a bank holiday, not an extra
    closed date, and (when terms are given) inside a term."""

    closed_dates: frozenset[date] = field(default_factory=frozenset)
    terms: tuple[Term, ...] = ()

    def is_open(self, day: date) -> bool:
        if day.weekday() >= 5 or is_bank_holiday(day) or day in self.closed_dates:
            return False
        return not self.terms or any(day in term for term in self.terms)

    def add_days(self, start: date, count: int) -> date:
        """The `count`-th open day after `start` (start itself not counted).

        add_days(friday, 1) is the next Monday when Monday is open.
        """
        if count < 0:
            raise ValueError("count must not be negative")
        day, found = start, 0
        # A term calendar may have long holidays: bound the walk to ten years.
        limit = start + timedelta(days=3660)
        while found < count:
            day += timedelta(days=1)
            if day > limit:
                raise ValueError("no open days within ten years of the start")
            if self.is_open(day):
                found += 1
        return day

    def nth_open_day(self, start: date, n: int) -> date:
        """The n-th open day counting `start` itself as the first when it is open.

        nth_open_day(monday, 1) is that Monday; on a Saturday it is the Monday after.
        """
        if n < 1:
            raise ValueError("n starts at 1")
        first = start if self.is_open(start) else self.add_days(start, 1)
        return self.add_days(first, n - 1)

    def open_days_between(self, start: date, end: date) -> int:
        """Open days after `start` up to and including `end`."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_open(day):
                count += 1
        return count


WORKING_DAYS = Calendar()
"""Monday to Friday less England and Wales bank holidays."""


def add_working_days(start: date, count: int) -> date:
    return WORKING_DAYS.add_days(start, count)


def ap_census_day(year: int, configured: Iterable[date] = ()) -> date:
    """DfE's January AP census day of `year`: the day the council was told (`DPS_AP_CENSUS_DAYS`), else the
    third Thursday of January (DfE's usual day)."""
    for day in configured:
        if day.year == year:
            return day
    first = date(year, 1, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7, weeks=2)

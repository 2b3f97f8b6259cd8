"""Working days and school days: the one calendar every service counts with.

England and Wales share the same bank holidays; the `holidays` package keeps
them (including one-off days such as a coronation) so we do not.  A school
calendar is the same thing restricted to term dates, with INSET and other
closure days as extra closed dates.

The school calendar is configuration (`school_calendar`): the file that
`DPS_SCHOOL_CALENDAR_FILE` names, or by default the term dates shipped in
`shared/data/school_calendar.csv` (its source is named at its top).  Terms
count only within the school years the file covers (1 September before its
first term to 31 August after its last); outside them a day is a working day,
so a calendar that has run out does not stop every deadline: replace the file
before then.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
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
    name: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"{self.label} cannot end before it starts")

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        return f"{self.name or 'a term'} ({self.start.isoformat()} to {self.end.isoformat()})"


def _school_year_start(day: date) -> date:
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def check_terms(terms: tuple[Term, ...]) -> tuple[Term, ...]:
    """The terms in date order; two that overlap are refused naming both (a school day is in one term)."""
    ordered = tuple(sorted(terms, key=lambda t: (t.start, t.end)))
    for earlier, later in pairwise(ordered):
        if later.start <= earlier.end:
            raise ValueError(f"the terms {earlier.label} and {later.label} overlap")
    return ordered


@dataclass(frozen=True)
class Calendar:
    """Days that count: Monday to Friday, not a bank holiday, not an extra
    closed date, and (when terms are given) inside a term."""

    closed_dates: frozenset[date] = field(default_factory=frozenset)
    terms: tuple[Term, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", check_terms(tuple(self.terms)))

    def covers(self, day: date) -> bool:
        """Whether the terms speak for `day`: within the school years from the first term to the last."""
        if not self.terms:
            return False
        last = self.terms[-1].end
        return _school_year_start(self.terms[0].start) <= day < date(_school_year_start(last).year + 1, 9, 1)

    def is_open(self, day: date) -> bool:
        if day.weekday() >= 5 or is_bank_holiday(day) or day in self.closed_dates:
            return False
        return not self.covers(day) or any(day in term for term in self.terms)

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

    def open_weeks_after(self, start: date, weeks: int) -> date:
        """The day `weeks` school weeks after `start`: the seven days from `start` are its first week, the
        next seven its second, and a week with no open day in it (a holiday) does not count.  Six school
        weeks from a Monday with no holiday between is the Monday six weeks on; with a half term between,
        seven weeks on."""
        if weeks < 0:
            raise ValueError("weeks must not be negative")
        counted, week_start = 0, start
        limit = start + timedelta(days=3660)
        while counted < weeks:
            if week_start > limit:
                raise ValueError("no school weeks within ten years of the start")
            if any(self.is_open(week_start + timedelta(days=n)) for n in range(7)):
                counted += 1
            week_start += timedelta(days=7)
        return week_start

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

SCHOOL_CALENDAR_FILE = "DPS_SCHOOL_CALENDAR_FILE"
DEFAULT_SCHOOL_CALENDAR = Path(__file__).parent / "data" / "school_calendar.csv"


def school_calendar(path: str | Path | None = None) -> Calendar:
    """The school calendar of the settings: the file `DPS_SCHOOL_CALENDAR_FILE` names, else the default
    shipped with the code.  A missing or malformed file, or one whose terms overlap, raises ValueError
    naming the setting (and the line or the terms), so the service stops at start."""
    return _read_calendar(str(path or DEFAULT_SCHOOL_CALENDAR))


@lru_cache(maxsize=8)
def _read_calendar(path: str) -> Calendar:
    """CSV with a header `kind,name,start,end` (lines starting # are comments: the source):
    `term` rows are terms (inclusive), `closed` rows close every day from start to end (INSET days,
    closures) within the terms."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{SCHOOL_CALENDAR_FILE}: cannot read {path}: {exc.strerror}") from None
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    rows = csv.DictReader((line for _, line in lines))
    if rows.fieldnames is None or [name.strip() for name in rows.fieldnames] != ["kind", "name", "start", "end"]:
        raise ValueError(f"{SCHOOL_CALENDAR_FILE}: {path} must start with the header kind,name,start,end")
    terms, closed = [], set()
    for (number, _), row in zip(lines[1:], rows, strict=True):
        try:
            kind, name, start, end = ((row[column] or "").strip() for column in ("kind", "name", "start", "end"))
            start, end = date.fromisoformat(start), date.fromisoformat(end)
            if kind == "term":
                terms.append(Term(start, end, name))
            elif kind == "closed":
                if end < start:
                    raise ValueError("a closure cannot end before it starts")
                closed.update(start + timedelta(days=n) for n in range((end - start).days + 1))
            else:
                raise ValueError(f"kind must be term or closed, not {kind!r}")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{SCHOOL_CALENDAR_FILE}: {path} line {number}: {exc}") from None
    try:
        return Calendar(closed_dates=frozenset(closed), terms=tuple(terms))
    except ValueError as exc:
        raise ValueError(f"{SCHOOL_CALENDAR_FILE}: {path}: {exc} (a school day belongs to one term)") from None


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

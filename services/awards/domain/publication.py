"""What the council may publish about a call-off, and when (PCR 2015 regulation 50; DOMAIN.md "Awards").

- Call-offs under a DPS may be notified grouped by calendar quarter (January to
  March is the first), within 30 days after the quarter ends (PCR 2015
  regulation 50, law).  The council publishes a quarter's call-offs only once
  that quarter is over, and no date in them finer than the quarter (council
  policy: a sole trader's name and a start date must not single out a child).
- A placement that ends early is published as ended, at what it cost: the weeks
  it ran (every week begun counts whole, never more than the weeks awarded) at
  the awarded weekly price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .common import COUNCIL_TIMEZONE

NOTICE_DAYS = 30
"""Grouped contract award notices are sent within 30 days of the quarter's end (PCR 2015 regulation 50)."""

REGULATION_50 = "PCR 2015 regulation 50"


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter at the council: 1 = January to March."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if self.number not in (1, 2, 3, 4):
            raise ValueError("a quarter is 1, 2, 3 or 4")

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def at(cls, moment: datetime) -> Quarter:
        """The quarter an instant falls in, by the council's clock."""
        return cls.of(moment.astimezone(COUNCIL_TIMEZONE).date())

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * (self.number - 1) + 1, 1)

    @property
    def day_after(self) -> date:
        """The first day of the next quarter: the earliest its call-offs are published."""
        return date(self.year + 1, 1, 1) if self.number == 4 else date(self.year, 3 * self.number + 1, 1)

    @property
    def last_day(self) -> date:
        return self.day_after - timedelta(days=1)

    @property
    def notice_due(self) -> date:
        """The last day for the quarter's grouped contract award notice."""
        return self.last_day + timedelta(days=NOTICE_DAYS)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) of the quarter at the council, as UTC instants."""
        return _instant(self.first_day), _instant(self.day_after)

    def is_over(self, today: date) -> bool:
        return today > self.last_day


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=COUNCIL_TIMEZONE).astimezone(UTC)


def quarters_over(first: Quarter, today: date) -> list[Quarter]:
    """Every quarter from `first` up to the last one that is over by `today`, oldest first."""
    quarters, quarter = [], first
    while quarter.is_over(today):
        quarters.append(quarter)
        quarter = Quarter.of(quarter.day_after)
    return quarters


def weeks_run(start: date, ended_on: date, weeks: int) -> int:
    """Weeks a placement ran from its start to the day it ended (each week begun counts, at most `weeks`)."""
    if ended_on < start:
        return 0
    begun = ((ended_on - start).days // 7) + 1
    return min(begun, weeks)


def cost_as_run(unit_price_pence: int, units_per_week: Decimal, weeks: int, total_pence: int, start: date,
                ended_on: date | None) -> int:
    """What a placement cost: its whole value, or the weeks it ran at the awarded weekly price when it ended
    early (rounded half up to the penny, as offers are; never more than the value awarded)."""
    if ended_on is None:
        return total_pence
    ran = weeks_run(start, ended_on, weeks)
    if ran >= weeks:
        return total_pence
    exact = Decimal(unit_price_pence) * Decimal(units_per_week) * ran
    return min(total_pence, int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))

"""Small things every tracking rule needs: lots, the council's date, the
Monday a week commences, who is acting, rates, and reading a choice."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.errors import Forbidden, InvalidInput

LOTS = {
    1: "full-time education",
    2: "part-time education",
    3: "bespoke provision",
    4: "support for post-16 education and preparation for adulthood",
}

COUNCIL_TIMEZONE = ZoneInfo("Europe/London")

RATE_PLACES = Decimal("0.0001")
"""Rates are Decimal fractions (0.7750 is 77.5%) rounded half-up to 4 places."""


def check_lot(lot: int) -> int:
    if isinstance(lot, bool) or lot not in LOTS:
        raise InvalidInput(f"lot {lot!r} is not a lot of the DPS (1 to 4)", field="lot")
    return lot


def council_date(now: datetime) -> date:
    """The day it is at the council: 00:30 in a London summer is already
    tomorrow, though UTC still says today."""
    if now.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return now.astimezone(COUNCIL_TIMEZONE).date()


def week_commencing(day: date) -> date:
    """The Monday of the week `day` falls in."""
    return day - timedelta(days=day.weekday())


def rate(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator as a rounded Decimal; None when nothing was
    counted (a week with no sessions offered has no attendance rate)."""
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def below(numerator: int, denominator: int, threshold: Decimal) -> bool:
    """Exactly whether numerator / denominator < threshold: compared as
    fractions so rounding can never tip a boundary case (80.00% is not below 80%)."""
    return denominator > 0 and Fraction(numerator, denominator) < Fraction(threshold)


E = TypeVar("E", bound=enum.Enum)


def parse_choice(choices: type[E], value: E | str, field: str) -> E:
    """One of an enum's members, given as the member or its wire value."""
    if isinstance(value, choices):
        return value
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(member.value for member in choices)
        raise InvalidInput(f"{value!r} is not one of: {allowed}", field=field) from None


def required_text(value: str | None, field: str, what: str) -> str:
    if value is None or not str(value).strip():
        raise InvalidInput(f"{what} is required", field=field)
    return str(value).strip()


@dataclass(frozen=True)
class Actor:
    """Who is doing something: a user, acting for a provider or (provider_id
    None) for the council as an officer or the manager."""

    user: str
    provider_id: UUID | None = None

    @property
    def is_provider(self) -> bool:
        return self.provider_id is not None

    def ensure_may_act_for(self, provider_id: UUID) -> None:
        """Providers see and touch only their own placements."""
        if self.is_provider and self.provider_id != provider_id:
            raise Forbidden("this placement is with another provider")

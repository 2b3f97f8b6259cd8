"""Small things every referral rule needs: lots, the council's date, and
required text."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.errors import InvalidInput

LOTS = {
    1: "full-time education",
    2: "part-time education",
    3: "bespoke provision",
    4: "support for post-16 education and preparation for adulthood",
}

COUNCIL_TIMEZONE = ZoneInfo("Europe/London")


def check_lot(lot: int) -> int:
    if isinstance(lot, bool) or lot not in LOTS:
        raise InvalidInput(f"lot {lot!r} is not a lot of the DPS (1 to 4)", field="lot")
    return lot


def check_aware(moment: datetime, field: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidInput("must be a date and time with a time zone", field=field)
    return moment


def council_date(now: datetime) -> date:
    """The day it is at the council: "today" is a London day, not a UTC one."""
    if now.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return now.astimezone(COUNCIL_TIMEZONE).date()


def required_text(value: object, field: str, what: str) -> str:
    """Stripped text, or a refusal naming the field."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} is required", field=field)
    return value.strip()

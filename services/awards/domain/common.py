"""Small things every awards rule needs: lots, roles, the council's date,
and a refusal that lists several reasons against one field."""

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

EVALUATOR = "evaluator"
"""The role that may score and moderate mini-competition bids."""

COUNCIL_TIMEZONE = ZoneInfo("Europe/London")


def check_lot(lot: int) -> int:
    if lot not in LOTS:
        raise InvalidInput(f"lot {lot!r} is not a lot of the DPS (1 to 4)", field="lot")
    return lot


def council_date(now: datetime) -> date:
    """The day it is at the council: a standstill counts London days, not UTC ones."""
    if now.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return now.astimezone(COUNCIL_TIMEZONE).date()


def refuse(field: str, summary: str, reasons: list[str]) -> InvalidInput:
    """An InvalidInput naming `field` with each reason listed separately."""
    error = InvalidInput(f"{summary}: {'; '.join(reasons)}", errors={field: list(reasons)})
    error.field = field
    return error

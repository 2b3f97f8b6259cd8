"""How the portal shows dates and amounts: the council's form (`7 December 2026`, `£1,234.50`)."""

from __future__ import annotations

from datetime import date, datetime

from shared.calendar import council_date


def pounds(pence) -> str:
    if pence is None or pence == "":
        return ""
    pence = int(pence)
    return f"{'-' if pence < 0 else ''}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


def long_date(value) -> str:
    """An ISO date or time as the council writes it; a time is shown as the council's day."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = council_date(value)
    return f"{value.day} {value:%B %Y}"


FILTERS = {"pounds": pounds, "long_date": long_date}

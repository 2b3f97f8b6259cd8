"""The school calendar the sixth-day deadline counts in, from the settings
(`shared.config.Settings.term_dates`, `closed_dates`, read from):

    DPS_TERM_DATES="2024-09-04:2024-12-20,2025-01-06:2025-04-04"  terms, inclusive
    DPS_CLOSED_DATES="2024-10-25,2025-02-14"                     INSET and other closures

Neither set: working days (Monday to Friday less England and Wales bank
holidays), the default of `shared.calendar`.  Bank holidays and weekends are
never school days whatever the terms say.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from shared.calendar import WORKING_DAYS, Calendar, Term

TERM_DATES, CLOSED_DATES = "DPS_TERM_DATES", "DPS_CLOSED_DATES"


def school_calendar(term_dates: str = "", closed_dates: str = "") -> Calendar:
    """The calendar of these settings; a malformed one raises ValueError naming its variable."""
    return _parse((term_dates or "").strip(), (closed_dates or "").strip())


@lru_cache(maxsize=8)
def _parse(terms_text: str, closed_text: str) -> Calendar:
    if not terms_text and not closed_text:
        return WORKING_DAYS
    try:
        terms = tuple(_term(part) for part in terms_text.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"{TERM_DATES} must be start:end date pairs (YYYY-MM-DD:YYYY-MM-DD), "
                         f"comma separated: {exc}") from None
    try:
        closed = frozenset(date.fromisoformat(part.strip()) for part in closed_text.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"{CLOSED_DATES} must be dates (YYYY-MM-DD), comma separated: {exc}") from None
    return Calendar(closed_dates=closed, terms=tuple(sorted(terms, key=lambda t: t.start)))


def _term(text: str) -> Term:
    start, sep, end = text.strip().partition(":")
    if not sep:
        raise ValueError(f"{text.strip()!r} has no ':' between start and end")
    return Term(date.fromisoformat(start.strip()), date.fromisoformat(end.strip()))

"""Small things every tracking rule needs: lots, the council's date, the
Monday a week commences, who is acting (shared.actor.Actor) and who may see
a placement, rates, and reading a choice."""

from __future__ import annotations

import enum
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TypeVar
from uuid import UUID

from shared.actor import Actor
from shared.calendar import council_date
from shared.catalogue import LOTS, is_lot
from shared.errors import Forbidden, InvalidInput

__all__ = ["LOTS", "Actor", "council_date", "check_lot", "ensure_may_see", "visible_filters", "week_commencing",
           "rate", "below", "parse_choice", "required_text", "active_on"]


RATE_PLACES = Decimal("0.0001")
"""Rates are Decimal fractions (0.7750 is 77.5%) rounded half-up to 4 places."""


def check_lot(lot: int) -> int:
    if not is_lot(lot):
        raise InvalidInput(f"lot {lot!r} is not a lot of the DPS (1 to 4)", field="lot")
    return lot


def active_on(started_on: date | None, end_date: date | None, day: date) -> bool:
    """Started on or before `day` and not ended by it: a placement that ended
    on `day` is no longer active that day (nor is one that never started)."""
    return started_on is not None and started_on <= day and (end_date is None or day < end_date)


def on_roll_on(started_on: date | None, end_date: date | None, day: date) -> bool:
    """In the placement at some time on `day`: started by it and not ended before it.  The AP census
    counts a child whose placement ends on census day (the child was in AP that day); "active" does not."""
    return started_on is not None and started_on <= day and (end_date is None or day <= end_date)


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


def ensure_may_see(actor: Actor, provider_id: UUID, team: str) -> None:
    """Who may see or touch a placement (or its concerns): a provider only its
    own, an officer only their team's; the manager, reporting and the
    service's own processes any.  The one rule: single reads and writes call
    it, lists turn it into filters with `visible_filters`."""
    if actor.is_provider and provider_id != actor.provider_id:
        raise Forbidden("this placement is with another provider")
    if actor.team_scope is not None and team != actor.team_scope:
        raise Forbidden(f"this placement belongs to the {team} team")


def visible_filters(actor: Actor, filters: dict) -> dict:
    """`ensure_may_see` for a list: the filters narrowed to what the actor
    may see (a provider's own, an officer's team's); asking for someone
    else's is refused rather than answered with nothing."""
    filters = dict(filters)
    if actor.is_provider:
        if filters.get("provider_id") not in (None, actor.provider_id):
            raise Forbidden("a provider sees only its own placements", field="provider_id", location="query")
        if filters.get("child_ref") is not None:
            raise Forbidden("only council users look placements up by child", field="child_ref",
                            location="query")
        filters["provider_id"] = actor.provider_id
    if actor.team_scope is not None:
        if filters.get("team") not in (None, actor.team_scope):
            raise Forbidden("an officer sees only their team's placements", field="team", location="query")
        filters["team"] = actor.team_scope
    return filters

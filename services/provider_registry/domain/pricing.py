"""Pricing schedules: per lot, the service lines a provider offers with a
unit, a staffing ratio and a maximum price in whole pence.  Offers may never
exceed the maximum price of the line in force.  Schedules are versioned; a
new version is proposed by the provider with an effective-from date and takes
effect only once the manager approves it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid5

from .common import Refusals, as_member, is_blank, is_whole_number


class Unit(StrEnum):
    HOUR = "hour"
    SESSION = "session"
    DAY = "day"
    WEEK = "week"
    TERM = "term"


# A line keeps its id across schedule versions (docs/events.md), so offers and
# awards priced against it in other services still name the same line.
PRICING_LINE_NAMESPACE = UUID("6f1f6c0e-3c2a-4a0e-9a57-5d1c0e6b7a10")


def pricing_line_id(provider_id: UUID, lot: int, description: str) -> UUID:
    return uuid5(PRICING_LINE_NAMESPACE, f"{provider_id}:{lot}:{description.casefold()}")


# Staff to children: "1:1", "1:4", "2:1" (two staff for one child), or "group".
_RATIO = re.compile(r"[1-9][0-9]?:[1-9][0-9]?")
GROUP = "group"


@dataclass(frozen=True)
class PricingLine:
    description: str
    unit: Unit
    staffing_ratio: str
    maximum_price_pence: int


def pricing_line_problems(line: PricingLine) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if is_blank(line.description):
        problems.append(("description", "a description is required"))
    if as_member(Unit, line.unit) is None:
        units = ", ".join(u.value for u in Unit)
        problems.append(("unit", f"the unit must be one of {units}"))
    ratio = line.staffing_ratio
    if not isinstance(ratio, str) or not (ratio == GROUP or _RATIO.fullmatch(ratio)):
        problems.append(("staffing_ratio", "the staffing ratio must be staff:children such as 1:1 or 1:4, or group"))
    price = line.maximum_price_pence
    if not is_whole_number(price):
        problems.append(("maximum_price_pence", "the maximum price must be in whole pence"))
    elif price <= 0:
        problems.append(("maximum_price_pence", "the maximum price must be more than zero"))
    return problems


def check_pricing_lines(lines: tuple[PricingLine, ...], path: str, refusals: Refusals) -> None:
    """Adds every problem of a lot's lines under `path` (e.g. "lots.1.pricing_lines").

    Lines are known by their description within a lot, so it must be unique
    (ignoring case): offers name the line they price."""
    if not lines:
        refusals.add(path, "at least one pricing line is required")
    seen: set[str] = set()
    for i, line in enumerate(lines):
        for field_name, reason in pricing_line_problems(line):
            refusals.add(f"{path}.{i}.{field_name}", reason)
        key = line.description.strip().casefold() if isinstance(line.description, str) else ""
        if key and key in seen:
            refusals.add(f"{path}.{i}.description", "this description is already used by another line")
        seen.add(key)


class ScheduleStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


@dataclass
class PricingSchedule:
    """One version of a provider's pricing schedule for one lot."""

    lot: int
    version: int
    lines: tuple[PricingLine, ...]
    effective_from: date
    status: ScheduleStatus
    proposed_at: datetime
    decided_at: datetime | None = None
    reason: str | None = None  # why it was rejected
    announced: bool = False  # PricingScheduleEffective recorded

    def in_force_on(self, day: date) -> bool:
        return self.status is ScheduleStatus.APPROVED and self.effective_from <= day

    def line(self, description: str) -> PricingLine | None:
        key = description.strip().casefold()
        return next((line for line in self.lines if line.description.strip().casefold() == key), None)

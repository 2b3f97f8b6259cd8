"""Referrals' own copy of the provider registry.

The service layer keeps it up to date from the registry's events
(membership.*, pricing_schedule.effective, capacity.changed); referrals never
calls that service.  The rules here only read it: who must be invited, and
what an offer may be priced against.  A membership past its end (the DPS term)
counts as removed, whether or not an event said so (`status_on`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from shared.catalogue import FIRST_DPS_ID
from shared.errors import Forbidden


class MembershipStatus(enum.Enum):
    ADMITTED = "admitted"
    SUSPENDED = "suspended"
    REMOVED = "removed"


def status_on(status: str | MembershipStatus, ends_on: date | None, today: date) -> MembershipStatus:
    """The standing of a membership today, as the registry last told us: past its end (ends_on, the last
    day of the DPS term) it counts as removed, event or not."""
    if ends_on is not None and ends_on < today:
        return MembershipStatus.REMOVED
    return MembershipStatus(status)


@dataclass(frozen=True)
class PricingLine:
    """One service line of a provider's pricing schedule for a lot."""

    id: UUID
    description: str
    unit: str
    maximum_price_pence: int
    staffing_ratio: str | None = None  # the registry's word for it; an offer quoting the line takes it


@dataclass(frozen=True)
class Membership:
    """One provider's standing on one lot of one DPS, as the registry last told us."""

    provider_id: UUID
    lot: int
    status: MembershipStatus
    pricing_lines: tuple[PricingLine, ...] = ()
    capacity: int = 0
    dps_id: UUID = FIRST_DPS_ID

    @property
    def in_good_standing(self) -> bool:
        """Admitted and not suspended: may be invited and may make offers."""
        return self.status is MembershipStatus.ADMITTED

    def pricing_line(self, line_id: UUID) -> PricingLine | None:
        return next((line for line in self.pricing_lines if line.id == line_id), None)


def eligible_providers(memberships: Iterable[Membership], lot: int, dps_id: UUID = FIRST_DPS_ID
                       ) -> tuple[UUID, ...]:
    """Every provider admitted and not suspended on the DPS's lot: no one may be left out.

    Sorted, so the invited list does not depend on the order the registry's
    events arrived in.
    """
    return tuple(sorted({m.provider_id for m in memberships
                         if m.lot == lot and m.dps_id == dps_id and m.in_good_standing}, key=str))


def is_member(memberships: Iterable[Membership]) -> bool:
    """Still a member of some lot (admitted or suspended): removed from every lot, or past the end of
    every membership, it is not."""
    return any(m.status is not MembershipStatus.REMOVED for m in memberships)


def require_member(memberships: Iterable[Membership]) -> None:
    """What only a member may do (register or rotate a webhook): refused once removed from every lot."""
    if not is_member(memberships):
        raise Forbidden("your organisation's membership of every lot has been removed or has ended (or it was "
                        "never admitted): it can no longer register a webhook or rotate its secret",
                        field="provider_id")

"""Awards' own copy of what the provider registry and tracking told it.

The service layer keeps these up to date from events (membership.*,
pricing_schedule.effective, capacity.changed, provider.registration_changed)
and counts places in use as its own awards and block allocations less those
tracking says have ended (placement.ended); the rules below only read them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from .common import Authority

MEMBERS_ONLY = Authority("PCR 2015 regulation 34 (Procurement Act 2023 section 34 for a dynamic market): "
                         "work under the DPS goes only to a provider admitted to it", law=True)
NOT_WHILE_SUSPENDED = Authority("the DPS terms: a suspended provider is awarded no work and given no place",
                                law=False)


class MembershipStatus(enum.Enum):
    ADMITTED = "admitted"
    SUSPENDED = "suspended"
    REMOVED = "removed"


class RegistrationStatus(enum.Enum):
    REGISTERED_SCHOOL = "registered_school"
    UNREGISTERED = "unregistered"


@dataclass(frozen=True)
class ProviderOnLot:
    """One provider's standing on one lot, as the registry last told us."""

    provider_id: UUID
    lot: int
    membership: MembershipStatus
    registration: RegistrationStatus
    maximum_prices: Mapping[UUID, int] = field(default_factory=dict)  # pricing line id -> pence
    capacity: int = 0  # places declared on this lot

    @property
    def can_be_awarded(self) -> bool:
        """Admitted and not suspended: the only standing that may win work."""
        return self.membership is MembershipStatus.ADMITTED


def standing_refusal(standing: ProviderOnLot | None, lot: int) -> str | None:
    """Why a provider may not be awarded work or a place on `lot` now, naming
    the rule (a block contract, a block place); None when it may."""
    if standing is None:
        return f"the provider is not admitted to lot {lot} ({MEMBERS_ONLY})"
    if standing.membership is MembershipStatus.REMOVED:
        return f"the provider was removed from lot {lot} ({MEMBERS_ONLY})"
    if standing.membership is MembershipStatus.SUSPENDED:
        return f"the provider is suspended on lot {lot} ({NOT_WHILE_SUSPENDED})"
    return None


@dataclass(frozen=True)
class Registry:
    """Every provider's standing on every lot it has applied to."""

    entries: tuple[ProviderOnLot, ...] = ()

    def __post_init__(self) -> None:
        # Ranking looks up every offer's provider: a dict keeps that O(1), not O(providers).
        object.__setattr__(self, "_by_key", {(e.provider_id, e.lot): e for e in self.entries})

    @classmethod
    def of(cls, entries: Iterable[ProviderOnLot]) -> Registry:
        return cls(tuple(entries))

    def on_lot(self, provider_id: UUID, lot: int) -> ProviderOnLot | None:
        return self._by_key.get((provider_id, lot))

    def admitted_on(self, lot: int) -> frozenset[UUID]:
        """Who must be invited to anything on this lot: no one may be left out."""
        return frozenset(e.provider_id for e in self.entries if e.lot == lot and e.can_be_awarded)


@dataclass(frozen=True)
class PlacesInUse:
    """Placements running now: per provider and lot against its capacity, and
    per provider the children it has full-time (for the registration rule)."""

    active: Mapping[tuple[UUID, int], int] = field(default_factory=dict)
    full_time_children: Mapping[UUID, int] = field(default_factory=dict)

    def active_on(self, provider_id: UUID, lot: int) -> int:
        return self.active.get((provider_id, lot), 0)

    def full_time_at(self, provider_id: UUID) -> int:
        return self.full_time_children.get(provider_id, 0)

"""A confirmed block contract: a number of places a provider holds for the
council, allocated to referred children directly, without a call-off."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from shared.errors import Conflict, InvalidInput, NotFound

from .common import council_date
from .events import BlockPlaceAllocated


@dataclass(frozen=True)
class PlaceAllocation:
    referral_id: UUID
    allocated_by: UUID
    at: datetime


@dataclass
class BlockContract:
    contract_id: UUID
    opportunity_id: UUID
    provider_id: UUID
    lot: int
    places: int
    price_pence: int
    contract_start: date
    contract_end: date
    allocations: dict[UUID, PlaceAllocation] = field(default_factory=dict)  # by referral
    version: int = 0
    events: list = field(default_factory=list)

    @property
    def places_left(self) -> int:
        return self.places - len(self.allocations)

    def allocate_place(self, referral_id: UUID, *, referral_lot: int, allocated_by: UUID,
                       now: datetime) -> PlaceAllocation:
        if referral_lot != self.lot:
            raise InvalidInput(f"the referral is for lot {referral_lot}; this contract's places are on "
                               f"lot {self.lot}", field="referral_id")
        if council_date(now) > self.contract_end:
            raise Conflict(f"the contract ended on {self.contract_end.isoformat()}")
        if referral_id in self.allocations:
            raise Conflict("this referral already has a place of this contract")
        if self.places_left <= 0:
            raise Conflict(f"all {self.places} places of this contract are taken")
        allocation = PlaceAllocation(referral_id, allocated_by, now)
        self.allocations[referral_id] = allocation
        self.version += 1
        self.events.append(BlockPlaceAllocated(self.contract_id, self.provider_id, self.lot, referral_id,
                                               self.places_left, allocated_by, now))
        return allocation

    def release_place(self, referral_id: UUID) -> None:
        """The placement ended (tracking told us): the place can be given again."""
        if self.allocations.pop(referral_id, None) is None:
            raise NotFound("this referral holds no place of this contract")
        self.version += 1

"""A confirmed block contract: a number of places a provider holds for the
council, allocated to referred children directly, without a call-off.

A place follows the call-off standing rules: it is given only while the
provider is admitted and not suspended on the lot, and only if the
registration rule holds for the child placed (registration.py, the one
function call-offs ask too)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from shared.errors import Conflict, InvalidInput, NotFound

from .calloffs import Referral, ReferralState
from .common import council_date
from .events import BlockPlaceAllocated
from .registration import DEFAULT_RULES, RegistrationRules, registration_breaches
from .registry import PlacesInUse, ProviderOnLot, standing_refusal


@dataclass
class PlaceAllocation:
    """One place of a block given to a referred child (a record: never changed once made)."""

    referral_id: UUID
    allocated_by: str
    at: datetime
    allocation_id: UUID = field(default_factory=uuid.uuid4)
    placement_id: UUID = field(default_factory=uuid.uuid4)  # the placement tracking will follow
    start_date: date | None = None
    weeks: int | None = None
    cost_pence: int = 0
    # the child's facts the placement carries, as referrals gave them
    team: str = ""
    hours_per_week: Decimal = Decimal(0)
    full_time: bool = False
    # the block's, kept beside each place so places in use are counted per provider and lot
    provider_id: UUID | None = None
    lot: int | None = None


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
    allocations: dict[UUID, PlaceAllocation] = field(default_factory=dict)  # places in use, by referral
    confirmed_by: str = ""
    confirmed_at: datetime | None = None
    version: int = 0
    events: list = field(default_factory=list)

    @property
    def places_left(self) -> int:
        return self.places - len(self.allocations)

    @property
    def cost_per_place(self) -> int:
        """One place's share of the block price (pence, rounded down)."""
        return self.price_pence // self.places

    def allocate_place(self, referral: Referral, *, allocated_by: str, now: datetime,
                       standing: ProviderOnLot | None, places: PlacesInUse,
                       start_date: date | None = None, allocation_id: UUID | None = None,
                       placement_id: UUID | None = None,
                       rules: RegistrationRules = DEFAULT_RULES) -> PlaceAllocation:
        """Give a referred child one of the block's places; the child starts no
        earlier than the contract does.  `standing` is the provider's on the
        contract's lot now, `places` its placements running now (for the
        registration rule, with the council's `rules`)."""
        self._check_can_allocate(referral, now)
        start = start_date or max(referral.start_date or council_date(now), self.contract_start)
        self._check_standing(referral, standing, places, rules, start)
        if not self.contract_start <= start <= self.contract_end:
            raise InvalidInput(f"the place must start within the contract, {self.contract_start.isoformat()} "
                               f"to {self.contract_end.isoformat()}", field="start_date")
        allocation = PlaceAllocation(referral.referral_id, allocated_by, now, allocation_id or uuid.uuid4(),
                                     placement_id or uuid.uuid4(), start, referral.expected_weeks,
                                     self.cost_per_place, referral.team, referral.hours_per_week,
                                     referral.full_time, self.provider_id, self.lot)
        self.allocations[referral.referral_id] = allocation
        self.version += 1
        self.events.append(BlockPlaceAllocated(
            contract_id=self.contract_id, allocation_id=allocation.allocation_id,
            placement_id=allocation.placement_id, referral_id=referral.referral_id,
            provider_id=self.provider_id, lot=self.lot, team=referral.team, child_ref=referral.child_ref,
            reason_for_ap=referral.reason_for_ap, hours_per_week=referral.hours_per_week, start_date=start,
            weeks=allocation.weeks, cost_pence=allocation.cost_pence, full_time=referral.full_time,
            places_left=self.places_left, allocated_by=allocated_by, at=now))
        return allocation

    def _check_can_allocate(self, referral: Referral, now: datetime) -> None:
        if referral.state is not ReferralState.CLOSED:
            raise Conflict(f"the referral is {referral.state.value}: only a closed referral can take a place",
                           field="referral_id")
        if referral.lot != self.lot:
            raise InvalidInput(f"the referral is for lot {referral.lot}; this contract's places are on "
                               f"lot {self.lot}", field="referral_id")
        if council_date(now) > self.contract_end:
            raise Conflict(f"the contract ended on {self.contract_end.isoformat()}")
        if referral.referral_id in self.allocations:
            raise Conflict("this referral already has a place of this contract", field="referral_id")
        if self.places_left <= 0:
            raise Conflict(f"all {self.places} places of this contract are taken")

    def _check_standing(self, referral: Referral, standing: ProviderOnLot | None, places: PlacesInUse,
                        rules: RegistrationRules, start: date) -> None:
        refusal = standing_refusal(standing, self.lot)
        if refusal is not None:
            raise Conflict(f"no place can be given now: {refusal}", field="contract_id")
        breaches = registration_breaches(referral.pupil(), standing.setting, places.pupils_at(self.provider_id),
                                         rules, start)
        if breaches:  # each names its rule and whether it is law or the council's policy
            raise Conflict(f"this child cannot take a place with this provider: "
                           f"{'; '.join(str(b) for b in breaches)}", field="referral_id")

    def release_place(self, referral_id: UUID) -> None:
        """The placement ended (tracking told us): the place can be given again."""
        if self.allocations.pop(referral_id, None) is None:
            raise NotFound("this referral holds no place of this contract")
        self.version += 1

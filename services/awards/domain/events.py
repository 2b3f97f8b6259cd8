"""What awards tells the world.  Names match shared/catalogue.py
(`placement.awarded` -> PlacementAwarded); the service layer turns them into
outbox messages on `dps.awards`.  No child's identity: a child is only `child_ref`, an opaque id.

Some events are for the audit trail only (a ranking made, a bid, a score):
what becomes of each, on the wire and in the trail, is services/awards/messages.py.
Fields marked `compare=False` are what the audit trail records beside the wire's data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class PlacementAwarded:
    award_id: UUID
    placement_id: UUID
    referral_id: UUID
    offer_id: UUID
    provider_id: UUID
    lot: int
    team: str
    child_ref: UUID | None  # opaque: tracking applies one provider at a time per child
    reason_for_ap: str
    pricing_line_id: UUID
    unit_price_pence: int
    units_per_week: Decimal
    hours_per_week: Decimal
    weeks: int
    total_pence: int
    start_date: date
    full_time: bool
    override_reason: str | None  # set when the top-ranked offer was passed over: the officer's words
    awarded_by: str
    at: datetime
    override_reason_code: str | None = None  # and the published award criterion it was passed over for
    standstill_ends_on: date | None = None  # the standstill's last day (None: none): no start until after it
    ranking: Any = field(default=None, compare=False, repr=False)  # the Ranking the award was made from


@dataclass(frozen=True)
class OfferUnsuccessful:
    """An offer on a referral (referral_id set) or a bid in a mini-competition
    (opportunity_id set) did not win; `reason` is what the provider is told."""

    offer_id: UUID
    provider_id: UUID
    reason: str
    at: datetime
    referral_id: UUID | None = None
    opportunity_id: UUID | None = None
    rank: int | None = None  # among the eligible; None when not eligible
    winner_provider_id: UUID | None = None
    standstill_ends_on: date | None = None  # a call-off's standstill's last day, where there is one


@dataclass(frozen=True)
class NoEligibleOffers:
    """A closed referral's offers were ranked and none may be awarded: the officer must move the child on."""

    referral_id: UUID
    dps_id: UUID
    offers: tuple[tuple[UUID, UUID, tuple[str, ...]], ...]  # offer id, provider id, the reasons against it
    at: datetime


@dataclass(frozen=True)
class BlockContractAwarded:
    opportunity_id: UUID
    bid_id: UUID
    provider_id: UUID
    lot: int
    places: int
    price_pence: int
    contract_start: date
    contract_end: date
    standstill_ends_on: date  # last day of standstill; confirmation from the day after
    awarded_by: str
    at: datetime
    evaluation: Any = field(default=None, compare=False, repr=False)  # the Evaluation the award was made from


@dataclass(frozen=True)
class BlockContractConfirmed:
    contract_id: UUID
    opportunity_id: UUID
    provider_id: UUID
    lot: int
    places: int
    price_pence: int
    contract_start: date
    contract_end: date
    confirmed_by: str
    at: datetime
    team: str | None = None  # the commissioning team that ran the mini-competition (None: the manager)


@dataclass(frozen=True)
class BlockPlaceAllocated:
    contract_id: UUID
    allocation_id: UUID
    placement_id: UUID
    referral_id: UUID
    provider_id: UUID
    lot: int
    team: str
    child_ref: UUID | None
    reason_for_ap: str
    hours_per_week: Decimal
    start_date: date
    weeks: int | None
    cost_pence: int  # this place's share of the block price
    full_time: bool
    places_left: int
    allocated_by: str
    at: datetime


# --- for the audit trail only


@dataclass(frozen=True)
class RankingMade:
    """An officer looked at the ranking of a closed referral's offers."""

    ranking: Any  # Ranking


@dataclass(frozen=True)
class OpportunityCreated:
    """A mini-competition published: every provider invited hears of it (mini_competition.published)."""

    opportunity_id: UUID
    team: str | None
    terms: Any  # OpportunityTerms
    invited: frozenset[UUID]
    at: datetime


@dataclass(frozen=True)
class BidSubmitted:
    """Sealed: who bid and when, never the price."""

    opportunity_id: UUID
    bid_id: UUID
    provider_id: UUID
    at: datetime


@dataclass(frozen=True)
class BidWithdrawn:
    opportunity_id: UUID
    bid_id: UUID
    at: datetime


@dataclass(frozen=True)
class InterestDeclared:
    """An evaluator declared no conflict of interest, or a conflict (the
    details stay on the declaration, not in the trail)."""

    opportunity_id: UUID
    evaluator_id: str
    conflict: bool
    scores_withdrawn: int
    at: datetime


@dataclass(frozen=True)
class ScoreRecorded:
    opportunity_id: UUID
    bid_id: UUID
    criterion: str
    score: int
    reason: str
    at: datetime


@dataclass(frozen=True)
class ScoreModerated:
    opportunity_id: UUID
    bid_id: UUID
    criterion: str
    score: int
    reason: str
    evaluator_scores: dict[str, int]  # the independent scores it was agreed from
    at: datetime


@dataclass(frozen=True)
class OffDpsPlacementApproved:
    """The manager approved an off-DPS exception: a placement tracking follows (source off_dps)."""

    placement_id: UUID
    referral_id: UUID
    dps_id: UUID
    provider_id: UUID  # the off-DPS provider's own id (off_dps.off_dps_provider_id), never a registry one
    provider_name: str
    setting_kind: str
    urn: str | None
    ukprn: str | None
    lot: int
    team: str
    child_ref: UUID | None
    reason_for_ap: str
    hours_per_week: Decimal
    full_time: bool
    start_date: date
    weeks: int
    weekly_cost_pence: int
    total_pence: int
    approved_by: str
    at: datetime


@dataclass(frozen=True)
class OffDpsPlacementRefused:
    """The manager refused an off-DPS exception, with a reason (the audit trail only)."""

    referral_id: UUID
    reason: str
    refused_by: str
    at: datetime

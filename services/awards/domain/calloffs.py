"""Individual placements (call-offs): rank a closed referral's offers, then award.

The placement goes to the best value for money among eligible offers.  An
offer is eligible when it meets the child's needs (the officer's assessment),
its provider is admitted and not suspended on the lot now, its unit price is
within the maximum of its pricing line, the provider has a place free, and the
registration rule holds.  Eligible offers rank by total cost, then earliest
start, then earliest submission (then offer id, so the order never depends on
the order offers arrived in).  The officer awards the top offer, or another
eligible offer only with a recorded reason; the award keeps the ranking.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, InvalidInput

from .common import check_lot, refuse
from .events import OfferUnsuccessful, PlacementAwarded, RankingMade
from .registration import registration_breaches
from .registry import MembershipStatus, PlacesInUse, ProviderOnLot, Registry


class ReferralState(enum.Enum):
    PUBLISHED = "published"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Referral:
    """What awards needs of a referral: never the child's identity."""

    referral_id: UUID
    lot: int
    hours_per_week: Decimal
    has_ehcp: bool
    looked_after: bool
    full_time: bool  # as the referrals service decided it: trusted here, never recomputed
    state: ReferralState = ReferralState.CLOSED
    # Carried onto the placement (tracking needs them); child_ref is an opaque id, never an identity.
    team: str = ""
    child_ref: UUID | None = None
    reason_for_ap: str = ""
    start_date: date | None = None
    expected_weeks: int | None = None
    dps_id: UUID = FIRST_DPS_ID  # the DPS the referral was published under

    def __post_init__(self) -> None:
        check_lot(self.lot)


@dataclass
class Offer:
    offer_id: UUID
    provider_id: UUID
    pricing_line_id: UUID
    unit_price_pence: int
    units_per_week: Decimal
    weeks: int
    total_pence: int
    start_date: date
    submitted_at: datetime
    meets_needs: bool | None  # the officer's assessment; None until assessed
    needs_reason: str = ""


class Rule(enum.Enum):
    """The tests an offer must pass to be eligible."""

    MEETS_NEEDS = "meets_needs"
    MEMBERSHIP = "membership"
    PRICE = "price"
    CAPACITY = "capacity"
    REGISTRATION = "registration"


@dataclass(frozen=True)
class Reason:
    rule: Rule
    message: str


# --- eligibility: one small check per rule, each giving every reason it finds


def _needs(offer: Offer) -> list[Reason]:
    if offer.meets_needs is None:
        return [Reason(Rule.MEETS_NEEDS, "the officer has not recorded whether it meets the needs")]
    if not offer.meets_needs:
        because = f": {offer.needs_reason}" if offer.needs_reason else ""
        return [Reason(Rule.MEETS_NEEDS, f"does not meet the child's needs{because}")]
    return []


def _membership(standing: ProviderOnLot | None, lot: int) -> list[Reason]:
    if standing is None:
        return [Reason(Rule.MEMBERSHIP, f"the provider is not a member of lot {lot}")]
    if standing.membership is MembershipStatus.SUSPENDED:
        return [Reason(Rule.MEMBERSHIP, f"the provider is suspended on lot {lot}")]
    if standing.membership is MembershipStatus.REMOVED:
        return [Reason(Rule.MEMBERSHIP, f"the provider was removed from lot {lot}")]
    return []


def _price(offer: Offer, standing: ProviderOnLot) -> list[Reason]:
    maximum = standing.maximum_prices.get(offer.pricing_line_id)
    if maximum is None:
        return [Reason(Rule.PRICE, "the pricing line is not in the provider's pricing schedule for this lot")]
    if offer.unit_price_pence > maximum:
        return [Reason(Rule.PRICE, f"above the maximum price of {maximum} pence for this line")]
    return []


def _capacity(standing: ProviderOnLot, places: PlacesInUse) -> list[Reason]:
    in_use = places.active_on(standing.provider_id, standing.lot)
    if standing.capacity - in_use <= 0:
        return [Reason(Rule.CAPACITY, f"no place free: capacity {standing.capacity}, {in_use} in use")]
    return []


def _registration(referral: Referral, standing: ProviderOnLot, places: PlacesInUse) -> list[Reason]:
    return [Reason(Rule.REGISTRATION, why) for why in registration_breaches(referral, standing, places)]


def reasons_against(offer: Offer, referral: Referral, registry: Registry,
                    places: PlacesInUse) -> tuple[Reason, ...]:
    """Every reason the offer cannot be awarded; empty when it is eligible.

    With no standing on the lot at all, only membership can be judged: there is
    no schedule, capacity or registration status to test against.
    """
    standing = registry.on_lot(offer.provider_id, referral.lot)
    reasons = _needs(offer) + _membership(standing, referral.lot)
    if standing is not None:
        reasons += _price(offer, standing) + _capacity(standing, places)
        reasons += _registration(referral, standing, places)
    return tuple(reasons)


# --- ranking


@dataclass(frozen=True)
class RankedOffer:
    offer: Offer
    reasons: tuple[Reason, ...]
    rank: int | None  # 1 is the best value; None when not eligible

    @property
    def eligible(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class Ranking:
    """Eligible offers in rank order, then the ineligible ones, unranked."""

    referral_id: UUID
    lot: int
    made_at: datetime
    entries: tuple[RankedOffer, ...]

    @property
    def eligible(self) -> tuple[RankedOffer, ...]:
        return tuple(e for e in self.entries if e.eligible)

    @property
    def top(self) -> RankedOffer | None:
        return next(iter(self.eligible), None)

    def entry(self, offer_id: UUID) -> RankedOffer | None:
        return next((e for e in self.entries if e.offer.offer_id == offer_id), None)


def _best_value_first(offer: Offer) -> tuple:
    return (offer.total_pence, offer.start_date, offer.submitted_at, offer.offer_id)


def rank_offers(referral: Referral, offers: Iterable[Offer], registry: Registry,
                places: PlacesInUse, now: datetime) -> Ranking:
    judged = [(offer, reasons_against(offer, referral, registry, places)) for offer in offers]
    eligible = sorted((o for o, r in judged if not r), key=_best_value_first)
    ranked = [RankedOffer(offer, (), rank) for rank, offer in enumerate(eligible, start=1)]
    ineligible = sorted(((o, r) for o, r in judged if r), key=lambda pair: (pair[0].submitted_at, pair[0].offer_id))
    ranked += [RankedOffer(offer, reasons, None) for offer, reasons in ineligible]
    return Ranking(referral.referral_id, referral.lot, now, tuple(ranked))


# --- the award


@dataclass
class Award:
    award_id: UUID
    referral_id: UUID
    offer: Offer
    ranking: Ranking  # the snapshot the decision was made from
    override_reason: str | None
    awarded_by: str  # the officer's sub (token subject)
    at: datetime
    placement_id: UUID = field(default_factory=uuid.uuid4)  # the placement tracking will follow


class CallOff:
    """One referral's call-off: its offers and, once made, its single award.

    `version` goes up with every change.  The service layer makes the second
    of two officers pressing award at once wait on the referral's row and then
    find the award made; a unique referral id on the stored awards stands
    behind that.
    """

    def __init__(self, referral: Referral, offers: Iterable[Offer], award: Award | None = None,
                 version: int = 0) -> None:
        self.referral = referral
        self.offers = list(offers)
        self.award_made = award
        self.version = version
        self.events: list = []

    def rank(self, registry: Registry, places: PlacesInUse, now: datetime) -> Ranking:
        """The offers ranked on the registry as it is now (the audit trail keeps it)."""
        ranking = rank_offers(self.referral, self.offers, registry, places, now)
        self.events.append(RankingMade(ranking))
        return ranking

    def award(self, offer_id: UUID, *, awarded_by: str, registry: Registry, places: PlacesInUse,
              now: datetime, reason: str | None = None, award_id: UUID | None = None,
              placement_id: UUID | None = None) -> Award:
        """Award the placement to `offer_id`, ranked afresh from the registry as it is now."""
        self._check_can_award()
        ranking = rank_offers(self.referral, self.offers, registry, places, now)
        chosen = ranking.entry(offer_id)
        if chosen is None:
            raise InvalidInput("this is not an offer on this referral", field="offer_id")
        if not chosen.eligible:
            raise refuse("offer_id", "this offer is not eligible", [r.message for r in chosen.reasons])
        reason = (reason or "").strip() or None
        if chosen.rank != 1 and reason is None:
            raise InvalidInput("an offer other than the top-ranked one may be awarded only with a "
                               "recorded reason", field="reason")
        self.award_made = Award(award_id or uuid.uuid4(), self.referral.referral_id, chosen.offer,
                                ranking, reason if chosen.rank != 1 else None, awarded_by, now,
                                placement_id or uuid.uuid4())
        self.version += 1
        self._record_award(self.award_made)
        return self.award_made

    def _check_can_award(self) -> None:
        if self.award_made is not None:
            raise Conflict("a placement has already been awarded for this referral", field="referral_id")
        if self.referral.state is ReferralState.CANCELLED:
            raise Conflict("the referral was cancelled", field="referral_id")
        if self.referral.state is not ReferralState.CLOSED:
            raise Conflict("the referral is not closed: offers are evaluated once the window closes",
                           field="referral_id")

    def _record_award(self, award: Award) -> None:
        offer, referral = award.offer, self.referral
        self.events.append(PlacementAwarded(
            award_id=award.award_id, placement_id=award.placement_id, referral_id=referral.referral_id,
            offer_id=offer.offer_id, provider_id=offer.provider_id, lot=referral.lot, team=referral.team,
            child_ref=referral.child_ref, reason_for_ap=referral.reason_for_ap,
            pricing_line_id=offer.pricing_line_id, unit_price_pence=offer.unit_price_pence,
            units_per_week=offer.units_per_week, hours_per_week=referral.hours_per_week, weeks=offer.weeks,
            total_pence=offer.total_pence, start_date=offer.start_date, full_time=referral.full_time,
            override_reason=award.override_reason, awarded_by=award.awarded_by, at=award.at,
            ranking=award.ranking))
        eligible_count = len(award.ranking.eligible)
        for entry in award.ranking.entries:
            if entry.offer.offer_id == offer.offer_id:
                continue
            if entry.eligible:
                why = f"ranked {entry.rank} of {eligible_count} eligible offers; another offer was awarded"
            else:
                why = "not eligible: " + "; ".join(r.message for r in entry.reasons)
            self.events.append(OfferUnsuccessful(entry.offer.offer_id, entry.offer.provider_id, why,
                                                 award.at, referral_id=referral.referral_id))

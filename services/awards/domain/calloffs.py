"""Individual placements (call-offs): rank a closed referral's offers, then award.

The placement goes to the best value for money among eligible offers.  An
offer is eligible when it meets the child's needs (the officer's assessment),
its provider is admitted and not suspended on the lot now, its unit price is
within the maximum of its pricing line, the provider has a place free, and the
registration rule holds.  Eligible offers rank like for like: by their cost at
the volume the referral asked for (`cost_at_volume`: its hours a week and
weeks, at each offer's unit price), never one offer's own total against
another's; then earliest start, then earliest submission (then offer id, so the
order never depends on the order offers arrived in).  The officer awards the
top offer, or another eligible offer only for one of the DPS's published award
criteria, with words; the award keeps the ranking.  No call-off is awarded
after the DPS's last day (`DpsRecord.check_may_award`).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, InvalidInput

from .common import check_lot, council_date, refuse
from .events import NoEligibleOffers, OfferUnsuccessful, PlacementAwarded, RankingMade
from .registration import DEFAULT_RULES, Pupil, RegistrationRules, registration_breaches
from .registry import (
    AwardCriterion,
    DpsRecord,
    MembershipStatus,
    PlacesInUse,
    ProviderOnLot,
    Registry,
)


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
    # The registration rule's facts, as referrals decided them (never the date of birth): of compulsory
    # school age on the placement's start date; special educational needs.
    compulsory_school_age: bool = True
    has_sen: bool = False

    def __post_init__(self) -> None:
        check_lot(self.lot)

    def pupil(self) -> Pupil:
        """The child as the registration rule sees it."""
        return Pupil(self.hours_per_week, self.compulsory_school_age, self.has_ehcp, self.looked_after, self.has_sen)


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


def _registration(referral: Referral, standing: ProviderOnLot, places: PlacesInUse,
                  rules: RegistrationRules) -> list[Reason]:
    breaches = registration_breaches(referral.pupil(), standing.setting, places.pupils_at(standing.provider_id),
                                     rules, referral.start_date)
    return [Reason(Rule.REGISTRATION, str(b)) for b in breaches]


def reasons_against(offer: Offer, referral: Referral, registry: Registry,
                    places: PlacesInUse, rules: RegistrationRules = DEFAULT_RULES) -> tuple[Reason, ...]:
    """Every reason the offer cannot be awarded; empty when it is eligible.

    With no standing on the lot at all, only membership can be judged: there is
    no schedule, capacity or registration status to test against.
    """
    standing = registry.on_lot(offer.provider_id, referral.lot)
    reasons = _needs(offer) + _membership(standing, referral.lot)
    if standing is not None:
        reasons += _price(offer, standing) + _capacity(standing, places)
        reasons += _registration(referral, standing, places, rules)
    return tuple(reasons)


# --- ranking


HOURLY = "hour"
"""The pricing unit whose units a week are the hours themselves."""


@dataclass(frozen=True)
class Volume:
    """What the referral asked for: every offer is costed at it, like for like."""

    hours_per_week: Decimal
    weeks: int

    def describe(self) -> str:
        return f"{self.hours_per_week} hours a week for {self.weeks} weeks"


def requested_volume(referral: Referral, offers: Iterable[Offer]) -> Volume:
    """The referral's hours a week and expected weeks (a referral that gave no
    length is costed at the longest offer's weeks, so no shorter offer gains)."""
    weeks = referral.expected_weeks or max((o.weeks for o in offers), default=1)
    return Volume(referral.hours_per_week, weeks)


def cost_at_volume(offer: Offer, volume: Volume, unit: str | None) -> int:
    """The offer's cost at the volume asked for, at its own unit price, in whole
    pence (half up): an hourly line for the hours a week asked, any other unit
    (session, day, week, term) at the units a week the provider offered for
    those hours; for the weeks asked, whatever weeks the offer ran to."""
    units = volume.hours_per_week if unit == HOURLY else offer.units_per_week
    exact = offer.unit_price_pence * units * volume.weeks
    return int(Decimal(exact).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class RankedOffer:
    offer: Offer
    reasons: tuple[Reason, ...]
    rank: int | None  # 1 is the best value; None when not eligible
    cost_pence: int | None = None  # the offer's cost at the ranking's volume (None in rankings made before it)

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
    volume: Volume | None = None  # what every offer was costed at (None in rankings made before it)

    @property
    def eligible(self) -> tuple[RankedOffer, ...]:
        return tuple(e for e in self.entries if e.eligible)

    @property
    def top(self) -> RankedOffer | None:
        return next(iter(self.eligible), None)

    def entry(self, offer_id: UUID) -> RankedOffer | None:
        return next((e for e in self.entries if e.offer.offer_id == offer_id), None)


def rank_offers(referral: Referral, offers: Iterable[Offer], registry: Registry,
                places: PlacesInUse, now: datetime, rules: RegistrationRules = DEFAULT_RULES) -> Ranking:
    offers = list(offers)
    volume = requested_volume(referral, offers)

    def judged(offer: Offer) -> RankedOffer:
        standing = registry.on_lot(offer.provider_id, referral.lot)
        unit = standing.units.get(offer.pricing_line_id) if standing is not None else None
        return RankedOffer(offer, reasons_against(offer, referral, registry, places, rules), None,
                           cost_at_volume(offer, volume, unit))

    entries = [judged(offer) for offer in offers]
    eligible = sorted((e for e in entries if e.eligible),
                      key=lambda e: (e.cost_pence, e.offer.start_date, e.offer.submitted_at, e.offer.offer_id))
    ranked = [RankedOffer(e.offer, (), rank, e.cost_pence) for rank, e in enumerate(eligible, start=1)]
    ranked += sorted((e for e in entries if not e.eligible), key=lambda e: (e.offer.submitted_at, e.offer.offer_id))
    return Ranking(referral.referral_id, referral.lot, now, tuple(ranked), volume)


# --- the award


@dataclass
class Award:
    award_id: UUID
    referral_id: UUID
    offer: Offer
    ranking: Ranking  # the snapshot the decision was made from
    override_reason: str | None  # the officer's words, when the top-ranked offer was passed over
    awarded_by: str  # the officer's sub (token subject)
    at: datetime
    placement_id: UUID = field(default_factory=uuid.uuid4)  # the placement tracking will follow
    override_reason_code: str | None = None  # the published award criterion it was passed over for
    # The standstill by the DPS's regime (Regime.call_off_standstill): its last day (None: none) and why.
    standstill_ends_on: date | None = None
    standstill_basis: str | None = None


def check_override(dps: DpsRecord, code: str | None, words: str | None) -> tuple[AwardCriterion, str]:
    """Another eligible offer than the top one: only for one of the DPS's
    published award criteria (its code), with the officer's words as well."""
    rule = dps.regime.award_criteria_rule
    published = ", ".join(c.code for c in dps.award_criteria)
    code, words = (code or "").strip(), (words or "").strip()
    if not code:
        raise InvalidInput(f"an offer other than the top-ranked one may be awarded only for one of the award "
                           f"criteria the DPS published ({published}): give its code ({rule})", field="reason_code")
    criterion = dps.criterion(code)
    if criterion is None:
        raise InvalidInput(f"{code!r} is not one of the award criteria the DPS published ({published}) ({rule})",
                           field="reason_code")
    if not words:
        raise InvalidInput(f"say in words why the {criterion.name.lower()} criterion makes this offer the better "
                           f"one for this child (the council's policy: a criterion alone is no reason)",
                           field="reason")
    return criterion, words


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

    def rank(self, registry: Registry, places: PlacesInUse, now: datetime,
             rules: RegistrationRules = DEFAULT_RULES) -> Ranking:
        """The offers ranked on the registry as it is now (the audit trail keeps it).
        None eligible: the officer is told so on the wire, to move the child on."""
        ranking = rank_offers(self.referral, self.offers, registry, places, now, rules)
        self.events.append(RankingMade(ranking))
        if not ranking.eligible:
            self.events.append(NoEligibleOffers(self.referral.referral_id, self.referral.dps_id, tuple(
                (e.offer.offer_id, e.offer.provider_id, tuple(r.message for r in e.reasons))
                for e in ranking.entries), now))
        return ranking

    def award(self, offer_id: UUID, *, awarded_by: str, registry: Registry, places: PlacesInUse,
              now: datetime, dps: DpsRecord, reason: str | None = None, reason_code: str | None = None,
              award_id: UUID | None = None, placement_id: UUID | None = None,
              standstill_used: bool = False, rules: RegistrationRules = DEFAULT_RULES) -> Award:
        """Award the placement to `offer_id`, ranked afresh from the registry as it is now.

        The standstill follows from the DPS's regime (`standstill_used`: the
        council's choice to use the voluntary one under a PCR 2015 DPS).  An offer
        the registration rule refuses is a 409 naming the rule, law or council
        policy (`rules`: the council's settings of it); any other ineligible
        offer a 422."""
        self._check_can_award()
        today = council_date(now)
        dps.check_may_award(today)
        ranking = rank_offers(self.referral, self.offers, registry, places, now, rules)
        chosen = ranking.entry(offer_id)
        if chosen is None:
            raise InvalidInput("this is not an offer on this referral", field="offer_id")
        if any(r.rule is Rule.REGISTRATION for r in chosen.reasons):
            # each reason names its rule and whether it is law or the council's policy
            raise Conflict("this offer cannot be awarded: " + "; ".join(r.message for r in chosen.reasons),
                           field="offer_id")
        if not chosen.eligible:
            raise refuse("offer_id", "this offer is not eligible", [r.message for r in chosen.reasons])
        code = words = None
        if chosen.rank != 1:
            criterion, words = check_override(dps, reason_code, reason)
            code = criterion.code
        standstill = dps.regime.call_off_standstill(today, used=standstill_used)
        self.award_made = Award(award_id or uuid.uuid4(), self.referral.referral_id, chosen.offer,
                                ranking, words, awarded_by, now, placement_id or uuid.uuid4(), code,
                                standstill.ends_on, standstill.basis)
        self.version += 1
        self._record_award(self.award_made, dps)
        return self.award_made

    def _check_can_award(self) -> None:
        if self.award_made is not None:
            raise Conflict("a placement has already been awarded for this referral", field="referral_id")
        if self.referral.state is ReferralState.CANCELLED:
            raise Conflict("the referral was cancelled", field="referral_id")
        if self.referral.state is not ReferralState.CLOSED:
            raise Conflict("the referral is not closed: offers are evaluated once the window closes",
                           field="referral_id")

    def _record_award(self, award: Award, dps: DpsRecord) -> None:
        offer, referral = award.offer, self.referral
        self.events.append(PlacementAwarded(
            award_id=award.award_id, placement_id=award.placement_id, referral_id=referral.referral_id,
            offer_id=offer.offer_id, provider_id=offer.provider_id, lot=referral.lot, team=referral.team,
            child_ref=referral.child_ref, reason_for_ap=referral.reason_for_ap,
            pricing_line_id=offer.pricing_line_id, unit_price_pence=offer.unit_price_pence,
            units_per_week=offer.units_per_week, hours_per_week=referral.hours_per_week, weeks=offer.weeks,
            total_pence=offer.total_pence, start_date=offer.start_date, full_time=referral.full_time,
            override_reason=award.override_reason, awarded_by=award.awarded_by, at=award.at,
            override_reason_code=award.override_reason_code, standstill_ends_on=award.standstill_ends_on,
            ranking=award.ranking))
        for entry in award.ranking.entries:
            if entry.offer.offer_id != offer.offer_id:
                self.events.append(OfferUnsuccessful(
                    entry.offer.offer_id, entry.offer.provider_id, unsuccessful_reason(entry, award, dps), award.at,
                    referral_id=referral.referral_id, rank=entry.rank, winner_provider_id=offer.provider_id,
                    standstill_ends_on=award.standstill_ends_on))


def unsuccessful_reason(entry: RankedOffer, award: Award, dps: DpsRecord) -> str:
    """What an unsuccessful provider is told: its rank at the volume asked for, or why it was not eligible,
    and why the winning offer won; then when the standstill ends, where there is one."""
    return _because(entry, award, dps) + standstill_words(award.standstill_ends_on, award.standstill_basis)


def standstill_words(ends_on: date | None, basis: str | None) -> str:
    """The sentence an unsuccessful bidder is told of the standstill ("" where there is none)."""
    if ends_on is None:
        return ""
    return (f"; the standstill ends at the end of {ends_on.isoformat()} ({basis}): the contract is not entered "
            f"into before {(ends_on + timedelta(days=1)).isoformat()}")


def _because(entry: RankedOffer, award: Award, dps: DpsRecord) -> str:
    if not entry.eligible:
        return "not eligible: " + "; ".join(r.message for r in entry.reasons)
    ranking, won = award.ranking, award.ranking.entry(award.offer.offer_id)
    volume = f" at the volume asked for ({ranking.volume.describe()})" if ranking.volume else ""
    why = f"ranked {entry.rank} of {len(ranking.eligible)} eligible offers{volume}"
    if award.override_reason_code is None:
        return f"{why}; the offer ranked {won.rank} was awarded as the best value"
    criterion = dps.criterion(award.override_reason_code)
    name = criterion.name if criterion is not None else award.override_reason_code
    return (f"{why}; the offer ranked {won.rank} was awarded for the published award criterion "
            f"\"{name}\": {award.override_reason}")

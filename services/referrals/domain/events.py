"""What referrals tells the world.  Names match shared/catalogue.py
(`referral.published` -> ReferralPublished); the service layer turns them
into outbox messages on `dps.referrals`.

No event carries the child's identifying details: the profile travels only
as `ProfileForProviders`.  Offers are sealed until the window closes, so the
offer events carry no terms or prices; `ReferralClosed` carries the offers
with their assessments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from .dps import WindowBasis
from .off_dps import OffDpsDetails
from .offers import Assessment, Decline, OfferTerms
from .profile import ProfileForProviders


@dataclass(frozen=True)
class ReferralPublished:
    referral_id: UUID
    lot: int
    profile: ProfileForProviders
    invited: tuple[UUID, ...]
    no_eligible_providers: bool  # published to an empty lot: see Referral.publish
    by: UUID
    at: datetime
    dps_id: UUID
    window_basis: WindowBasis
    republished_from: UUID | None = None


@dataclass(frozen=True)
class OfferSubmitted:
    referral_id: UUID
    offer_id: UUID
    provider_id: UUID
    lot: int
    unit_price_pence: int  # for the audit trail: the message carries no price (offers are sealed)
    total_pence: int
    at: datetime


@dataclass(frozen=True)
class OfferChanged:
    referral_id: UUID
    offer_id: UUID
    provider_id: UUID
    lot: int
    unit_price_pence: int
    total_pence: int
    at: datetime


@dataclass(frozen=True)
class OfferWithdrawn:
    referral_id: UUID
    offer_id: UUID
    provider_id: UUID
    lot: int
    at: datetime


@dataclass(frozen=True)
class OfferDeclined:
    referral_id: UUID
    provider_id: UUID
    lot: int
    reason: str
    at: datetime


@dataclass(frozen=True)
class AssessedOffer:
    """One live offer as it stood at the deadline, with the officer's assessment."""

    offer_id: UUID
    provider_id: UUID
    terms: OfferTerms
    total_pence: int
    maximum_price_pence: int
    submitted_at: datetime
    changed_at: datetime | None
    assessment: Assessment


@dataclass(frozen=True)
class ReferralClosed:
    """Recorded when the officer completes the assessment of a closed referral
    (the window closed at `window_closed_at`): everything awards needs."""

    referral_id: UUID
    lot: int
    profile: ProfileForProviders
    invited: tuple[UUID, ...]
    offers: tuple[AssessedOffer, ...]
    declines: tuple[Decline, ...]
    no_suitable_offer: bool
    window_closed_at: datetime
    by: UUID
    at: datetime
    dps_id: UUID
    window_basis: WindowBasis | None
    first_school_day: date | None = None  # school day 1 of the sixth-day duty (the deadline is the profile's)


@dataclass(frozen=True)
class ReferralCancelled:
    referral_id: UUID
    lot: int
    invited: tuple[UUID, ...]  # empty when cancelled as a draft: no provider ever saw it
    reason: str
    by: UUID
    at: datetime
    dps_id: UUID
    republished_as: UUID | None = None


@dataclass(frozen=True)
class OffDpsExceptionRecorded:
    referral_id: UUID
    lot: int
    team: str
    reason: str
    by: UUID
    at: datetime
    # What the message carries beside (not part of the event's identity):
    details: OffDpsDetails | None = field(default=None, compare=False)  # the provider, the terms, the checks
    profile: ProfileForProviders | None = field(default=None, compare=False)  # the child's facts, never who
    dps_id: UUID | None = field(default=None, compare=False)


# --- what is recorded in the audit trail only (nothing is published) ----------------

@dataclass(frozen=True)
class ReferralCreated:
    referral_id: UUID
    lot: int
    team: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ReferralRevised:
    referral_id: UUID
    changed: tuple[str, ...]  # the parts of the form given: lot, child, profile, deadline, exclusion_start
    by: str
    at: datetime


@dataclass(frozen=True)
class QuestionAdded:
    referral_id: UUID
    question_id: UUID


@dataclass(frozen=True)
class QuestionRemoved:
    referral_id: UUID
    question_id: UUID


@dataclass(frozen=True)
class WindowClosed:
    """The window for offers closed: at the deadline (`by` None) or early by an officer."""

    referral_id: UUID
    deadline: datetime
    by: str | None
    at: datetime


@dataclass(frozen=True)
class WindowExtended:
    """An officer extended the window before it closed: every invited provider is told (by webhook)."""

    referral_id: UUID
    dps_id: UUID
    lot: int
    invited: tuple[UUID, ...]
    previous_deadline: datetime
    deadline: datetime
    window_basis: WindowBasis
    by: str
    at: datetime


@dataclass(frozen=True)
class NoEligibleOffersReported:
    """Awards ranked the closed referral and found no eligible offer (calloff.no_eligible_offers): the officer
    may now go off the DPS, re-publish or cancel."""

    referral_id: UUID
    reasons: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class OfferAssessed:
    referral_id: UUID
    assessment: Assessment


@dataclass(frozen=True)
class ReferralAwarded:
    """Awards made the placement from one of this referral's offers (placement.awarded)."""

    referral_id: UUID
    offer_id: UUID
    award_id: UUID | None
    at: datetime


@dataclass(frozen=True)
class PlacedInBlock:
    """Awards gave the child a block contract's place (block_place.allocated)."""

    referral_id: UUID
    allocation_id: UUID
    at: datetime


Event = (ReferralPublished | OfferSubmitted | OfferChanged | OfferWithdrawn | OfferDeclined | ReferralClosed
         | ReferralCancelled | OffDpsExceptionRecorded | ReferralCreated | ReferralRevised | QuestionAdded
         | QuestionRemoved | WindowClosed | OfferAssessed | ReferralAwarded | PlacedInBlock | WindowExtended
         | NoEligibleOffersReported)

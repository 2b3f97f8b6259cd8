"""Who may see what of a referral.

- The child's identifying details: the manager, and officers of the
  referral's commissioning team.  Never a provider.
- Offers are sealed until the window closes: the council side (the manager,
  officers of the team) sees them only once the referral is closed (or
  awarded, or has no suitable offer); a provider sees only its own, always.
- A provider sees a referral's profile only if it was invited, and only the
  pseudonymised profile; and only while its membership of the referral's lot
  gives it access (`provider_access`): admitted, every referral it was
  invited to; suspended, only those it has a live offer on (suspension stops
  new referrals, not the offers already made); removed (or past the end of
  its membership), none: removal ends what the membership gave.  The referral
  awarded to one of its offers stays visible to it whatever happens: that is
  its placement.  Its own offers are always its own to read.
- A provider's access to the profile ends (`closed_to`): it reads the
  profile, its questions and the webhook copy only while it may still offer
  (the window open) and while its offer is live and not yet decided.  The
  winning provider keeps it for the placement.  UK GDPR Article 5(1)(c) and
  (e): no more than it needs, for no longer than it needs it.

The viewer is who is acting (`shared.actor.Actor`): its `roles`, `team` and
`provider_id`.  Every check of who may see or do what on a referral is here;
the service layer calls these and has no rules of its own.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.actor import Actor
from shared.errors import Forbidden, NotFound

from .common import council_date
from .offers import Offer
from .profile import ChildDetails, ProfileForProviders
from .referral import Referral, ReferralStatus
from .registry import Membership, MembershipStatus

OFFICER, MANAGER, PROVIDER = "officer", "manager", "provider"


Viewer = Actor  # who is looking


def is_council_side(referral: Referral, viewer: Viewer) -> bool:
    """The manager, or an officer of the referral's commissioning team."""
    return MANAGER in viewer.roles or (OFFICER in viewer.roles and viewer.team == referral.team)


def require_council_side(referral: Referral, viewer: Viewer) -> None:
    if not is_council_side(referral, viewer):
        raise Forbidden("only officers of the referral's commissioning team and the manager see this referral")


def require_team_officer(referral: Referral, actor: Actor) -> None:
    """Changing a referral (the form, publishing, closing, assessing, outcomes) is for officers of its
    commissioning team only; the manager reads but does not act."""
    if OFFICER not in actor.roles or actor.team != referral.team:
        raise Forbidden("only officers of the referral's commissioning team may do this")


def council_listing_team(viewer: Viewer, team: str | None) -> str | None:
    """The team whose referrals a council listing shows: the manager any (or all); an officer only their own."""
    if MANAGER in viewer.roles:
        return team
    if team is not None and team != viewer.team:
        raise Forbidden("an officer sees only their own team's referrals", field="team")
    return viewer.team


def require_provider(actor: Actor) -> UUID:
    """Offers, declines and webhooks are a provider's; returns which provider."""
    if PROVIDER not in actor.roles or actor.provider_id is None:
        raise Forbidden("only a provider makes offers")
    return actor.provider_id


def may_see_child_details(referral: Referral, viewer: Viewer) -> bool:
    return is_council_side(referral, viewer)


def child_details_for(referral: Referral, viewer: Viewer) -> ChildDetails:
    if not may_see_child_details(referral, viewer):
        raise Forbidden("only officers of the commissioning team and the manager see who the child is")
    return referral.child


def may_see_all_offers(referral: Referral, viewer: Viewer) -> bool:
    """Offers are sealed until the window closes, even from the council."""
    return is_council_side(referral, viewer) and referral.window_closed


def visible_offers(referral: Referral, viewer: Viewer) -> tuple[Offer, ...]:
    """The offers this viewer may read: all live ones once closed (council), or a provider's own."""
    if is_council_side(referral, viewer):
        if not referral.window_closed:
            raise Forbidden("offers are sealed until the window for offers closes")
        return referral.live_offers
    if PROVIDER in viewer.roles and viewer.provider_id is not None:
        return tuple(o for o in referral.offers if o.provider_id == viewer.provider_id)
    raise Forbidden("you may not see offers on this referral")


class ProviderAccess(enum.Enum):
    """What a provider's membership of a lot gives it of the lot's referrals it was invited to."""

    ALL = "all"  # admitted
    OWN_LIVE_OFFERS = "own_live_offers"  # suspended: only those it has a live offer on
    NONE = "none"  # removed, past the end of its membership, or unknown to the registry


def provider_access(status: MembershipStatus | None) -> ProviderAccess:
    if status is MembershipStatus.ADMITTED:
        return ProviderAccess.ALL
    if status is MembershipStatus.SUSPENDED:
        return ProviderAccess.OWN_LIVE_OFFERS
    return ProviderAccess.NONE


def lots_by_access(memberships: Iterable[Membership]) -> dict[ProviderAccess, tuple[int, ...]]:
    """The lots of each kind of access, for listing a provider's referrals in one query."""
    found: dict[ProviderAccess, list[int]] = {access: [] for access in ProviderAccess}
    for m in memberships:
        found[provider_access(m.status)].append(m.lot)
    return {access: tuple(sorted(lots)) for access, lots in found.items()}


def is_awarded_to(referral: Referral, provider_id: UUID) -> bool:
    return referral.awarded_offer_id is not None and any(
        o.id == referral.awarded_offer_id and o.provider_id == provider_id for o in referral.offers)


def check_provider_access(referral: Referral, provider_id: UUID, status: MembershipStatus | None) -> None:
    """A provider reads (or answers) a referral only if it was invited and its membership of the lot still
    gives it access; a provider not invited hears of no such referral (404), one whose membership no longer
    gives access is told why (403)."""
    if provider_id not in referral.invited or referral.status is ReferralStatus.DRAFT:
        raise NotFound("no such referral")
    if is_awarded_to(referral, provider_id):
        return
    access = provider_access(status)
    if access is ProviderAccess.ALL:
        return
    if access is ProviderAccess.OWN_LIVE_OFFERS:
        if referral.live_offer_of(provider_id) is not None:
            return
        raise Forbidden(f"your organisation's membership of lot {referral.lot} is suspended: you see only the "
                        "referrals you have a live offer on until it is reinstated", field="provider_id")
    raise Forbidden(f"your organisation's membership of lot {referral.lot} has been removed or has ended: "
                    "that lot's referrals are no longer open to you", field="provider_id")


@dataclass(frozen=True)
class AccessEnded:
    """When a provider's access to a referral's profile ended, and why."""

    at: datetime
    why: str

    @property
    def notice(self) -> str:
        """What the provider is told (the date as the council counts days)."""
        return (f"this referral closed to you on {council_date(self.at).isoformat()}: {self.why}; its "
                "pseudonymised profile, questions and webhook copy are no longer shown to you (UK GDPR "
                "Article 5(1)(c) and (e), data minimisation and storage limitation: law)")


def closed_to(referral: Referral, provider_id: UUID) -> AccessEnded | None:
    """The moment an invited provider's access to the referral's profile ended, or None while it lasts.

    It lasts while the provider may still offer (the window open, whatever it answered so far) and while its
    offer is live and not yet decided.  It ends at the earliest of: the window closing without a live offer
    of its (never answered, declined, withdrew); the referral awarded to another offer or a block place (the
    award); no offer meeting the needs (the assessment that decided it, before the referral goes off the
    DPS); the referral cancelled.  The provider awarded the referral keeps it.  The repository's listing of
    a provider's referrals (`invited_to`) asks the same in SQL."""
    if is_awarded_to(referral, provider_id):
        return None
    ended = []
    if referral.status is ReferralStatus.CANCELLED and referral.cancelled_at is not None:
        ended.append(AccessEnded(referral.cancelled_at, "the referral was cancelled"))
    if referral.status is ReferralStatus.AWARDED and referral.awarded_at is not None:
        ended.append(AccessEnded(referral.awarded_at, "the child was given a place of a block contract"
                                 if referral.awarded_offer_id is None else "the referral was awarded to another offer"))
    if referral.status is ReferralStatus.NO_SUITABLE_OFFER and referral.assessment_completed_at is not None:
        ended.append(AccessEnded(referral.assessment_completed_at,
                                 "no offer met the needs: the referral goes off the DPS"))
    if (referral.status not in (ReferralStatus.DRAFT, ReferralStatus.PUBLISHED)
            and referral.window_closed_at is not None and referral.live_offer_of(provider_id) is None):
        ended.append(AccessEnded(referral.window_closed_at, "the window for offers closed without a live offer "
                                                            "from you"))
    return min(ended, key=lambda e: e.at, default=None)


def check_provider_reads(referral: Referral, provider_id: UUID, status: MembershipStatus | None) -> None:
    """Every provider's read of a referral's profile: `check_provider_access`, then `closed_to` (404 saying
    when and why its access ended)."""
    check_provider_access(referral, provider_id, status)
    ended = closed_to(referral, provider_id)
    if ended is not None:
        raise NotFound(ended.notice)


def unable_to_answer(referral: Referral, memberships: Iterable[Membership]) -> tuple[UUID, ...]:
    """Invited providers yet to answer whose membership of the lot no longer lets them offer or decline:
    an officer closing early does not wait for them."""
    status = {m.provider_id: m.status for m in memberships if m.lot == referral.lot}
    return tuple(p for p in referral.unanswered if provider_access(status.get(p)) is not ProviderAccess.ALL)


def may_see_profile(referral: Referral, viewer: Viewer) -> bool:
    """By role and invitation alone; what a provider's membership still gives it is `check_provider_access`,
    which the service layer applies to every provider's read and answer."""
    if is_council_side(referral, viewer):
        return True
    return (PROVIDER in viewer.roles and viewer.provider_id in referral.invited
            and referral.status is not ReferralStatus.DRAFT)


def profile_for(referral: Referral, viewer: Viewer) -> ProfileForProviders:
    """The pseudonymised profile; a provider not invited is told there is no such referral, one whose access
    has ended (`closed_to`) when and why."""
    if not may_see_profile(referral, viewer):
        raise NotFound("no such referral")
    ended = None if is_council_side(referral, viewer) else closed_to(referral, viewer.provider_id)
    if ended is not None:
        raise NotFound(ended.notice)
    return referral.profile_for_providers()

"""Who may see what of a referral.

- The child's identifying details: the manager, and officers of the
  referral's commissioning team.  Never a provider.
- Offers are sealed until the window closes: the council side (the manager,
  officers of the team) sees them only once the referral is closed (or
  awarded, or has no suitable offer); a provider sees only its own, always.
- A provider sees a referral's profile only if it was invited, and only the
  anonymised profile.

The viewer is whatever the entrypoint authenticated (shared.auth.Principal
fits): it needs `roles`, `team` and `provider_id`.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from shared.errors import Forbidden, NotFound

from .offers import Offer
from .profile import ChildDetails, ProfileForProviders
from .referral import Referral, ReferralStatus

OFFICER, MANAGER, PROVIDER = "officer", "manager", "provider"


class Viewer(Protocol):
    roles: frozenset[str]
    team: str | None
    provider_id: UUID | None


def is_council_side(referral: Referral, viewer: Viewer) -> bool:
    """The manager, or an officer of the referral's commissioning team."""
    return MANAGER in viewer.roles or (OFFICER in viewer.roles and viewer.team == referral.team)


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


def may_see_profile(referral: Referral, viewer: Viewer) -> bool:
    if is_council_side(referral, viewer):
        return True
    return (PROVIDER in viewer.roles and viewer.provider_id in referral.invited
            and referral.status is not ReferralStatus.DRAFT)


def profile_for(referral: Referral, viewer: Viewer) -> ProfileForProviders:
    """The anonymised profile; a provider not invited is told there is no such referral."""
    if not may_see_profile(referral, viewer):
        raise NotFound("no such referral")
    return referral.profile_for_providers()

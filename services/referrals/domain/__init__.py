"""Referrals and offers: how a child's need reaches every eligible provider.

Read in this order:
- `profile`: the referral form; identifying details kept apart from the
  pseudonymised profile providers see.
- `deadlines`: the sixth-day deadline (every non-medical referral), and a looked-after child's first-day aim.
- `registry`: referrals' own copy of lot memberships and pricing schedules.
- `dps`: the DPS a referral goes to, its last day, and the offer window's
  minimum and its recorded basis.
- `off_dps`: what an off-DPS exception must name (provider, terms, checks).
- `offers`: what an offer must say, the price cap, the officer's assessment.
- `referral`: the aggregate and its states, recording `events`.
- `visibility`: who may see identifying details, the profile and offers.
"""

from .common import LOTS, check_lot, council_date
from .deadlines import SixthDay, full_time_provision_deadline, sixth_day, sixth_day_applies
from .dps import DpsRecord, WindowBasis, check_may_invite, choose_dps, offer_window
from .events import (
                     AssessedOffer,
                     Event,
                     OffDpsExceptionRecorded,
                     OfferChanged,
                     OfferDeclined,
                     OfferSubmitted,
                     OfferWithdrawn,
                     ReferralCancelled,
                     ReferralClosed,
                     ReferralPublished,
)
from .off_dps import OffDpsDetails, details_data, details_fields, details_from_data
from .offers import Assessment, Decline, OffDpsException, Offer, OfferTerms, check_offer
from .profile import (
                     ChildDetails,
                     FurtherQuestion,
                     Profile,
                     ProfileForProviders,
                     ReasonForAP,
                     SuccessMeasure,
                     check_pseudonymised,
                     is_full_time,
)
from .referral import Referral, ReferralStatus
from .registry import Membership, MembershipStatus, PricingLine, eligible_providers
from .visibility import (
                     Viewer,
                     child_details_for,
                     is_council_side,
                     may_see_all_offers,
                     may_see_child_details,
                     may_see_profile,
                     profile_for,
                     visible_offers,
)

__all__ = [
    "DpsRecord", "WindowBasis", "check_may_invite", "choose_dps", "offer_window",
    "LOTS", "check_lot", "is_full_time", "council_date", "full_time_provision_deadline",
    "SixthDay", "sixth_day", "sixth_day_applies",
    "AssessedOffer", "Event", "OffDpsExceptionRecorded", "OfferChanged", "OfferDeclined", "OfferSubmitted",
    "OfferWithdrawn", "ReferralCancelled", "ReferralClosed", "ReferralPublished",
    "OffDpsDetails", "details_data", "details_fields", "details_from_data",
    "Assessment", "Decline", "OffDpsException", "Offer", "OfferTerms", "check_offer",
    "ChildDetails", "FurtherQuestion", "Profile", "ProfileForProviders", "ReasonForAP", "SuccessMeasure",
    "check_pseudonymised", "Referral", "ReferralStatus", "Membership", "MembershipStatus", "PricingLine",
    "eligible_providers", "Viewer", "child_details_for", "is_council_side", "may_see_all_offers",
    "may_see_child_details", "may_see_profile", "profile_for", "visible_offers",
]

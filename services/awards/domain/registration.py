"""The registration rule, as awards applies it to every child placed:
a call-off (calloffs.py) and a place in a block contract (block_contract.py)
ask this one function.

A setting must register as an independent school if it educates full-time
5 or more pupils, or one with an EHCP or looked after (Education Act 1996
s.463; Education and Skills Act 2008 s.92).  What it decides is unchanged from
the call-off rule it was moved from; another issue rewrites the rule itself.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .registry import PlacesInUse, ProviderOnLot, RegistrationStatus

if TYPE_CHECKING:
    from .calloffs import Referral

REGISTRATION_RULE = "the registration rule (Education Act 1996 s.463; Education and Skills Act 2008 s.92)"

FULL_TIME_HOURS = Decimal(18)
"""More hours a week than an unregistered setting may give a child (the registration rule)."""

UNREGISTERED_FULL_TIME_LIMIT = 4
"""An unregistered setting must register once it educates 5 children full-time:
with 4 already full-time it may not take a fifth."""


def registration_breaches(referral: Referral, standing: ProviderOnLot, places: PlacesInUse) -> list[str]:
    """Every way placing this child with this provider would break the registration rule."""
    if standing.registration is not RegistrationStatus.UNREGISTERED:
        return []
    reasons = []
    if referral.hours_per_week > FULL_TIME_HOURS:
        reasons.append(f"an unregistered setting may not give a child more than {FULL_TIME_HOURS} "
                       f"hours a week ({referral.hours_per_week} asked)")
    if referral.full_time and referral.has_ehcp:
        reasons.append("an unregistered setting may not educate full-time a child with an EHCP")
    if referral.full_time and referral.looked_after:
        reasons.append("an unregistered setting may not educate full-time a looked-after child")
    already = places.full_time_at(standing.provider_id)
    if referral.full_time and already >= UNREGISTERED_FULL_TIME_LIMIT:
        reasons.append(f"an unregistered setting may not take a fifth child full-time ({already} already)")
    return reasons

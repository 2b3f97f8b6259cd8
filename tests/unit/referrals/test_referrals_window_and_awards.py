"""The window closing by itself at the deadline (the job and every read call
`close_if_due`), what a provider is told when it is too late or too early,
and a referral met by a block contract's place."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.referrals.domain import (
    ChildDetails,
    Membership,
    MembershipStatus,
    OfferTerms,
    PricingLine,
    Profile,
    ReasonForAP,
    Referral,
    ReferralStatus,
)
from shared.errors import Conflict, Forbidden

NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=14)  # at least 10 days: the minimum offer window
LINE = PricingLine(uuid.uuid4(), "Group place per week", "week", maximum_price_pence=5000)
ACORN, BIRCH = uuid.uuid4(), uuid.uuid4()


def membership(provider_id=ACORN) -> Membership:
    return Membership(provider_id, 1, MembershipStatus.ADMITTED, pricing_lines=(LINE,), capacity=2)


def draft() -> Referral:
    profile = Profile(
        age=12, year_group=7, primary_need="SEMH", ehcp=False, looked_after=False, reason=ReasonForAP.SUSPENSION,
        needs_and_risks="Needs a calm room.", aims="Return to school after the suspension.",
        success_measures={"behaviour": "No incidents"}, curriculum="Core", qualification_route="None",
        hours_per_week=Decimal(15), pattern="Mornings", start_date=date(2025, 1, 27), expected_weeks=4,
        postcode_district="SE5", transport_needed=False)
    child = ChildDetails("Ada Lark", date(2012, 9, 1), "B123456789012", "2 Street, London SE5 9ZZ")
    return Referral.create(team="exclusions", lot=1, child=child, profile=profile, deadline=DEADLINE,
                           by="officer-1", now=NOW)


def published() -> Referral:
    referral = draft()
    referral.publish([membership(ACORN), membership(BIRCH)], by="officer-1", now=NOW)
    return referral


def terms() -> OfferTerms:
    return OfferTerms(pricing_line_id=LINE.id, unit_price_pence=4000, units_per_week=1, weeks=4,
                      proposed_start=date(2025, 1, 27), staffing_ratio="1:3", delivery_site="Centre",
                      delivery_postcode="SE5 8AA", how_it_meets_needs="Calm room, small group.", place_available=True)


def test_close_if_due_closes_at_the_deadline_itself():
    referral = published()
    assert not referral.close_if_due(DEADLINE - timedelta(seconds=1))
    assert referral.status is ReferralStatus.PUBLISHED
    assert referral.close_if_due(DEADLINE + timedelta(days=2))
    assert referral.status is ReferralStatus.CLOSED and referral.window_closed_at == DEADLINE
    assert referral.closed_by is None
    assert not referral.close_if_due(DEADLINE + timedelta(days=3))  # once


def test_close_if_due_leaves_drafts_and_cancelled_referrals_alone():
    referral = draft()
    assert not referral.close_if_due(DEADLINE + timedelta(days=1))
    cancelled = published()
    cancelled.cancel("Moved away", by="officer-1", now=NOW)
    assert not cancelled.close_if_due(DEADLINE + timedelta(days=1))
    assert cancelled.status is ReferralStatus.CANCELLED
    assert (cancelled.cancelled_by, cancelled.cancelled_at) == ("officer-1", NOW)


def test_an_offer_on_a_referral_already_closed_by_its_deadline_names_the_deadline():
    referral = published()
    referral.close_if_due(DEADLINE)
    with pytest.raises(Conflict) as refused:
        referral.submit_offer(membership(), terms(), now=DEADLINE + timedelta(hours=1))
    assert refused.value.field == "deadline"


def test_an_offer_on_a_draft_says_it_is_not_published():
    with pytest.raises(Conflict) as refused:
        draft().submit_offer(membership(), terms(), now=NOW)
    assert refused.value.field == "referral_id" and "not published" in refused.value.message


def test_refusals_for_who_the_provider_is_name_the_provider():
    referral = published()
    with pytest.raises(Forbidden) as stranger:
        referral.submit_offer(membership(uuid.uuid4()), terms(), now=NOW)
    suspended = Membership(ACORN, 1, MembershipStatus.SUSPENDED, pricing_lines=(LINE,))
    with pytest.raises(Forbidden) as since_suspended:
        referral.submit_offer(suspended, terms(), now=NOW)
    assert stranger.value.field == since_suspended.value.field == "provider_id"


def test_a_block_place_meets_the_referral_whatever_its_stage():
    referral = published()
    allocation = uuid.uuid4()
    at = NOW + timedelta(days=1)
    assert referral.mark_placed_in_block(allocation, at)
    assert referral.status is ReferralStatus.AWARDED and referral.awarded_allocation_id == allocation
    assert referral.window_closed_at == at
    assert not referral.mark_placed_in_block(allocation, at)  # again: no change
    with pytest.raises(Conflict):
        referral.submit_offer(membership(), terms(), now=at)


def test_a_block_place_does_not_revive_a_cancelled_referral():
    referral = published()
    referral.cancel("Moved away", by="officer-1", now=NOW)
    assert not referral.mark_placed_in_block(uuid.uuid4(), NOW)
    assert referral.status is ReferralStatus.CANCELLED

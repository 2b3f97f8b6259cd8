"""A provider's access to a referral's pseudonymised profile ends (issue #17 item 1, DOMAIN.md "Children's data").

It reads the profile, its questions and the webhook copy only while it may still offer (invited, the window
open) and while its offer is live and not yet decided.  `closed_to` gives the moment it ended, or None:
- the window closes without a live offer of its (it never answered, declined, or withdrew): the closing;
- the referral is awarded to another offer, or the child given a block place: the award;
- no offer met the needs (the referral goes off the DPS): the assessment that decided it;
- the referral is cancelled: the cancelling.
The winning provider keeps what it needs for the placement."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.referrals.domain import MembershipStatus
from services.referrals.domain.visibility import AccessEnded, check_provider_reads, closed_to, profile_for
from shared.actor import Actor
from shared.errors import Forbidden, NotFound
from tests.support.off_dps import off_dps_form
from tests.unit.referrals.test_referral_offers import ACORN, BIRCH, DEADLINE, NOW, OFFICER, published, terms
from tests.unit.referrals.test_referral_offers import membership as admitted

DURING = NOW + timedelta(days=1)
AFTER = DEADLINE + timedelta(hours=1)
ASSESSED = DEADLINE + timedelta(days=1)
AWARDED = DEADLINE + timedelta(days=3)
ADMITTED = MembershipStatus.ADMITTED
STRANGER = uuid.uuid4()  # a provider never invited


def closed_with_offers(*, acorn_meets=True, birch_meets=True):
    """Both providers offer; the window closes at the deadline; both offers assessed; the assessment complete."""
    referral = published()
    acorn = referral.submit_offer(admitted(ACORN), terms(), now=DURING)
    birch = referral.submit_offer(admitted(BIRCH), terms(), now=DURING)
    referral.close_if_due(AFTER)
    for offer, meets in ((acorn, acorn_meets), (birch, birch_meets)):
        referral.assess_offer(offer.id, meets_needs=meets, reason="Judged", by=OFFICER, now=ASSESSED)
    referral.complete_assessment(by=OFFICER, now=ASSESSED)
    return referral, acorn, birch


# --- while it may still offer

def test_an_invited_provider_reads_while_the_window_is_open_whatever_its_answer():
    referral = published()
    assert closed_to(referral, ACORN) is None
    referral.decline(ACORN, "Full", now=DURING)
    assert closed_to(referral, ACORN) is None  # it may still change its mind and offer
    referral.submit_offer(admitted(BIRCH), terms(), now=DURING)
    referral.withdraw_offer(BIRCH, now=DURING)
    assert closed_to(referral, BIRCH) is None  # and offer again


# --- the window closes without its offer

def test_the_window_closing_without_its_offer_ends_access_at_the_deadline():
    referral = published()
    referral.submit_offer(admitted(BIRCH), terms(), now=DURING)
    referral.close_if_due(AFTER)
    assert closed_to(referral, ACORN) == AccessEnded(DEADLINE, "the window for offers closed without a live "
                                                               "offer from you")
    assert closed_to(referral, BIRCH) is None  # its offer is live and not yet decided


def test_a_provider_that_declined_loses_access_when_the_window_closes():
    referral = published()
    referral.decline(ACORN, "No place until Easter", now=DURING)
    referral.submit_offer(admitted(BIRCH), terms(), now=DURING)
    referral.close_early(by=OFFICER, now=DURING + timedelta(hours=2))
    assert closed_to(referral, ACORN).at == DURING + timedelta(hours=2)


def test_a_provider_that_withdrew_loses_access_when_the_window_closes():
    referral = published()
    referral.submit_offer(admitted(ACORN), terms(), now=DURING)
    referral.withdraw_offer(ACORN, now=DURING + timedelta(hours=1))
    assert closed_to(referral, ACORN) is None
    referral.close_if_due(AFTER)
    assert closed_to(referral, ACORN).at == DEADLINE


# --- its offer decided

def test_another_offer_awarded_ends_access_on_the_award_date_and_the_winner_keeps_it():
    referral, acorn, birch = closed_with_offers()
    assert closed_to(referral, ACORN) is None  # assessed, not yet decided: the award decides
    referral.mark_awarded(birch.id, AWARDED)
    assert closed_to(referral, ACORN) == AccessEnded(AWARDED, "the referral was awarded to another offer")
    assert closed_to(referral, BIRCH) is None  # the winner keeps what it needs for the placement
    check_provider_reads(referral, BIRCH, ADMITTED)


def test_the_winner_keeps_access_even_after_its_membership_ends():
    referral, acorn, birch = closed_with_offers()
    referral.mark_awarded(acorn.id, AWARDED)
    check_provider_reads(referral, ACORN, MembershipStatus.REMOVED)
    with pytest.raises(NotFound, match="closed to you"):
        check_provider_reads(referral, BIRCH, ADMITTED)


def test_a_block_place_ends_access_of_every_offer_on_the_day_it_is_allocated():
    referral, _, _ = closed_with_offers()
    referral.mark_placed_in_block(allocation_id=ACORN, at=AWARDED)
    assert closed_to(referral, ACORN) == AccessEnded(AWARDED, "the child was given a place of a block contract")
    assert closed_to(referral, BIRCH).at == AWARDED


def test_a_block_place_while_offers_are_open_ends_access_at_once():
    referral = published()
    referral.submit_offer(admitted(ACORN), terms(), now=DURING)
    referral.mark_placed_in_block(allocation_id=BIRCH, at=DURING + timedelta(hours=3))
    assert closed_to(referral, ACORN).at == DURING + timedelta(hours=3)
    assert closed_to(referral, BIRCH).at == DURING + timedelta(hours=3)


def test_no_suitable_offer_ends_access_when_decided_and_the_referral_goes_off_the_dps():
    referral, _, _ = closed_with_offers(acorn_meets=False, birch_meets=False)
    ended = AccessEnded(ASSESSED, "no offer met the needs: the referral goes off the DPS")
    assert closed_to(referral, ACORN) == ended
    referral.record_off_dps_exception("No provider near enough", off_dps_form(), by=OFFICER, now=AWARDED)
    assert closed_to(referral, ACORN) == ended and closed_to(referral, BIRCH) == ended


def test_an_offer_not_meeting_the_needs_is_not_decided_until_the_award():
    referral, _, birch = closed_with_offers(acorn_meets=False)
    assert closed_to(referral, ACORN) is None
    referral.mark_awarded(birch.id, AWARDED)
    assert closed_to(referral, ACORN).at == AWARDED


# --- the referral cancelled

def test_cancelling_ends_every_providers_access_even_with_a_live_offer():
    referral = published()
    referral.submit_offer(admitted(ACORN), terms(), now=DURING)
    referral.cancel("The child moved away", by=OFFICER, now=DURING + timedelta(hours=5))
    ended = AccessEnded(DURING + timedelta(hours=5), "the referral was cancelled")
    assert closed_to(referral, ACORN) == ended and closed_to(referral, BIRCH) == ended


# --- what a provider is told

def test_a_provider_whose_access_ended_is_told_when_in_the_councils_time_zone_and_under_which_law():
    referral = published()
    referral.cancel("The child moved away", by=OFFICER, now=datetime(2024, 3, 6, 23, 30, tzinfo=UTC))
    with pytest.raises(NotFound) as refused:
        check_provider_reads(referral, ACORN, ADMITTED)
    assert "closed to you on 2024-03-06" in refused.value.message  # London in winter: the same day
    assert "the referral was cancelled" in refused.value.message
    assert "UK GDPR Article 5(1)(c)" in refused.value.message and "law" in refused.value.message
    summer = AccessEnded(datetime(2024, 7, 1, 23, 30, tzinfo=UTC), "the referral was cancelled")
    assert "closed to you on 2024-07-02" in summer.notice  # 00:30 in London: already the next day


def test_the_profile_itself_is_refused_to_a_provider_whose_access_ended_not_to_the_council():
    referral = published()
    referral.cancel("The child moved away", by=OFFICER, now=DURING)
    with pytest.raises(NotFound, match="closed to you"):
        profile_for(referral, Actor("user", frozenset({"provider"}), provider_id=ACORN))
    officer = Actor("officer-1", frozenset({"officer"}), team="exclusions")
    assert profile_for(referral, officer).referral_id == referral.id


def test_a_provider_not_invited_still_hears_of_no_such_referral_not_of_its_closing():
    referral = published()
    referral.cancel("The child moved away", by=OFFICER, now=DURING)
    with pytest.raises(NotFound) as refused:
        check_provider_reads(referral, STRANGER, ADMITTED)
    assert refused.value.message == "no such referral"


def test_the_membership_rules_still_apply_while_access_is_open():
    with pytest.raises(Forbidden, match="suspended"):
        check_provider_reads(published(), ACORN, MembershipStatus.SUSPENDED)


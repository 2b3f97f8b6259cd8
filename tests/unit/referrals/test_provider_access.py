"""What a provider's membership of a lot gives it of the lot's referrals (issue 13, defect 10).

Admitted: every referral it was invited to.  Suspended: only those it has a
live offer on.  Removed, past its end, or unknown: none.  A referral awarded
to one of its offers stays its own.  Past its end a membership counts as
removed; only a member of some lot may register or rotate a webhook."""

from datetime import date

import pytest

from services.referrals.domain import Membership, MembershipStatus
from services.referrals.domain.registry import is_member, require_member, status_on
from services.referrals.domain.visibility import (
    ProviderAccess,
    check_provider_access,
    lots_by_access,
    provider_access,
    unable_to_answer,
)
from shared.errors import Forbidden, NotFound
from tests.unit.referrals.test_referral_offers import ACORN, BIRCH, CEDAR, NOW, published, terms
from tests.unit.referrals.test_referral_offers import membership as admitted

ADMITTED, SUSPENDED, REMOVED = MembershipStatus.ADMITTED, MembershipStatus.SUSPENDED, MembershipStatus.REMOVED


@pytest.mark.parametrize("status, access", [
    (ADMITTED, ProviderAccess.ALL), (SUSPENDED, ProviderAccess.OWN_LIVE_OFFERS), (REMOVED, ProviderAccess.NONE),
    (None, ProviderAccess.NONE)])
def test_each_standing_gives_its_access(status, access):
    assert provider_access(status) is access


@pytest.mark.parametrize("stored, ends_on, today, standing", [
    ("admitted", date(2029, 2, 23), date(2029, 2, 23), ADMITTED),  # the last day still counts
    ("admitted", date(2029, 2, 23), date(2029, 2, 24), REMOVED),
    ("suspended", date(2029, 2, 23), date(2030, 1, 1), REMOVED),
    ("suspended", None, date(2030, 1, 1), SUSPENDED),
    ("removed", date(2029, 2, 23), date(2025, 1, 1), REMOVED)])
def test_a_membership_past_its_end_counts_as_removed(stored, ends_on, today, standing):
    assert status_on(stored, ends_on, today) is standing


def test_lots_are_grouped_by_access():
    memberships = [Membership(ACORN, 1, ADMITTED), Membership(ACORN, 2, SUSPENDED), Membership(ACORN, 3, REMOVED),
                   Membership(ACORN, 4, ADMITTED)]
    assert lots_by_access(memberships) == {ProviderAccess.ALL: (1, 4), ProviderAccess.OWN_LIVE_OFFERS: (2,),
                                           ProviderAccess.NONE: (3,)}


def test_an_admitted_provider_reads_what_it_was_invited_to_and_nothing_else():
    referral = published()
    check_provider_access(referral, ACORN, ADMITTED)
    with pytest.raises(NotFound):
        check_provider_access(referral, CEDAR, ADMITTED)  # not invited: no such referral


def test_a_removed_provider_is_told_why():
    with pytest.raises(Forbidden, match="lot 1 has been removed or has ended"):
        check_provider_access(published(), ACORN, REMOVED)
    with pytest.raises(Forbidden):
        check_provider_access(published(), ACORN, None)  # unknown to the registry copy


def test_a_suspended_provider_sees_only_the_referrals_it_has_a_live_offer_on():
    referral = published()
    with pytest.raises(Forbidden, match="suspended"):
        check_provider_access(referral, ACORN, SUSPENDED)
    referral.submit_offer(admitted(ACORN), terms(), now=NOW)
    check_provider_access(referral, ACORN, SUSPENDED)
    referral.withdraw_offer(ACORN, now=NOW)
    with pytest.raises(Forbidden):
        check_provider_access(referral, ACORN, SUSPENDED)


def test_the_referral_awarded_to_its_offer_stays_visible_after_removal():
    referral = published()
    offer = referral.submit_offer(admitted(ACORN), terms(), now=NOW)
    referral.awarded_offer_id = offer.id  # as mark_awarded leaves it
    check_provider_access(referral, ACORN, REMOVED)
    with pytest.raises(Forbidden):
        check_provider_access(referral, BIRCH, REMOVED)


def test_only_a_member_of_some_lot_may_manage_a_webhook():
    assert is_member([Membership(ACORN, 1, REMOVED), Membership(ACORN, 2, SUSPENDED)])
    assert not is_member([Membership(ACORN, 1, REMOVED)]) and not is_member([])
    with pytest.raises(Forbidden, match="removed"):
        require_member([Membership(ACORN, 1, REMOVED), Membership(ACORN, 3, REMOVED)])


def test_an_officer_closing_early_waits_only_for_providers_still_able_to_answer():
    referral = published(memberships=[admitted(ACORN), admitted(BIRCH), admitted(CEDAR)])
    referral.submit_offer(admitted(ACORN), terms(), now=NOW)
    memberships = [Membership(ACORN, 1, SUSPENDED), Membership(BIRCH, 1, REMOVED), Membership(CEDAR, 1, ADMITTED)]
    assert unable_to_answer(referral, memberships) == (BIRCH,)  # ACORN has answered; CEDAR still may
    memberships[2] = Membership(CEDAR, 1, SUSPENDED)
    assert set(unable_to_answer(referral, memberships)) == {BIRCH, CEDAR}
    referral.close_early(by="officer-1", now=NOW, unable_to_answer=unable_to_answer(referral, memberships))
    assert referral.window_closed

"""Referrals' rules for providers' answers through the handlers on the fake
unit of work, moved down from the API tests (issue #14, item 3): offers and
their refusals, a pricing line's staffing ratio, declines, and what a
suspended or removed provider may still do.  The API tests keep one refusal
of each kind for its status code and error body (the price cap 422, not
invited 403, the deadline 409, an unknown referral 404) and the roles."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.provider_registry.domain.pricing import PricingLine as RegistryLine
from services.provider_registry.domain.pricing import Unit, pricing_line_problems
from services.referrals import handlers
from services.referrals.domain import Membership, MembershipStatus, PricingLine, ReferralStatus
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.unit.referrals import test_referrals_handlers as handler_tests
from tests.unit.referrals.test_referrals_handlers import (
    ACORN,
    AFTER,
    BIRCH,
    DEADLINE,
    LINE,
    NOW,
    OFFICER,
    draft,
    provider,
    published,
    terms,
)

uow, no_webhooks = handler_tests.uow, handler_tests.no_webhooks  # the same fixtures (no_webhooks: autouse)


def offer(uow, referral, provider_id=ACORN, key=None, **changes):
    return handlers.submit_offer(uow, provider(provider_id), referral.id, terms(referral, **changes),
                                 idempotency_key=key, fingerprint="f" if key else None)[1]


def refused(kind, call, *args, **kwargs):
    """The refusal a handler raises; nothing was committed or published."""
    uow = args[0]
    uow.committed = False
    published_before = list(uow.messages)
    with pytest.raises(kind) as raised:
        call(*args, **kwargs)
    assert not uow.committed and uow.messages == published_before
    return raised.value


def _status(uow, provider_id, status: MembershipStatus, lot=1):
    handlers.membership_changed(uow, provider_id=provider_id, provider_name=None, lot=lot, status=status,
                                reason="Insurance certificate expired", at=uow.clock)


# --- making an offer (was tests/api/referrals/test_referrals_api_offers.py) ------------------------------

def test_offer_at_the_maximum_price_is_accepted(uow):
    referral = published(uow)
    assert offer(uow, referral, unit_price_pence=50_000).total_pence == 50_000 * 12


def test_offer_on_a_line_not_in_the_providers_schedule_is_refused(uow):
    birch_line = PricingLine(uuid.uuid4(), "Group place per week", "week", 50_000, "1:4")
    uow.registry.admit(Membership(BIRCH, 1, MembershipStatus.ADMITTED, (birch_line,), capacity=3))
    referral = published(uow)
    for line_id in (uuid.uuid4(), birch_line.id):  # another provider's line is not in this one's schedule
        error = refused(InvalidInput, handlers.submit_offer, uow, provider(ACORN), referral.id,
                        terms(referral, pricing_line_id=line_id))
        assert "pricing_line_id" in error.field_errors


def test_offer_from_a_provider_suspended_since_invitation_is_refused(uow):
    referral = published(uow)
    _status(uow, ACORN, MembershipStatus.SUSPENDED)
    error = refused(Forbidden, handlers.submit_offer, uow, provider(ACORN), referral.id, terms(referral))
    assert error.field == "provider_id" and "suspended" in error.message


def test_offer_at_the_deadline_itself_is_refused(uow):
    referral = published(uow)
    uow.clock = DEADLINE
    assert refused(Conflict, handlers.submit_offer, uow, provider(ACORN), referral.id,
                   terms(referral)).field == "deadline"


def test_offer_on_a_referral_not_published_is_refused(uow):
    referral = draft(uow)
    assert refused(Conflict, handlers.submit_offer, uow, provider(ACORN), referral.id,
                   terms(referral)).field == "referral_id"


def test_offer_on_a_cancelled_referral_is_refused(uow):
    referral = published(uow)
    handlers.cancel_referral(uow, OFFICER, referral.id, "Moved away")
    assert refused(Conflict, handlers.submit_offer, uow, provider(ACORN), referral.id,
                   terms(referral)).field == "referral_id"


def test_offer_must_answer_every_further_question(uow):
    referral = published(uow)
    error = refused(InvalidInput, handlers.submit_offer, uow, provider(ACORN), referral.id,
                    terms(referral, answers={}))
    assert "answers" in error.field_errors


def test_offer_must_confirm_a_place_is_available(uow):
    referral = published(uow)
    error = refused(InvalidInput, handlers.submit_offer, uow, provider(ACORN), referral.id,
                    terms(referral, place_available=False))
    assert "place_available" in error.field_errors


def test_without_an_idempotency_key_a_second_offer_is_a_conflict(uow):
    referral = published(uow)
    offer(uow, referral)
    refused(Conflict, handlers.submit_offer, uow, provider(ACORN), referral.id, terms(referral))


def test_a_retry_after_the_deadline_still_gets_the_offer_it_made(uow):
    referral = published(uow)
    first = offer(uow, referral, key="k-1")
    uow.clock = AFTER
    _, again, new = handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral),
                                          idempotency_key="k-1", fingerprint="f")
    assert again.id == first.id and not new


def test_a_change_is_held_to_the_price_cap_and_the_deadline(uow):
    referral = published(uow)
    made = offer(uow, referral)
    error = refused(InvalidInput, handlers.change_offer, uow, provider(ACORN), made.id,
                    terms(referral, unit_price_pence=50_001))
    assert "unit_price_pence" in error.field_errors and made.total_pence == 45_000 * 12
    uow.clock = AFTER
    assert refused(Conflict, handlers.change_offer, uow, provider(ACORN), made.id,
                   terms(referral)).field == "deadline"


def test_provider_withdraws_its_offer_and_may_offer_again(uow):
    referral = published(uow)
    made = offer(uow, referral)
    handlers.withdraw_offer(uow, provider(ACORN), made.id)
    refused(Conflict, handlers.withdraw_offer, uow, provider(ACORN), made.id)
    refused(Conflict, handlers.change_offer, uow, provider(ACORN), made.id, terms(referral))
    again = offer(uow, referral)
    assert again.id != made.id
    assert [o.id for _, o in handlers.offers_of_provider(uow, provider(ACORN), referral_id=referral.id,
                                                         live=True)] == [again.id]


# --- a pricing line's staffing ratio (was tests/api/referrals/test_referrals_api_offer_problems.py) --------

GROUP = PricingLine(uuid.uuid4(), "Group session", "session", 3_000, staffing_ratio="group")


@pytest.fixture
def with_a_group_line(uow):
    uow.registry.admit(Membership(ACORN, 1, MembershipStatus.ADMITTED, (LINE, GROUP), capacity=3))
    return published(uow)


def test_the_registry_accepts_a_group_line():
    assert pricing_line_problems(RegistryLine(GROUP.description, Unit.SESSION, "group", 3_000)) == []


def test_an_offer_quoting_a_group_line_with_its_own_ratio_is_accepted(uow, with_a_group_line):
    made = offer(uow, with_a_group_line, pricing_line_id=GROUP.id, unit_price_pence=2_500, staffing_ratio="group")
    assert made.terms.staffing_ratio == "group"


def test_an_offer_leaving_the_ratio_out_takes_the_lines(uow, with_a_group_line):
    made = offer(uow, with_a_group_line, pricing_line_id=GROUP.id, unit_price_pence=2_500, staffing_ratio=None)
    assert made.terms.staffing_ratio == "group"


def test_an_offer_quoting_another_ratio_than_its_lines_is_refused_naming_the_line(uow, with_a_group_line):
    error = refused(InvalidInput, handlers.submit_offer, uow, provider(ACORN), with_a_group_line.id,
                    terms(with_a_group_line, staffing_ratio="1:1"))  # the "Group place per week" line is 1:4
    assert "1:4" in " ".join(error.field_errors["staffing_ratio"])


# --- declining (was tests/api/referrals/test_referrals_api_offers.py) --------------------------------------

def test_declining_is_refused_without_a_reason_with_a_live_offer_or_twice(uow):
    referral = published(uow)
    assert refused(InvalidInput, handlers.decline_referral, uow, provider(ACORN), referral.id, " ").field == "reason"
    made = offer(uow, referral)
    refused(Conflict, handlers.decline_referral, uow, provider(ACORN), referral.id, "Full")
    handlers.withdraw_offer(uow, provider(ACORN), made.id)
    handlers.decline_referral(uow, provider(ACORN), referral.id, "Full")
    refused(Conflict, handlers.decline_referral, uow, provider(ACORN), referral.id, "Full")


def test_provider_not_invited_cannot_decline(uow):
    referral = published(uow)
    stranger = uuid.uuid4()
    uow.registry.admit(Membership(stranger, 3, MembershipStatus.ADMITTED, (LINE,)))
    refused(Forbidden, handlers.decline_referral, uow, provider(stranger), referral.id, "Not for us")


# --- suspended and removed providers (was tests/api/referrals/test_referrals_api_removed_provider.py) ------

def _removed(uow, provider_id, lot=1):
    _status(uow, provider_id, MembershipStatus.REMOVED, lot)


def _listed(uow, provider_id, open_only=True):
    return [r.id for r in handlers.referrals_for_provider(uow, provider(provider_id), open_only=open_only)]


def test_a_removed_provider_cannot_decline_or_offer(uow):
    referral = published(uow)
    _removed(uow, ACORN)
    for call, *args in ((handlers.decline_referral, referral.id, "No places this term"),
                        (handlers.submit_offer, referral.id, terms(referral))):
        assert "removed" in refused(Forbidden, call, uow, provider(ACORN), *args).message


def test_removal_from_one_lot_leaves_the_other_lots_referrals(uow, monkeypatch):
    uow.registry.admit(Membership(ACORN, 2, MembershipStatus.ADMITTED, (LINE,), capacity=3))
    first = published(uow)
    second = draft(uow)
    handlers.revise_referral(uow, OFFICER, second.id, lot=2)
    handlers.publish_referral(uow, OFFICER, second.id)
    _removed(uow, ACORN, lot=1)
    assert _listed(uow, ACORN) == [second.id]
    assert handlers.referral_for_provider(uow, provider(ACORN), second.id) is second
    with pytest.raises(Forbidden):
        handlers.referral_for_provider(uow, provider(ACORN), first.id)
    monkeypatch.setattr(handlers.webhooks, "check_url", lambda url: url)
    monkeypatch.setattr(handlers.webhooks, "register", lambda session, provider_id, url, **kw: ({"url": url}, "s"))
    assert handlers.register_webhook(uow, provider(ACORN), "https://acorn.example/dps")[0]  # still on lot 2


def test_its_own_offers_stay_readable_after_removal(uow):
    referral = published(uow)
    made = offer(uow, referral)
    _removed(uow, ACORN)
    assert handlers.offer_of_provider(uow, provider(ACORN), made.id) == (referral, made)
    assert [o.id for _, o in handlers.offers_of_provider(uow, provider(ACORN))] == [made.id]
    with pytest.raises(Forbidden):
        handlers.referral_for_provider(uow, provider(ACORN), referral.id)


def test_a_suspended_provider_keeps_its_live_offers_and_their_referrals_visible(uow):
    with_offer, without = published(uow), published(uow)
    made = offer(uow, with_offer)
    _status(uow, ACORN, MembershipStatus.SUSPENDED)
    assert _listed(uow, ACORN) == [with_offer.id]
    seen = handlers.referral_for_provider(uow, provider(ACORN), with_offer.id)
    assert seen.live_offer_of(ACORN) is made and made.live
    with pytest.raises(Forbidden) as hidden:
        handlers.referral_for_provider(uow, provider(ACORN), without.id)
    assert "suspended" in hidden.value.message
    refused(Forbidden, handlers.submit_offer, uow, provider(ACORN), without.id, terms(without))


def test_a_referral_published_while_suspended_is_never_the_providers(uow):
    _status(uow, ACORN, MembershipStatus.SUSPENDED)
    referral = published(uow)
    with pytest.raises(NotFound):
        handlers.referral_for_provider(uow, provider(ACORN), referral.id)
    refused(Forbidden, handlers.submit_offer, uow, provider(ACORN), referral.id, terms(referral))
    uow.clock = NOW + timedelta(hours=1)
    _status(uow, ACORN, MembershipStatus.ADMITTED)
    assert _listed(uow, ACORN) == []
    assert "not invited" in refused(Forbidden, handlers.submit_offer, uow, provider(ACORN), referral.id,
                                    terms(referral)).message
    later = published(uow)
    assert _listed(uow, ACORN) == [later.id]


def test_an_officer_may_close_early_once_every_provider_still_able_to_answer_has(uow):
    cedar = uuid.uuid4()
    uow.registry.admit(Membership(cedar, 1, MembershipStatus.ADMITTED, (LINE,), capacity=3))
    referral = published(uow)
    offer(uow, referral)
    _removed(uow, BIRCH)  # can no longer offer or decline
    _status(uow, cedar, MembershipStatus.SUSPENDED)  # nor can a provider suspended without a live offer
    view = handlers.close_referral_early(uow, OFFICER, referral.id)
    assert view.referral.status is ReferralStatus.CLOSED


def test_the_referral_awarded_to_its_offer_stays_visible_after_removal(uow):
    referral = published(uow)
    made = offer(uow, referral)
    uow.clock = AFTER
    handlers.assess_offer(uow, OFFICER, referral.id, made.id, meets_needs=True, reason="Good",
                          criteria_met={q.id: True for q in referral.questions})
    handlers.complete_assessment(uow, OFFICER, referral.id)
    handlers.mark_awarded(uow, referral_id=referral.id, offer_id=made.id, award_id=uuid.uuid4(), at=AFTER)
    _removed(uow, ACORN)
    assert _listed(uow, ACORN, open_only=False) == [referral.id]
    seen = handlers.referral_for_provider(uow, provider(ACORN), referral.id)
    assert seen.live_offer_of(ACORN) is made

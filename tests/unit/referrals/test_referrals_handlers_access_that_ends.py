"""Every provider read applies `visibility.closed_to` (issue #17 item 1), on the fake unit of work: the
profile (404 saying when and why), the provider's listing (left out), its own offers (still its own) and
its webhook log (the body withheld, saying why)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.referrals import handlers
from shared.errors import NotFound
from tests.unit.referrals.test_referrals_handlers import (
    ACORN,
    AFTER,
    BIRCH,
    NOW,
    OFFICER,
    admitted_uow,
    provider,
    published,
    terms,
)


@pytest.fixture
def uow():
    return admitted_uow()


@pytest.fixture(autouse=True)
def no_webhooks(monkeypatch):
    monkeypatch.setattr(handlers.webhooks, "enqueue", lambda session, **kw: 0)


def delivery(referral_id, provider_id) -> dict:
    return {"id": uuid.uuid4(), "provider_id": provider_id, "referral_id": referral_id, "event_type":
            "referral.published", "body": '{"data": {"profile": {}}}', "state": "delivered", "created_at": NOW}


@pytest.fixture
def log(monkeypatch):
    """The deliveries table, as rows `webhooks.deliveries` would give for the asking provider."""
    rows: list[dict] = []
    monkeypatch.setattr(handlers.webhooks, "deliveries", lambda session, *, provider_id, referral_id, state, limit,
                        offset: [r for r in rows if r["provider_id"] == provider_id][offset:offset + limit])
    return rows


def test_a_provider_whose_access_ended_is_told_when_and_why_and_its_listing_leaves_the_referral_out(uow):
    referral = published(uow)
    _, offer, _ = handlers.submit_offer(uow, provider(BIRCH), referral.id, terms(referral))
    uow.clock = AFTER  # the window closed at the deadline: Acorn never answered
    with pytest.raises(NotFound, match="closed to you on 2025-01-29: the window for offers closed"):
        handlers.referral_for_provider(uow, provider(ACORN), referral.id)
    assert handlers.referrals_for_provider(uow, provider(ACORN), open_only=False) == []
    assert handlers.referral_for_provider(uow, provider(BIRCH), referral.id) is referral  # live, undecided
    assert handlers.referrals_for_provider(uow, provider(BIRCH), open_only=False) == [referral]


def test_cancelling_closes_the_referral_to_every_provider_but_its_own_offers_stay_its_own(uow):
    referral = published(uow)
    _, offer, _ = handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral))
    uow.clock = NOW + timedelta(hours=2)
    handlers.cancel_referral(uow, OFFICER, referral.id, "The child moved away")
    with pytest.raises(NotFound, match="the referral was cancelled"):
        handlers.referral_for_provider(uow, provider(ACORN), referral.id)
    assert handlers.referrals_for_provider(uow, provider(ACORN), open_only=False) == []
    assert handlers.offer_of_provider(uow, provider(ACORN), offer.id) == (referral, offer)
    assert handlers.offers_of_provider(uow, provider(ACORN)) == [(referral, offer)]


def test_the_award_closes_the_referral_to_the_others_and_the_winner_keeps_it(uow):
    referral = published(uow)
    _, acorn, _ = handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral))
    _, birch, _ = handlers.submit_offer(uow, provider(BIRCH), referral.id, terms(referral))
    uow.clock = AFTER
    marks = {q.id: True for q in referral.questions}
    for offer in (acorn, birch):
        handlers.assess_offer(uow, OFFICER, referral.id, offer.id, meets_needs=True, reason="Good",
                              criteria_met=marks)
    handlers.complete_assessment(uow, OFFICER, referral.id)
    assert handlers.referral_for_provider(uow, provider(ACORN), referral.id) is referral  # not yet decided
    handlers.mark_awarded(uow, referral_id=referral.id, offer_id=birch.id, award_id=None,
                          at=AFTER + timedelta(days=2))
    with pytest.raises(NotFound, match="closed to you on 2025-01-31: the referral was awarded to another offer"):
        handlers.referral_for_provider(uow, provider(ACORN), referral.id)
    assert handlers.referrals_for_provider(uow, provider(ACORN), open_only=False) == []
    assert handlers.referral_for_provider(uow, provider(BIRCH), referral.id) is referral
    assert handlers.referrals_for_provider(uow, provider(BIRCH), open_only=False) == [referral]


def test_the_webhook_log_withholds_the_body_once_the_referral_is_closed_to_the_provider(uow, log):
    referral = published(uow)
    handlers.submit_offer(uow, provider(BIRCH), referral.id, terms(referral))
    log += [delivery(referral.id, ACORN), delivery(referral.id, BIRCH)]
    [shown] = handlers.webhook_deliveries_of_provider(uow, provider(ACORN))
    assert shown["body"] and shown["withheld"] is None  # while it may still offer
    uow.clock = AFTER
    [withheld] = handlers.webhook_deliveries_of_provider(uow, provider(ACORN))
    assert withheld["body"] is None and withheld["state"] == "delivered"
    assert withheld["withheld"].startswith("this referral closed to you on 2025-01-29")
    [kept] = handlers.webhook_deliveries_of_provider(uow, provider(BIRCH))  # its offer live, undecided
    assert kept["body"] and kept["withheld"] is None


def test_a_delivery_about_a_referral_no_longer_held_shows_no_body(uow, log):
    log.append(delivery(uuid.uuid4(), ACORN))
    [withheld] = handlers.webhook_deliveries_of_provider(uow, provider(ACORN))
    assert withheld["body"] is None and withheld["withheld"] == "the referral is no longer held"

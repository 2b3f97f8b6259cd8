"""The service's pure adapters: the
event data mapped from domain events (nothing identifying, full-time worked
out), and webhook signatures and back-off."""

import hashlib
import hmac
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.referrals import webhooks
from services.referrals.domain import (
    ChildDetails,
    Membership,
    MembershipStatus,
    OfferTerms,
    PricingLine,
    Profile,
    ReasonForAP,
    Referral,
    is_full_time,
)
from services.referrals.domain.webhook_addresses import WebhookRule
from services.referrals.messages import message_for, translate
from services.referrals.webhooks import RETRY_DELAYS, Answer, _outcome, check_url, legacy_signature
from shared.errors import InvalidInput
from shared.unit_of_work import Message

NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
LINE = PricingLine(uuid.uuid4(), "Group place per week", "week", maximum_price_pence=5000)
ACORN = uuid.uuid4()
CHILD = ChildDetails("Zebedee Quartermaine", date(2010, 6, 2), "A123456789012", "14 Larch Walk, London SE15 4QT")


# --- event data -------------------------------------------------------------------------------

def _referral() -> Referral:
    profile = Profile(
        age=14, year_group=9, primary_need="SEMH", ehcp=True, looked_after=False,
        reason=ReasonForAP.PERMANENT_EXCLUSION, needs_and_risks="Small group.", aims="Move on to a special school.",
        success_measures={"attendance": "90%"}, curriculum="Core", qualification_route="Functional skills",
        hours_per_week=Decimal("12.5"), pattern="Mornings", start_date=date(2025, 1, 27), expected_weeks=12,
        postcode_district="SE15", transport_needed=False)
    return Referral.create(team="exclusions", lot=2, child=CHILD, profile=profile, deadline=NOW + timedelta(days=14),
                           by="officer-1", now=NOW, exclusion_start=date(2025, 1, 13), questions=["SEMH experience?"])


def _closed_referral() -> Referral:
    referral = _referral()
    membership = Membership(ACORN, 2, MembershipStatus.ADMITTED, pricing_lines=(LINE,))
    referral.publish([membership], by="officer-1", now=NOW)
    question = referral.questions[0].id
    offer = referral.submit_offer(membership, OfferTerms(
        pricing_line_id=LINE.id, unit_price_pence=4000, units_per_week=Decimal("2.5"), weeks=12,
        proposed_start=date(2025, 1, 27), staffing_ratio="1:3", delivery_site="Centre", delivery_postcode="SE15 5AB",
        how_it_meets_needs="Small groups.", place_available=True, answers={question: "Yes"}), now=NOW)
    later = NOW + timedelta(days=15)
    referral.close(now=later)
    referral.assess_offer(offer.id, meets_needs=True, reason="Good", criteria_met={question: True}, by="officer-1",
                          now=later)
    referral.complete_assessment(by="officer-1", now=later)
    return referral


def _text_of(event_data: dict) -> str:
    return json.dumps(event_data).lower()


def test_every_event_is_plain_json_with_nothing_identifying():
    """Whatever the referral records becomes messages and audit entries with nothing that names the child."""
    referral = _closed_referral()
    child_ref = uuid.uuid4()
    published = 0
    for event in referral.events:
        for item in translate(event, child_ref=child_ref):
            if isinstance(item, Message):
                published += 1
                text = _text_of(item.data)
            else:
                text = _text_of({"reason": item.reason, "details": item.details})
            for detail in ("zebedee", "quartermaine", "a123456789012", "2010-06-02", "larch", "se15 4qt"):
                assert detail not in text, (type(event).__name__, detail)
    assert published == 3  # referral.published, offer.submitted, referral.closed


def test_referral_closed_carries_the_child_ref_and_numbers_as_json_numbers():
    referral = _closed_referral()
    child_ref = uuid.uuid4()
    closed = next(e for e in referral.events if type(e).__name__ == "ReferralClosed")
    type_, data = message_for(closed, child_ref=child_ref)
    assert type_ == "referral.closed" and data["child_ref"] == str(child_ref)
    assert data["hours_per_week"] == 12.5 and data["offers"][0]["units_per_week"] == 2.5
    assert data["offers"][0]["total_pence"] == 120_000 and data["full_time"] is False
    # the sixth-day deadline and its first school day, for tracking's sixth-day report
    assert (data["full_time_provision_by"], data["first_school_day"]) == (
        referral.full_time_provision_by.isoformat(), referral.first_school_day.isoformat())
    with pytest.raises(ValueError):
        message_for(closed)  # never without the child_ref


def test_full_time_is_lot_1_or_more_than_18_hours():
    assert is_full_time(1, Decimal(10)) and is_full_time(2, Decimal("18.5"))
    assert not is_full_time(2, Decimal(18)) and not is_full_time(3, Decimal(5))


# --- webhooks -----------------------------------------------------------------------------------

def test_the_legacy_signature_is_the_hmac_sha256_of_the_body():
    body = b'{"event":"referral.published"}'
    assert legacy_signature("s3cret", body) == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()


def test_only_https_urls_to_public_addresses_are_webhooks(monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"])
    assert check_url(" https://acorn.example/dps ", WebhookRule()) == "https://acorn.example/dps"
    for url in ("ftp://a.example/", "mailto:x@a.example", "//a.example/", "https://u:p@a.example/",
                "http://a.example/"):
        with pytest.raises(InvalidInput):
            check_url(url, WebhookRule())
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["10.0.0.7"])
    with pytest.raises(InvalidInput, match="public"):
        check_url("https://acorn.example/dps", WebhookRule())


def test_failures_back_off_then_give_up():
    failed = Answer(500, "HTTP 500")
    waits = [_outcome(attempt, failed, "https://a.example/", NOW)["next_attempt_at"] - NOW
             for attempt in range(1, len(RETRY_DELAYS) + 1)]
    assert waits == list(RETRY_DELAYS) and waits == sorted(waits)
    last = _outcome(len(RETRY_DELAYS) + 1, failed, "https://a.example/", NOW)
    assert last["next_attempt_at"] is None and last["gave_up_at"] == NOW
    delivered = _outcome(1, Answer(202), "https://a.example/", NOW)
    assert delivered["delivered_at"] == NOW and delivered["next_attempt_at"] is None

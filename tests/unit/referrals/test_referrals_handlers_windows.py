"""The DPS, the offer window and the routes that leave no dead end, through the service layer on a fake unit
of work: what is stored, published, audited and sent by webhook (issue #15)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from test_referrals_handlers import (
    ACORN,
    BIRCH,
    CHILD,
    DEADLINE,
    LINE,
    NOW,
    OFFICER,
    PROFILE,
    draft,
    no_webhooks,  # noqa: F401  (autouse: the webhooks sent, kept in a list)
    provider,
    terms,
)

from services.referrals import consumers, handlers
from services.referrals.domain import DpsRecord, Membership, MembershipStatus, ReferralStatus
from shared.catalogue import FIRST_DPS_ID, event_type
from shared.errors import Conflict, InvalidInput
from shared.events import new_event
from tests.support.off_dps import off_dps_form
from tests.unit.referrals.fakes import FakeUnitOfWork

SUCCESSOR = uuid.UUID("5e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b")
END = date(2029, 2, 23)


def record(**changes) -> DpsRecord:
    fields = dict(id=FIRST_DPS_ID, name="Hillingdon AP DPS", regime="pcr2015_dps", start=date(2024, 4, 1),
                  term_ends_on=date(2031, 3, 31), statutory_end=END, ends_on=END, status="open", lots=(1, 2, 3, 4),
                  agreed_minimum_window_days=5, agreed_in_sla_version="2", sla_version="2")
    return DpsRecord(**{**fields, **changes})


@pytest.fixture
def uow():
    """Acorn and Birch on lot 1 of the first DPS, which the registry has described (`record`)."""
    uow = FakeUnitOfWork(NOW)
    uow.registry.configure(record())
    for member in (ACORN, BIRCH):
        uow.registry.admit(Membership(member, 1, MembershipStatus.ADMITTED, (LINE,), capacity=3))
    return uow


def deliver(uow, type_: str, data: dict) -> None:
    consumers.event_handlers()[type_](uow, new_event(type_, data, producer=event_type(type_).producer))
    uow.commit()  # as the consumer does, with the inbox row


def test_published_carries_the_dps_the_volume_and_the_window_basis(uow):
    referral = draft(uow)
    handlers.publish_referral(uow, OFFICER, referral.id)
    published = uow.published("referral.published")[-1]
    assert published["dps_id"] == str(FIRST_DPS_ID)
    assert published["hours_per_week"] == 25 and published["expected_weeks"] == 12
    assert published["window_basis"] == {"kind": "standard", "days": 14, "reason": "at least 10 days"}


def test_a_short_window_on_the_agreed_minimum_needs_every_invited_provider_to_have_accepted_the_sla(uow):
    short = NOW + timedelta(days=6)
    referral = draft(uow)
    handlers.revise_referral(uow, OFFICER, referral.id, deadline=short)
    uow.messages.clear()
    uow.registry.accept(ACORN, FIRST_DPS_ID, "2")
    uow.registry.accept(BIRCH, FIRST_DPS_ID, "1")  # admitted before the agreement: not accepted it since
    with pytest.raises(InvalidInput) as refused:
        handlers.publish_referral(uow, OFFICER, referral.id)
    assert refused.value.field == "deadline" and str(BIRCH) in refused.value.message
    assert referral.status is ReferralStatus.DRAFT and uow.published("referral.published") == []

    deliver(uow, "provider.sla_accepted", {"provider_id": str(BIRCH), "dps_id": str(FIRST_DPS_ID),
                                           "sla_version": "2", "accepted_at": NOW.isoformat()})
    handlers.publish_referral(uow, OFFICER, referral.id)
    assert uow.published("referral.published")[-1]["window_basis"]["kind"] == "agreed_minimum"


def test_publishing_after_the_statutory_end_is_refused_409_naming_the_date_and_regulation():
    uow = FakeUnitOfWork(NOW.replace(year=2029, month=2, day=24))
    uow.registry.configure(record())
    referral = handlers.create_referral(uow, OFFICER, lot=1, child=CHILD, profile=PROFILE,
                                        deadline=uow.now() + timedelta(days=12),
                                        exclusion_start=date(2029, 2, 19)).referral
    with pytest.raises(Conflict) as refused:
        handlers.publish_referral(uow, OFFICER, referral.id)
    assert "2029-02-23" in refused.value.message and "SI 2024/716 regulation 5(4)" in refused.value.message


def test_a_referral_goes_to_the_named_dps_and_invites_only_its_members(uow):
    uow.registry.configure(record(id=SUCCESSOR, regime="pa2023_dynamic_market", statutory_end=None,
                                  ends_on=date(2033, 3, 31), lots=(1,)))
    newcomer = uuid.uuid4()
    deliver(uow, "membership.admitted", {"dps_id": str(SUCCESSOR), "provider_id": str(newcomer), "lot": 1,
                                         "at": NOW.isoformat()})
    referral = draft(uow, dps_id=SUCCESSOR)
    assert handlers.publish_referral(uow, OFFICER, referral.id) == (newcomer,)
    with pytest.raises(InvalidInput) as refused:
        draft(uow, dps_id=uuid.uuid4())
    assert refused.value.field == "dps_id"


def test_extending_the_window_tells_every_invited_provider_by_webhook(uow, no_webhooks):  # noqa: F811
    referral = draft(uow)
    handlers.publish_referral(uow, OFFICER, referral.id)
    later = DEADLINE + timedelta(days=5)
    view = handlers.extend_window(uow, OFFICER, referral.id, deadline=later)
    assert view.referral.deadline == later
    told = no_webhooks[-1]
    assert told["event_type"] == "referral.window_extended" and set(told["provider_ids"]) == {ACORN, BIRCH}
    assert told["payload"]["deadline"] == later.isoformat() and "invited_provider_ids" not in told["payload"]
    assert "referral.window_extended" in uow.audited()
    [published] = uow.published("referral.window_extended")  # on the exchange too: notifications read it
    assert published["deadline"] == later.isoformat() and published["referral_id"] == str(referral.id)


def closed_and_assessed(uow, meets: bool = True):
    referral = draft(uow)
    handlers.publish_referral(uow, OFFICER, referral.id)
    handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral))
    uow.clock = DEADLINE + timedelta(minutes=1)
    offer = referral.live_offers[0]
    handlers.assess_offer(uow, OFFICER, referral.id, offer.id, meets_needs=meets, reason="Fits",
                          criteria_met={referral.questions[0].id: meets})
    handlers.complete_assessment(uow, OFFICER, referral.id)
    return referral


def test_awards_reporting_no_eligible_offers_opens_the_way_off_the_dps(uow):
    referral = closed_and_assessed(uow)
    with pytest.raises(Conflict):
        handlers.record_off_dps_exception(uow, OFFICER, referral.id, "The provider is full", off_dps_form())
    deliver(uow, "calloff.no_eligible_offers", {
        "referral_id": str(referral.id), "dps_id": str(FIRST_DPS_ID),
        "offers": [{"offer_id": str(referral.live_offers[0].id), "provider_id": str(ACORN),
                    "reasons": ["no capacity"]}]})
    assert referral.no_eligible_offers_at is not None and "referral.no_eligible_offers" in uow.audited()
    handlers.record_off_dps_exception(uow, OFFICER, referral.id, "The provider is full", off_dps_form())
    assert uow.published("off_dps_exception.recorded")


def test_republishing_makes_a_new_referral_inviting_providers_admitted_since(uow, no_webhooks):  # noqa: F811
    referral = closed_and_assessed(uow, meets=False)
    newcomer = uuid.uuid4()
    uow.registry.admit(Membership(newcomer, 1, MembershipStatus.ADMITTED, (LINE,), capacity=1))
    view = handlers.republish_referral(uow, OFFICER, referral.id, deadline=uow.now() + timedelta(days=10))
    again = view.referral
    assert again.status is ReferralStatus.PUBLISHED and set(again.invited) == {ACORN, BIRCH, newcomer}
    assert referral.status is ReferralStatus.CANCELLED
    cancelled = uow.published("referral.cancelled")[-1]
    assert cancelled["republished_as"] == str(again.id) and cancelled["dps_id"] == str(FIRST_DPS_ID)
    published = uow.published("referral.published")[-1]
    assert published["referral_id"] == str(again.id) and published["republished_from"] == str(referral.id)
    assert set(no_webhooks[-1]["provider_ids"]) == {ACORN, BIRCH, newcomer}
    assert uow.referrals.child_ref(again.id) == uow.referrals.child_ref(referral.id)


def test_a_closed_referral_is_cancelled_with_a_reason(uow):
    referral = closed_and_assessed(uow)
    handlers.cancel_referral(uow, OFFICER, referral.id, "The child's school took the child back")
    assert uow.published("referral.cancelled")[-1]["reason"] == "The child's school took the child back"


def test_dps_configured_is_kept_and_a_referral_with_no_dps_named_goes_to_the_only_open_one_with_the_lot(uow):
    deliver(uow, "dps.configured", {
        "dps_id": str(FIRST_DPS_ID), "name": "Hillingdon AP DPS", "regime": "pcr2015_dps", "start": "2024-04-01",
        "term_ends_on": "2031-03-31", "statutory_end": "2029-02-23", "ends_on": "2029-02-23", "status": "closed",
        "lots": [1, 2, 3, 4], "award_criteria": [{"code": "value", "name": "Value", "description": "..."}],
        "agreed_minimum_window_days": None, "agreed_in_sla_version": None, "sla_version": "1"})
    deliver(uow, "dps.configured", {
        "dps_id": str(SUCCESSOR), "name": "AP dynamic market", "regime": "pa2023_dynamic_market",
        "start": "2029-02-24", "term_ends_on": "2033-02-23", "statutory_end": None, "ends_on": "2033-02-23",
        "status": "open", "lots": [1, 2], "award_criteria": [], "agreed_minimum_window_days": None,
        "agreed_in_sla_version": None, "sla_version": "1"})
    assert uow.registry.dps(FIRST_DPS_ID).status == "closed"
    assert draft(uow).dps_id == SUCCESSOR

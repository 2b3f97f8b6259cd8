"""Every use case of services/referrals/handlers.py on a fake unit of work:
no database, no broker, the whole service layer in a second or two.  What is
published and audited comes from the referral's events at commit."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.referrals import handlers
from services.referrals.domain import Membership, MembershipStatus, PricingLine, ReferralStatus
from shared.actor import Actor
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support.off_dps import off_dps_form
from tests.unit.referrals.fakes import FakeUnitOfWork

NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=14)  # at least 10 days: the minimum offer window
AFTER = DEADLINE + timedelta(minutes=1)
OFFICER = Actor("officer-1", frozenset({"officer"}), team="exclusions")
OTHER_OFFICER = Actor("officer-2", frozenset({"officer"}), team="send")
MANAGER = Actor("manager-1", frozenset({"manager"}))
ACORN, BIRCH = uuid.uuid4(), uuid.uuid4()
LINE = PricingLine(uuid.uuid4(), "Group place per week", "week", maximum_price_pence=50_000, staffing_ratio="1:4")


def provider(provider_id) -> Actor:
    return Actor(f"user-of-{provider_id}", frozenset({"provider"}), provider_id=provider_id)


CHILD = {"name": "Zebedee Quartermaine", "date_of_birth": date(2010, 6, 2), "upn": "A123456789012",
         "address": "14 Larch Walk, London SE15 4QT"}
PROFILE = {"age": 14, "year_group": 9, "primary_need": "SEMH", "ehcp": True, "looked_after": False,
           "reason": "permanent_exclusion", "needs_and_risks": "Needs a small group.", "aims": "Move on.",
           "success_measures": {"attendance": "Above 90%"}, "curriculum": "Core subjects",
           "qualification_route": "Functional skills", "hours_per_week": 25, "pattern": "Mornings",
           "start_date": date(2025, 1, 27), "expected_weeks": 12, "postcode_district": "SE15",
           "transport_needed": True}


def terms(referral, **changes) -> dict:
    return {"pricing_line_id": LINE.id, "unit_price_pence": 45_000, "units_per_week": 1, "weeks": 12,
            "proposed_start": date(2025, 1, 27), "staffing_ratio": "1:4", "delivery_site": "Riverside Centre",
            "delivery_postcode": "SE15 5AB", "how_it_meets_needs": "Groups of four with a mentor.",
            "place_available": True, "answers": {q.id: "Ten years" for q in referral.questions}, **changes}


def admitted_uow() -> FakeUnitOfWork:
    """A fake unit of work with Acorn and Birch admitted on lot 1."""
    uow = FakeUnitOfWork(NOW)
    for p in (ACORN, BIRCH):
        uow.registry.admit(Membership(p, 1, MembershipStatus.ADMITTED, (LINE,), capacity=3))
    return uow


@pytest.fixture
def uow():
    return admitted_uow()


def draft(uow, **changes):
    view = handlers.create_referral(uow, OFFICER, lot=1, child=CHILD, profile=PROFILE, deadline=DEADLINE,
                                    exclusion_start=date(2025, 1, 13), questions=["Your SEMH experience?"],
                                    **changes)
    return view.referral


def published(uow):
    referral = draft(uow)
    handlers.publish_referral(uow, OFFICER, referral.id)
    return referral


@pytest.fixture(autouse=True)
def no_webhooks(monkeypatch):
    sent = []
    monkeypatch.setattr(handlers.webhooks, "enqueue", lambda session, **kw: sent.append(kw))
    return sent


# --- the form ----------------------------------------------------------------------------------

def test_an_officer_makes_a_draft_which_is_audited_not_published(uow):
    referral = draft(uow)
    assert uow.committed and referral.status is ReferralStatus.DRAFT and referral.team == "exclusions"
    assert uow.audited() == ["referral.created"] and uow.messages == []
    assert referral.full_time_provision_by is not None  # the sixth-day deadline of a permanent exclusion


def test_only_an_officer_of_a_team_makes_a_referral(uow):
    with pytest.raises(Forbidden):
        handlers.create_referral(uow, MANAGER, lot=1, child=CHILD, profile=PROFILE, deadline=DEADLINE)
    assert not uow.committed


def test_a_profile_fault_is_named_inside_the_profile(uow):
    with pytest.raises(InvalidInput) as refused:
        handlers.create_referral(uow, OFFICER, lot=1, child=CHILD, profile={**PROFILE, "aims": ""},
                                 deadline=DEADLINE, exclusion_start=date(2025, 1, 13))
    assert "profile" in refused.value.field_errors


def test_the_draft_is_revised_and_its_questions_changed_by_its_team_only(uow):
    referral = draft(uow)
    handlers.revise_referral(uow, OFFICER, referral.id, lot=2)
    question = handlers.add_question(uow, OFFICER, referral.id, "Can you take a child mid-term?")
    handlers.remove_question(uow, OFFICER, referral.id, question)
    assert referral.lot == 2 and [q.text for q in referral.questions] == ["Your SEMH experience?"]
    assert uow.audited()[-3:] == ["referral.revised", "referral.question_added", "referral.question_removed"]
    with pytest.raises(Forbidden):
        handlers.revise_referral(uow, OTHER_OFFICER, referral.id, lot=3)


# --- publish, cancel, close ----------------------------------------------------------------------

def test_publishing_invites_the_lots_providers_by_event_and_webhook(uow, no_webhooks):
    referral = draft(uow)
    invited = handlers.publish_referral(uow, OFFICER, referral.id)
    assert set(invited) == {ACORN, BIRCH}
    [data] = uow.published("referral.published")
    assert data["referral_id"] == str(referral.id) and sorted(data["invited_provider_ids"]) == sorted(
        str(p) for p in invited)
    [hook] = no_webhooks
    assert "invited_provider_ids" not in hook["payload"] and hook["payload"]["status"] == "open"


def test_a_suspended_provider_is_not_invited(uow):
    uow.registry.admit(Membership(BIRCH, 1, MembershipStatus.SUSPENDED, (LINE,)))
    assert handlers.publish_referral(uow, OFFICER, draft(uow).id) == (ACORN,)


def test_cancelling_tells_the_invited(uow):
    referral = published(uow)
    handlers.cancel_referral(uow, OFFICER, referral.id, "Moved out of the borough")
    assert uow.published("referral.cancelled")[0]["reason"] == "Moved out of the borough"
    assert "referral.cancelled" in uow.audited()


def test_closing_early_waits_for_every_invited_provider(uow):
    referral = published(uow)
    with pytest.raises(Conflict):
        handlers.close_referral_early(uow, OFFICER, referral.id)
    handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral))
    handlers.decline_referral(uow, provider(BIRCH), referral.id, "No place")
    handlers.close_referral_early(uow, OFFICER, referral.id)
    assert referral.status is ReferralStatus.CLOSED and uow.audited()[-1] == "referral.closed_early"


def test_the_job_records_the_closing_of_referrals_past_their_deadline(uow):
    referral = published(uow)
    assert handlers.close_due_referrals(uow, NOW) == 0
    assert handlers.close_due_referrals(uow, AFTER) == 1
    uow.commit()
    assert referral.window_closed_at == DEADLINE
    [entry] = [e for e in uow.audit if e.action == "referral.window_closed"]
    assert entry.actor == Actor.system("deadline")


# --- offers and declines ---------------------------------------------------------------------------

def test_an_offer_is_published_without_its_price_and_audited_with_it(uow):
    referral = published(uow)
    _, offer, new = handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral))
    assert new and offer.total_pence == 45_000 * 12
    [data] = uow.published("offer.submitted")
    assert "unit_price_pence" not in data and "total_pence" not in data
    [entry] = [e for e in uow.audit if e.action == "offer.submitted"]
    assert entry.details["total_pence"] == 45_000 * 12
    assert uow.referrals.locks[-1] == ("share", referral.id)  # an answer shares the referral's row


def test_an_offer_above_the_maximum_price_is_refused(uow):
    referral = published(uow)
    with pytest.raises(InvalidInput):
        handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral, unit_price_pence=50_001))


def test_a_retried_offer_with_the_same_key_is_the_same_offer(uow):
    referral = published(uow)
    _, first, _ = handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral), idempotency_key="k",
                                        fingerprint="f")
    _, again, new = handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral),
                                          idempotency_key="k", fingerprint="f")
    assert again.id == first.id and not new
    with pytest.raises(InvalidInput):
        handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral), idempotency_key="k",
                              fingerprint="other")


def test_an_offer_is_changed_then_withdrawn_by_its_provider(uow):
    referral = published(uow)
    _, offer, _ = handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral))
    _, changed = handlers.change_offer(uow, provider(ACORN), offer.id, terms(referral, unit_price_pence=40_000))
    assert changed.total_pence == 40_000 * 12
    _, withdrawn = handlers.withdraw_offer(uow, provider(ACORN), offer.id)
    assert not withdrawn.live
    with pytest.raises(Conflict):
        handlers.change_offer(uow, provider(ACORN), offer.id, terms(referral))
    with pytest.raises(NotFound):
        handlers.withdraw_offer(uow, provider(BIRCH), offer.id)  # not its offer
    assert [m.type for m in uow.messages][-2:] == ["offer.changed", "offer.withdrawn"]


def test_a_decline_is_published_with_its_reason(uow):
    referral = published(uow)
    handlers.decline_referral(uow, provider(BIRCH), referral.id, "No place until Easter")
    assert uow.published("offer.declined")[0]["reason"] == "No place until Easter"


def test_no_answer_is_taken_after_the_deadline(uow):
    referral = published(uow)
    uow.clock = AFTER
    with pytest.raises(Conflict) as refused:
        handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral))
    assert refused.value.field == "deadline"


def test_a_provider_not_invited_hears_of_no_such_referral(uow):
    referral = published(uow)
    stranger = uuid.uuid4()
    with pytest.raises(NotFound):
        handlers.referral_for_provider(uow, provider(stranger), referral.id)
    with pytest.raises(Forbidden):
        handlers.submit_offer(uow, provider(stranger), referral.id, terms(referral))


# --- assessment and outcomes -----------------------------------------------------------------------

def closed_with_an_offer(uow):
    referral = published(uow)
    _, offer, _ = handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral))
    uow.clock = AFTER
    return referral, offer


def test_offers_are_sealed_until_the_window_closes(uow):
    referral = published(uow)
    with pytest.raises(Forbidden):
        handlers.offers_for_council(uow, OFFICER, referral.id)
    uow.clock = AFTER
    assert handlers.offers_for_council(uow, OFFICER, referral.id).window_closed


def test_assessed_and_completed_the_referral_goes_to_awards_with_the_child_ref_and_full_time(uow):
    referral, offer = closed_with_an_offer(uow)
    marks = {q.id: True for q in referral.questions}
    handlers.assess_offer(uow, OFFICER, referral.id, offer.id, meets_needs=True, reason="Good", criteria_met=marks)
    view = handlers.complete_assessment(uow, OFFICER, referral.id)
    [data] = uow.published("referral.closed")
    assert data["child_ref"] == str(view.child_ref) and data["full_time"] is True  # lot 1
    assert {"offer.assessed", "referral.window_closed", "referral.assessment_completed"} <= set(uow.audited())


def test_no_suitable_offer_then_an_off_dps_exception(uow):
    referral, offer = closed_with_an_offer(uow)
    marks = {q.id: True for q in referral.questions}
    handlers.assess_offer(uow, OFFICER, referral.id, offer.id, meets_needs=False, reason="Too far",
                          criteria_met=marks)
    handlers.complete_assessment(uow, OFFICER, referral.id)
    handlers.record_off_dps_exception(uow, OFFICER, referral.id, "No provider near enough", off_dps_form())
    assert uow.published("off_dps_exception.recorded")[0]["reason"] == "No provider near enough"
    assert handlers.off_dps_exceptions(uow)[0]["referral_id"] == referral.id


def test_awards_placement_marks_the_referral_awarded_once(uow):
    referral, offer = closed_with_an_offer(uow)
    marks = {q.id: True for q in referral.questions}
    handlers.assess_offer(uow, OFFICER, referral.id, offer.id, meets_needs=True, reason="Good", criteria_met=marks)
    handlers.complete_assessment(uow, OFFICER, referral.id)
    uow.committed = False
    assert handlers.mark_awarded(uow, referral_id=referral.id, offer_id=offer.id, award_id=None, at=AFTER)
    assert handlers.mark_awarded(uow, referral_id=referral.id, offer_id=offer.id, award_id=None, at=AFTER)
    assert not uow.committed  # the consumer commits
    uow.collect()
    assert referral.status is ReferralStatus.AWARDED and uow.audited().count("referral.awarded") == 1
    assert not handlers.mark_awarded(uow, referral_id=uuid.uuid4(), offer_id=offer.id, award_id=None, at=AFTER)


def test_a_block_place_meets_the_referrals_need(uow):
    referral = published(uow)
    allocation = uuid.uuid4()
    assert handlers.mark_placed_in_block(uow, referral_id=referral.id, allocation_id=allocation, at=NOW)
    uow.collect()
    assert referral.awarded_allocation_id == allocation and uow.audited()[-1] == "referral.placed_in_block"
    assert not handlers.mark_placed_in_block(uow, referral_id=uuid.uuid4(), allocation_id=allocation, at=NOW)


# --- reading: nothing is written -----------------------------------------------------------------------

def test_reads_show_a_referral_past_its_deadline_closed_and_write_nothing(uow):
    referral = published(uow)
    handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral))  # so it may still read it
    uow.committed, uow.clock = False, AFTER
    assert handlers.referral_for_council(uow, OFFICER, referral.id).referral.status is ReferralStatus.CLOSED
    assert [v.referral.id for v in handlers.referrals_for_council(uow, OFFICER, status="closed")] == [referral.id]
    assert handlers.referrals_for_provider(uow, provider(ACORN)) == []  # open ones only: none
    assert handlers.referrals_for_provider(uow, provider(ACORN), open_only=False) == [referral]
    assert not uow.committed


def test_an_officer_lists_only_their_own_teams_referrals(uow):
    draft(uow)
    with pytest.raises(Forbidden):
        handlers.referrals_for_council(uow, OFFICER, team="send")
    assert handlers.referrals_for_council(uow, OTHER_OFFICER) == []
    assert len(handlers.referrals_for_council(uow, MANAGER)) == 1
    with pytest.raises(Forbidden):
        handlers.referral_for_council(uow, OTHER_OFFICER, uow.referrals.find(now=NOW)[0])


def test_a_provider_reads_its_own_offers(uow):
    referral = published(uow)
    _, offer, _ = handlers.submit_offer(uow, provider(ACORN), referral.id, terms(referral))
    assert handlers.offers_of_provider(uow, provider(ACORN)) == [(referral, offer)]
    assert handlers.offer_of_provider(uow, provider(ACORN), offer.id) == (referral, offer)
    assert handlers.offers_of_provider(uow, provider(BIRCH)) == []
    assert handlers.referral_for_provider(uow, provider(ACORN), referral.id) is referral


# --- the registry copy ----------------------------------------------------------------------------------

def test_the_registrys_events_keep_the_copy_without_committing(uow):
    cedar = uuid.uuid4()
    handlers.membership_admitted(uow, provider_id=cedar, provider_name="Cedar", lot=2, registration_status=None,
                                 urn=None, pricing_lines=[], capacity=2, ends_on=None, at=NOW)
    handlers.membership_changed(uow, provider_id=cedar, provider_name=None, lot=2,
                                status=MembershipStatus.SUSPENDED, reason="Insurance", at=NOW)
    handlers.pricing_schedule_effective(uow, provider_id=cedar, provider_name=None, lot=2, version=2,
                                        effective_from=date(2025, 2, 1), pricing_lines=[], at=NOW)
    handlers.capacity_changed(uow, provider_id=cedar, provider_name=None, lot=2, capacity=5, at=NOW)
    handlers.registration_changed(uow, provider_id=cedar, provider_name=None, registration_status="unregistered",
                                  urn=None, ofsted_grade=None, at=NOW)
    assert [t[0] for t in uow.registry.told] == ["provider", "status", "schedule", "provider", "status",
                                                 "provider", "schedule", "provider", "capacity", "provider"]
    assert uow.registry.membership(cedar, 2, NOW.date()).status is MembershipStatus.SUSPENDED
    assert not uow.committed


# --- webhooks ------------------------------------------------------------------------------------------------

def test_a_provider_registers_and_removes_its_webhook(uow, monkeypatch):
    monkeypatch.setattr(handlers.webhooks, "check_url", lambda url: url)
    monkeypatch.setattr(handlers.webhooks, "register",
                        lambda session, provider_id, url, **kw: ({"url": url}, "secret"))
    monkeypatch.setattr(handlers.webhooks, "unregister", lambda session, provider_id: True)
    hook, secret = handlers.register_webhook(uow, provider(ACORN), "https://acorn.example/hooks")
    handlers.remove_webhook(uow, provider(ACORN))
    assert hook == {"url": "https://acorn.example/hooks"} and secret == "secret"
    assert uow.audited() == ["webhook.registered", "webhook.removed"]
    with pytest.raises(Forbidden):
        handlers.register_webhook(uow, provider(uuid.uuid4()), "https://stranger.example/hooks")


def test_the_delivery_job_claims_posts_and_records(uow, monkeypatch):
    claimed = [object(), object()]
    recorded = []
    monkeypatch.setattr(handlers.webhooks, "claim_due", lambda session, now: claimed)
    monkeypatch.setattr(handlers.webhooks, "rule", lambda: None)
    monkeypatch.setattr(handlers.webhooks, "attempt", lambda delivery, webhook_rule: "ok")
    monkeypatch.setattr(handlers.webhooks, "record", lambda session, outcomes, now: recorded.extend(outcomes))
    assert handlers.deliver_webhooks(uow, NOW) == 2 and recorded == [(c, "ok") for c in claimed]

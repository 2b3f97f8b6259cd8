"""A referral's states: publish to every eligible provider, close, assess,
award or go off the DPS, cancel; and sealed offers."""

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.referrals.domain import (
    ChildDetails,
    Membership,
    MembershipStatus,
    OffDpsExceptionRecorded,
    OfferTerms,
    PricingLine,
    Profile,
    ReasonForAP,
    Referral,
    ReferralCancelled,
    ReferralClosed,
    ReferralPublished,
    ReferralStatus,
    child_details_for,
    profile_for,
    visible_offers,
)
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support.off_dps import off_dps_form

NOW = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=14)  # at least 10 days: the minimum offer window
BEFORE, AFTER = NOW + timedelta(hours=1), DEADLINE + timedelta(hours=1)
OFFICER = "officer-1"
LINE = PricingLine(uuid.uuid4(), "Group place per week", "week", maximum_price_pence=5000)
ACORN, BIRCH, CEDAR, DOGWOOD = (uuid.uuid4() for _ in range(4))


@dataclasses.dataclass(frozen=True)
class Viewer:
    roles: frozenset
    team: str | None = None
    provider_id: uuid.UUID | None = None


EXCLUSIONS_OFFICER = Viewer(frozenset({"officer"}), team="exclusions")
SEND_OFFICER = Viewer(frozenset({"officer"}), team="send")
MANAGER = Viewer(frozenset({"manager"}))


def provider(provider_id) -> Viewer:
    return Viewer(frozenset({"provider"}), provider_id=provider_id)


def membership(provider_id, status=MembershipStatus.ADMITTED, lot=1) -> Membership:
    return Membership(provider_id, lot, status, pricing_lines=(LINE,), capacity=2)


REGISTRY = [membership(ACORN), membership(BIRCH), membership(CEDAR, MembershipStatus.SUSPENDED),
            membership(DOGWOOD, lot=2)]


def draft(questions=()) -> Referral:
    profile = Profile(
        age=10, year_group=5, primary_need="ASD", ehcp=True, looked_after=True, reason=ReasonForAP.OTHER,
        needs_and_risks="Sensory needs; no known risks.", aims="Settle, then return to a special school.",
        success_measures={"attitude": "Engages in lessons"}, curriculum="Primary curriculum",
        qualification_route="None yet", hours_per_week=Decimal(15), pattern="Three days",
        start_date=date(2024, 3, 11), expected_weeks=6, postcode_district="SE15", transport_needed=True)
    child = ChildDetails("Zebedee Quartermaine", date(2014, 1, 2), "A123456789012", "1 Road, London SE15 4QT")
    return Referral.create(team="exclusions", lot=1, child=child, profile=profile, deadline=DEADLINE, by=OFFICER,
                           now=NOW, questions=questions)


def published(questions=()) -> Referral:
    referral = draft(questions)
    referral.publish(REGISTRY, by=OFFICER, now=NOW)
    return referral


def offer_from(referral, provider_id, price=4500, answers=None):
    answers = answers or {q.id: "Yes, with two trained staff" for q in referral.questions}
    terms = OfferTerms(pricing_line_id=LINE.id, unit_price_pence=price, units_per_week=1, weeks=6,
                       proposed_start=date(2024, 3, 11), staffing_ratio="1:3", delivery_site="Centre",
                       delivery_postcode="SE15 5AB", how_it_meets_needs="Sensory room, small groups.",
                       place_available=True, answers=answers)
    return referral.submit_offer(membership(provider_id), terms, now=BEFORE)


def closed_with_two_offers(questions=()):
    referral = published(questions)
    acorn, birch = offer_from(referral, ACORN), offer_from(referral, BIRCH, price=4000)
    referral.close(now=AFTER)
    return referral, acorn, birch


# --- publish

def test_publish_invites_every_provider_admitted_and_not_suspended_on_the_lot():
    referral = draft()
    invited = referral.publish(REGISTRY, by=OFFICER, now=NOW)
    assert set(invited) == {ACORN, BIRCH}  # not CEDAR (suspended), not DOGWOOD (lot 2)
    assert referral.status is ReferralStatus.PUBLISHED
    [event] = [e for e in referral.events if isinstance(e, ReferralPublished)]
    assert isinstance(event, ReferralPublished)
    assert set(event.invited) == {ACORN, BIRCH} and not event.no_eligible_providers


def test_invited_list_is_kept_when_the_registry_changes_later():
    referral = draft()
    registry = [membership(ACORN), membership(BIRCH)]
    referral.publish(registry, by=OFFICER, now=NOW)
    registry[:] = [membership(ACORN, MembershipStatus.SUSPENDED), membership(CEDAR)]
    assert set(referral.invited) == {ACORN, BIRCH}


def test_publishing_to_a_lot_with_no_eligible_provider_is_allowed_and_flagged():
    referral = draft()
    referral.publish([membership(CEDAR, MembershipStatus.SUSPENDED)], by=OFFICER, now=NOW)
    assert referral.invited == () and referral.no_eligible_providers
    assert referral.events[-1].no_eligible_providers
    # nobody to wait for: the officer can close at once and go off the DPS
    referral.close_early(by=OFFICER, now=BEFORE)
    referral.record_off_dps_exception("No provider on lot 1", off_dps_form(), by=OFFICER, now=BEFORE)
    assert referral.status is ReferralStatus.NO_SUITABLE_OFFER


def test_publishing_after_the_deadline_is_refused_naming_the_deadline():
    referral = draft()
    with pytest.raises(InvalidInput) as refused:
        referral.publish(REGISTRY, by=OFFICER, now=DEADLINE)
    assert refused.value.field == "deadline"
    assert referral.status is ReferralStatus.DRAFT


def test_publishing_twice_is_a_conflict():
    with pytest.raises(Conflict):
        published().publish(REGISTRY, by=OFFICER, now=NOW)


def test_questions_can_only_be_added_to_a_draft():
    with pytest.raises(Conflict):
        published().add_question("Qualified SENCO on site?")


def test_published_draft_cannot_be_revised():
    with pytest.raises(Conflict):
        published().revise(now=NOW, lot=2)


# --- closing the window

def test_window_closes_when_the_deadline_has_passed():
    referral = published()
    referral.close(now=DEADLINE)
    assert referral.status is ReferralStatus.CLOSED and referral.closed_by is None


def test_closing_before_the_deadline_without_an_officer_is_a_conflict():
    with pytest.raises(Conflict):
        published().close(now=BEFORE)


def test_officer_cannot_close_early_while_an_invited_provider_has_not_answered():
    referral = published()
    offer_from(referral, ACORN)
    with pytest.raises(Conflict) as refused:
        referral.close_early(by=OFFICER, now=BEFORE)
    assert "1 of 2" in refused.value.message


def test_officer_may_close_early_once_every_invited_provider_offered_or_declined():
    referral = published()
    offer_from(referral, ACORN)
    referral.decline(BIRCH, "No places", now=BEFORE)
    referral.close_early(by=OFFICER, now=BEFORE)
    assert referral.status is ReferralStatus.CLOSED and referral.closed_by == OFFICER


def test_a_withdrawn_offer_is_not_an_answer():
    referral = published()
    offer_from(referral, ACORN)
    referral.withdraw_offer(ACORN, now=BEFORE)
    referral.decline(BIRCH, "No places", now=BEFORE)
    with pytest.raises(Conflict):
        referral.close_early(by=OFFICER, now=BEFORE)


@pytest.mark.parametrize("make", [draft, lambda: closed_with_two_offers()[0]])
def test_only_a_published_referral_closes(make):
    with pytest.raises(Conflict):
        make().close(now=AFTER)


# --- sealed offers

def test_officers_cannot_see_offers_before_the_window_closes():
    referral = published()
    offer_from(referral, ACORN)
    for council in (EXCLUSIONS_OFFICER, MANAGER):
        with pytest.raises(Forbidden):
            visible_offers(referral, council)


def test_officers_see_every_live_offer_once_closed():
    referral, acorn, birch = closed_with_two_offers()
    for council in (EXCLUSIONS_OFFICER, MANAGER):
        assert {o.id for o in visible_offers(referral, council)} == {acorn.id, birch.id}


def test_officer_of_another_team_never_sees_the_offers():
    referral, _, _ = closed_with_two_offers()
    with pytest.raises(Forbidden):
        visible_offers(referral, SEND_OFFICER)


def test_a_provider_sees_only_its_own_offer_before_and_after_the_deadline():
    referral = published()
    acorn = offer_from(referral, ACORN)
    offer_from(referral, BIRCH)
    assert visible_offers(referral, provider(ACORN)) == (acorn,)
    referral.close(now=AFTER)
    assert visible_offers(referral, provider(ACORN)) == (acorn,)


def test_providers_never_see_who_the_child_is():
    referral = published()
    with pytest.raises(Forbidden):
        child_details_for(referral, provider(ACORN))
    assert child_details_for(referral, EXCLUSIONS_OFFICER).upn == "A123456789012"


def test_only_invited_providers_read_the_profile():
    referral = published()
    assert profile_for(referral, provider(ACORN)).referral_id == referral.id
    with pytest.raises(NotFound):
        profile_for(referral, provider(CEDAR))
    with pytest.raises(NotFound):
        profile_for(draft(), provider(ACORN))


# --- assessment

def test_offers_cannot_be_assessed_before_the_window_closes():
    referral = published()
    acorn = offer_from(referral, ACORN)
    with pytest.raises(Conflict):
        referral.assess_offer(acorn.id, meets_needs=True, reason="Good", by=OFFICER, now=BEFORE)


def test_assessment_needs_a_reason():
    referral, acorn, _ = closed_with_two_offers()
    with pytest.raises(InvalidInput) as refused:
        referral.assess_offer(acorn.id, meets_needs=True, reason="", by=OFFICER, now=AFTER)
    assert refused.value.field == "reason"


def test_every_further_question_is_marked_met_or_not():
    referral, acorn, _ = closed_with_two_offers(questions=["Sensory room on site?"])
    question = referral.questions[0]
    with pytest.raises(InvalidInput) as refused:
        referral.assess_offer(acorn.id, meets_needs=False, reason="No", by=OFFICER, now=AFTER)
    assert refused.value.field == "criteria_met"
    assessment = referral.assess_offer(acorn.id, meets_needs=True, reason="Meets all needs",
                                       criteria_met={question.id: True}, by=OFFICER, now=AFTER)
    assert assessment.criteria_met == {question.id: True}


def test_offer_failing_a_further_question_cannot_meet_the_needs():
    referral, acorn, _ = closed_with_two_offers(questions=["Sensory room on site?"])
    with pytest.raises(InvalidInput) as refused:
        referral.assess_offer(acorn.id, meets_needs=True, reason="Close enough",
                              criteria_met={referral.questions[0].id: False}, by=OFFICER, now=AFTER)
    assert refused.value.field == "meets_needs"


def test_assessing_an_unknown_offer_is_not_found():
    referral, _, _ = closed_with_two_offers()
    with pytest.raises(NotFound):
        referral.assess_offer(uuid.uuid4(), meets_needs=True, reason="?", by=OFFICER, now=AFTER)


def test_assessment_cannot_complete_while_an_offer_is_unassessed():
    referral, acorn, _ = closed_with_two_offers()
    referral.assess_offer(acorn.id, meets_needs=True, reason="Good fit", by=OFFICER, now=AFTER)
    with pytest.raises(Conflict) as refused:
        referral.complete_assessment(by=OFFICER, now=AFTER)
    assert "1 offers" in refused.value.message


def test_completed_assessment_records_the_closed_referral_with_offers_and_assessments():
    referral, acorn, birch = closed_with_two_offers()
    referral.assess_offer(acorn.id, meets_needs=True, reason="Sensory room", by=OFFICER, now=AFTER)
    referral.assess_offer(birch.id, meets_needs=False, reason="No transport", by=OFFICER, now=AFTER)
    referral.complete_assessment(by=OFFICER, now=AFTER)
    closed = referral.events[-1]
    assert isinstance(closed, ReferralClosed) and not closed.no_suitable_offer
    assert {(o.offer_id, o.total_pence, o.assessment.meets_needs) for o in closed.offers} == {
        (acorn.id, 27_000, True), (birch.id, 24_000, False)}
    assert referral.status is ReferralStatus.CLOSED
    assert "Quartermaine" not in repr(dataclasses.asdict(closed))


def test_no_offer_meeting_the_needs_leaves_no_suitable_offer():
    referral, acorn, birch = closed_with_two_offers()
    for offer in (acorn, birch):
        referral.assess_offer(offer.id, meets_needs=False, reason="Cannot manage risks", by=OFFICER, now=AFTER)
    referral.complete_assessment(by=OFFICER, now=AFTER)
    assert referral.status is ReferralStatus.NO_SUITABLE_OFFER
    assert referral.events[-1].no_suitable_offer


# --- off-DPS exception

def test_off_dps_exception_is_recorded_with_a_reason_when_no_offer_meets_the_needs():
    referral, acorn, birch = closed_with_two_offers()
    for offer in (acorn, birch):
        referral.assess_offer(offer.id, meets_needs=False, reason="No", by=OFFICER, now=AFTER)
    referral.complete_assessment(by=OFFICER, now=AFTER)
    with pytest.raises(InvalidInput) as refused:
        referral.record_off_dps_exception("", off_dps_form(), by=OFFICER, now=AFTER)
    assert refused.value.field == "reason"
    referral.record_off_dps_exception("Needs a residential placement", off_dps_form(), by=OFFICER, now=AFTER)
    assert referral.events[-1] == OffDpsExceptionRecorded(referral.id, 1, "exclusions",
                                                          "Needs a residential placement", OFFICER, AFTER)
    with pytest.raises(Conflict):
        referral.record_off_dps_exception("Again", off_dps_form(), by=OFFICER, now=AFTER)


def test_off_dps_exception_on_a_referral_with_no_offers_closes_it_first():
    referral = published()
    referral.close(now=AFTER)
    referral.record_off_dps_exception("No provider could offer", off_dps_form(), by=OFFICER, now=AFTER)
    assert [type(e) for e in referral.events[-2:]] == [ReferralClosed, OffDpsExceptionRecorded]
    assert referral.status is ReferralStatus.NO_SUITABLE_OFFER


def test_off_dps_exception_is_refused_while_an_offer_meets_the_needs():
    referral, acorn, birch = closed_with_two_offers()
    referral.assess_offer(acorn.id, meets_needs=True, reason="Good", by=OFFICER, now=AFTER)
    with pytest.raises(Conflict):
        referral.record_off_dps_exception("Prefer another", off_dps_form(), by=OFFICER, now=AFTER)  # birch not assessed
    referral.assess_offer(birch.id, meets_needs=False, reason="No", by=OFFICER, now=AFTER)
    referral.complete_assessment(by=OFFICER, now=AFTER)
    with pytest.raises(Conflict):
        referral.record_off_dps_exception("Prefer another", off_dps_form(), by=OFFICER, now=AFTER)


def test_off_dps_exception_is_refused_while_offers_may_still_come():
    with pytest.raises(Conflict):
        published().record_off_dps_exception("Impatient", off_dps_form(), by=OFFICER, now=BEFORE)


# --- award

def assessed(meets=(True, False)):
    referral, acorn, birch = closed_with_two_offers()
    for offer, meets_needs in zip((acorn, birch), meets, strict=True):
        referral.assess_offer(offer.id, meets_needs=meets_needs, reason="Because", by=OFFICER, now=AFTER)
    referral.complete_assessment(by=OFFICER, now=AFTER)
    return referral, acorn, birch


def test_placement_awarded_marks_the_referral_awarded():
    referral, acorn, _ = assessed()
    referral.mark_awarded(acorn.id, AFTER)
    assert referral.status is ReferralStatus.AWARDED and referral.awarded_offer_id == acorn.id


def test_the_same_award_arriving_twice_is_a_no_op():
    referral, acorn, _ = assessed()
    referral.mark_awarded(acorn.id, AFTER)
    events = list(referral.events)
    referral.mark_awarded(acorn.id, AFTER + timedelta(minutes=5))
    assert referral.awarded_at == AFTER and referral.events == events


def test_a_second_award_to_another_offer_is_a_conflict():
    referral, acorn, birch = assessed(meets=(True, True))
    referral.mark_awarded(acorn.id, AFTER)
    with pytest.raises(Conflict):
        referral.mark_awarded(birch.id, AFTER)


def test_award_of_an_offer_not_meeting_the_needs_is_a_conflict():
    referral, _, birch = assessed()
    with pytest.raises(Conflict):
        referral.mark_awarded(birch.id, AFTER)


def test_award_before_the_assessment_is_complete_is_a_conflict():
    referral, acorn, _ = closed_with_two_offers()
    with pytest.raises(Conflict):
        referral.mark_awarded(acorn.id, AFTER)


# --- cancel

def test_draft_or_published_referral_can_be_cancelled_with_a_reason():
    for referral in (draft(), published()):
        referral.cancel("Child returned to school", by=OFFICER, now=BEFORE)
        assert referral.status is ReferralStatus.CANCELLED
        assert isinstance(referral.events[-1], ReferralCancelled)
    assert set(referral.events[-1].invited) == {ACORN, BIRCH}  # who to tell


def test_cancel_needs_a_reason():
    with pytest.raises(InvalidInput):
        draft().cancel("", by=OFFICER, now=BEFORE)


@pytest.mark.parametrize("make", [lambda: closed_with_two_offers()[0], lambda: assessed()[0]])
def test_closed_referral_can_be_cancelled_with_a_reason(make):
    """No dead ends: a closed referral not awarded can be cancelled (the child moved on some other way)."""
    referral = make()
    with pytest.raises(InvalidInput):
        referral.cancel("", by=OFFICER, now=AFTER)
    referral.cancel("The child returned to school", by=OFFICER, now=AFTER)
    assert referral.status is ReferralStatus.CANCELLED
    assert referral.cancel_reason == "The child returned to school"


def test_cancelled_referral_cannot_be_published():
    referral = draft()
    referral.cancel("Duplicate", by=OFFICER, now=BEFORE)
    with pytest.raises(Conflict):
        referral.publish(REGISTRY, by=OFFICER, now=BEFORE)

"""Offers on a published referral: who may offer, the price cap, what an
offer must say, change, withdraw and decline until the deadline."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.referrals.domain import (
    ChildDetails,
    Membership,
    MembershipStatus,
    OfferChanged,
    OfferDeclined,
    OfferSubmitted,
    OfferTerms,
    OfferWithdrawn,
    PricingLine,
    Profile,
    ReasonForAP,
    Referral,
)
from shared.errors import Conflict, Forbidden, InvalidInput

NOW = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=14)  # at least 10 days: the minimum offer window
OFFICER = "officer-1"
GROUP_PLACE = PricingLine(uuid.uuid4(), "Group place per week", "week", maximum_price_pence=5000, staffing_ratio="1:4")
TUITION = PricingLine(uuid.uuid4(), "1:1 tuition per hour", "hour", maximum_price_pence=6000, staffing_ratio="1:1")
ACORN, BIRCH, CEDAR = (uuid.uuid4() for _ in range(3))


def membership(provider_id=ACORN, status=MembershipStatus.ADMITTED, lot=1, lines=(GROUP_PLACE, TUITION)):
    return Membership(provider_id, lot, status, pricing_lines=tuple(lines), capacity=3)


def profile() -> Profile:
    return Profile(
        age=14, year_group=9, primary_need="SEMH", ehcp=True, looked_after=False,
        reason=ReasonForAP.PERMANENT_EXCLUSION, needs_and_risks="Needs a small group; risk of absconding.",
        aims="Stabilise, then move on to a special school.", success_measures={"behaviour": "No exclusions"},
        curriculum="Core subjects", qualification_route="Functional skills", hours_per_week=Decimal(25),
        pattern="Full days", start_date=date(2024, 3, 11), expected_weeks=12, postcode_district="SE15",
        transport_needed=False)


def published(questions=(), memberships=None) -> Referral:
    child = ChildDetails("Zebedee Quartermaine", date(2010, 1, 2), "A123456789012", "1 Road, London SE15 4QT")
    referral = Referral.create(team="exclusions", lot=1, child=child, profile=profile(), deadline=DEADLINE,
                               by=OFFICER, now=NOW, exclusion_start=date(2024, 3, 4), questions=questions)
    referral.publish(memberships or [membership(ACORN), membership(BIRCH)], by=OFFICER, now=NOW)
    referral.events.clear()
    return referral


def terms(**overrides) -> OfferTerms:
    fields = dict(pricing_line_id=GROUP_PLACE.id, unit_price_pence=4500, units_per_week=1, weeks=12,
                  proposed_start=date(2024, 3, 11), staffing_ratio="1:4", delivery_site="Acorn Centre",
                  delivery_postcode="se15 5ab", how_it_meets_needs="Small groups with a therapist on site.",
                  place_available=True)
    return OfferTerms(**(fields | overrides))


LATER = NOW + timedelta(hours=1)


# --- the price cap and the pricing schedule

def test_offer_at_the_maximum_price_is_accepted():
    offer = published().submit_offer(membership(), terms(unit_price_pence=5000), now=LATER)
    assert offer.terms.unit_price_pence == 5000
    assert offer.maximum_price_pence == 5000


def test_offer_above_maximum_price_is_refused_naming_the_maximum():
    with pytest.raises(InvalidInput) as refused:
        published().submit_offer(membership(), terms(unit_price_pence=5001), now=LATER)
    assert refused.value.field == "unit_price_pence"
    assert "maximum price of 5000 pence" in refused.value.message


def test_offer_on_a_line_not_in_the_providers_schedule_is_refused():
    with pytest.raises(InvalidInput) as refused:
        published().submit_offer(membership(lines=(TUITION,)), terms(), now=LATER)
    assert refused.value.field == "pricing_line_id"


def test_total_is_unit_price_times_units_per_week_times_weeks():
    # 4500p x 1 a week x 12 weeks
    assert terms().total_pence == 54_000
    # 5500p an hour x 7.5 hours x 10 weeks = 412,500p
    assert terms(pricing_line_id=TUITION.id, unit_price_pence=5500, units_per_week=Decimal("7.5"),
                 weeks=10).total_pence == 412_500


def test_fractional_total_rounds_half_up_to_whole_pence():
    # 333p x 1.5 x 1 = 499.5p -> 500p
    assert terms(unit_price_pence=333, units_per_week=Decimal("1.5"), weeks=1).total_pence == 500


@given(price=st.integers(1, 100_000), units=st.integers(1, 40), weeks=st.integers(1, 52))
def test_total_of_whole_units_is_exact(price, units, weeks):
    assert terms(unit_price_pence=price, units_per_week=units, weeks=weeks).total_pence == price * units * weeks


@given(price=st.integers(1, 20_000))
def test_no_accepted_offer_is_ever_above_its_lines_maximum(price):
    referral = published()
    try:
        offer = referral.submit_offer(membership(), terms(unit_price_pence=price), now=LATER)
    except InvalidInput:
        assert price > GROUP_PLACE.maximum_price_pence
    else:
        assert offer.terms.unit_price_pence <= GROUP_PLACE.maximum_price_pence


# --- what an offer must say

@pytest.mark.parametrize("field_name, value", [
    ("unit_price_pence", 0), ("unit_price_pence", 45.0), ("units_per_week", 0), ("units_per_week", Decimal(-1)),
    ("weeks", 0), ("staffing_ratio", "one to four"), ("delivery_site", " "), ("delivery_postcode", "nowhere"),
    ("how_it_meets_needs", ""), ("place_available", False), ("proposed_start", "soon"),
])
def test_incomplete_or_wrong_offer_is_refused_naming_the_field(field_name, value):
    with pytest.raises(InvalidInput) as refused:
        published().submit_offer(membership(), terms(**{field_name: value}), now=LATER)
    assert refused.value.field == field_name


def test_offer_starting_in_the_past_is_refused():
    with pytest.raises(InvalidInput) as refused:
        published().submit_offer(membership(), terms(proposed_start=date(2024, 2, 29)), now=LATER)
    assert refused.value.field == "proposed_start"


def test_every_further_question_must_be_answered():
    referral = published(questions=["Experience of supporting autistic pupils?"])
    question = referral.questions[0]
    with pytest.raises(InvalidInput) as refused:
        referral.submit_offer(membership(), terms(), now=LATER)
    assert refused.value.field == "answers"
    assert "autistic" in refused.value.message
    offer = referral.submit_offer(membership(), terms(answers={question.id: "Ten years, two specialist staff"}),
                                  now=LATER)
    assert offer.terms.answers == {question.id: "Ten years, two specialist staff"}


def test_answer_to_a_question_not_asked_is_refused():
    with pytest.raises(InvalidInput) as refused:
        published().submit_offer(membership(), terms(answers={uuid.uuid4(): "yes"}), now=LATER)
    assert refused.value.field == "answers"


# --- who may offer, and when

def test_provider_not_invited_cannot_offer():
    with pytest.raises(Forbidden):
        published().submit_offer(membership(CEDAR), terms(), now=LATER)


def test_provider_admitted_after_publication_was_not_invited_and_cannot_offer():
    referral = published()
    with pytest.raises(Forbidden):
        referral.submit_offer(membership(CEDAR, status=MembershipStatus.ADMITTED), terms(), now=LATER)


@pytest.mark.parametrize("status", [MembershipStatus.SUSPENDED, MembershipStatus.REMOVED])
def test_provider_suspended_or_removed_since_invitation_cannot_offer(status):
    with pytest.raises(Forbidden) as refused:
        published().submit_offer(membership(status=status), terms(), now=LATER)
    assert status.value in refused.value.message


def test_offer_at_or_after_the_deadline_is_refused_naming_the_deadline():
    for when in (DEADLINE, DEADLINE + timedelta(seconds=1)):
        with pytest.raises(Conflict) as refused:
            published().submit_offer(membership(), terms(), now=when)
        assert refused.value.field == "deadline"


def test_offer_on_a_referral_not_published_is_refused():
    referral = published()
    referral.cancel("Child moved out of the borough", by=OFFICER, now=LATER)
    with pytest.raises(Conflict) as refused:
        referral.submit_offer(membership(), terms(), now=LATER)
    assert "cancelled" in refused.value.message


def test_offer_is_recorded_without_its_terms_on_the_wire():
    referral = published()
    offer = referral.submit_offer(membership(), terms(), now=LATER)
    assert referral.events == [OfferSubmitted(referral.id, offer.id, ACORN, 1, offer.terms.unit_price_pence,
                                              offer.total_pence, LATER)]


# --- one live offer; change, withdraw, decline until the deadline

def test_second_live_offer_from_the_same_provider_is_refused():
    referral = published()
    referral.submit_offer(membership(), terms(), now=LATER)
    with pytest.raises(Conflict):
        referral.submit_offer(membership(), terms(unit_price_pence=4000), now=LATER)


def test_offer_can_be_changed_before_the_deadline_keeping_its_id():
    referral = published()
    offer = referral.submit_offer(membership(), terms(), now=LATER)
    changed = referral.change_offer(membership(), terms(unit_price_pence=4000), now=LATER + timedelta(hours=1))
    assert changed.id == offer.id and changed.total_pence == 48_000
    assert changed.changed_at == LATER + timedelta(hours=1)
    assert isinstance(referral.events[-1], OfferChanged)


def test_changed_offer_is_held_to_the_price_cap():
    referral = published()
    referral.submit_offer(membership(), terms(), now=LATER)
    with pytest.raises(InvalidInput) as refused:
        referral.change_offer(membership(), terms(unit_price_pence=9000), now=LATER)
    assert refused.value.field == "unit_price_pence"
    assert referral.live_offer_of(ACORN).terms.unit_price_pence == 4500


def test_offer_cannot_be_changed_after_the_deadline():
    referral = published()
    referral.submit_offer(membership(), terms(), now=LATER)
    with pytest.raises(Conflict) as refused:
        referral.change_offer(membership(), terms(unit_price_pence=4000), now=DEADLINE)
    assert refused.value.field == "deadline"


def test_withdrawn_offer_is_no_longer_live_and_a_new_one_may_follow():
    referral = published()
    first = referral.submit_offer(membership(), terms(), now=LATER)
    referral.withdraw_offer(ACORN, now=LATER)
    assert referral.live_offer_of(ACORN) is None
    assert isinstance(referral.events[-1], OfferWithdrawn)
    second = referral.submit_offer(membership(), terms(), now=LATER)
    assert second.id != first.id and referral.live_offers == (second,)


def test_withdrawing_without_a_live_offer_is_refused():
    with pytest.raises(Conflict):
        published().withdraw_offer(ACORN, now=LATER)


def test_provider_may_decline_with_a_reason():
    referral = published()
    decline = referral.decline(BIRCH, "No places until September", now=LATER)
    assert decline.reason == "No places until September"
    assert referral.events == [OfferDeclined(referral.id, BIRCH, 1, "No places until September", LATER)]


def test_decline_needs_a_reason():
    with pytest.raises(InvalidInput) as refused:
        published().decline(BIRCH, " ", now=LATER)
    assert refused.value.field == "reason"


def test_decline_with_a_live_offer_is_refused():
    referral = published()
    referral.submit_offer(membership(), terms(), now=LATER)
    with pytest.raises(Conflict):
        referral.decline(ACORN, "Changed our mind", now=LATER)


def test_provider_not_invited_cannot_decline():
    with pytest.raises(Forbidden):
        published().decline(CEDAR, "Not for us", now=LATER)


def test_offer_after_a_decline_replaces_it():
    referral = published()
    referral.decline(ACORN, "Full", now=LATER)
    referral.submit_offer(membership(), terms(), now=LATER)
    assert ACORN not in referral.declines
    assert referral.has_answered(ACORN)


def test_the_providers_that_answered_are_those_with_a_live_offer_or_a_decline():
    dale, elm = uuid.uuid4(), uuid.uuid4()
    referral = published(memberships=[membership(p) for p in (ACORN, BIRCH, CEDAR, dale, elm)])
    referral.submit_offer(membership(ACORN), terms(), now=LATER)
    referral.decline(BIRCH, "Full", now=LATER)
    referral.submit_offer(membership(CEDAR), terms(), now=LATER)
    referral.withdraw_offer(CEDAR, now=LATER)  # withdrawn: no answer any more
    referral.submit_offer(membership(dale), terms(), now=LATER)
    assert referral.answered == {ACORN, BIRCH, dale}
    assert referral.answered == {p for p in referral.invited if referral.has_answered(p)}
    assert set(referral.unanswered) == {CEDAR, elm}

"""An offer hears every problem at once (its own terms, the line it quotes, the
price cap, the further questions, a start in the past), and may quote any
staffing ratio the registry accepted for that line ("group" included): the
ratio is the line's, taken from the registry's events."""

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
    check_offer,
)
from services.referrals.domain.profile import FurtherQuestion
from shared.errors import InvalidInput

NOW = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
ACORN = uuid.uuid4()
PLACE = PricingLine(uuid.uuid4(), "Group place per week", "week", maximum_price_pence=5000, staffing_ratio="1:4")
SESSION = PricingLine(uuid.uuid4(), "Group session", "session", maximum_price_pence=3000, staffing_ratio="group")
QUESTION = FurtherQuestion(uuid.uuid4(), "Experience of supporting autistic pupils?")


def published() -> Referral:
    profile = Profile(
        age=14, year_group=9, primary_need="SEMH", ehcp=True, looked_after=False,
        reason=ReasonForAP.PERMANENT_EXCLUSION, needs_and_risks="Needs a small group.",
        aims="Stabilise, then move on.", success_measures={"behaviour": "No exclusions"}, curriculum="Core",
        qualification_route="Functional skills", hours_per_week=Decimal(25), pattern="Full days",
        start_date=date(2024, 3, 11), expected_weeks=12, postcode_district="SE15", transport_needed=False)
    child = ChildDetails("Zebedee Quartermaine", date(2010, 1, 2), "A123456789012", "1 Road, London SE15 4QT")
    referral = Referral.create(team="exclusions", lot=1, child=child, profile=profile,
                               deadline=NOW + timedelta(days=14), by="officer-1", now=NOW,
                               exclusion_start=date(2024, 3, 4))
    referral.publish([membership()], by="officer-1", now=NOW)
    return referral


def membership() -> Membership:
    return Membership(ACORN, 1, MembershipStatus.ADMITTED, pricing_lines=(PLACE, SESSION), capacity=3)


def terms(**overrides) -> OfferTerms:
    fields = dict(pricing_line_id=PLACE.id, unit_price_pence=4500, units_per_week=1, weeks=12,
                  proposed_start=date(2024, 3, 11), staffing_ratio="1:4", delivery_site="Acorn Centre",
                  delivery_postcode="se15 5ab", how_it_meets_needs="Small groups with a therapist on site.",
                  place_available=True)
    return OfferTerms(**(fields | overrides))


def test_price_above_the_maximum_a_bad_postcode_and_no_weeks_are_all_reported():
    with pytest.raises(InvalidInput) as refused:
        published().submit_offer(membership(), terms(unit_price_pence=5001, delivery_postcode="nowhere", weeks=0),
                                 now=LATER)
    assert set(refused.value.field_errors) == {"unit_price_pence", "delivery_postcode", "weeks"}
    assert refused.value.field_errors["unit_price_pence"] == [
        "above the maximum price of 5000 pence for this line"]


def test_every_rule_of_an_offer_is_checked_before_refusing():
    bad = terms(units_per_week=0, staffing_ratio=" ", delivery_site="", how_it_meets_needs=" ",
                place_available=False, proposed_start=date(2024, 2, 1), answers={uuid.uuid4(): "hello"})
    with pytest.raises(InvalidInput) as refused:
        check_offer(bad, PLACE, lot=1, questions=[QUESTION], today=date(2024, 3, 1))
    assert set(refused.value.field_errors) == {"units_per_week", "staffing_ratio", "delivery_site",
                                               "how_it_meets_needs", "place_available", "proposed_start",
                                               "answers"}
    assert len(refused.value.field_errors["answers"]) == 2  # a question not asked, and the one asked unanswered


def test_a_line_not_in_the_schedule_is_named_with_the_other_problems():
    with pytest.raises(InvalidInput) as refused:
        check_offer(terms(weeks=-3), None, lot=1, questions=[], today=date(2024, 3, 1))
    assert set(refused.value.field_errors) == {"pricing_line_id", "weeks"}


def test_a_group_line_is_quoted_with_its_own_ratio():
    offer = published().submit_offer(membership(), terms(pricing_line_id=SESSION.id, unit_price_pence=2500,
                                                         staffing_ratio="group"), now=LATER)
    assert offer.terms.staffing_ratio == "group"


def test_an_offer_without_a_ratio_takes_its_lines():
    offer = published().submit_offer(membership(), terms(pricing_line_id=SESSION.id, unit_price_pence=2500,
                                                         staffing_ratio=None), now=LATER)
    assert offer.terms.staffing_ratio == "group"


def test_a_ratio_is_compared_without_spaces_or_case_and_stored_as_the_line_has_it():
    offer = published().submit_offer(membership(), terms(staffing_ratio=" 1 : 4 "), now=LATER)
    assert offer.terms.staffing_ratio == "1:4"


def test_a_ratio_other_than_the_lines_is_refused_naming_the_lines():
    with pytest.raises(InvalidInput) as refused:
        published().submit_offer(membership(), terms(staffing_ratio="1:1"), now=LATER)
    assert refused.value.field == "staffing_ratio" and "1:4" in refused.value.message

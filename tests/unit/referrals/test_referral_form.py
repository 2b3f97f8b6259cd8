"""The referral form: the pseudonymised profile, its required parts, and the
child's identifying details that never reach a provider."""

import dataclasses
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
    Profile,
    ReasonForAP,
    Referral,
    ReferralPublished,
    SuccessMeasure,
)
from shared.calendar import WORKING_DAYS
from shared.errors import InvalidInput

NOW = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
OFFICER = "officer-1"


def child(**overrides) -> ChildDetails:
    fields = dict(name="Zebedee Quartermaine", date_of_birth=date(2011, 7, 14), upn="A123456789012",
                  address="14 Larkspur Road, London SE15 4QT")
    return ChildDetails(**(fields | overrides))


def profile(**overrides) -> Profile:
    fields = dict(
        age=12, year_group=8, primary_need="Social, emotional and mental health", ehcp=False,
        looked_after=False, reason=ReasonForAP.MEDICAL,
        needs_and_risks="Anxiety; has not attended for a term. Low risk to others.",
        aims="Rebuild attendance and return to a mainstream school within two terms.",
        success_measures={"attendance": "90% by the end of term", "attainment": "Working at age level in maths"},
        curriculum="English, maths, science, PSHE", qualification_route="GCSE pathway",
        hours_per_week=Decimal(25), pattern="Mornings, Monday to Friday", start_date=date(2024, 3, 11),
        expected_weeks=12, postcode_district="SE15", transport_needed=True)
    return Profile(**(fields | overrides))


def referral(**overrides) -> Referral:
    fields = dict(team="exclusions", lot=1, child=child(), profile=profile(), deadline=NOW + timedelta(days=14),
                  by=OFFICER, now=NOW)
    return Referral.create(**(fields | overrides))


def refused_field(excinfo) -> str:
    return excinfo.value.field


# --- required parts of the profile

@pytest.mark.parametrize("hours", [Decimal(1), 1, Decimal("12.5"), 40])
def test_hours_per_week_from_1_to_40_are_accepted(hours):
    assert profile(hours_per_week=hours).hours_per_week == Decimal(hours)


@pytest.mark.parametrize("hours", [0, Decimal("0.5"), Decimal("40.5"), 41, 1.5, True, Decimal("NaN")])
def test_hours_per_week_outside_1_to_40_are_refused(hours):
    with pytest.raises(InvalidInput) as refused:
        profile(hours_per_week=hours)
    assert refused_field(refused) == "hours_per_week"


@pytest.mark.parametrize("aims", ["", "   ", None])
def test_referral_without_aims_is_refused(aims):
    with pytest.raises(InvalidInput) as refused:
        profile(aims=aims)
    assert refused_field(refused) == "aims"
    assert "intervention, not a destination" in refused.value.message


@pytest.mark.parametrize("measures", [{}, {"attendance": "  "}, None])
def test_referral_without_a_success_measure_is_refused(measures):
    with pytest.raises(InvalidInput) as refused:
        profile(success_measures=measures)
    assert refused_field(refused) == "success_measures"


def test_unknown_success_measure_is_refused():
    with pytest.raises(InvalidInput) as refused:
        profile(success_measures={"happiness": "smiles more"})
    assert refused_field(refused) == "success_measures"


def test_success_measures_are_kept_by_measure():
    assert profile().success_measures == {SuccessMeasure.ATTENDANCE: "90% by the end of term",
                                          SuccessMeasure.ATTAINMENT: "Working at age level in maths"}


def test_reason_for_ap_is_one_of_the_councils_reasons():
    assert profile(reason="send_placement_breakdown").reason is ReasonForAP.SEND_PLACEMENT_BREAKDOWN
    with pytest.raises(InvalidInput) as refused:
        profile(reason="boredom")
    assert refused_field(refused) == "reason"


@pytest.mark.parametrize("district", ["SE15 4QT", "SE154QT", "London", ""])
def test_postcode_district_must_be_the_outward_code_only(district):
    with pytest.raises(InvalidInput) as refused:
        profile(postcode_district=district)
    assert refused_field(refused) == "postcode_district"


def test_postcode_district_is_normalised_to_capitals():
    assert profile(postcode_district="ec1a").postcode_district == "EC1A"


def test_upn_must_be_a_letter_and_twelve_characters():
    assert child(upn="a1234 5678 9012").upn == "A123456789012"
    with pytest.raises(InvalidInput) as refused:
        child(upn="123")
    assert refused_field(refused) == "upn"


# --- the referral

def test_deadline_in_the_past_is_refused_at_creation():
    with pytest.raises(InvalidInput) as refused:
        referral(deadline=NOW - timedelta(minutes=1))
    assert refused_field(refused) == "deadline"


def test_deadline_without_a_time_zone_is_refused():
    with pytest.raises(InvalidInput) as refused:
        referral(deadline=datetime(2024, 3, 8, 12, 0))
    assert refused_field(refused) == "deadline"


@pytest.mark.parametrize("lot", [0, 5, True])
def test_lot_must_be_1_to_4(lot):
    with pytest.raises(InvalidInput) as refused:
        referral(lot=lot)
    assert refused_field(refused) == "lot"


def test_permanent_exclusion_needs_its_start_date():
    with pytest.raises(InvalidInput) as refused:
        referral(profile=profile(reason=ReasonForAP.PERMANENT_EXCLUSION))
    assert refused_field(refused) == "exclusion_start"


def test_permanent_exclusion_shows_the_sixth_school_day():
    excluded = referral(profile=profile(reason=ReasonForAP.PERMANENT_EXCLUSION), exclusion_start=date(2024, 3, 6))
    assert excluded.full_time_provision_by == date(2024, 3, 13)
    assert excluded.profile_for_providers().full_time_provision_by == date(2024, 3, 13)


def test_permanent_exclusion_of_a_looked_after_child_aims_for_the_first_day_with_day_six_the_backstop():
    excluded = referral(profile=profile(reason=ReasonForAP.PERMANENT_EXCLUSION, looked_after=True),
                        exclusion_start=date(2024, 3, 6))
    assert excluded.full_time_provision_by == date(2024, 3, 13)
    assert excluded.first_day_aim == excluded.first_school_day == date(2024, 3, 6)
    assert excluded.profile_for_providers().first_day_aim == date(2024, 3, 6)  # the provider knows the aim


def test_a_child_not_looked_after_has_no_first_day_aim():
    excluded = referral(profile=profile(reason=ReasonForAP.PERMANENT_EXCLUSION), exclusion_start=date(2024, 3, 6))
    assert excluded.first_day_aim is None and excluded.first_school_day == date(2024, 3, 6)


def test_medical_and_post16_referrals_show_no_provision_deadline():
    assert referral().full_time_provision_by is None  # medical
    assert referral(profile=profile(reason=ReasonForAP.POST16)).full_time_provision_by is None


@pytest.mark.parametrize("reason", [ReasonForAP.SUSPENSION, ReasonForAP.SEND_PLACEMENT_BREAKDOWN, ReasonForAP.OTHER])
def test_every_other_non_medical_referral_carries_the_sixth_day(reason):
    # from the first day without a school place when given: Wed 6 March 2024 (1) .. Wed 13 (6)
    assert referral(profile=profile(reason=reason), exclusion_start=date(2024, 3, 6)).full_time_provision_by == date(
        2024, 3, 13)
    # else from the day of the referral, at the latest
    made = referral(profile=profile(reason=reason))
    assert made.first_school_day == WORKING_DAYS.nth_open_day(made.created_at.date(), 1)
    assert made.full_time_provision_by == WORKING_DAYS.nth_open_day(made.created_at.date(), 6)


def test_revising_a_draft_rechecks_the_form():
    draft = referral()
    draft.revise(now=NOW, profile=profile(hours_per_week=10))
    assert draft.profile.hours_per_week == 10
    with pytest.raises(InvalidInput):
        draft.revise(now=NOW, profile=profile(reason=ReasonForAP.PERMANENT_EXCLUSION))
    assert draft.profile.hours_per_week == 10  # a refused revision changes nothing


# --- identifying details never reach a provider

IDENTIFYING = ("Zebedee", "Quartermaine", "2011-07-14", "A123456789012", "Larkspur", "4QT")


def test_profile_for_providers_has_no_identifying_field():
    names = {f.name for f in dataclasses.fields(referral().profile_for_providers())}
    names |= {f.name for f in dataclasses.fields(Profile)}
    assert not names & {"child", "name", "date_of_birth", "upn", "address"}


def test_identifying_details_never_appear_in_the_provider_profile_or_published_event():
    published = referral()
    published.publish([Membership(uuid.uuid4(), 1, MembershipStatus.ADMITTED)], by=OFFICER, now=NOW)
    event = next(e for e in published.events if isinstance(e, ReferralPublished))
    for seen_by_providers in (published.profile_for_providers(), event):
        text = repr(dataclasses.asdict(seen_by_providers))
        for detail in IDENTIFYING:
            assert detail not in text


def test_child_details_do_not_show_in_a_log_line():
    assert not any(detail in repr(child()) for detail in IDENTIFYING)


@pytest.mark.parametrize("field_name, text", [
    ("needs_and_risks", "Zebedee Quartermaine struggles in large groups."),
    ("aims", "Return ZEBEDEE  QUARTERMAINE to school."),
    ("needs_and_risks", "UPN A123456789012 on the school roll."),
    ("needs_and_risks", "Lives near SE15 4QT, a short walk."),
])
def test_profile_text_that_identifies_the_child_is_refused(field_name, text):
    with pytest.raises(InvalidInput) as refused:
        referral(profile=profile(**{field_name: text}))
    assert refused_field(refused) == field_name


def test_further_question_that_names_the_child_is_refused():
    draft = referral()
    with pytest.raises(InvalidInput) as refused:
        draft.add_question("Can you support Zebedee Quartermaine with anxiety?")
    assert refused_field(refused) == "questions"
    assert draft.questions == []


_words = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=6, max_size=12)


@given(first=_words, last=_words, digits=st.integers(10**11, 10**12 - 1),
       dob=st.dates(date(2000, 1, 1), date(2020, 12, 31)))
def test_no_childs_details_ever_reach_the_provider_profile(first, last, digits, dob):
    # Consonant-only names cannot occur in the fixed profile words.
    details = child(name=f"{first.title()} {last.title()}", upn=f"K{digits}", date_of_birth=dob,
                    address=f"1 {last.title()} Street, London")
    seen = repr(dataclasses.asdict(referral(child=details).profile_for_providers()))
    for detail in (first.title(), last.title(), f"K{digits}", str(dob), repr(dob)):
        assert detail not in seen

"""Compulsory school age (services/referrals/domain/school_age.py), decided where the date of birth
lives, and carried on the events as an answer (never the date): the registration rule counts only
pupils of compulsory school age."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.referrals import handlers
from services.referrals.domain.school_age import (
    compulsory_school_age_ends,
    compulsory_school_age_starts,
    last_friday_of_june,
    of_compulsory_school_age,
)
from tests.unit.referrals.test_referrals_handlers import (  # noqa: F401 (fixtures)
    CHILD,
    OFFICER,
    PROFILE,
    admitted_uow,
    no_webhooks,
)

# --- when it starts: the prescribed day (31 March, 31 August, 31 December) on or after the fifth birthday


@pytest.mark.parametrize(("born", "starts"), [
    (date(2019, 9, 1), date(2024, 12, 31)),   # 5 on 1 September: from the spring term
    (date(2019, 12, 31), date(2024, 12, 31)),  # 5 on a prescribed day: from that day
    (date(2020, 1, 1), date(2025, 3, 31)),    # 5 on 1 January: from the summer term
    (date(2020, 4, 1), date(2025, 8, 31)),    # 5 on 1 April: from the autumn term
    (date(2020, 8, 31), date(2025, 8, 31)),
    (date(2016, 2, 29), date(2021, 3, 31)),   # a leap-day birthday: 1 March in a common year
])
def test_compulsory_school_age_starts_on_the_prescribed_day_after_the_fifth_birthday(born, starts):
    assert compulsory_school_age_starts(born) == starts


def test_a_four_year_old_in_reception_is_not_yet_of_compulsory_school_age():
    born = date(2020, 1, 15)
    assert not of_compulsory_school_age(born, date(2025, 3, 30))
    assert of_compulsory_school_age(born, date(2025, 3, 31))


# --- when it ends: the last Friday in June of the school year in which the child turns 16


def test_the_last_friday_of_june():
    assert last_friday_of_june(2026) == date(2026, 6, 26)
    assert last_friday_of_june(2027) == date(2027, 6, 25)
    assert last_friday_of_june(2029) == date(2029, 6, 29)


@pytest.mark.parametrize(("born", "ends"), [
    (date(2010, 9, 1), date(2027, 6, 25)),   # 16 on 1 September 2026: the school year 2026-27
    (date(2011, 8, 31), date(2027, 6, 25)),  # 16 on 31 August 2027: the same school year, before the birthday
    (date(2010, 6, 2), date(2026, 6, 26)),   # 16 in June 2026: the school year 2025-26
    (date(2011, 1, 10), date(2027, 6, 25)),
])
def test_compulsory_school_age_ends_on_the_last_friday_of_june_of_the_school_year_they_turn_16(born, ends):
    assert compulsory_school_age_ends(born) == ends


def test_a_pupil_turning_16_in_the_school_year_is_of_compulsory_school_age_to_the_leaving_date_only():
    born = date(2010, 11, 20)  # turns 16 on 20 November 2026, in the school year 2026-27
    assert of_compulsory_school_age(born, date(2026, 11, 21))  # already 16, still of compulsory school age
    assert of_compulsory_school_age(born, date(2027, 6, 25))  # the leaving date
    assert not of_compulsory_school_age(born, date(2027, 6, 26))  # post-16
    summer = date(2011, 7, 30)  # turns 16 on 30 July 2027: leaves on 25 June 2027, still 15
    assert not of_compulsory_school_age(summer, date(2027, 6, 28))


# --- the events carry the answer on the start date, and SEN, never the date of birth


def _published(child, profile):
    uow = admitted_uow()
    view = handlers.create_referral(uow, OFFICER, lot=1, child=child, profile=profile,
                                    deadline=uow.clock + timedelta(days=14), exclusion_start=date(2025, 1, 13))
    handlers.publish_referral(uow, OFFICER, view.referral.id)
    [published] = uow.published("referral.published")
    return uow, view.referral, published


def test_referral_published_carries_school_age_and_sen_but_not_the_date_of_birth():
    _uow, _referral, data = _published(CHILD, PROFILE)  # 14, an EHCP (so SEN)
    assert data["compulsory_school_age"] is True and data["profile"]["has_sen"] is True
    assert "date_of_birth" not in str(data) and CHILD["date_of_birth"].isoformat() not in str(data)


def test_a_young_person_past_the_leaving_date_on_the_start_date_is_not_of_compulsory_school_age():
    child = {**CHILD, "date_of_birth": date(2008, 10, 1)}  # left school on 26 June 2025
    profile = {**PROFILE, "age": 16, "year_group": 12, "ehcp": False, "reason": "post16",
               "start_date": date(2025, 9, 1)}
    _uow, _referral, data = _published(child, profile)
    assert data["compulsory_school_age"] is False and data["profile"]["has_sen"] is False


def test_sen_support_without_an_ehcp_is_carried():
    _uow, _referral, data = _published(CHILD, {**PROFILE, "ehcp": False, "has_sen": True})
    assert data["profile"]["has_sen"] is True and data["profile"]["ehcp"] is False


def test_referral_closed_carries_school_age_and_sen_to_awards():
    uow, referral, _ = _published(CHILD, PROFILE)
    uow.clock = referral.deadline + timedelta(minutes=1)
    handlers.complete_assessment(uow, OFFICER, referral.id)
    [data] = uow.published("referral.closed")
    assert data["compulsory_school_age"] is True and data["has_sen"] is True

"""The sixth-day deadline (and a looked-after child's first-day aim), counted in school days.

Worked examples (2024): Monday 6 May is the Early May bank holiday.
"""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.referrals.domain import ReasonForAP, full_time_provision_deadline, sixth_day, sixth_day_applies
from shared.calendar import Calendar, Term, school_calendar


def test_exclusion_starting_on_a_monday_needs_provision_by_the_next_monday():
    # Mon 4 (day 1) .. Fri 8 (day 5), Mon 11 (day 6)
    assert full_time_provision_deadline(date(2024, 3, 4), looked_after=False) == date(2024, 3, 11)


def test_sixth_school_day_skips_the_weekend():
    # Wed 6 (1), Thu 7 (2), Fri 8 (3), Mon 11 (4), Tue 12 (5), Wed 13 (6)
    assert full_time_provision_deadline(date(2024, 3, 6), looked_after=False) == date(2024, 3, 13)


def test_sixth_school_day_skips_a_bank_holiday():
    # Tue 30 Apr (1), Wed 1 (2), Thu 2 (3), Fri 3 (4), Mon 6 bank holiday, Tue 7 (5), Wed 8 (6)
    assert full_time_provision_deadline(date(2024, 4, 30), looked_after=False) == date(2024, 5, 8)


def test_exclusion_starting_on_a_saturday_counts_from_the_monday():
    # Sat 9 is not a school day: Mon 11 is day 1, so Mon 18 is day 6
    assert full_time_provision_deadline(date(2024, 3, 9), looked_after=False) == date(2024, 3, 18)


def test_looked_after_child_aims_for_the_first_day_and_day_six_is_the_backstop():
    due = sixth_day(date(2024, 3, 6), looked_after=True)
    assert (due.first_day_aim, due.deadline) == (date(2024, 3, 6), date(2024, 3, 13))
    assert full_time_provision_deadline(date(2024, 3, 6), looked_after=True) == date(2024, 3, 13)


def test_looked_after_child_excluded_from_a_bank_holiday_aims_for_the_next_school_day():
    assert sixth_day(date(2024, 5, 6), looked_after=True).first_day_aim == date(2024, 5, 7)


def test_sixth_school_day_across_the_october_half_term_of_the_default_calendar():
    # Wed 22 Oct 2025 (1), Thu 23 (2), Fri 24 (3), half term 27-31 October, Mon 3 Nov (4), Tue 4 (5), Wed 5 (6)
    assert full_time_provision_deadline(date(2025, 10, 22), calendar=school_calendar()) == date(2025, 11, 5)
    # excluded in the half term itself: Monday 3 November is day 1
    assert sixth_day(date(2025, 10, 28), looked_after=True, calendar=school_calendar()).first_day_aim == date(
        2025, 11, 3)


@pytest.mark.parametrize("reason, applies", [
    (ReasonForAP.PERMANENT_EXCLUSION, True), (ReasonForAP.SUSPENSION, True),
    (ReasonForAP.SEND_PLACEMENT_BREAKDOWN, True), (ReasonForAP.OTHER, True),
    (ReasonForAP.MEDICAL, False), (ReasonForAP.POST16, False)])
def test_the_sixth_day_applies_to_every_non_medical_reason_of_compulsory_school_age(reason, applies):
    assert sixth_day_applies(reason) is applies


def test_school_calendar_skips_half_term_and_an_inset_day():
    # Summer term 2024 in two halves; Mon 3 June is an INSET day.
    calendar = Calendar(closed_dates=frozenset({date(2024, 6, 3)}),
                        terms=(Term(date(2024, 4, 15), date(2024, 5, 24)),
                               Term(date(2024, 6, 3), date(2024, 7, 19))))
    # Tue 21 (1), Wed 22 (2), Thu 23 (3), Fri 24 (4), half term, INSET Mon 3 June, Tue 4 (5), Wed 5 (6)
    assert full_time_provision_deadline(date(2024, 5, 21), looked_after=False,
                                        calendar=calendar) == date(2024, 6, 5)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.booleans())
def test_deadline_is_the_sixth_or_first_school_day_counting_the_start(start, looked_after):
    calendar = Calendar()
    deadline = full_time_provision_deadline(start, looked_after=looked_after, calendar=calendar)
    assert calendar.is_open(deadline)
    # school days from the start up to and including the deadline
    assert calendar.open_days_between(start - timedelta(days=1), deadline) == 6
    aim = sixth_day(start, looked_after=True, calendar=calendar).first_day_aim
    assert calendar.is_open(aim) and calendar.open_days_between(start - timedelta(days=1), aim) == 1

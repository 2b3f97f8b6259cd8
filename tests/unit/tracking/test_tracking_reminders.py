"""What tracking's daily job tells the team (issue #18): reviews due in 5 school days and overdue, the sixth
day 2 school days away and missed, counted in the school calendar."""

from datetime import date

import pytest

from services.tracking import domain
from services.tracking.domain import SixthDayStatus
from shared.calendar import Calendar, Term

# an autumn term to 18 December 2026, and spring from 4 January 2027
CALENDAR = Calendar(terms=(Term(date(2026, 9, 2), date(2026, 12, 18), "autumn"),
                           Term(date(2027, 1, 4), date(2027, 3, 26), "spring")))


@pytest.mark.parametrize("today, due_on, expected", [
    (date(2026, 12, 7), date(2026, 12, 14), "review.due_soon"),  # Monday to Monday: 5 school days
    (date(2026, 12, 4), date(2026, 12, 14), None),  # 6 school days
    (date(2026, 12, 14), date(2026, 12, 14), "review.due_soon"),  # the day itself: still due
    (date(2026, 12, 15), date(2026, 12, 14), "review.overdue"),
    (date(2026, 12, 16), date(2027, 1, 6), "review.due_soon"),  # the Christmas holiday does not count
    (date(2026, 12, 7), None, None),  # not running
])
def test_a_review_is_told_5_school_days_before_and_once_past(today, due_on, expected):
    assert domain.review_reminder(due_on, today, CALENDAR) == expected


@pytest.mark.parametrize("status, today, expected", [
    (SixthDayStatus.AT_RISK, date(2026, 12, 7), "sixth_day.at_risk"),  # the deadline is Wednesday the 9th
    (SixthDayStatus.AT_RISK, date(2026, 12, 4), None),  # 3 school days away
    (SixthDayStatus.MISSED, date(2026, 12, 10), "sixth_day.missed"),
    (SixthDayStatus.MET, date(2026, 12, 8), None),
])
def test_the_sixth_day_is_told_2_school_days_before_and_when_missed(status, today, expected):
    assert domain.sixth_day_reminder(status, date(2026, 12, 9), today, CALENDAR) == expected

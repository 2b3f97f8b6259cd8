"""The manager is reminded of an application due for decision in 2 working days, and once it is overdue
(issue #18; PCR 2015 reg. 34(15)-(16))."""

from datetime import date

import pytest

from services.provider_registry import domain


@pytest.mark.parametrize("today, expected", [
    (date(2025, 1, 24), None),  # Friday: 3 working days before Wednesday the 29th
    (date(2025, 1, 27), "application.decision_due"),  # Monday: 2 working days
    (date(2025, 1, 29), "application.decision_due"),  # the last day it is on time
    (date(2025, 1, 30), "application.decision_overdue"),
])
def test_an_application_is_told_2_working_days_before_its_decision_date_and_once_past(today, expected):
    assert domain.decision_reminder(date(2025, 1, 29), today) == expected


def test_a_bank_holiday_is_not_a_working_day():
    # Wednesday 7 May 2025 is 2 working days after Friday 2 May: Monday 5 May is the early May bank holiday
    assert domain.decision_reminder(date(2025, 5, 7), date(2025, 5, 2)) == "application.decision_due"

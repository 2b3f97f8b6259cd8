"""Reviews every six school weeks on the school calendar (a holiday week does not count), with the
child's and the family's views beside progress against the aims."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.tracking.domain import Actor, Placement, review_due
from shared.calendar import school_calendar
from shared.errors import InvalidInput

OFFICER = Actor("officer.jones")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TERMS = school_calendar()  # the default: 2025-26 has its October half term 27-31 October 2025


def started(on: date) -> Placement:
    placement = Placement.from_call_off(
        placement_id=uuid4(), referral_id=uuid4(), child_ref=uuid4(), provider_id=uuid4(), lot=2,
        commissioning_team="exclusions", reason_for_ap="permanent_exclusion", hours_per_week=Decimal(15),
        agreed_cost_pence=600_000, start_date=on, expected_end_date=date(2026, 7, 17), safeguarding="home_school",
        provision="main")
    placement.start(on, by=OFFICER, now=NOW, calendar=TERMS)
    return placement


def review(placement: Placement, on: date, **given):
    views = {"child_views": "wants to go back to a school", "family_views": "worried about the journey", **given}
    return placement.record_review(on, attendance="improving", attitude="steady", attainment="steady",
                                   behaviour="improving", notes="settling well", by=OFFICER, now=NOW,
                                   calendar=TERMS, **views)


def test_the_first_review_is_due_six_school_weeks_on_skipping_the_half_term():
    placement = started(date(2025, 10, 13))
    # weeks of 13 and 20 October, half term, then 3, 10, 17 and 24 November
    assert placement.review_due_date == date(2025, 12, 1)
    assert not placement.is_review_overdue(date(2025, 12, 1)) and placement.is_review_overdue(date(2025, 12, 2))
    assert review_due(date(2025, 10, 13), None) == date(2025, 11, 24)  # on working days it would be a week sooner


def test_a_review_before_christmas_makes_the_next_due_after_the_holidays():
    placement = started(date(2025, 11, 3))
    review(placement, date(2025, 12, 8))
    # 8 and 15 December, two weeks of Christmas holidays, then 5, 12, 19 and 26 January
    assert placement.review_due_date == date(2026, 2, 2)


def test_a_review_keeps_the_child_and_family_views_beside_progress():
    placement = started(date(2025, 11, 3))
    made = review(placement, date(2025, 12, 8))
    assert (made.child_views, made.family_views) == ("wants to go back to a school", "worried about the journey")


@pytest.mark.parametrize("missing", ["child_views", "family_views"])
def test_a_review_without_the_child_or_family_views_is_refused_naming_the_field(missing):
    placement = started(date(2025, 11, 3))
    with pytest.raises(InvalidInput) as refused:
        review(placement, date(2025, 12, 8), **{missing: "  "})
    assert refused.value.field == missing and not placement.reviews

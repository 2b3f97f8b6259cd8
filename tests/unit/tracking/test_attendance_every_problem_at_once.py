"""A week's attendance return hears every problem at once: each count that is
not a whole number or is negative, and whether the week falls within the
placement, in one refusal naming every field."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.tracking.domain import Actor, AttendanceReturn, Placement
from shared.errors import InvalidInput

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
TODAY = date(2024, 3, 15)


def started() -> Placement:
    placement = Placement.from_call_off(
        placement_id=uuid4(), referral_id=uuid4(), child_ref=uuid4(), provider_id=uuid4(), lot=1,
        commissioning_team="send", reason_for_ap="SEND needs the school cannot meet", hours_per_week=Decimal(25),
        agreed_cost_pence=1_000_000, start_date=date(2024, 1, 8), expected_end_date=date(2024, 7, 19),
        safeguarding="commissioning_team", provision="main")
    placement.start(date(2024, 1, 10), by=Actor("officer.jones"), now=NOW)
    return placement


def test_every_bad_count_of_a_return_is_named_at_once():
    with pytest.raises(InvalidInput) as refused:
        AttendanceReturn(date(2024, 1, 9), 2.5, -1, "3", 0)
    assert set(refused.value.field_errors) == {"week_commencing", "sessions_offered", "attended",
                                               "authorised_absence"}


def test_a_week_outside_the_placement_and_bad_counts_are_named_together():
    with pytest.raises(InvalidInput) as refused:
        started().new_return(date(2024, 3, 18), today=TODAY, sessions_offered=10, attended=-2,
                             authorised_absence=0, unauthorised_absence=True)
    assert refused.value.field_errors == {
        "week_commencing": ["is in the future"], "attended": ["must not be negative"],
        "unauthorised_absence": ["must be a whole number of sessions"]}


def test_one_problem_keeps_its_own_message_and_field():
    with pytest.raises(InvalidInput) as refused:
        started().new_return(date(2024, 1, 1), today=TODAY, sessions_offered=10, attended=9,
                             authorised_absence=1, unauthorised_absence=0)
    assert refused.value.field == "week_commencing"
    assert refused.value.message == "is before the placement started on 2024-01-10"


def test_a_good_return_is_made():
    made = started().new_return(date(2024, 1, 8), today=TODAY, sessions_offered=10, attended=9,
                                authorised_absence=1, unauthorised_absence=0)
    assert made == AttendanceReturn(date(2024, 1, 8), 10, 9, 1, 0)

"""Committed spend that is true (issue #16 item 8): a placement that ends
early stops committing at its end; a cancelled award commits nothing."""

from datetime import date, timedelta
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from services.tracking.domain import (
    PlacementRow,
    PlacementStatus,
    commitment_by_month,
    committed_spend_by_month,
)

P = uuid4()
ENDED, STARTED, CANCELLED = PlacementStatus.ENDED, PlacementStatus.STARTED, PlacementStatus.CANCELLED
# 1 Jan to 30 Apr 2024 is 121 days; 121,000p is 1,000p a day
START, EXPECTED_END, COST = date(2024, 1, 1), date(2024, 4, 30), 121_000


def test_a_placement_ended_on_its_first_day_commits_one_days_share():
    assert commitment_by_month(COST, START, EXPECTED_END, status=ENDED, end_date=START) == {
        date(2024, 1, 1): 1_000}


def test_a_placement_ended_mid_month_commits_to_its_end_only():
    # 1 Jan to 15 Feb is 31 + 15 = 46 days
    assert commitment_by_month(COST, START, EXPECTED_END, status=ENDED, end_date=date(2024, 2, 15)) == {
        date(2024, 1, 1): 31_000, date(2024, 2, 1): 15_000}


def test_a_placement_ended_on_its_expected_end_or_still_running_commits_the_whole_cost():
    whole = {date(2024, 1, 1): 31_000, date(2024, 2, 1): 29_000, date(2024, 3, 1): 31_000,
             date(2024, 4, 1): 30_000}
    assert commitment_by_month(COST, START, EXPECTED_END, status=ENDED, end_date=EXPECTED_END) == whole
    assert commitment_by_month(COST, START, EXPECTED_END, status=STARTED) == whole
    # ended after its expected end: the agreed cost, no more
    assert commitment_by_month(COST, START, EXPECTED_END, status=ENDED,
                               end_date=date(2024, 5, 10)) == whole


def test_an_award_never_started_and_cancelled_commits_nothing():
    assert commitment_by_month(COST, START, EXPECTED_END, status=CANCELLED, end_date=START) == {}


def test_a_share_of_a_penny_rounds_half_up():
    # 3p over 2 days, ended on the first: 1.5p -> 2p
    assert commitment_by_month(3, START, START + timedelta(days=1), status=ENDED, end_date=START) == {
        date(2024, 1, 1): 2}


@given(total=st.integers(0, 10**8), length=st.integers(0, 800), ran=st.integers(0, 800))
def test_an_early_end_never_commits_more_than_the_agreed_cost_and_stops_at_its_end(total, length, ran):
    expected_end = START + timedelta(days=length)
    end = START + timedelta(days=min(ran, length))
    months = commitment_by_month(total, START, expected_end, status=ENDED, end_date=end)
    assert sum(months.values()) <= total
    assert max(months) == end.replace(day=1)


def test_three_placements_ended_on_their_first_day_show_a_days_cost_not_their_whole_cost():
    # the reported case: three ended on their first day still showed the whole cost
    rows = [PlacementRow(placement_id=uuid4(), child_ref=uuid4(), provider_id=P, lot=1,
                         commissioning_team="send", reason_for_ap="SEND", status="ended",
                         start_date=START, started_on=START, end_date=START,
                         expected_end_date=EXPECTED_END, agreed_cost_pence=504_000)
            for _ in range(3)]
    assert committed_spend_by_month(rows, by=()) == {(date(2024, 1, 1),): 3 * 4_165}

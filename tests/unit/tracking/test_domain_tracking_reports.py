"""Report definitions: accountability rates, committed spend by month,
active placements, overdue reviews and the January AP census."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.tracking.domain import (
    Actor,
    EndReason,
    NextStep,
    Placement,
    PlacementPerformance,
    PlacementRow,
    PlacementStatus,
    accountability,
    accountability_by_provider,
    active_by,
    allocate_by_month,
    attendance_by_week,
    census_day,
    census_extract,
    committed_spend_by_month,
    overdue_reviews,
)

P, Q = uuid4(), uuid4()


# Accountability

def performance(provider, status, end_reason=None, next_step=None, offered=0, attended=0,
                concerns=0):
    return PlacementPerformance(provider, status, end_reason, next_step, offered, attended,
                                concerns)


PROVIDER_P = [
    performance(P, "awarded"),
    performance(P, "started", offered=40, attended=30, concerns=2),
    performance(P, "ended", "completed", "reintegrated_mainstream", offered=60, attended=54),
    performance(P, "ended", "breakdown", "neet", offered=20, attended=8, concerns=3),
    performance(P, "ended", "moved_on_early", "further_education", offered=30, attended=27,
                concerns=1),
]


def test_a_providers_accountability_worked_by_hand():
    result = accountability(PROVIDER_P)
    assert (result.placements, result.active, result.ended) == (5, 1, 3)
    assert result.average_attendance_rate == Decimal("0.7933")  # 119 / 150
    assert result.completion_rate == Decimal("0.6667")  # completed + moved on early: 2 / 3
    assert result.reintegration_rate == Decimal("0.3333")  # 1 / 3
    assert result.progression_rate == Decimal("0.6667")  # mainstream + further education: 2 / 3
    assert result.concerns == 6


def test_rates_with_nothing_to_divide_by_are_none():
    result = accountability([performance(Q, "started")])
    assert result.average_attendance_rate is None
    assert result.completion_rate is None
    assert result.reintegration_rate is None and result.progression_rate is None


def test_accountability_is_grouped_by_provider():
    q_row = performance(Q, "ended", "breakdown", "neet")
    by_provider = accountability_by_provider([*PROVIDER_P, q_row])
    assert by_provider[P].placements == 5
    assert by_provider[Q].progression_rate == Decimal("0.0000")


@pytest.mark.parametrize("next_step, progression", [
    ("reintegrated_mainstream", True), ("special_school", True), ("further_education", True),
    ("training_or_apprenticeship", True), ("employment", True),
    ("neet", False), ("moved_away", False), ("other", False),
])
def test_progression_counts_only_positive_next_steps(next_step, progression):
    result = accountability([performance(P, "ended", "completed", next_step)])
    assert result.progression_rate == (Decimal(1) if progression else Decimal(0))


# Committed spend by month

def test_a_cost_is_spread_by_calendar_day_and_the_leftover_penny_goes_to_the_earliest_tie():
    # 15 Jan to 14 Mar 2024 is 17 + 29 + 14 = 60 days; 100000p is 28333.33 / 48333.33 / 23333.33
    assert allocate_by_month(100_000, date(2024, 1, 15), date(2024, 3, 14)) == {
        date(2024, 1, 1): 28_334, date(2024, 2, 1): 48_333, date(2024, 3, 1): 23_333}


def test_leftover_pence_go_to_the_largest_remainder():
    # 7p over 31 Jan to 2 Feb: Jan 7/3 = 2 r 1, Feb 14/3 = 4 r 2: Feb takes the leftover penny
    assert allocate_by_month(7, date(2024, 1, 31), date(2024, 2, 2)) == {
        date(2024, 1, 1): 2, date(2024, 2, 1): 5}


def test_a_one_day_placement_puts_everything_in_its_month():
    last_of_may = date(2024, 5, 31)
    assert allocate_by_month(12_345, last_of_may, last_of_may) == {date(2024, 5, 1): 12_345}


@given(total=st.integers(0, 10**9), first=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
       length=st.integers(0, 1200))
def test_months_always_sum_exactly_to_the_agreed_cost(total, first, length):
    last = first + timedelta(days=length)
    shares = allocate_by_month(total, first, last)
    assert sum(shares.values()) == total
    assert min(shares) == first.replace(day=1) and max(shares) == last.replace(day=1)
    days = length + 1
    for month, pence in shares.items():
        month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        in_month = (min(month_end, last) - max(month, first)).days + 1
        # within a penny of the exact share
        assert abs(pence * days - total * in_month) < days
        assert pence >= 0


def row(**values):
    base = dict(placement_id=uuid4(), child_ref=uuid4(), provider_id=P, lot=1,
                commissioning_team="send", reason_for_ap="SEND", status="started",
                start_date=date(2024, 1, 8), expected_end_date=date(2024, 7, 19),
                agreed_cost_pence=0, started_on=date(2024, 1, 8))
    base.update(values)
    return PlacementRow(**base)


def test_committed_spend_adds_placements_by_provider_lot_and_month():
    rows = [
        row(agreed_cost_pence=7, start_date=date(2024, 1, 29), started_on=date(2024, 1, 31),
            expected_end_date=date(2024, 2, 2)),  # the confirmed start counts
        row(agreed_cost_pence=100_000, status="awarded", started_on=None,
            start_date=date(2024, 1, 15), expected_end_date=date(2024, 3, 14)),
        row(agreed_cost_pence=500, lot=2, start_date=date(2024, 3, 1), started_on=None,
            status="awarded", expected_end_date=date(2024, 3, 31)),
    ]
    assert committed_spend_by_month(rows) == {
        (P, 1, date(2024, 1, 1)): 2 + 28_334,
        (P, 1, date(2024, 2, 1)): 5 + 48_333,
        (P, 1, date(2024, 3, 1)): 23_333,
        (P, 2, date(2024, 3, 1)): 500,
    }
    whole_dps = committed_spend_by_month(rows, by=())
    assert whole_dps[(date(2024, 3, 1),)] == 23_833
    assert sum(whole_dps.values()) == 100_507


# Active placements, overdue reviews

def test_active_placements_are_counted_by_any_dimension():
    rows = [row(lot=1), row(lot=1), row(lot=3, commissioning_team="medical"),
            row(lot=2, status="awarded", started_on=None),
            row(lot=2, status="ended", end_date=date(2024, 2, 1))]
    on = date(2024, 3, 1)
    assert active_by(rows, "lot", on) == {1: 2, 3: 1}
    assert active_by(rows, "commissioning_team", on) == {"send": 2, "medical": 1}
    assert active_by(rows, lambda r: (r.provider_id, r.lot), on) == {(P, 1): 2, (P, 3): 1}


def test_overdue_reviews_list_running_placements_past_due_or_flagged():
    late = row(started_on=date(2024, 1, 10))  # due 21 Feb
    reviewed = row(started_on=date(2024, 1, 10), last_review_on=date(2024, 2, 20))  # due 2 Apr
    flagged = row(started_on=date(2024, 3, 1), flagged_for_review=True)  # due 12 Apr
    later = row(started_on=date(2023, 12, 1))  # due 12 Jan
    ended = row(started_on=date(2023, 9, 1), status="ended", end_date=date(2024, 1, 1))
    result = overdue_reviews([late, reviewed, flagged, later, ended], today=date(2024, 3, 15))
    assert result == [(later, date(2024, 1, 12)), (late, date(2024, 2, 21)),
                      (flagged, date(2024, 4, 12))]


# The January AP census

@pytest.mark.parametrize("year, day", [
    (2012, date(2012, 1, 19)),  # DfE: census day Thursday 19 January 2012
    (2014, date(2014, 1, 16)),  # DfE: census day Thursday 16 January 2014
    (2024, date(2024, 1, 18)),
    (2025, date(2025, 1, 16)),
    (2026, date(2026, 1, 15)),  # 1 January 2026 is itself a Thursday
])
def test_census_day_is_the_third_thursday_of_january(year, day):
    assert census_day(year) == day
    assert day.weekday() == 3


def test_census_extract_takes_placements_active_on_census_day():
    day = census_day(2024)  # 18 January
    long_running = row(started_on=date(2023, 9, 4))
    started_that_day = row(started_on=day)
    started_after = row(started_on=day + timedelta(days=1))
    ended_that_day = row(started_on=date(2023, 11, 1), status="ended", end_date=day)
    ended_before = row(started_on=date(2023, 11, 1), status="ended",
                       end_date=day - timedelta(days=1))
    not_started = row(status="awarded", started_on=None)
    extract = census_extract([long_running, started_that_day, started_after, ended_that_day,
                              ended_before, not_started], day)
    # a placement ending on census day counts: the child was in AP that day (it is not "active" that day)
    assert set(extract) == {long_running, started_that_day, ended_that_day}
    assert extract == sorted(extract, key=lambda r: str(r.child_ref))


# Rows

def test_a_row_reads_wire_values_as_the_councils_words():
    r = row(status="ended", end_reason="completed", next_step="employment",
            provision="supplementary")
    assert r.status is PlacementStatus.ENDED
    assert (r.end_reason, r.next_step) == (EndReason.COMPLETED, NextStep.EMPLOYMENT)


def test_a_row_can_be_taken_from_a_placement():
    placement = Placement.from_call_off(
        placement_id=uuid4(), referral_id=uuid4(), child_ref=uuid4(), provider_id=P, lot=4,
        commissioning_team="post16", reason_for_ap="16-25 with an EHCP", hours_per_week=12,
        agreed_cost_pence=300_000, start_date=date(2024, 1, 8),
        expected_end_date=date(2024, 7, 19), safeguarding="commissioning_team", provision="main")
    placement.start(date(2024, 1, 9), by=Actor("officer"),
                    now=datetime(2024, 3, 15, 12, tzinfo=UTC))
    r = PlacementRow.of(placement)
    assert (r.status, r.started_on, r.lot, r.agreed_cost_pence) == (
        PlacementStatus.STARTED, date(2024, 1, 9), 4, 300_000)


def test_attendance_is_summed_per_week_for_the_chart():
    weeks = attendance_by_week([
        {"week_commencing": date(2024, 1, 15), "sessions_offered": 10, "attended": 6},
        SimpleNamespace(week_commencing=date(2024, 1, 8), sessions_offered=10, attended=10),
        {"week_commencing": date(2024, 1, 15), "sessions_offered": 10, "attended": 10},
    ])
    assert [(w.week_commencing, w.sessions_offered, w.attended, w.rate) for w in weeks] == [
        (date(2024, 1, 8), 10, 10, Decimal("1.0000")),
        (date(2024, 1, 15), 20, 16, Decimal("0.8000")),
    ]

"""Committed and spent money that is true (issue #16 item 8): a block
contract commits its whole value over its period, places filled or not, and a
child in one of its places adds nothing more; spend to date counts only the
days that have passed.  And what the chart is drawn from (issue #21): one time
axis over the period that has data."""

from datetime import date
from uuid import uuid4

from services.tracking.domain import (
    BlockContractRow,
    MonthOfSpend,
    PlacementRow,
    PlacementSource,
    PlacementStatus,
    WeekOfAttendance,
    block_contract_commitment,
    block_contract_spent,
    chart_data,
    commitment_by_month,
    committed_spend_by_month,
    spend_months,
    spent_by_month,
)

P = uuid4()
JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


def contract(**values) -> BlockContractRow:
    # 30 days, 17 January to 15 February, 1,000p a day: January 15 days, February 15
    base = dict(contract_id=uuid4(), provider_id=P, lot=2, commissioning_team="exclusions", places=3,
                price_pence=30_000, contract_start=date(2024, 1, 17), contract_end=date(2024, 2, 15))
    base.update(values)
    return BlockContractRow(**base)


def block_place(**values) -> PlacementRow:
    base = dict(placement_id=uuid4(), child_ref=uuid4(), provider_id=P, lot=2, commissioning_team="exclusions",
                reason_for_ap="permanent exclusion", status="started", start_date=date(2024, 1, 17),
                started_on=date(2024, 1, 17), expected_end_date=date(2024, 2, 15), agreed_cost_pence=10_000,
                source="block_place")
    base.update(values)
    return PlacementRow(**base)


# -- a block contract commits its whole value --------------------------------------------------

def test_a_block_contract_commits_its_whole_value_over_its_period():
    assert block_contract_commitment(contract()) == {JAN: 15_000, FEB: 15_000}


def test_a_block_contract_of_one_day_commits_it_all_in_that_month():
    one_day = contract(contract_start=date(2024, 2, 29), contract_end=date(2024, 2, 29))
    assert block_contract_commitment(one_day) == {FEB: 30_000}


def test_a_block_place_commits_nothing_of_its_own():
    for status, end_date in (("awarded", None), ("started", None), ("ended", date(2024, 1, 20))):
        assert commitment_by_month(10_000, date(2024, 1, 17), date(2024, 2, 15), status=PlacementStatus(status),
                                   end_date=end_date, source=PlacementSource.BLOCK_PLACE) == {}


def test_places_empty_filled_or_reused_commit_the_contract_value_once():
    empty = committed_spend_by_month([], contracts=[contract()])
    first_child = block_place(status="ended", end_date=date(2024, 1, 31))
    second_child = block_place(start_date=date(2024, 2, 1), started_on=date(2024, 2, 1))  # the same place, reused
    filled = committed_spend_by_month([first_child, second_child], contracts=[contract()])
    assert empty == filled == {(P, 2, JAN): 15_000, (P, 2, FEB): 15_000}


def test_call_offs_and_block_contracts_add_up_by_team():
    call_off = block_place(source="call_off", commissioning_team="send", agreed_cost_pence=3_000,
                           start_date=date(2024, 2, 1), started_on=date(2024, 2, 1),
                           expected_end_date=date(2024, 3, 1))
    by_team = committed_spend_by_month([call_off], by=("commissioning_team",),
                                       contracts=[contract(), contract(commissioning_team=None)])
    assert by_team == {("exclusions", JAN): 15_000, ("exclusions", FEB): 15_000,
                       (None, JAN): 15_000, (None, FEB): 15_000,
                       ("send", FEB): 2_900, ("send", MAR): 100}  # 100p a day: 29 days, 1 day


# -- spent to date -------------------------------------------------------------------------------

def spent(today, *, status=PlacementStatus.STARTED, end_date=None, source=PlacementSource.CALL_OFF):
    # 30 days, 17 January to 15 February, 1,000p a day
    return spent_by_month(30_000, date(2024, 1, 17), date(2024, 2, 15), status=status, today=today,
                          end_date=end_date, source=source)


def test_a_running_placement_has_spent_its_days_to_today():
    assert spent(date(2024, 1, 16)) == {}  # the day before it started
    assert spent(date(2024, 1, 17)) == {JAN: 1_000}  # its first day
    assert spent(date(2024, 2, 5)) == {JAN: 15_000, FEB: 5_000}
    assert spent(date(2024, 2, 15)) == spent(date(2024, 6, 1)) == {JAN: 15_000, FEB: 15_000}  # all of it


def test_an_early_end_stops_the_spending_and_an_award_not_started_spends_nothing():
    ended = PlacementStatus.ENDED
    assert spent(date(2024, 3, 1), status=ended, end_date=date(2024, 1, 20)) == {JAN: 4_000}
    assert spent(date(2024, 1, 18), status=ended, end_date=date(2024, 1, 20)) == {JAN: 2_000}
    assert spent(date(2024, 3, 1), status=PlacementStatus.AWARDED) == {}
    assert spent(date(2024, 3, 1), status=PlacementStatus.CANCELLED) == {}
    assert spent(date(2024, 3, 1), source=PlacementSource.BLOCK_PLACE) == {}  # the contract is spent instead


def test_a_block_contract_is_spent_as_its_days_pass_places_filled_or_not():
    assert block_contract_spent(contract(), date(2024, 1, 16)) == {}
    assert block_contract_spent(contract(), date(2024, 1, 17)) == {JAN: 1_000}
    assert block_contract_spent(contract(), date(2024, 1, 31)) == {JAN: 15_000}
    assert block_contract_spent(contract(), date(2024, 2, 15)) == {JAN: 15_000, FEB: 15_000}


# -- the chart's table and its one time axis --------------------------------------------------------

def test_spend_months_run_from_the_first_month_with_spend_to_the_last_without_gaps():
    months = spend_months({JAN: 500, MAR: 700}, {JAN: 200})
    assert months == [MonthOfSpend(JAN, 500, 200), MonthOfSpend(FEB, 0, 0), MonthOfSpend(MAR, 700, 0)]
    assert spend_months({}, {}) == []


def test_the_chart_covers_the_period_that_has_data_on_one_axis():
    weeks = [WeekOfAttendance(date(2024, 1, 22), 10, 8), WeekOfAttendance(date(2023, 12, 4), 10, 10)]
    months = [MonthOfSpend(JAN, 100, 50), MonthOfSpend(FEB, 100, 0)]
    data = chart_data(weeks, months)
    assert (data.first_day, data.last_day) == (date(2023, 12, 4), date(2024, 2, 29))
    assert [w.week_commencing for w in data.weeks] == [date(2023, 12, 4), date(2024, 1, 22)]
    only_weeks = chart_data([WeekOfAttendance(date(2024, 3, 4), 5, 5)], [])
    assert (only_weeks.first_day, only_weeks.last_day) == (date(2024, 3, 4), date(2024, 3, 10))
    nothing = chart_data([], [])
    assert (nothing.first_day, nothing.last_day) == (None, None)

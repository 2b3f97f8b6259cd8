"""When and how call-offs are published (services/awards/domain/publication.py): the council's calendar
quarters, the grouped notices' due dates (PCR 2015 regulation 50), and what an ended placement cost."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.awards.domain.publication import Quarter, cost_as_run, quarters_over, weeks_run
from services.awards.transparency import organisation_identifiers


def test_a_quarter_by_the_councils_clock():
    assert Quarter.at(datetime(2025, 3, 31, 22, 59, tzinfo=UTC)) == Quarter(2025, 1)
    assert Quarter.at(datetime(2025, 3, 31, 23, 0, tzinfo=UTC)) == Quarter(2025, 2)  # 1 April, BST
    assert Quarter.of(date(2025, 12, 31)) == Quarter(2025, 4)
    with pytest.raises(ValueError):
        Quarter(2025, 0)


@pytest.mark.parametrize("quarter, last_day, published_from, due", [
    (Quarter(2025, 1), date(2025, 3, 31), date(2025, 4, 1), date(2025, 4, 30)),
    (Quarter(2025, 2), date(2025, 6, 30), date(2025, 7, 1), date(2025, 7, 30)),
    (Quarter(2025, 3), date(2025, 9, 30), date(2025, 10, 1), date(2025, 10, 30)),
    (Quarter(2025, 4), date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 30)),
])
def test_a_quarters_notice_is_due_30_days_after_it_ends(quarter, last_day, published_from, due):
    assert (quarter.last_day, quarter.day_after, quarter.notice_due) == (last_day, published_from, due)


def test_a_quarter_is_over_from_the_day_after_its_last_day():
    q1 = Quarter(2025, 1)
    assert not q1.is_over(date(2025, 3, 31)) and q1.is_over(date(2025, 4, 1))
    assert quarters_over(Quarter(2024, 4), date(2025, 7, 1)) == [Quarter(2024, 4), Quarter(2025, 1),
                                                                 Quarter(2025, 2)]
    assert quarters_over(Quarter(2025, 3), date(2025, 9, 30)) == []


@pytest.mark.parametrize("ended_on, weeks", [
    (date(2025, 4, 6), 0),    # the day before it started
    (date(2025, 4, 7), 1),    # its first day
    (date(2025, 4, 13), 1),   # the last day of the first week
    (date(2025, 4, 14), 2),   # a second week begun
    (date(2025, 6, 29), 12),  # the last day of the twelfth week
    (date(2025, 9, 1), 12),   # never more than awarded
])
def test_every_week_begun_counts(ended_on, weeks):
    assert weeks_run(date(2025, 4, 7), ended_on, 12) == weeks


def test_an_early_end_costs_the_weeks_run_at_the_awarded_weekly_price():
    awarded = dict(unit_price_pence=4005, units_per_week=Decimal("17.5"), weeks=12, total_pence=841_050,
                   start=date(2025, 4, 7))
    assert cost_as_run(**awarded, ended_on=None) == 841_050
    assert cost_as_run(**awarded, ended_on=date(2025, 5, 2)) == 280_350  # 4 weeks of 70,087.5p, half up
    assert cost_as_run(**awarded, ended_on=date(2025, 6, 29)) == 841_050
    assert cost_as_run(**awarded, ended_on=date(2025, 4, 1)) == 0


def test_the_legal_entitys_register_is_the_organisations_own_identifier():
    assert organisation_identifiers(None) == {}
    assert organisation_identifiers([{"scheme": "GB-URN", "id": "100001"}, {"scheme": "GB-UKPRN", "id": "1"},
                                     {"scheme": "GB-CHC", "id": "1123456"}]) == {
        "identifier": {"scheme": "GB-CHC", "id": "1123456"},
        "additionalIdentifiers": [{"scheme": "GB-UKPRN", "id": "1"}, {"scheme": "GB-URN", "id": "100001"}]}
    assert organisation_identifiers([{"scheme": "GB-URN", "id": "100001"}]) == {
        "identifier": {"scheme": "GB-URN", "id": "100001"}}

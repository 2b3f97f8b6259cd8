"""Committed spend that is true for block contracts (issue #16 item 8), and the
chart with the tables it is drawn from (issue #21), through the API on the
real database.  The numbers are worked by hand; the clock is 15 March 2024."""

from __future__ import annotations

import uuid

import pytest

from services.tracking import chart
from tests.api.tracking.test_tracking_api_reports import dps  # noqa: F401 - the five placements, as a fixture
from tests.api.tracking.tracking_support import (
    MANAGER,
    OFFICER,
    OTHER_TEAM,
    PROVIDER_B,
    REPORTING,
    deliver,
    snapshot,
)

B = str(PROVIDER_B)


def confirmed(rt, **overrides) -> dict:
    # 1 February to 31 March 2024: 60 days, 1,000p a day (February 29 days, March 31), two places
    data = {"opportunity_id": str(uuid.uuid4()), "contract_id": str(uuid.uuid4()), "provider_id": B, "lot": 2,
            "places": 2, "contract_start": "2024-02-01", "contract_end": "2024-03-31", "price_pence": 60_000,
            "team": "exclusions", "confirmed_by": "the.manager", "at": "2024-01-20T10:00:00+00:00"}
    data.update(overrides)
    deliver(rt, "block_contract.confirmed", data)
    return data


def allocated(rt, contract: dict, start_date: str) -> str:
    data = {"contract_id": contract["contract_id"], "allocation_id": str(uuid.uuid4()),
            "placement_id": str(uuid.uuid4()), "referral_id": str(uuid.uuid4()), "provider_id": B, "lot": 2,
            "team": "exclusions", "child_ref": str(uuid.uuid4()), "reason_for_ap": "permanent exclusion",
            "hours_per_week": 25, "start_date": start_date, "weeks": 4, "cost_pence": 30_000, "full_time": True,
            "places_left": 1, "allocated_by": "officer.exclusions", "at": "2024-01-25T10:00:00+00:00"}
    deliver(rt, "block_place.allocated", data)
    return data["placement_id"]


def spend(client, headers=MANAGER) -> list[tuple]:
    rows = client.get("/v1/reports/committed-spend", headers=headers).json
    return [(r["month_start"], r["provider_id"], r["lot"], r["committed_pence"]) for r in rows]


def test_a_block_contract_commits_its_whole_value_with_no_place_filled(rt, client_for):
    client = client_for(rt)
    confirmed(rt)
    assert spend(client) == [("2024-02-01", B, 2, 29_000), ("2024-03-01", B, 2, 31_000)]


def test_places_filled_ended_early_and_reused_add_nothing_to_the_contract(rt, client_for):
    client = client_for(rt)
    contract = confirmed(rt)
    first = allocated(rt, contract, "2024-02-05")
    assert client.post(f"/v1/placements/{first}/start", json={"started_on": "2024-02-05"},
                       headers=MANAGER).status_code == 200
    ended = client.post(f"/v1/placements/{first}/end", headers=MANAGER, json={
        "end_date": "2024-02-20", "end_reason": "breakdown", "next_step": "neet"})
    assert ended.status_code == 200, ended.json
    second = allocated(rt, contract, "2024-02-26")  # the same place, given again
    assert client.post(f"/v1/placements/{second}/start", json={"started_on": "2024-02-26"},
                       headers=MANAGER).status_code == 200
    assert spend(client) == [("2024-02-01", B, 2, 29_000), ("2024-03-01", B, 2, 31_000)]


def test_a_second_copy_of_the_confirmation_changes_nothing(rt, client_for):
    client = client_for(rt)
    contract = confirmed(rt)
    before = snapshot(rt)
    deliver(rt, "block_contract.confirmed", contract)
    assert snapshot(rt) == before
    assert sum(row[3] for row in spend(client)) == 60_000


def test_block_contracts_are_seen_by_their_team_and_the_manager(rt, client_for):
    client = client_for(rt)
    confirmed(rt)
    confirmed(rt, team=None, price_pence=6_000)  # run by the manager: 100p a day
    assert sum(row[3] for row in spend(client, OFFICER)) == 60_000
    assert spend(client, OTHER_TEAM) == []
    assert sum(row[3] for row in spend(client, REPORTING)) == 66_000
    only_march = client.get("/v1/reports/committed-spend?from=2024-03-01&to=2024-03-31", headers=MANAGER).json
    assert [r["committed_pence"] for r in only_march] == [31_000 + 3_100]


def test_a_contract_that_ends_before_it_starts_is_refused_as_a_poison_message(rt):
    from marshmallow import ValidationError
    with pytest.raises(ValidationError):
        confirmed(rt, contract_start="2024-03-01", contract_end="2024-02-01")


def test_spend_by_month_puts_committed_and_spent_to_date_side_by_side(rt, client_for):
    client = client_for(rt)
    confirmed(rt)  # spent as its days pass: to 15 March, 44 of its 60 days
    rows = client.get("/v1/reports/spend-by-month", headers=MANAGER).json
    assert rows == [{"month_start": "2024-02-01", "committed_pence": 29_000, "spent_pence": 29_000},
                    {"month_start": "2024-03-01", "committed_pence": 31_000, "spent_pence": 15_000}]


# -- the chart and its tables ------------------------------------------------------------------------


def test_attendance_by_week_is_every_week_returned(dps):  # noqa: F811 - the fixture
    rt, client, ids = dps
    rows = client.get("/v1/reports/attendance-by-week", headers=MANAGER).json
    assert [(r["week_commencing"], r["sessions_offered"], r["attended"], r["attendance_rate"]) for r in rows] == [
        ("2024-01-08", 10, 10, 1.0), ("2024-01-15", 15, 13, 0.8667), ("2024-01-22", 15, 10, 0.6667),
        ("2024-01-29", 10, 10, 1.0), ("2024-02-05", 5, 2, 0.4)]
    officer = client.get("/v1/reports/attendance-by-week", headers=OFFICER).json  # exclusions: not A2's weeks
    assert [(r["week_commencing"], r["attended"]) for r in officer] == [
        ("2024-01-08", 10), ("2024-01-15", 8), ("2024-01-22", 6), ("2024-01-29", 10), ("2024-02-05", 2)]


def test_the_chart_is_drawn_from_its_linked_tables_on_one_time_axis(dps, monkeypatch):  # noqa: F811
    rt, client, ids = dps
    drawn = {}
    render = chart.render

    def spy(title, data, threshold=None, tables=()):
        drawn.update(data=data, tables=tables)
        return render(title, data, threshold, tables)

    monkeypatch.setattr(chart, "render", spy)
    response = client.get(f"/v1/reports/chart.png?provider_id={B}", headers=MANAGER)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    links = response.headers["Link"]
    for table in ("attendance-by-week", "spend-by-month"):
        assert f"</v1/reports/{table}?provider_id={B}>; rel=\"describedby\"" in links
    assert drawn["tables"] == [f"/v1/reports/attendance-by-week?provider_id={B}",
                               f"/v1/reports/spend-by-month?provider_id={B}"]
    data = drawn["data"]
    weeks = client.get(f"/v1/reports/attendance-by-week?provider_id={B}", headers=MANAGER).json
    months = client.get(f"/v1/reports/spend-by-month?provider_id={B}", headers=MANAGER).json
    assert [(w.week_commencing.isoformat(), w.sessions_offered, w.attended) for w in data.weeks] == [
        (w["week_commencing"], w["sessions_offered"], w["attended"]) for w in weeks] == [("2024-02-05", 5, 2)]
    assert [(m.month_start.isoformat(), m.committed_pence, m.spent_pence) for m in data.months] == [
        (m["month_start"], m["committed_pence"], m["spent_pence"]) for m in months]
    # B1: 1,260,000p over the 168 days from its start on 5 February to its expected end on 21 July, 7,500p
    # a day; it ended on 8 March: 25 days in February, 8 in March, committed and spent alike
    assert [(m.month_start.isoformat(), m.committed_pence, m.spent_pence) for m in data.months] == [
        ("2024-02-01", 187_500, 187_500), ("2024-03-01", 60_000, 60_000)]
    # the period that has data: from the first month with spend (before the first week returned) to its last
    assert (data.first_day.isoformat(), data.last_day.isoformat()) == ("2024-02-01", "2024-03-31")

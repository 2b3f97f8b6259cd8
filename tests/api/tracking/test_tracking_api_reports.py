"""The reporting API: active placements, committed spend, provider
accountability, overdue reviews, the January AP census; CSV downloads and
the PNG chart; who may see which rows.  The numbers are worked by hand."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests.api.tracking.tracking_support import (
    EVALUATOR,
    MANAGER,
    OFFICER,
    OTHER_TEAM,
    PROVIDER,
    PROVIDER_A,
    PROVIDER_B,
    REPORTING,
    awarded,
    mondays,
    started,
    week,
)

A, B = str(PROVIDER_A), str(PROVIDER_B)


def _returns(client, placement_id, weeks, provider_headers):
    for body in weeks:
        response = client.post(f"/v1/placements/{placement_id}/attendance", json=body, headers=provider_headers)
        assert response.status_code == 201, response.json


def _end(client, placement_id, end_date, end_reason, next_step):
    response = client.post(f"/v1/placements/{placement_id}/end", headers=MANAGER, json={
        "end_date": end_date, "end_reason": end_reason, "next_step": next_step})
    assert response.status_code == 200, response.json


@pytest.fixture
def dps(rt, client_for):
    """Five placements, worked out by hand:

    A1  provider A, exclusions, lot 1, permanent exclusion; started 8 Jan; returns 10/10, 8/10, 6/10, 10/10
    A2  provider A, send, lot 3, SEND needs; started 15 Jan, ended 1 Mar completed -> mainstream;
        returns 5/5, 4/5
    A3  provider A, exclusions, lot 1; awarded, not started
    B1  provider B, exclusions, lot 2 (10 hours), medical needs; started 5 Feb, ended 8 Mar in a breakdown
        -> NEET; one return 2/5 with 3 unexplained: two concerns
    B2  provider B, exclusions, lot 1; cancelled before the start
    """
    from tests.support.runtime import auth

    client = client_for(rt)
    b_headers = auth("provider", provider_id=PROVIDER_B)
    ids = {}
    ids["A1"] = started(client, rt, on="2024-01-08")
    _returns(client, ids["A1"], [week(m, 10, a, 10 - a) for m, a in zip(mondays("2024-01-08", 4), (10, 8, 6, 10),
                                                                          strict=True)], PROVIDER)
    ids["A2"] = started(client, rt, on="2024-01-15", team="send", lot=3, reason_for_ap="SEND needs")
    _returns(client, ids["A2"], [week("2024-01-15", 5, 5), week("2024-01-22", 5, 4, 1)], PROVIDER)
    _end(client, ids["A2"], "2024-03-01", "completed", "reintegrated_mainstream")
    ids["A3"] = awarded(rt, start_date="2024-04-08")
    ids["B1"] = started(client, rt, on="2024-02-05", provider_id=B, lot=2, hours_per_week=10,
                        reason_for_ap="medical needs")
    _returns(client, ids["B1"], [week("2024-02-05", 5, 2, unauthorised=3)], b_headers)
    _end(client, ids["B1"], "2024-03-08", "breakdown", "neet")
    ids["B2"] = awarded(rt, provider_id=B)
    client.post(f"/v1/placements/{ids['B2']}/cancel", headers=MANAGER,
                json={"reason": "child moved before the start", "next_step": "moved_away"})
    return rt, client, ids


# -- who may see reports ------------------------------------------------------------------------

REPORTS = ["/v1/reports/active-placements", "/v1/reports/committed-spend", "/v1/reports/accountability",
           "/v1/reports/overdue-reviews", "/v1/reports/census?year=2024", "/v1/reports/chart.png",
           "/v1/reports/attendance-by-week", "/v1/reports/spend-by-month"]


@pytest.mark.parametrize("headers, status", [(MANAGER, 200), (REPORTING, 200), (OFFICER, 200), (PROVIDER, 403),
                                             (EVALUATOR, 403), ({}, 401)])
def test_who_may_see_each_report(rt, client_for, headers, status):
    client = client_for(rt)
    assert {url: client.get(url, headers=headers).status_code for url in REPORTS} == dict.fromkeys(REPORTS, status)


# -- active placements ----------------------------------------------------------------------------


def test_active_placements_by_lot_team_provider_and_reason(dps):
    rt, client, ids = dps
    rows = client.get("/v1/reports/active-placements?on=2024-02-20", headers=MANAGER).json
    assert {(r["lot"], r["team"], r["provider_id"], r["reason_for_ap"], r["placements"]) for r in rows} == {
        (1, "exclusions", A, "permanent exclusion", 1), (3, "send", A, "SEND needs", 1),
        (2, "exclusions", B, "medical needs", 1)}
    by_team = client.get("/v1/reports/active-placements?on=2024-02-20&by=team", headers=MANAGER).json
    assert by_team == [{"team": "exclusions", "placements": 2}, {"team": "send", "placements": 1}]
    by_lot = client.get("/v1/reports/active-placements?by=lot", headers=REPORTING).json  # today, 15 March
    assert by_lot == [{"lot": 1, "lot_name": "Full-time education", "placements": 1}]


def test_a_placement_that_ended_that_day_is_not_active(dps):
    rt, client, ids = dps  # A2 ended on 1 March
    on_the_eve = client.get("/v1/reports/active-placements?on=2024-02-29&by=team", headers=MANAGER).json
    assert on_the_eve == [{"team": "exclusions", "placements": 2}, {"team": "send", "placements": 1}]
    on_the_day = client.get("/v1/reports/active-placements?on=2024-03-01&by=team", headers=MANAGER).json
    assert on_the_day == [{"team": "exclusions", "placements": 2}]


def test_an_officer_sees_only_their_teams_rows(dps):
    rt, client, ids = dps
    by_team = client.get("/v1/reports/active-placements?on=2024-02-20&by=team", headers=OFFICER).json
    assert by_team == [{"team": "exclusions", "placements": 2}]
    send = client.get("/v1/reports/active-placements?on=2024-02-20&by=team", headers=OTHER_TEAM).json
    assert send == [{"team": "send", "placements": 1}]


def test_an_unknown_dimension_is_refused(rt, client_for):
    response = client_for(rt).get("/v1/reports/active-placements?by=colour", headers=MANAGER)
    assert response.status_code == 422 and "by" in response.json["errors"]["query"]


# -- committed spend -------------------------------------------------------------------------------


def test_committed_spend_is_spread_over_the_days_of_each_month(rt, client_for):
    client = client_for(rt)
    # 28 days, 15 Jan to 11 Feb, 1,000p a day: January 17 days, February 11
    awarded(rt, start_date="2024-01-15", weeks=4, total_pence=28_000)
    # 28 days, 5 Feb to 3 Mar, 2,000p a day: February 25 days, March 3
    awarded(rt, provider_id=B, lot=2, hours_per_week=10, start_date="2024-02-05", weeks=4, total_pence=56_000)
    rows = client.get("/v1/reports/committed-spend", headers=MANAGER).json
    assert [(r["month_start"], r["provider_id"], r["lot"], r["committed_pence"]) for r in rows] == [
        ("2024-01-01", A, 1, 17_000), ("2024-02-01", A, 1, 11_000), ("2024-02-01", B, 2, 50_000),
        ("2024-03-01", B, 2, 6_000)]
    from_february = client.get("/v1/reports/committed-spend?from=2024-02-10&to=2024-02-29", headers=MANAGER).json
    assert [r["committed_pence"] for r in from_february] == [11_000, 50_000]
    only_b = client.get(f"/v1/reports/committed-spend?provider_id={B}", headers=MANAGER).json
    assert [r["committed_pence"] for r in only_b] == [50_000, 6_000]


def test_a_later_start_moves_the_commitment(rt, client_for):
    client = client_for(rt)
    placement_id = awarded(rt, start_date="2024-01-15", weeks=4, total_pence=28_000)
    client.post(f"/v1/placements/{placement_id}/start", json={"started_on": "2024-01-22"}, headers=PROVIDER)
    # 21 days to 11 Feb: January 10 days (13,333.33p), February 11 (14,666.67p); the odd penny to February
    rows = client.get("/v1/reports/committed-spend", headers=MANAGER).json
    assert [(r["month_start"], r["committed_pence"]) for r in rows] == [("2024-01-01", 13_333), ("2024-02-01", 14_667)]


def test_a_placement_that_ends_early_stops_committing_at_its_end(rt, client_for):
    client = client_for(rt)
    # each 28 days, 15 Jan to 11 Feb, 1,000p a day
    first_day = started(client, rt, on="2024-01-15", start_date="2024-01-15", weeks=4, total_pence=28_000)
    mid_month = started(client, rt, on="2024-01-15", start_date="2024-01-15", weeks=4, total_pence=28_000)
    never = awarded(rt, start_date="2024-01-15", weeks=4, total_pence=28_000)
    for placement_id, end_date in ((first_day, "2024-01-15"), (mid_month, "2024-02-05")):
        response = client.post(f"/v1/placements/{placement_id}/end", headers=OFFICER, json={
            "end_date": end_date, "end_reason": "breakdown", "next_step": "neet"})
        assert response.status_code == 200, response.json
    response = client.post(f"/v1/placements/{never}/cancel", headers=OFFICER, json={
        "reason": "family moved to another borough before the start", "next_step": "moved_away"})
    assert response.status_code == 200, response.json
    # the first: 1 day; the second: 17 days in January, 5 in February; the cancelled award: nothing
    rows = client.get("/v1/reports/committed-spend", headers=MANAGER).json
    assert [(r["month_start"], r["committed_pence"]) for r in rows] == [
        ("2024-01-01", 1_000 + 17_000), ("2024-02-01", 5_000)]


# -- accountability --------------------------------------------------------------------------------


def test_each_provider_is_held_to_account(dps):
    rt, client, ids = dps
    rows = {r["provider_id"]: r for r in client.get("/v1/reports/accountability", headers=MANAGER).json}
    assert rows[A] | {"provider_name": None} == {
        "provider_id": A, "provider_name": None, "placements": 3, "active": 1, "ended": 1,
        "sessions_offered": 50, "attended": 43, "average_attendance_rate": 0.86,  # 43 / 50
        "completion_rate": 1.0, "reintegration_rate": 1.0, "progression_rate": 1.0, "concerns": 0}
    assert rows[B] | {"provider_name": None} == {
        "provider_id": B, "provider_name": None, "placements": 1, "active": 0, "ended": 1,  # B2 was cancelled
        "sessions_offered": 5, "attended": 2, "average_attendance_rate": 0.4,
        "completion_rate": 0.0, "reintegration_rate": 0.0, "progression_rate": 0.0, "concerns": 2}


def test_an_officers_accountability_counts_their_teams_placements_only(dps):
    rt, client, ids = dps
    rows = {r["provider_id"]: r for r in client.get("/v1/reports/accountability", headers=OFFICER).json}
    assert (rows[A]["placements"], rows[A]["ended"], rows[A]["average_attendance_rate"]) == (2, 0, 0.85)  # 34/40
    assert rows[B]["concerns"] == 2
    one = client.get(f"/v1/reports/accountability?provider_id={B}", headers=MANAGER).json
    assert [r["provider_id"] for r in one] == [B]


# -- the census --------------------------------------------------------------------------------------


def test_the_january_census_lists_pupils_in_ap_on_census_day(dps):
    rt, client, ids = dps
    body = client.get("/v1/reports/census?year=2024", headers=REPORTING).json
    assert body["census_day"] == "2024-01-18"  # the third Thursday of January
    assert {p["placement_id"] for p in body["pupils"]} == {str(ids["A1"]), str(ids["A2"])}
    assert [p["child_ref"] for p in body["pupils"]] == sorted(p["child_ref"] for p in body["pupils"])
    assert client.get("/v1/reports/census?year=2023", headers=REPORTING).json["pupils"] == []
    # a placement runs until it is ended, even past its expected end
    later = client.get("/v1/reports/census?year=2025", headers=REPORTING).json["pupils"]
    assert [p["placement_id"] for p in later] == [str(ids["A1"])]


def test_a_placement_ended_on_census_day_is_in_the_census_and_one_ended_the_day_before_is_not(rt, client_for):
    client = client_for(rt)
    ended = started(client, rt, on="2024-01-08")
    _end(client, ended, "2024-01-18", "completed", "reintegrated_mainstream")  # census day: in AP that day
    before = started(client, rt, on="2024-01-08")
    _end(client, before, "2024-01-17", "completed", "reintegrated_mainstream")
    running = started(client, rt, on="2024-01-08")
    body = client.get("/v1/reports/census?year=2024", headers=REPORTING).json
    assert sorted(p["placement_id"] for p in body["pupils"]) == sorted([str(ended), str(running)])


@pytest.mark.parametrize("query", ["", "?year=twenty", "?year=1999"])
def test_the_census_needs_a_sensible_year(rt, client_for, query):
    response = client_for(rt).get(f"/v1/reports/census{query}", headers=MANAGER)
    assert response.status_code == 422 and "year" in response.json["errors"]["query"]


# -- downloads ---------------------------------------------------------------------------------------


def _csv_rows(response) -> list[dict]:
    """A download as a spreadsheet opens it: UTF-8 with a byte-order mark, CRLF lines, Excel's dialect."""
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf") and body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    header, *lines = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), dialect="excel")
    return [dict(zip(header, line, strict=True)) for line in lines]


@pytest.mark.parametrize("url, header", [
    ("/v1/reports/active-placements?on=2024-02-20&format=csv", "lot,lot_name,team,provider_id"),
    ("/v1/reports/committed-spend?format=csv",
     "month_start,provider_id,provider_name,lot,committed_pence,committed_pounds"),
    ("/v1/reports/accountability?format=csv", "provider_id,provider_name,placements,active,ended"),
    ("/v1/reports/overdue-reviews?format=csv", "placement_id,provider_id"),
    ("/v1/reports/census?year=2024&format=csv", "child_ref,placement_id,provider_id"),
    ("/v1/reports/attendance-by-week?format=csv", "week_commencing,sessions_offered,attended,attendance_rate"),
    ("/v1/reports/spend-by-month?format=csv",
     "month_start,committed_pence,committed_pounds,spent_pence,spent_pounds"),
])
def test_each_report_downloads_as_a_csv_that_opens_cleanly(dps, url, header):
    rt, client, ids = dps
    response = client.get(url, headers=MANAGER)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data().startswith(b"\xef\xbb\xbf" + header.encode())
    rows = _csv_rows(response)
    json_rows = client.get(url.replace("format=csv", "format=json"), headers=MANAGER).json
    assert len(rows) == len(json_rows["pupils"] if isinstance(json_rows, dict) else json_rows) > 0


def test_spend_in_a_csv_is_in_pounds_beside_the_pence_and_months_are_full_dates(rt, client_for):
    client = client_for(rt)
    awarded(rt, start_date="2024-01-15", weeks=4, total_pence=28_001)
    rows = _csv_rows(client.get("/v1/reports/committed-spend?format=csv", headers=MANAGER))
    assert [(r["month_start"], r["committed_pence"], r["committed_pounds"]) for r in rows] == [
        ("2024-01-01", "17001", "170.01"), ("2024-02-01", "11000", "110.00")]


def test_accept_text_csv_asks_for_the_download_too(dps):
    rt, client, ids = dps
    response = client.get("/v1/reports/accountability", headers={**MANAGER, "Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    rows = {r["provider_id"]: r for r in _csv_rows(response)}
    assert rows[B]["average_attendance_rate"] == "0.4" and rows[B]["concerns"] == "2"


def test_an_unknown_format_is_refused(rt, client_for):
    response = client_for(rt).get("/v1/reports/accountability?format=xlsx", headers=MANAGER)
    assert response.status_code == 422 and "format" in response.json["errors"]["query"]


# -- the chart ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", f"?provider_id={PROVIDER_A}", f"?provider_id={uuid.uuid4()}"])
def test_the_chart_is_a_png_for_a_provider_or_the_whole_dps(dps, query):
    rt, client, ids = dps
    response = client.get(f"/v1/reports/chart.png{query}", headers=MANAGER)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n") and len(response.data) > 5_000

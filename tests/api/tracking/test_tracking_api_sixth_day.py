"""GET /v1/reports/sixth-day: each child's sixth-day deadline (from referral.closed), the first day of
full-time provision (concurrent part-time placements add up), met / at risk / missed by N school days on
the school calendar, an excluded child placed only part-time flagged; paged, and CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest

from tests.api.tracking.tracking_support import MANAGER, OFFICER, OTHER_TEAM, PROVIDER, REPORTING, awarded, deliver

TODAY = datetime(2025, 11, 12, 12, 0, tzinfo=UTC)  # a Wednesday; the October half term was 27-31 October


def _duty(runtime, *, deadline="2025-11-05", first_day="2025-10-22", looked_after=False,
          reason="permanent_exclusion", team="exclusions") -> str:
    child_ref = str(uuid.uuid4())
    deliver(runtime, "referral.closed", {
        "referral_id": str(uuid.uuid4()), "dps_id": str(uuid.uuid4()), "lot": 2, "team": team,
        "child_ref": child_ref, "reason_for_ap": reason, "hours_per_week": 10, "full_time": False, "ehcp": False,
        "looked_after": looked_after, "start_date": "2025-11-03", "expected_weeks": 12,
        "full_time_provision_by": deadline, "first_school_day": first_day, "no_suitable_offer": False,
        "invited_provider_ids": [], "window_basis": None, "window_closed_at": "2025-10-30T09:00:00+00:00",
        "offers": [], "declines": [], "at": "2025-10-30T09:00:00+00:00"}, producer="referrals")
    return child_ref


def _placement(client, runtime, child_ref: str, hours: int, started_on: str) -> None:
    placement_id = awarded(runtime, child_ref=child_ref, lot=2, hours_per_week=hours, full_time=False,
                           start_date=started_on, weeks=20, at="2025-10-30T10:00:00+00:00")
    response = client.post(f"/v1/placements/{placement_id}/start", json={"started_on": started_on},
                           headers=MANAGER)
    assert response.status_code == 200, response.json


@pytest.fixture
def children(rt, client_for):
    rt.clock = lambda: TODAY
    client = client_for(rt)
    two_part_time = _duty(rt)
    _placement(client, rt, two_part_time, 10, "2025-11-03")
    _placement(client, rt, two_part_time, 9, "2025-11-04")  # 19 hours together from Tuesday 4th
    part_time_only = _duty(rt, looked_after=True)
    _placement(client, rt, part_time_only, 12, "2025-11-03")
    late = _duty(rt, reason="other")
    _placement(client, rt, late, 20, "2025-11-10")  # Thu 6, Fri 7, Mon 10: three school days late
    not_yet = _duty(rt, deadline="2025-11-14", first_day="2025-11-07")
    other_team = _duty(rt, team="send")
    return client, {"two_part_time": two_part_time, "part_time_only": part_time_only, "late": late,
                    "not_yet": not_yet, "other_team": other_team}


def test_each_child_is_listed_with_the_deadline_the_first_full_time_day_and_the_standing(rt, children):
    client, ref = children
    response = client.get("/v1/reports/sixth-day", headers=OFFICER)
    assert response.status_code == 200
    rows = {row["child_ref"]: row for row in response.json}
    assert set(rows) == set(ref.values()) - {ref["other_team"]}  # an officer: their team's children only
    met = rows[ref["two_part_time"]]
    assert (met["full_time_provision_by"], met["first_full_time_day"], met["sixth_day_status"],
            met["missed_by_school_days"], met["placed_part_time_only"]) == (
        "2025-11-05", "2025-11-04", "met", None, False)
    flagged = rows[ref["part_time_only"]]
    assert (flagged["sixth_day_status"], flagged["missed_by_school_days"], flagged["placed_part_time_only"],
            flagged["first_day_aim"], flagged["first_day_aim_met"]) == ("missed", 5, True, "2025-10-22", False)
    late = rows[ref["late"]]
    assert (late["first_full_time_day"], late["sixth_day_status"], late["missed_by_school_days"],
            late["placed_part_time_only"]) == ("2025-11-10", "missed", 3, False)
    assert rows[ref["not_yet"]]["sixth_day_status"] == "at_risk"
    # missed first, most school days first; then at risk; then met
    assert [row["child_ref"] for row in response.json] == [ref["part_time_only"], ref["late"], ref["not_yet"],
                                                            ref["two_part_time"]]


def test_the_report_filters_by_standing_pages_and_downloads_as_csv(rt, children):
    client, ref = children
    missed = client.get("/v1/reports/sixth-day?status=missed", headers=MANAGER).json
    assert {row["child_ref"] for row in missed} == {ref["part_time_only"], ref["late"], ref["other_team"]}
    first = client.get("/v1/reports/sixth-day?page_size=2", headers=REPORTING)
    assert len(first.json) == 2 and 'rel="next"' in first.headers["Link"]
    download = client.get("/v1/reports/sixth-day?format=csv", headers=MANAGER)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, as every CSV
    rows = list(csv.DictReader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert len(rows) == 5 and {"child_ref", "full_time_provision_by", "first_full_time_day", "sixth_day_status",
                               "missed_by_school_days", "placed_part_time_only"} <= set(rows[0])


def test_who_may_see_the_report_and_bad_input(rt, children):
    client, _ = children
    assert client.get("/v1/reports/sixth-day", headers=PROVIDER).status_code == 403
    assert client.get("/v1/reports/sixth-day", headers=OTHER_TEAM).json[0]["team"] == "send"
    refused = client.get("/v1/reports/sixth-day?status=late", headers=MANAGER)
    assert refused.status_code == 422 and "status" in refused.json["errors"]["query"]
    assert client.get("/v1/reports/sixth-day?on=2025-11-05", headers=MANAGER).json[0]["sixth_day_status"] != "missed"


def test_an_erased_child_leaves_the_report(rt, children):
    client, ref = children
    deliver(rt, "child.erased", {"child_ref": ref["late"], "at": "2025-11-12T09:00:00+00:00"}, producer="referrals")
    assert ref["late"] not in {row["child_ref"] for row in client.get("/v1/reports/sixth-day", headers=MANAGER).json}


def test_the_childs_subject_access_bundle_holds_the_deadline(rt, children):
    client, ref = children
    records = client.get(f"/v1/subject-access/{ref['not_yet']}", headers=MANAGER).json["records"]
    assert [duty["full_time_provision_by"] for duty in records["sixth_day_duties"]] == ["2025-11-14"]
    assert records["placements"] == []

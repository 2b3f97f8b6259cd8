"""Attendance returns from providers, their rates, and the concerns officers
see at once (unexplained absence; attendance below the threshold over the
latest four weeks).  The rules alone are tested on the handlers:
tests/unit/tracking/test_tracking_handlers_rules.py."""

from __future__ import annotations

import dataclasses

import pytest

from tests.api.tracking.tracking_support import (
    MANAGER,
    OFFICER,
    OTHER_PROVIDER,
    OTHER_TEAM,
    PROVIDER,
    PROVIDER_A,
    REPORTING,
    mondays,
    outbox,
    snapshot,
    started,
    week,
)


def _return(client, placement_id, body, headers=PROVIDER):
    return client.post(f"/v1/placements/{placement_id}/attendance", json=body, headers=headers)


# -- a week's return ------------------------------------------------------------------------


def test_a_providers_return_is_stored_with_its_rate_and_published(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    response = _return(client, placement_id, week("2024-01-08", offered=10, attended=9, authorised=1))
    assert response.status_code == 201
    assert response.json["week"]["rate"] == 0.9 and response.json["correction"] is False
    assert response.json["concerns_raised"] == []
    [event] = outbox(rt, "attendance.recorded")
    assert event["data"] | {"at": None} == {
        "placement_id": str(placement_id), "provider_id": str(PROVIDER_A),
        "lot": 1, "week_commencing": "2024-01-08", "sessions_offered": 10, "attended": 9,
        "authorised_absence": 1, "unauthorised_absence": 0, "rate": 0.9, "correction": False, "at": None,
        "team": "exclusions"}


def test_the_placements_rates_are_weighted_by_sessions(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    # 9/10, 4/5, 10/10, 6/10, 3/5: over all 32/40; the latest four 23/30
    for monday, offered, attended, authorised in zip(mondays("2024-01-08", 5), (10, 5, 10, 10, 5),
                                                     (9, 4, 10, 6, 3), (1, 1, 0, 4, 2), strict=True):
        _return(client, placement_id, week(monday, offered, attended, authorised))
    body = client.get(f"/v1/placements/{placement_id}/attendance", headers=OFFICER).json
    assert body["attendance_rate"] == 0.8  # 32 / 40, not the mean of the weekly rates (0.78)
    assert body["recent_attendance_rate"] == 0.7667  # 23 / 30
    assert [w["rate"] for w in body["weeks"]] == [0.9, 0.8, 1.0, 0.6, 0.6]


def test_a_second_return_for_the_same_week_corrects_the_first(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    _return(client, placement_id, week("2024-01-08", 10, 5, authorised=5))
    corrected = _return(client, placement_id, week("2024-01-08", 10, 9, authorised=1))
    assert corrected.status_code == 201 and corrected.json["correction"] is True
    weeks = client.get(f"/v1/placements/{placement_id}/attendance", headers=PROVIDER).json["weeks"]
    assert len(weeks) == 1 and weeks[0]["attended"] == 9 and weeks[0]["corrections"] == 1
    assert [e["data"]["correction"] for e in outbox(rt, "attendance.recorded")] == [False, True]


@pytest.mark.parametrize("headers, status", [
    (OTHER_PROVIDER, 403), (OFFICER, 403), (MANAGER, 403), (REPORTING, 403), ({}, 401)])
def test_only_the_placements_own_provider_returns_attendance(rt, client_for, headers, status):
    client = client_for(rt)
    placement_id = started(client, rt)
    before = snapshot(rt)
    assert _return(client, placement_id, week("2024-01-08"), headers=headers).status_code == status
    assert snapshot(rt) == before


@pytest.mark.parametrize("headers, status", [
    (PROVIDER, 200), (OFFICER, 200), (MANAGER, 200), (OTHER_PROVIDER, 403), (OTHER_TEAM, 403), ({}, 401)])
def test_who_may_read_the_attendance(rt, client_for, headers, status):
    client = client_for(rt)
    placement_id = started(client, rt)
    assert client.get(f"/v1/placements/{placement_id}/attendance", headers=headers).status_code == status


# -- bad returns ----------------------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    (week("2024-01-08", offered=10, attended=11), "attended"),  # more than offered
    (week("2024-01-08", offered=-1, attended=0), "sessions_offered"),
    (week("2024-01-08", offered=10, attended=-2), "attended"),
    (week("2024-01-08", offered=10, attended=5, authorised=-1), "authorised_absence"),
    (week("2024-01-08", offered=10, attended=5, unauthorised=-3), "unauthorised_absence"),
    (week("2024-01-08", offered=10, attended=6, authorised=3, unauthorised=3), "unauthorised_absence"),
    (week("2024-03-18"), "week_commencing"),  # next week: in the future
    (week("2024-01-01"), "week_commencing"),  # before the placement started on 8 January
    (week("2024-01-10"), "week_commencing"),  # a Wednesday
    ({**week("2024-01-08"), "attended": 9.5}, "attended"),
    ({**week("2024-01-08"), "attended": "nine"}, "attended"),
    ({k: v for k, v in week("2024-01-08").items() if k != "sessions_offered"}, "sessions_offered"),
])
def test_a_bad_return_is_refused_with_the_field_named_and_nothing_stored(rt, client_for, body, field):
    client = client_for(rt)
    placement_id = started(client, rt)
    before = snapshot(rt)
    response = _return(client, placement_id, body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert snapshot(rt) == before


# -- concerns --------------------------------------------------------------------------------


def test_an_unexplained_absence_raises_a_concern_officers_see_at_once(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    response = _return(client, placement_id, week("2024-01-08", 10, 9, unauthorised=1))
    [raised] = response.json["concerns_raised"]
    assert raised["kind"] == "unexplained_absence" and raised["rate"] == 0.9  # 90%: not low, but unexplained
    concerns = client.get("/v1/concerns?open=true", headers=OFFICER).json
    assert [c["concern_id"] for c in concerns] == [raised["concern_id"]]
    assert client.get("/v1/concerns", headers=OTHER_TEAM).json == []
    [event] = outbox(rt, "concern.raised")
    assert event["data"] | {"at": None} == {
        "concern_id": raised["concern_id"], "placement_id": str(placement_id),
        "provider_id": raised["provider_id"], "lot": 1, "team": "exclusions", "kind": "unexplained_absence",
        "week_commencing": "2024-01-08", "rate": 0.9, "at": None}


def test_the_threshold_is_the_councils_setting(rt, client_for):
    rt.settings = dataclasses.replace(rt.settings, attendance_threshold="0.95")  # DPS_ATTENDANCE_THRESHOLD
    client = client_for(rt)
    placement_id = started(client, rt)
    raised = _return(client, placement_id, week("2024-01-08", 10, 9, 1)).json["concerns_raised"]
    assert [c["kind"] for c in raised] == ["low_attendance"]  # 90% is below 95%


def test_low_attendance_is_one_open_concern_escalated_weekly_then_new_only_after_a_fall_low_again(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    low = "?kind=low_attendance"
    [raised] = _return(client, placement_id, week("2024-01-08", 10, 5, 5)).json["concerns_raised"]
    for monday in ("2024-01-15", "2024-01-22"):
        assert _return(client, placement_id, week(monday, 10, 5, 5)).json["concerns_raised"] == []
    [concern] = client.get(f"/v1/concerns{low}", headers=OFFICER).json
    assert concern["concern_id"] == raised["concern_id"]
    assert (concern["week_commencing"], concern["rate"], concern["weeks_low"]) == ("2024-01-22", 0.5, 3)
    client.post(f"/v1/concerns/{raised['concern_id']}/acknowledge", json={"note": "rang home"}, headers=OFFICER)
    # still low after the acknowledgement (20/40): nothing new
    assert _return(client, placement_id, week("2024-01-29", 10, 5, 5)).json["concerns_raised"] == []
    # recovered (4 weeks of 10/10: 40/40), then low again (30/40): a new concern
    for monday in mondays("2024-02-05", 4):
        assert _return(client, placement_id, week(monday)).json["concerns_raised"] == []
    [again] = _return(client, placement_id, week("2024-03-04", 10, 0, 10)).json["concerns_raised"]
    assert again["weeks_low"] == 1 and again["concern_id"] != raised["concern_id"]
    assert [c["concern_id"] for c in client.get(f"/v1/concerns{low}&open=true", headers=OFFICER).json] == [
        again["concern_id"]]
    assert [body["data"]["concern_id"] for body in outbox(rt, "concern.raised")] == [
        raised["concern_id"], again["concern_id"]]


def test_an_officer_acknowledges_a_concern_once(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    [concern] = _return(client, placement_id, week("2024-01-08", 10, 9, unauthorised=1)).json["concerns_raised"]
    url = f"/v1/concerns/{concern['concern_id']}/acknowledge"
    assert client.post(url, json={"note": "x"}, headers=OTHER_TEAM).status_code == 403
    assert client.post(url, json={"note": "x"}, headers=PROVIDER).status_code == 403
    missing = client.post(url, json={}, headers=OFFICER)
    assert missing.status_code == 422 and "note" in missing.json["errors"]["json"]
    done = client.post(url, json={"note": "rang the family; illness"}, headers=OFFICER)
    assert done.status_code == 200 and done.json["acknowledged_by"] == "officer.exclusions"
    assert client.get("/v1/concerns?open=true", headers=OFFICER).json == []
    assert len(client.get("/v1/concerns?open=false", headers=OFFICER).json) == 1
    twice = client.post(url, json={"note": "again"}, headers=MANAGER)
    assert twice.status_code == 409


def test_the_placement_view_counts_its_open_concerns_and_its_rates(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    other_id = started(client, rt)
    url = f"/v1/placements/{placement_id}"
    first = client.get(url, headers=OFFICER).json
    assert (first["open_concerns"], first["weeks_returned"], first["attendance_rate"]) == (0, 0, None)
    [concern] = _return(client, placement_id, week("2024-01-08", 10, 9, unauthorised=1)).json["concerns_raised"]
    _return(client, placement_id, week("2024-01-15", 10, 10))
    _return(client, other_id, week("2024-01-08", 10, 9, unauthorised=1))  # another placement's concern
    view = client.get(url, headers=OFFICER).json
    assert (view["open_concerns"], view["weeks_returned"], view["attendance_rate"]) == (1, 2, 0.95)
    assert view["provider_name"] == client.get(f"/v1/placements/{other_id}", headers=OFFICER).json["provider_name"]
    client.post(f"/v1/concerns/{concern['concern_id']}/acknowledge", json={"note": "rang home"}, headers=OFFICER)
    assert client.get(url, headers=OFFICER).json["open_concerns"] == 0


@pytest.mark.parametrize("headers, status", [
    (OFFICER, 200), (MANAGER, 200), (PROVIDER, 403), (REPORTING, 403), ({}, 401)])
def test_who_may_see_concerns(rt, client_for, headers, status):
    assert client_for(rt).get("/v1/concerns", headers=headers).status_code == status

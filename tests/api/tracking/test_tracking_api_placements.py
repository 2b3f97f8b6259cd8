"""Placements through the API: made from awards, read by whom may, started,
ended, cancelled when the child never starts, and their safeguarding and
provision recorded.  The rules alone are tested on the handlers:
tests/unit/tracking/test_tracking_handlers_rules.py."""

from __future__ import annotations

import uuid

import pytest

from tests.api.tracking.tracking_support import (
    MANAGER,
    OFFICER,
    OTHER_PROVIDER,
    OTHER_TEAM,
    PROVIDER,
    PROVIDER_A,
    REPORTING,
    award_data,
    awarded,
    deliver,
    outbox,
    snapshot,
    started,
)

# -- made from the awards events ------------------------------------------------------------


def test_an_award_becomes_an_awarded_placement_with_its_terms(rt, client_for):
    data = award_data(weeks=12, total_pence=540_000, hours_per_week=25)
    deliver(rt, "placement.awarded", data)
    body = client_for(rt).get(f"/v1/placements/{data['placement_id']}", headers=OFFICER).json
    assert body["status"] == "awarded" and body["source"] == "call_off"
    assert body["agreed_cost_pence"] == 540_000 and body["hours_per_week"] == 25
    assert body["start_date"] == "2024-01-08" and body["expected_end_date"] == "2024-03-31"  # 12 weeks
    assert body["safeguarding"] == "commissioning_team" and body["provision"] == "main"
    assert body["award_id"] == data["award_id"] and body["child_ref"] == data["child_ref"]


def test_the_same_award_twice_makes_one_placement(rt, client_for):
    data = award_data()
    deliver(rt, "placement.awarded", data)
    before = snapshot(rt)
    deliver(rt, "placement.awarded", data)  # a second copy with a new envelope id
    assert snapshot(rt) == before
    assert len(client_for(rt).get("/v1/placements", headers=MANAGER).json) == 1


def test_a_block_place_allocation_becomes_a_placement(rt, client_for):
    placement_id, contract_id = str(uuid.uuid4()), str(uuid.uuid4())
    deliver(rt, "block_place.allocated", {
        "contract_id": contract_id, "allocation_id": str(uuid.uuid4()), "placement_id": placement_id,
        "referral_id": str(uuid.uuid4()), "provider_id": str(PROVIDER_A), "lot": 3, "team": "send",
        "child_ref": str(uuid.uuid4()), "reason_for_ap": "SEND needs", "hours_per_week": 12.5,
        "start_date": "2024-02-05", "weeks": 10, "cost_pence": 300_000, "full_time": False,
        "at": "2024-02-01T09:00:00+00:00"})
    body = client_for(rt).get(f"/v1/placements/{placement_id}", headers=MANAGER).json
    assert body["source"] == "block_place" and body["contract_id"] == contract_id
    assert body["agreed_cost_pence"] == 300_000 and body["full_time"] is False


# -- who sees which placements ----------------------------------------------------------------


def test_a_provider_lists_only_its_own_placements_without_the_childs_reference(rt, client_for):
    mine = awarded(rt)
    awarded(rt, provider_id=str(uuid.uuid4()))
    body = client_for(rt).get("/v1/placements", headers=PROVIDER).json
    assert [p["placement_id"] for p in body] == [str(mine)]
    assert body[0]["child_ref"] is None


def test_an_officer_lists_only_their_teams_placements(rt, client_for):
    ours = awarded(rt, team="exclusions")
    awarded(rt, team="send")
    client = client_for(rt)
    assert [p["placement_id"] for p in client.get("/v1/placements", headers=OFFICER).json] == [str(ours)]
    assert len(client.get("/v1/placements", headers=MANAGER).json) == 2
    refused = client.get("/v1/placements?team=send", headers=OFFICER)
    assert refused.status_code == 403 and "team" in refused.json["errors"]["query"]


def test_placements_are_filtered_by_status_lot_and_child(rt, client_for):
    child = str(uuid.uuid4())
    first = started(client_for(rt), rt, child_ref=child)
    awarded(rt, lot=2, hours_per_week=10)
    client = client_for(rt)
    assert [p["placement_id"] for p in client.get("/v1/placements?status=started", headers=MANAGER).json] \
        == [str(first)]
    assert len(client.get("/v1/placements?lot=2", headers=MANAGER).json) == 1
    assert [p["placement_id"] for p in client.get(f"/v1/placements?child_ref={child}", headers=MANAGER).json] \
        == [str(first)]
    assert client.get(f"/v1/placements?child_ref={child}", headers=PROVIDER).status_code == 403


@pytest.mark.parametrize("headers, status", [
    (PROVIDER, 200), (OFFICER, 200), (MANAGER, 200),
    (OTHER_PROVIDER, 403), (OTHER_TEAM, 403), (REPORTING, 403), ({}, 401),
])
def test_who_may_read_a_placement(rt, client_for, headers, status):
    placement_id = awarded(rt)
    assert client_for(rt).get(f"/v1/placements/{placement_id}", headers=headers).status_code == status


def test_an_unknown_placement_is_not_found(rt, client_for):
    response = client_for(rt).get(f"/v1/placements/{uuid.uuid4()}", headers=MANAGER)
    assert response.status_code == 404 and "placement_id" in response.json["errors"]["path"]


# -- starting -------------------------------------------------------------------------------


@pytest.mark.parametrize("headers, confirmed_by", [(PROVIDER, "provider"), (OFFICER, "officer")])
def test_the_provider_or_an_officer_confirms_the_start(rt, client_for, headers, confirmed_by):
    placement_id = awarded(rt)
    response = client_for(rt).post(f"/v1/placements/{placement_id}/start", json={"started_on": "2024-01-09"},
                                   headers=headers)
    assert response.status_code == 200
    assert response.json["status"] == "started" and response.json["started_on"] == "2024-01-09"
    assert response.json["start_confirmed_by"] == confirmed_by
    assert response.json["review_due_on"] == "2024-02-20"  # six weeks on
    [event] = outbox(rt, "placement.started")
    assert {k: event["data"][k] for k in ("placement_id", "provider_id", "lot", "team", "started_on")} == {
        "placement_id": str(placement_id), "provider_id": str(PROVIDER_A), "lot": 1, "team": "exclusions",
        "started_on": "2024-01-09"}
    assert "referral_id" in event["data"] and "at" in event["data"]


@pytest.mark.parametrize("headers, status", [(OTHER_PROVIDER, 403), (OTHER_TEAM, 403), (REPORTING, 403),
                                             ({}, 401)])
def test_others_may_not_start_a_placement(rt, client_for, headers, status):
    placement_id = awarded(rt)
    before = snapshot(rt)
    response = client_for(rt).post(f"/v1/placements/{placement_id}/start", json={"started_on": "2024-01-09"},
                                   headers=headers)
    assert response.status_code == status
    assert snapshot(rt) == before


def test_starting_twice_is_a_conflict(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    before = snapshot(rt)
    response = client.post(f"/v1/placements/{placement_id}/start", json={"started_on": "2024-01-09"},
                           headers=OFFICER)
    assert response.status_code == 409 and "placement_id" in response.json["errors"]["path"]
    assert snapshot(rt) == before


@pytest.mark.parametrize("body, field", [
    ({"started_on": "2024-03-16"}, "started_on"),  # tomorrow
    ({"started_on": "2024-08-01"}, "started_on"),  # after the expected end
    ({"started_on": "8 January"}, "started_on"),
    ({}, "started_on"),
])
def test_a_bad_start_date_is_refused(rt, client_for, body, field):
    placement_id = awarded(rt)
    before = snapshot(rt)
    response = client_for(rt).post(f"/v1/placements/{placement_id}/start", json=body, headers=OFFICER)
    assert response.status_code == 422 and field in response.json["errors"]["json"]
    assert snapshot(rt) == before


def test_a_start_before_the_award_is_refused_naming_the_award_date(rt, client_for):
    placement_id = awarded(rt, start_date="2024-01-01", at="2024-01-02T10:00:00+00:00")
    before = snapshot(rt)
    client = client_for(rt)
    response = client.post(f"/v1/placements/{placement_id}/start", json={"started_on": "2024-01-01"},
                           headers=PROVIDER)
    assert response.status_code == 422, response.json
    [message] = response.json["errors"]["json"]["started_on"]
    assert "award on 2024-01-02" in message and "council policy" in message
    assert snapshot(rt) == before
    response = client.post(f"/v1/placements/{placement_id}/start", json={"started_on": "2024-01-02"},
                           headers=PROVIDER)
    assert response.status_code == 200 and response.json["started_on"] == "2024-01-02"


# -- one full-time main placement at a time -----------------------------------------------------


def test_a_second_overlapping_full_time_placement_needs_an_officers_reason(rt, client_for):
    client = client_for(rt)
    child = str(uuid.uuid4())
    started(client, rt, child_ref=child)
    second = awarded(rt, child_ref=child, provider_id=str(PROVIDER_A))
    before = snapshot(rt)
    for headers in (PROVIDER, OFFICER):
        refused = client.post(f"/v1/placements/{second}/start", json={"started_on": "2024-02-05"},
                              headers=headers)
        assert refused.status_code == 409 and "overlap_reason" in refused.json["errors"]["json"]
    assert snapshot(rt) == before
    allowed = client.post(f"/v1/placements/{second}/start", headers=OFFICER,
                          json={"started_on": "2024-02-05", "overlap_reason": "handover week with both"})
    assert allowed.status_code == 200 and allowed.json["overlap_reason"] == "handover week with both"
    seen_by_provider = client.get(f"/v1/placements/{second}", headers=PROVIDER).json
    assert seen_by_provider["overlap_reason"] is None and seen_by_provider["child_ref"] is None


# -- ending ------------------------------------------------------------------------------


def test_ending_records_the_reason_and_next_step_and_publishes_them(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    response = client.post(f"/v1/placements/{placement_id}/end", headers=OFFICER, json={
        "end_date": "2024-03-08", "end_reason": "moved_on_early", "next_step": "reintegrated_mainstream"})
    assert response.status_code == 200
    assert (response.json["status"], response.json["end_reason"], response.json["next_step"]) == (
        "ended", "moved_on_early", "reintegrated_mainstream")
    [event] = outbox(rt, "placement.ended")
    assert {k: event["data"][k] for k in ("ended_on", "end_reason", "next_step", "team", "lot")} == {
        "ended_on": "2024-03-08", "end_reason": "moved_on_early", "next_step": "reintegrated_mainstream",
        "team": "exclusions", "lot": 1}


@pytest.mark.parametrize("body, field", [
    ({"end_date": "2024-01-05", "end_reason": "completed", "next_step": "employment"}, "end_date"),  # before start
    ({"end_date": "2024-03-16", "end_reason": "completed", "next_step": "employment"}, "end_date"),  # future
    ({"end_date": "2024-03-08", "end_reason": "completed", "next_step": "gap_year"}, "next_step"),
    ({"end_date": "2024-03-08", "end_reason": "completed"}, "next_step"),
    ({"end_date": "2024-03-08", "end_reason": "fell_out", "next_step": "employment"}, "end_reason"),
    ({"end_date": "2024-03-08", "end_reason": "cancelled", "next_step": "employment"}, "end_reason"),
])
def test_a_bad_end_is_refused_with_the_field_named(rt, client_for, body, field):
    client = client_for(rt)
    placement_id = started(client, rt)
    before = snapshot(rt)
    response = client.post(f"/v1/placements/{placement_id}/end", json=body, headers=OFFICER)
    assert response.status_code == 422 and field in response.json["errors"]["json"]
    assert snapshot(rt) == before


# -- an award that never starts -----------------------------------------------------------------


def test_an_officer_cancels_an_award_the_child_never_took_up(rt, client_for):
    client = client_for(rt)
    placement_id = awarded(rt)
    response = client.post(f"/v1/placements/{placement_id}/cancel", headers=OFFICER, json={
        "reason": "family moved to another borough before the start", "next_step": "moved_away"})
    assert response.status_code == 200
    body = response.json
    assert (body["status"], body["end_reason"], body["next_step"]) == ("cancelled", "cancelled", "moved_away")
    assert body["end_date"] == "2024-03-15" and body["started_on"] is None
    [event] = outbox(rt, "placement.ended")
    assert event["data"]["end_reason"] == "cancelled" and event["data"]["started_on"] is None
    assert event["data"]["ended_on"] == "2024-03-15"
    # it commits no spend, and does not count for or against the provider
    assert client.get("/v1/reports/committed-spend", headers=MANAGER).json == []
    assert client.get("/v1/reports/accountability", headers=MANAGER).json == []


def test_a_cancellation_needs_a_reason_and_a_known_next_step(rt, client_for):
    placement_id = awarded(rt)
    before = snapshot(rt)
    client = client_for(rt)
    for body, field in (({"next_step": "other"}, "reason"), ({"reason": "never came", "next_step": "x"},
                                                                "next_step")):
        response = client.post(f"/v1/placements/{placement_id}/cancel", json=body, headers=OFFICER)
        assert response.status_code == 422 and field in response.json["errors"]["json"]
    assert snapshot(rt) == before


# -- safeguarding and main or supplementary provision ------------------------------------------


def test_an_officer_records_safeguarding_with_the_home_school_and_supplementary_provision(rt, client_for):
    placement_id = awarded(rt, lot=2, hours_per_week=10)
    response = client_for(rt).patch(f"/v1/placements/{placement_id}", headers=OFFICER, json={
        "safeguarding": "home_school", "provision": "supplementary", "reason": "stays on the school's roll"})
    assert response.status_code == 200
    assert (response.json["safeguarding"], response.json["provision"]) == ("home_school", "supplementary")


@pytest.mark.parametrize("headers, body, status, field", [
    (PROVIDER, {"safeguarding": "home_school"}, 403, None),
    (OTHER_TEAM, {"safeguarding": "home_school"}, 403, None),
    (OFFICER, {"safeguarding": "the_provider"}, 422, "safeguarding"),
    (OFFICER, {"provision": "extra"}, 422, "provision"),
    (OFFICER, {"reason": "nothing to set"}, 422, "safeguarding"),
])
def test_arrangements_refused(rt, client_for, headers, body, status, field):
    placement_id = awarded(rt)
    before = snapshot(rt)
    response = client_for(rt).patch(f"/v1/placements/{placement_id}", json=body, headers=headers)
    assert response.status_code == status
    if field:
        assert field in response.json["errors"]["json"]
    assert snapshot(rt) == before


def test_each_decision_is_in_the_audit_trail_for_the_manager(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    client.post(f"/v1/placements/{placement_id}/end", headers=OFFICER, json={
        "end_date": "2024-03-08", "end_reason": "breakdown", "next_step": "neet", "note": "refused to attend"})
    trail = client.get(f"/v1/audit?subject_id={placement_id}", headers=MANAGER).json
    actions = {entry["action"]: entry for entry in trail}
    assert {"placement.created", "placement.started", "placement.ended"} <= set(actions)
    assert actions["placement.ended"]["actor"] == "officer.exclusions"
    assert actions["placement.ended"]["reason"] == "refused to attend"
    assert client.get("/v1/audit", headers=OFFICER).status_code == 403


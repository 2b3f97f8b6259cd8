"""Reviews at least every six weeks against the aims, the overdue list, and
outcomes (attainment, qualifications, engagement, next step).  The rules alone are tested on the handlers:
tests/unit/tracking/test_tracking_handlers_rules.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.tracking.tracking_support import (
    MANAGER,
    OFFICER,
    OTHER_PROVIDER,
    OTHER_TEAM,
    PROVIDER,
    REPORTING,
    outbox,
    snapshot,
    started,
)

REVIEW = {"review_date": "2024-02-16", "attendance": "improving", "attitude": "steady",
          "attainment": "improving", "behaviour": "declining",
          "notes": "attending most days; reading age up; two incidents at lunchtime",
          "child_views": "likes the art room; wants to go back to a school", "family_views": "mum sees him calmer"}


def _review(client, placement_id, headers=OFFICER, **changes):
    return client.post(f"/v1/placements/{placement_id}/reviews", json={**REVIEW, **changes}, headers=headers)


# -- reviews ----------------------------------------------------------------------------------


def test_a_review_records_progress_against_the_aims_and_sets_the_next_due_date(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    response = _review(client, placement_id)
    assert response.status_code == 201
    assert response.json["next_review_due"] == "2024-03-29"  # six weeks after 16 February
    assert response.json["recorded_by"] == "officer.exclusions"
    [event] = outbox(rt, "review.recorded")
    assert event["data"]["review_id"] == response.json["review_id"]
    assert event["data"]["progress"] == {"attendance": "improving", "attitude": "steady",
                                         "attainment": "improving", "behaviour": "declining"}
    assert "notes" not in event["data"]  # an officer's notes stay here
    listed = client.get(f"/v1/placements/{placement_id}/reviews", headers=PROVIDER).json
    assert [r["review_id"] for r in listed] == [response.json["review_id"]]


@pytest.mark.parametrize("changes, field", [
    ({"attendance": "great"}, "attendance"),
    ({"notes": ""}, "notes"),
    ({"child_views": ""}, "child_views"),
    ({"family_views": " "}, "family_views"),
    ({"review_date": "2024-03-16"}, "review_date"),  # the future
    ({"review_date": "2024-01-01"}, "review_date"),  # before the start
])
def test_a_bad_review_is_refused_with_the_field_named(rt, client_for, changes, field):
    client = client_for(rt)
    placement_id = started(client, rt)
    before = snapshot(rt)
    response = _review(client, placement_id, **changes)
    assert response.status_code == 422 and field in response.json["errors"]["json"]
    assert snapshot(rt) == before


@pytest.mark.parametrize("headers, status", [(PROVIDER, 403), (OTHER_TEAM, 403), (REPORTING, 403), ({}, 401),
                                             (MANAGER, 201)])
def test_who_may_record_a_review(rt, client_for, headers, status):
    client = client_for(rt)
    placement_id = started(client, rt)
    assert _review(client, placement_id, headers=headers).status_code == status


# -- overdue reviews ------------------------------------------------------------------------------


def test_a_placement_past_six_weeks_without_a_review_is_overdue_until_reviewed(rt, client_for):
    client = client_for(rt)
    late = started(client, rt, on="2024-01-08")  # due 19 February
    started(client, rt, on="2024-03-04")  # due 15 April
    rows = client.get("/v1/reports/overdue-reviews", headers=OFFICER).json
    assert [(r["placement_id"], r["review_due_on"], r["days_overdue"]) for r in rows] == [
        (str(late), "2024-02-19", 25)]
    assert client.get(f"/v1/placements/{late}", headers=OFFICER).json["review_overdue"] is True
    _review(client, late, review_date="2024-03-14")
    assert client.get("/v1/reports/overdue-reviews", headers=OFFICER).json == []
    rt.clock = lambda: datetime(2024, 4, 26, 12, tzinfo=UTC)  # past both due dates
    assert len(client.get("/v1/reports/overdue-reviews", headers=OFFICER).json) == 2


def test_the_needs_review_filter_lists_the_same_placements(rt, client_for):
    client = client_for(rt)
    late = started(client, rt, on="2024-01-08")
    started(client, rt, on="2024-03-04")
    listed = client.get("/v1/placements?needs_review=true", headers=OFFICER).json
    assert [p["placement_id"] for p in listed] == [str(late)]


# -- outcomes -------------------------------------------------------------------------------


def test_the_provider_records_attainment_at_the_start(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    response = client.post(f"/v1/placements/{placement_id}/outcomes", headers=PROVIDER, json={
        "stage": "start", "recorded_on": "2024-01-12", "engagement": 2,
        "attainment": {"english": "grade 3", "maths": "working at year 7", "science": "grade 2"}})
    assert response.status_code == 201
    assert response.json["attainment"] == {"english": "grade 3", "maths": "working at year 7", "science": "grade 2"}
    [event] = outbox(rt, "outcome.recorded")
    assert {k: event["data"][k] for k in ("outcome_id", "stage", "engagement", "qualifications", "next_step")} == {
        "outcome_id": response.json["outcome_id"], "stage": "start", "engagement": 2, "qualifications": [],
        "next_step": None}


def test_outcomes_at_the_end_carry_the_qualifications_and_the_next_step(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    client.post(f"/v1/placements/{placement_id}/end", headers=OFFICER, json={
        "end_date": "2024-03-08", "end_reason": "completed", "next_step": "further_education"})
    response = client.post(f"/v1/placements/{placement_id}/outcomes", headers=OFFICER, json={
        "stage": "end", "recorded_on": "2024-03-15", "engagement": 4,
        "qualifications": [{"name": "Functional Skills English", "level": "Level 1", "grade": "Pass"}]})
    assert response.status_code == 201 and response.json["next_step"] == "further_education"
    [event] = outbox(rt, "outcome.recorded")
    assert event["data"]["next_step"] == "further_education"
    assert event["data"]["qualifications"] == [
        {"name": "Functional Skills English", "level": "Level 1", "grade": "Pass"}]
    listed = client.get(f"/v1/placements/{placement_id}/outcomes", headers=PROVIDER).json
    assert [o["stage"] for o in listed] == ["end"]


@pytest.mark.parametrize("body, field", [
    ({"stage": "start", "recorded_on": "2024-01-12", "engagement": 6}, "engagement"),
    ({"stage": "start", "recorded_on": "2024-01-12", "engagement": 0}, "engagement"),
    ({"stage": "start", "recorded_on": "2024-01-12", "attainment": {"history": "grade 4"}}, "attainment"),
    ({"stage": "start", "recorded_on": "2024-01-12", "qualifications": [{"name": "GCSE Maths"}]},
     "qualifications"),
    ({"stage": "start", "recorded_on": "2024-01-12"}, "attainment"),  # nothing recorded
    ({"stage": "midway", "recorded_on": "2024-01-12", "engagement": 3}, "stage"),
    ({"stage": "start", "recorded_on": "2024-03-20", "engagement": 3}, "recorded_on"),
])
def test_a_bad_outcome_is_refused_with_the_field_named(rt, client_for, body, field):
    client = client_for(rt)
    placement_id = started(client, rt)
    before = snapshot(rt)
    response = client.post(f"/v1/placements/{placement_id}/outcomes", json=body, headers=PROVIDER)
    assert response.status_code == 422 and field in response.json["errors"]["json"], response.json
    assert snapshot(rt) == before


def test_another_provider_may_not_record_or_read_outcomes(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    body = {"stage": "start", "recorded_on": "2024-01-12", "engagement": 3}
    before = snapshot(rt)
    assert client.post(f"/v1/placements/{placement_id}/outcomes", json=body,
                       headers=OTHER_PROVIDER).status_code == 403
    assert client.get(f"/v1/placements/{placement_id}/outcomes", headers=OTHER_PROVIDER).status_code == 403
    assert snapshot(rt) == before


def test_reviews_fall_due_every_six_school_weeks_and_keep_the_child_and_family_views(rt, client_for):
    rt.clock = lambda: datetime(2025, 12, 10, 12, 0, tzinfo=UTC)  # on the default school calendar's terms
    client = client_for(rt)
    placement_id = started(client, rt, on="2025-10-13", start_date="2025-10-13", at="2025-10-01T10:00:00+00:00")
    shown = client.get(f"/v1/placements/{placement_id}", headers=OFFICER).json
    assert shown["review_due_on"] == "2025-12-01"  # six school weeks: the October half term does not count
    overdue = client.get("/v1/reports/overdue-reviews", headers=OFFICER).json
    assert [(row["placement_id"], row["review_due_on"]) for row in overdue] == [(str(placement_id), "2025-12-01")]
    response = _review(client, placement_id, review_date="2025-12-08")
    assert response.status_code == 201
    assert response.json["next_review_due"] == "2026-02-02"  # the Christmas holidays do not count
    [listed] = client.get(f"/v1/placements/{placement_id}/reviews", headers=OFFICER).json
    assert (listed["child_views"], listed["family_views"]) == (REVIEW["child_views"], REVIEW["family_views"])
    child_ref = client.get(f"/v1/placements/{placement_id}", headers=OFFICER).json["child_ref"]
    [held] = client.get(f"/v1/subject-access/{child_ref}", headers=MANAGER).json["records"]["reviews"]
    assert (held["child_views"], held["family_views"]) == (REVIEW["child_views"], REVIEW["family_views"])
    assert client.get("/v1/reports/overdue-reviews", headers=OFFICER).json == []

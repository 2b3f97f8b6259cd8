"""The referral form through the API and the real database: who may make and
read one, the sixth-day deadline from the configured term calendar, further
questions, the child's details kept apart with one child_ref per child, and
every refused input changing nothing.  The rules alone are tested on the
handlers: tests/unit/referrals/test_referrals_handlers_lifecycle.py."""

from __future__ import annotations

from shared.calendar import school_calendar
from tests.api.referrals.referrals_support import (
    CHILD,
    DEADLINE,
    MANAGER,
    OFFICER,
    OTHER_TEAM_OFFICER,
    audit_actions,
    create,
    fields_of,
    profile,
    provider_auth,
    referral_form,
    snapshot,
)
from tests.support.runtime import auth

# --- who may make a referral ------------------------------------------------------------

def test_officer_makes_a_draft_referral_for_their_team(client, rt):
    referral = create(client)
    assert referral["status"] == "draft" and referral["team"] == "exclusions" and referral["lot"] == 1
    assert referral["child"] == {**CHILD, "surname": None, "forename": None, "sex": None, "ethnicity": None,
                                 "sen_provision": None, "fsm_eligible": None}  # census details: not recorded yet
    assert referral["profile"]["aims"].startswith("Stabilise")
    assert referral["deadline"] == DEADLINE.isoformat()
    assert [q["text"] for q in referral["questions"]] == ["Describe your experience of supporting SEMH needs"]
    assert "referral.created" in audit_actions(rt)


def test_only_officers_make_referrals(client, rt):
    refusals = [(MANAGER, 403), (auth("provider", provider_id="8b0b5a0e-7c53-4c1e-9d0e-111111111111"), 403),
                (auth("evaluator"), 403), (auth("reporting"), 403), ({}, 401),
                ({"Authorization": "Bearer nonsense"}, 401)]
    before = snapshot(rt)
    for headers, status in refusals:
        assert client.post("/v1/referrals", json=referral_form(), headers=headers).status_code == status, headers
    assert snapshot(rt) == before


def test_officers_of_the_team_and_the_manager_read_a_referral_others_are_refused(client):
    referral_id = create(client)["referral_id"]
    assert client.get(f"/v1/referrals/{referral_id}", headers=OFFICER).status_code == 200
    assert client.get(f"/v1/referrals/{referral_id}", headers=MANAGER).json["child"]["upn"] == CHILD["upn"]
    assert client.get(f"/v1/referrals/{referral_id}", headers=OTHER_TEAM_OFFICER).status_code == 403
    provider = provider_auth("8b0b5a0e-7c53-4c1e-9d0e-111111111111")
    assert client.get(f"/v1/referrals/{referral_id}", headers=provider).status_code == 403
    assert client.get(f"/v1/referrals/{referral_id}").status_code == 401


def test_unknown_referral_is_not_found(client):
    assert client.get("/v1/referrals/8b0b5a0e-7c53-4c1e-9d0e-000000000000", headers=OFFICER).status_code == 404


def test_officers_list_their_own_teams_referrals_and_the_manager_all(client, rt):
    mine = create(client)["referral_id"]
    theirs = create(client, headers=OTHER_TEAM_OFFICER)["referral_id"]
    assert [r["referral_id"] for r in client.get("/v1/referrals", headers=OFFICER).json] == [mine]
    assert client.get("/v1/referrals?team=send", headers=OFFICER).status_code == 403
    everyone = {r["referral_id"] for r in client.get("/v1/referrals", headers=MANAGER).json}
    assert everyone == {mine, theirs}
    assert [r["referral_id"] for r in client.get("/v1/referrals?team=send", headers=MANAGER).json] == [theirs]
    assert client.get("/v1/referrals?status=published", headers=MANAGER).json == []


def test_officer_finds_a_childs_referrals_by_upn(client):
    referral_id = create(client)["referral_id"]
    found = client.get("/v1/referrals?upn=a123456789012", headers=OFFICER).json
    assert [r["referral_id"] for r in found] == [referral_id]
    assert client.get("/v1/referrals?upn=B123456789012", headers=OFFICER).json == []


# --- the child's details and child_ref -------------------------------------------------------

def test_the_same_child_keeps_one_child_ref_across_referrals(client):
    first = create(client)
    second = create(client, referral_form(child={**CHILD, "upn": "a 1234 5678 9012",
                                                 "address": "Flat 2, 9 Elm Road, London SE5 8QT"}))
    other = create(client, referral_form(child={**CHILD, "name": "Yolanda Brightwater", "upn": "B123456789012"}))
    assert first["child_ref"] == second["child_ref"] != other["child_ref"]


def test_identifying_details_are_stored_apart_from_the_profile(client, rt):
    import sqlalchemy as sa

    from services.referrals import models

    referral_id = create(client)["referral_id"]
    with rt.engine.connect() as connection:
        profile_row = connection.execute(sa.select(models.referrals.c.profile)).scalar_one()
        child_row = connection.execute(sa.select(models.referral_children)).one()
    assert CHILD["name"] not in str(profile_row) and CHILD["upn"] not in str(profile_row)
    assert str(child_row.referral_id) == referral_id and child_row.upn == CHILD["upn"]


# --- the sixth-day deadline -------------------------------------------------------------------------


def test_sixth_day_counts_only_days_of_the_configured_term_calendar(client, rt, monkeypatch, tmp_path):
    # The spring term breaks after Thursday 13 February until Monday 24; Tuesday 25 is an INSET day.
    terms = tmp_path / "terms.csv"
    terms.write_text("kind,name,start,end\nterm,Spring 1,2025-01-06,2025-02-13\nterm,Spring 2,2025-02-24,2025-04-04\n"
                     "closed,INSET day,2025-02-25,2025-02-25\n")
    monkeypatch.setattr(rt, "calendar", school_calendar(terms))
    form = referral_form(exclusion_start="2025-02-11")  # Tue 11 (1), Wed 12 (2), Thu 13 (3), Mon 24 (4) ...
    # ... Tue 25 closed, Wed 26 (5), Thu 27 (6)
    assert create(client, form)["full_time_provision_by"] == "2025-02-27"


def test_a_looked_after_child_shows_the_first_day_aim_and_the_sixth_day_backstop(client, rt):
    made = create(client, referral_form(profile_changes={"looked_after": True}, exclusion_start="2025-01-11"))
    assert (made["first_day_aim"], made["full_time_provision_by"]) == ("2025-01-13", "2025-01-20")
    assert create(client)["first_day_aim"] is None  # not looked after: the sixth day alone


def test_a_suspension_referral_counts_the_sixth_day_from_the_first_day_without_a_place(client, rt):
    made = create(client, referral_form(profile_changes={"reason": "suspension"}, exclusion_start="2025-01-15"))
    assert made["full_time_provision_by"] == "2025-01-22"  # Wed 15 (1) .. Wed 22 (6)
    medical = create(client, referral_form(profile_changes={"reason": "medical"}, exclusion_start=None))
    assert medical["full_time_provision_by"] is None and medical["first_day_aim"] is None


# --- refused forms change nothing -------------------------------------------------------------------

def _refused(client, rt, form) -> dict:
    before = snapshot(rt)
    response = client.post("/v1/referrals", json=form, headers=OFFICER)
    assert response.status_code == 422, response.json
    assert snapshot(rt) == before
    return fields_of(response)


def test_referral_without_aims_is_refused(client, rt):
    form = referral_form()
    del form["profile"]["aims"]
    assert "aims" in _refused(client, rt, form)["profile"]


def test_referral_with_blank_aims_is_refused(client, rt):
    assert "aims" in _refused(client, rt, referral_form(profile_changes={"aims": "   "}))["profile"]


def test_referral_without_a_success_measure_is_refused(client, rt):
    form = referral_form(profile_changes={"success_measures": {"attendance": " "}})
    assert "success_measures" in _refused(client, rt, form)["profile"]


def test_deadline_in_the_past_is_refused(client, rt):
    form = referral_form(deadline="2025-01-14T17:00:00+00:00")
    assert "deadline" in _refused(client, rt, form)


def test_deadline_without_a_time_zone_is_refused(client, rt):
    assert "deadline" in _refused(client, rt, referral_form(deadline="2025-01-22T17:00:00"))


def test_hours_per_week_over_40_or_below_1_are_refused(client, rt):
    for hours in (41, 40.5, 0.5, 0, -3, "twenty"):
        refused = _refused(client, rt, referral_form(profile_changes={"hours_per_week": hours}))
        assert "hours_per_week" in refused["profile"], hours


def test_hours_per_week_from_1_to_40_are_accepted(client):
    for hours in (1, 12.5, 40):
        made = create(client, referral_form(profile_changes={"hours_per_week": hours}))
        assert made["profile"]["hours_per_week"] == hours


def test_malformed_profile_fields_are_refused_by_name(client, rt):
    for field, value in [("age", 14.0), ("age", 3), ("expected_weeks", "12"), ("reason", "expelled"),
                         ("postcode_district", "SE15 4QT"), ("ehcp", None), ("start_date", "next week")]:
        assert field in _refused(client, rt, referral_form(profile_changes={field: value}))["profile"], field


def test_a_lot_outside_the_dps_is_refused(client, rt):
    for lot in (0, 5, "1", 1.0):
        assert "lot" in _refused(client, rt, referral_form(lot=lot)), lot


def test_malformed_upn_is_refused(client, rt):
    assert "upn" in _refused(client, rt, referral_form(child={**CHILD, "upn": "12345"}))["child"]


def test_profile_naming_the_child_is_refused(client, rt):
    form = referral_form(profile_changes={"needs_and_risks": "Zebedee Quartermaine struggles in large groups"})
    assert "needs_and_risks" in _refused(client, rt, form)["profile"]


def test_unknown_fields_are_refused(client, rt):
    form = referral_form()
    form["profile"]["child_name"] = "Zebedee"
    assert "child_name" in _refused(client, rt, form)["profile"]


# --- revising a draft and its further questions -----------------------------------------------------

def test_officer_revises_a_draft(client):
    referral_id = create(client)["referral_id"]
    response = client.patch(f"/v1/referrals/{referral_id}", headers=OFFICER,
                            json={"lot": 2, "profile": profile(hours_per_week=12)})
    assert response.status_code == 200, response.json
    assert response.json["lot"] == 2 and response.json["profile"]["hours_per_week"] == 12


def test_further_questions_are_added_and_removed_on_a_draft(client):
    referral_id = create(client, referral_form(questions=[]))["referral_id"]
    added = client.post(f"/v1/referrals/{referral_id}/questions", headers=OFFICER,
                        json={"text": "Do you have a qualified SENCO on site?"})
    assert added.status_code == 201
    question_id = added.json["question_id"]
    referral = client.get(f"/v1/referrals/{referral_id}", headers=OFFICER).json
    assert referral["questions"] == [{"question_id": question_id, "text": "Do you have a qualified SENCO on site?"}]
    assert client.delete(f"/v1/referrals/{referral_id}/questions/{question_id}", headers=OFFICER).status_code == 204
    assert client.get(f"/v1/referrals/{referral_id}", headers=OFFICER).json["questions"] == []


def test_blank_question_is_refused(client, rt):
    referral_id = create(client)["referral_id"]
    before = snapshot(rt)
    response = client.post(f"/v1/referrals/{referral_id}/questions", headers=OFFICER, json={"text": " "})
    assert response.status_code == 422 and "question" in fields_of(response)
    assert snapshot(rt) == before

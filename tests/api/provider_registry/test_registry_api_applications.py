"""Applications to join the DPS through the API and the real database: the
request to participate, its automatic scoring and due date, the manager's
list, extension and decision, and every refused input changing nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shared.catalogue import FIRST_DPS_ID
from tests.api.provider_registry.registry_support import (
    DUE_ON,
    MANAGER,
    NOW,
    OFFICER,
    admitted_provider,
    answers,
    application_form,
    apply,
    assert_refused,
    audit_actions,
    decide,
    lot_entry,
    names,
    outbox,
    provider_auth,
    snapshot,
)

# ------------------------------------------------------------------ applying


def test_provider_applies_for_lots_and_decision_falls_due_ten_working_days_later(client, rt):
    provider_id = uuid.uuid4()
    response = apply(client, provider_id, application_form(lots=(1, 2)))

    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "pending"
    assert body["provider_id"] == str(provider_id)  # from the token
    assert body["deadline"] == {"submitted_on": "2025-01-15", "due_on": DUE_ON, "working_days": 10,
                                "extended": False, "extension_reason": None, "extended_at": None}
    assert [entry["lot"] for entry in body["lots"]] == [1, 2]
    assert all(entry["assessment"]["passed"] for entry in body["lots"])
    assert body["lots"][0]["pricing_lines"][0]["pricing_line_id"]
    assert audit_actions(rt) == ["application.submitted"]
    # only the applicant is told (notifications), at the address it gave; nothing else until the decision
    (received,) = outbox(rt)
    assert (received["type"], received["data"]["contact_address"], received["data"]["due_on"]) == (
        "application.submitted", application_form()["safeguarding_lead"]["email"], DUE_ON)


def test_scored_answers_are_assessed_automatically_against_the_pass_mark(client):
    form = application_form(lots=[])
    form["lots"] = [lot_entry(1, answers=answers(1, experience=2)), lot_entry(2)]
    response = apply(client, uuid.uuid4(), form)

    assert response.status_code == 201, response.json
    lot1, lot2 = response.json["lots"]
    assert lot1["assessment"]["passed"] is False
    failed = [r for r in lot1["assessment"]["results"] if not r["passed"]]
    assert failed == [{"question_id": "experience", "passed": False, "score": 2,
                       "reason": "score 2 is below the pass mark of 3"}]
    assert lot2["assessment"]["passed"] is True


def test_failed_pass_fail_answer_is_accepted_and_fails_its_question(client):
    form = application_form(lots=[])
    form["lots"] = [lot_entry(1, answers=answers(1, enhanced_dbs=False))]
    response = apply(client, uuid.uuid4(), form)

    assert response.status_code == 201
    results = {r["question_id"]: r for r in response.json["lots"][0]["assessment"]["results"]}
    assert results["enhanced_dbs"]["passed"] is False


def _change(path: str, value):
    """A form with one value changed at a dotted path ("lots.0.capacity")."""
    def change(form):
        *parents, last = path.split(".")
        node = form
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value
        return form
    return change


BAD_INPUT = {
    "unknown lot": (_change("lots.0.lot", 5), "lot"),
    "lot zero": (_change("lots.0.lot", 0), "lot"),
    "negative price": (_change("lots.0.pricing_lines.0.maximum_price_pence", -100), "maximum_price_pence"),
    "zero price": (_change("lots.0.pricing_lines.0.maximum_price_pence", 0), "maximum_price_pence"),
    "price not in whole pence": (_change("lots.0.pricing_lines.0.maximum_price_pence", 450.5),
                                 "maximum_price_pence"),
    "price in pounds as text": (_change("lots.0.pricing_lines.0.maximum_price_pence", "450.00"),
                                "maximum_price_pence"),
    "capacity below zero": (_change("lots.0.capacity", -1), "capacity"),
    "capacity not whole places": (_change("lots.0.capacity", 2.5), "capacity"),
    "URN of five digits": (_change("registration.urn", "12345"), "registration.urn"),
    "URN with a letter": (_change("registration.urn", "12345A"), "registration.urn"),
    "registered school without URN": (_change("registration.urn", None), "registration.urn"),
    "unregistered setting with a URN": (_change("registration.setting_kind", "unregistered"), "registration.urn"),
    "unknown kind of setting": (_change("registration.setting_kind", "academy"), "registration.setting_kind"),
    "college UKPRN of seven digits": (_change("registration", {"setting_kind": "fe_or_training_provider",
                                                               "ukprn": "1000123"}), "registration.ukprn"),
    "college without UKPRN": (_change("registration", {"setting_kind": "fe_or_training_provider"}),
                              "registration.ukprn"),
    "school inspected in the future": (_change("registration.last_inspection_date", "2025-01-16"),
                                       "registration.last_inspection_date"),
    "document already expired": (_change("documents.0.expires_on", "2025-01-14"), "expires_on"),
    "document date not a date": (_change("documents.0.expires_on", "31/01/2026"), "expires_on"),
    "document missing": (_change("documents", []), "documents"),
    "DBS checks not confirmed": (_change("enhanced_dbs_confirmed", False), "enhanced_dbs_confirmed"),
    "DBS confirmation as text": (_change("enhanced_dbs_confirmed", "yes"), "enhanced_dbs_confirmed"),
    "unknown unit": (_change("lots.0.pricing_lines.0.unit", "month"), "unit"),
    "staffing ratio not staff:children": (_change("lots.0.pricing_lines.0.staffing_ratio", "lots"),
                                          "staffing_ratio"),
    "no pricing lines": (_change("lots.0.pricing_lines", []), "pricing_lines"),
    "question not answered": (_change("lots.0.answers", {"enhanced_dbs": True}), "experience"),
    "score outside the range": (_change("lots.0.answers.experience", 7), "experience"),
    "answer to a question not asked": (_change("lots.0.answers.favourite_colour", True), "favourite_colour"),
    "not a postcode": (_change("organisation.postcode", "NOWHERE"), "organisation.postcode"),
    "no organisation name": (_change("organisation.name", " "), "organisation.name"),
    "safeguarding lead without email": (_change("safeguarding_lead.email", "not-an-email"), "email"),
    "SLA version not current": (_change("sla_version", "0"), "sla_version"),
    "no lots": (_change("lots", []), "lots"),
    "provider id in the body": (_change("provider_id", str(uuid.uuid4())), "provider_id"),
    "organisation name too long for the register": (_change("organisation.name", "x" * 301), "organisation.name"),
    "document reference too long": (_change("documents.0.reference", "x" * 501), "reference"),
    "capacity beyond reason": (_change("lots.0.capacity", 10**12), "capacity"),
    "price beyond reason": (_change("lots.0.pricing_lines.0.maximum_price_pence", 10**15), "maximum_price_pence"),
}


def test_bad_application_is_refused_naming_the_field_and_nothing_is_stored(client, rt):
    admitted_provider(client)  # something stored that must not change
    for case, (mutate, field) in BAD_INPUT.items():
        form = mutate(application_form())
        assert_refused(rt, apply, client, uuid.uuid4(), form, field=field, case=case)


def test_same_lot_applied_for_twice_is_refused(client, rt):
    assert_refused(rt, apply, client, uuid.uuid4(), application_form(lots=(1, 1)), field="lots")


def test_second_application_while_one_is_pending_is_a_conflict(client, rt):
    provider_id = uuid.uuid4()
    assert apply(client, provider_id).status_code == 201
    before = snapshot(rt)

    response = apply(client, provider_id, application_form(lots=(2,)))

    assert response.status_code == 409
    assert "pending" in response.json["message"] or "awaiting" in response.json["message"]
    assert snapshot(rt) == before


def test_two_applications_racing_leave_one_pending_and_refuse_the_other(client, rt, monkeypatch):
    from services.provider_registry import repository

    provider_id = uuid.uuid4()
    assert apply(client, provider_id).status_code == 201
    # The second request read "nothing pending" before the first committed.
    monkeypatch.setattr(repository.ApplicationRepository, "has_pending", lambda self, provider_id: False)

    assert_refused(rt, apply, client, provider_id, application_form(lots=(2,)), status=409)


def test_rejected_provider_may_apply_again(client):
    provider_id = uuid.uuid4()
    first = apply(client, provider_id)
    rejected = decide(client, first.json["id"], "reject", lots=(),
                      reasons=[{"lot": 1, "question_id": None, "text": "references not satisfactory"}])
    assert rejected.status_code == 200

    again = apply(client, provider_id)

    assert again.status_code == 201
    assert again.json["id"] != first.json["id"]


def test_member_applying_again_for_its_lot_is_a_conflict_but_may_apply_for_another(client):
    provider_id = admitted_provider(client, lots=(1,))
    assert apply(client, provider_id, application_form(lots=(1,))).status_code == 409
    assert apply(client, provider_id, application_form(lots=(3,))).status_code == 201


def test_no_applications_once_the_dps_is_closed(client, rt):
    assert client.post("/v1/dps/closure", json={"reason": "re-procured"}, headers=MANAGER).status_code == 200
    before = snapshot(rt)
    response = apply(client, uuid.uuid4())
    assert response.status_code == 409
    assert snapshot(rt) == before


def test_council_users_cannot_apply(client):
    assert client.post("/v1/applications", json=application_form(), headers=MANAGER).status_code == 403
    assert client.post("/v1/applications", json=application_form()).status_code == 401


# ------------------------------------------------------------ who sees what


def test_provider_sees_only_its_own_applications(client):
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    my_application = apply(client, mine).json["id"]
    their_application = apply(client, theirs).json["id"]

    listed = client.get("/v1/applications", headers=provider_auth(mine))
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json] == [my_application]
    assert client.get(f"/v1/applications/{my_application}", headers=provider_auth(mine)).status_code == 200
    assert client.get(f"/v1/applications/{their_application}", headers=provider_auth(mine)).status_code == 403
    assert client.get(f"/v1/applications?provider_id={theirs}", headers=provider_auth(mine)).status_code == 403


def test_officers_and_the_manager_see_every_application(client):
    apply(client, uuid.uuid4())
    apply(client, uuid.uuid4())
    for headers in (OFFICER, MANAGER):
        listed = client.get("/v1/applications", headers=headers)
        assert listed.status_code == 200 and len(listed.json) == 2


def test_unknown_application_is_not_found(client):
    assert client.get(f"/v1/applications/{uuid.uuid4()}", headers=MANAGER).status_code == 404
    assert decide(client, uuid.uuid4()).status_code == 404


# ------------------------------------------------------- the manager's list


def test_manager_lists_pending_and_overdue_applications(client, rt):
    waiting = apply(client, uuid.uuid4()).json["id"]
    decided = apply(client, uuid.uuid4()).json["id"]
    decide(client, decided)

    pending = client.get("/v1/applications?status=pending", headers=MANAGER).json
    assert [a["id"] for a in pending] == [waiting]
    assert client.get("/v1/applications?overdue=true", headers=MANAGER).json == []

    rt.clock = lambda: NOW + timedelta(days=15)  # 30 January: the day after the due date
    overdue = client.get("/v1/applications?overdue=true", headers=MANAGER).json
    assert [(a["id"], a["overdue"]) for a in overdue] == [(waiting, True)]


def test_list_filter_with_unknown_status_is_refused(client):
    response = client.get("/v1/applications?status=lost", headers=MANAGER)
    assert response.status_code == 422 and names(response, "status")


# ------------------------------------------------------------ the extension


def test_deadline_is_extended_once_to_fifteen_working_days_with_the_reason(client, rt):
    application_id = apply(client, uuid.uuid4()).json["id"]

    extended = client.post(f"/v1/applications/{application_id}/extension", headers=MANAGER,
                           json={"reason": "awaiting references"})

    assert extended.status_code == 200
    assert extended.json["deadline"]["due_on"] == "2025-02-05"
    assert extended.json["deadline"]["extension_reason"] == "awaiting references"
    before = snapshot(rt)
    again = client.post(f"/v1/applications/{application_id}/extension", headers=MANAGER,
                        json={"reason": "still waiting"})
    assert again.status_code == 409
    assert snapshot(rt) == before
    assert "application.deadline_extended" in audit_actions(rt)


def test_extension_without_a_reason_is_refused(client, rt):
    application_id = apply(client, uuid.uuid4()).json["id"]
    for body in ({"reason": ""}, {"reason": "   "}, {}):
        assert_refused(rt, client.post, f"/v1/applications/{application_id}/extension", headers=MANAGER,
                       json=body, field="reason", case=str(body))


# ------------------------------------------------------------ the decision


def test_admission_to_some_lots_records_the_reason_for_the_others_and_announces_it(client, rt):
    provider_id = uuid.uuid4()
    application_id = apply(client, provider_id, application_form(lots=(1, 2))).json["id"]

    response = decide(client, application_id, lots=(1,),
                      reasons=[{"lot": 2, "question_id": None, "text": "no part-time places in the borough"}])

    assert response.status_code == 200, response.json
    assert response.json["status"] == "admitted"
    assert response.json["decision"]["admitted_lots"] == [1]
    assert response.json["decision"]["on_time"] is True
    assert response.json["decision"]["reasons"] == [
        {"lot": 2, "question_id": None, "text": "no part-time places in the borough"}]
    admitted = outbox(rt, "membership.admitted")
    assert [(e["data"]["provider_id"], e["data"]["lot"]) for e in admitted] == [(str(provider_id), 1)]
    provider = client.get(f"/v1/providers/{provider_id}", headers=provider_auth(provider_id)).json
    assert [(m["lot"], m["status"]) for m in provider["memberships"]] == [(1, "admitted")]
    assert provider["sla_acceptances"] == [{"dps_id": str(FIRST_DPS_ID), "version": "1", "accepted_on": "2025-01-15"}]
    assert "application.admitted" in audit_actions(rt)


def test_rejection_tells_the_provider_why_per_question(client, rt):
    provider_id = uuid.uuid4()
    form = application_form(lots=[])
    form["lots"] = [lot_entry(1, answers=answers(1, experience=1))]
    application_id = apply(client, provider_id, form).json["id"]

    response = decide(client, application_id, "reject", lots=(), reasons=[
        {"lot": 1, "question_id": "safeguarding_policy", "text": "policy not reviewed since 2021"}])

    assert response.status_code == 200, response.json
    seen = client.get(f"/v1/applications/{application_id}", headers=provider_auth(provider_id)).json
    assert seen["status"] == "rejected"
    reasons = {(r["lot"], r["question_id"]): r["text"] for r in seen["decision"]["reasons"]}
    assert reasons == {(1, "experience"): "score 1 is below the pass mark of 3",
                       (1, "safeguarding_policy"): "policy not reviewed since 2021"}
    # no provider is made; the applicant is told the decision with each reason
    assert [e["type"] for e in outbox(rt)] == ["application.submitted", "application.decided"]
    decided = outbox(rt, "application.decided")[0]["data"]
    assert decided["outcome"] == "rejected"
    assert {(r["lot"], r["question_id"]): r["text"] for r in decided["reasons"]} == reasons


def test_lot_whose_question_failed_cannot_be_admitted(client, rt):
    form = application_form(lots=[])
    form["lots"] = [lot_entry(1, answers=answers(1, insurance=False))]
    application_id = apply(client, uuid.uuid4(), form).json["id"]
    before = snapshot(rt)

    response = decide(client, application_id, lots=(1,))

    assert response.status_code == 422 and names(response, "lots")
    assert "insurance" in str(response.json)
    assert snapshot(rt) == before


def test_managers_mark_replaces_the_score_given_and_decides_the_lot(client):
    form = application_form(lots=[])
    form["lots"] = [lot_entry(1, answers=answers(1, full_time_curriculum=2))]
    application_id = apply(client, uuid.uuid4(), form).json["id"]
    assert decide(client, application_id, lots=(1,)).status_code == 422

    marked = client.post(f"/v1/applications/{application_id}/marks", headers=MANAGER,
                         json={"lot": 1, "question_id": "full_time_curriculum", "score": 3})

    assert marked.status_code == 200
    assert marked.json["lots"][0]["assessment"]["passed"] is True
    assert decide(client, application_id, lots=(1,)).status_code == 200


BAD_MARKS = [
    ({"lot": 1, "question_id": "enhanced_dbs", "score": 3}, "question_id"),  # pass/fail, not scored
    ({"lot": 1, "question_id": "experience", "score": 9}, "score"),
    ({"lot": 1, "question_id": "experience", "score": 3.5}, "score"),
    ({"lot": 2, "question_id": "experience", "score": 3}, "lot"),  # not applied for
    ({"lot": 6, "question_id": "experience", "score": 3}, "lot"),
]


def test_invalid_marks_are_refused(client, rt):
    application_id = apply(client, uuid.uuid4()).json["id"]
    for body, field in BAD_MARKS:
        assert_refused(rt, client.post, f"/v1/applications/{application_id}/marks", headers=MANAGER, json=body,
                       field=field, case=str(body))


def _decision(client, application_id, outcome):
    if outcome == "admit":
        return decide(client, application_id, "admit", lots=(1,))
    return decide(client, application_id, "reject", lots=(), reasons=[
        {"lot": 1, "question_id": None, "text": "not needed"}])


def test_decision_on_an_application_that_is_not_pending_is_a_conflict(client, rt):
    for first in ("admit", "reject"):
        application_id = apply(client, uuid.uuid4()).json["id"]
        assert _decision(client, application_id, first).status_code == 200
        for second in ("admit", "reject"):
            assert_refused(rt, _decision, client, application_id, second, status=409, case=f"{first} {second}")


INCOMPLETE_DECISIONS = [
    ({"outcome": "maybe"}, "outcome"),
    ({"outcome": "admit", "lots": []}, "lots"),
    ({"outcome": "admit", "lots": [3]}, "lots"),  # not applied for
    ({"outcome": "reject", "reasons": []}, "reasons"),  # every answer passed: a reason is needed
    ({"outcome": "reject", "reasons": [{"lot": 1, "question_id": "colour", "text": "x"}]}, "question_id"),
    ({"outcome": "reject", "reasons": [{"lot": 1, "question_id": None, "text": " "}]}, "text"),
]


def test_incomplete_decision_is_refused(client, rt):
    application_id = apply(client, uuid.uuid4()).json["id"]
    for body, field in INCOMPLETE_DECISIONS:
        assert_refused(rt, client.post, f"/v1/applications/{application_id}/decision", headers=MANAGER,
                       json=body, field=field, case=str(body))


def test_late_decision_is_recorded_as_not_on_time(client, rt):
    application_id = apply(client, uuid.uuid4()).json["id"]
    rt.clock = lambda: NOW + timedelta(days=20)
    assert decide(client, application_id).json["decision"]["on_time"] is False


def test_only_the_manager_decides(client):
    provider_id = uuid.uuid4()
    application_id = apply(client, provider_id).json["id"]
    for headers in (OFFICER, provider_auth(provider_id)):
        response = client.post(f"/v1/applications/{application_id}/decision", headers=headers,
                               json={"outcome": "admit", "lots": [1]})
        assert response.status_code == 403

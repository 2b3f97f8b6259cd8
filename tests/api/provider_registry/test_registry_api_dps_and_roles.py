"""The DPS record and its lots' questions through the API, and the role
matrix of every endpoint: who gets 2xx, who 401 and who 403."""

from __future__ import annotations

import uuid

import pytest

from shared.auth import ROLES
from tests.api.provider_registry.registry_support import (
    MANAGER,
    admitted_provider,
    answers,
    application_form,
    apply,
    assert_refused,
    lot_entry,
    names,
    provider_auth,
    snapshot,
)
from tests.support.runtime import auth

# ------------------------------------------------------------ the DPS


def test_anyone_reads_the_dps_its_term_and_its_four_lots_with_their_questions(client):
    dps = client.get("/v1/dps")
    assert dps.status_code == 200
    assert {k: dps.json[k] for k in ("start", "term_years", "ends_on", "status", "open", "sla_version")} == {
        "start": "2024-04-01", "term_years": 7, "ends_on": "2029-02-23", "status": "open", "open": True,
        "sla_version": "1"}
    assert (dps.json["decision_working_days"], dps.json["extended_decision_working_days"]) == (10, 15)
    lots = client.get("/v1/lots").json
    assert [(lot["number"], lot["name"]) for lot in lots] == [
        (1, "Full-time education"), (2, "Part-time education"), (3, "Bespoke provision"),
        (4, "Post-16 support and preparation for adulthood")]
    questions = {q["id"]: q for q in lots[0]["questions"]}
    assert questions["enhanced_dbs"]["kind"] == "pass_fail"
    assert (questions["experience"]["kind"], questions["experience"]["pass_mark"],
            questions["experience"]["max_score"]) == ("scored", 3, 5)


QUESTIONS = [
    {"kind": "pass_fail", "id": "ofsted_registered", "text": "Are you registered with Ofsted?"},
    {"kind": "pass_fail", "id": "convicted", "text": "Convicted of a relevant offence?", "pass_answer": False},
    {"kind": "scored", "id": "send_experience", "text": "Experience with SEND?", "pass_mark": 4},
]


def test_manager_sets_a_lots_questions_and_pending_applications_keep_theirs(client, rt):
    pending = apply(client, uuid.uuid4()).json["id"]

    response = client.put("/v1/lots/1/questions", headers=MANAGER, json={"questions": QUESTIONS})

    assert response.status_code == 200, response.json
    assert [q["id"] for q in response.json["questions"]] == ["ofsted_registered", "convicted", "send_experience"]
    old_answers = apply(client, uuid.uuid4())
    assert old_answers.status_code == 422 and names(old_answers, "send_experience")
    form = application_form(lots=[])
    form["lots"] = [lot_entry(1, answers={"ofsted_registered": True, "convicted": False, "send_experience": 4})]
    assert apply(client, uuid.uuid4(), form).status_code == 201
    kept = client.get(f"/v1/applications/{pending}", headers=MANAGER).json
    assert [q["id"] for q in kept["lots"][0]["questions"]][0] == "enhanced_dbs"
    assert client.post(f"/v1/applications/{pending}/decision", headers=MANAGER,
                       json={"outcome": "admit", "lots": [1]}).status_code == 200
    assert "lot.questions_set" in [e["action"] for e in client.get("/v1/audit", headers=MANAGER).json]


BAD_QUESTIONS = [
    ([{"kind": "scored", "id": "q", "text": "t", "pass_mark": 6}], "questions.0.pass_mark"),
    ([{"kind": "scored", "id": "q", "text": "t"}], "questions.0.pass_mark"),
    ([{"kind": "scored", "id": "q", "text": "t", "pass_mark": 2.5}], "pass_mark"),
    ([{"kind": "essay", "id": "q", "text": "t"}], "kind"),
    ([{"kind": "pass_fail", "id": "q", "text": " "}], "questions.0.text"),
    ([QUESTIONS[0], QUESTIONS[0]], "questions.1.id"),
]


def test_bad_questions_are_refused_and_the_lot_is_unchanged(client, rt):
    for questions, field in BAD_QUESTIONS:
        assert_refused(rt, client.put, "/v1/lots/1/questions", headers=MANAGER, json={"questions": questions},
                       field=field, case=str(questions))


def test_questions_of_an_unknown_lot_are_refused(client, rt):
    assert_refused(rt, client.put, "/v1/lots/5/questions", headers=MANAGER, json={"questions": QUESTIONS},
                   field="lot")


def test_decision_periods_are_configurable_and_apply_to_new_applications(client):
    changed = client.patch("/v1/dps", headers=MANAGER, json={"decision_working_days": 5,
                                                             "extended_decision_working_days": 10})
    assert changed.status_code == 200
    assert apply(client, uuid.uuid4()).json["deadline"]["due_on"] == "2025-01-22"


def test_term_may_change_until_a_provider_is_admitted(client, rt):
    changed = client.patch("/v1/dps", headers=MANAGER, json={"start": "2024-09-01", "term_years": 4})
    assert changed.status_code == 200 and changed.json["ends_on"] == "2028-08-31"
    admitted_provider(client)
    before = snapshot(rt)

    refused = client.patch("/v1/dps", headers=MANAGER, json={"term_years": 8})

    assert refused.status_code == 409
    assert snapshot(rt) == before
    renamed = client.patch("/v1/dps", headers=MANAGER, json={"name": "AP DPS (Newtown)"})
    assert renamed.status_code == 200 and renamed.json["name"] == "AP DPS (Newtown)"


def test_bad_dps_change_is_refused(client, rt):
    for body, field in [({"term_years": 0}, "term_years"), ({"term_years": 1.5}, "term_years"),
                        ({"term_years": 10**9}, "term_years"), ({"start": "next April"}, "start"),
                        ({"start": "9999-12-31"}, "start"), ({"name": ""}, "name"),
                        ({"decision_working_days": 20}, "extended_decision_working_days")]:
        assert_refused(rt, client.patch, "/v1/dps", headers=MANAGER, json=body, field=field, case=str(body))


# ------------------------------------------------------------ the role matrix

PRV, OFC, MGR, PUBLIC = "provider", "officer", "manager", "public"
PROPOSAL = {"effective_from": "2025-02-03", "pricing_lines": [
    {"description": "Day", "unit": "day", "staffing_ratio": "1:2", "maximum_price_pence": 12_000}]}
APPLICATIONS, PROVIDERS = "/v1/applications/{application_id}", "/v1/providers/{provider_id}"
SCHEDULES = PROVIDERS + "/lots/{lot}/pricing-schedules"

# Every operation: the roles that may call it, and a body that succeeds for them.
# The successor the world sets up beside the first DPS: an open framework (it takes admission rounds).
DPS_RECORD = "/v1/dps-records/{dps_id}"
MATRIX = {
    ("get", "/v1/dps"): ([PUBLIC], None),
    ("patch", "/v1/dps"): ([MGR], {"name": "AP DPS"}),
    ("post", "/v1/dps/closure"): ([MGR], {"reason": "re-procurement"}),
    ("post", "/v1/dps/sla-versions"): ([MGR], {"version": "3"}),
    ("get", "/v1/dps-records"): ([PUBLIC], None),
    ("post", "/v1/dps-records"): ([MGR], {"name": "AP Dynamic Market", "regime": "pa2023_dynamic_market",
                                          "lots": [1, 2], "start": "2025-02-24", "term_years": 4}),
    ("get", DPS_RECORD): ([PUBLIC], None),
    ("patch", DPS_RECORD): ([MGR], {"name": "AP open framework"}),
    ("post", DPS_RECORD + "/closure"): ([MGR], {"reason": "re-procurement"}),
    ("post", DPS_RECORD + "/sla-versions"): ([MGR], {"version": "3", "agreed_minimum_window_days": 5}),
    ("put", DPS_RECORD + "/award-criteria"): ([MGR], {"award_criteria": [
        {"code": "value", "name": "Value", "description": "Best value at the volume asked for"}]}),
    ("post", DPS_RECORD + "/rounds"): ([MGR], {"opens_on": "2025-02-03", "closes_on": "2025-02-28"}),
    ("put", DPS_RECORD + "/lots/{lot}/questions"): ([MGR], {"questions": QUESTIONS}),
    ("get", "/v1/lots"): ([PUBLIC], None),
    ("put", "/v1/lots/{lot}/questions"): ([MGR], {"questions": QUESTIONS}),
    ("get", "/v1/applications"): ([PRV, OFC, MGR], None),
    ("post", "/v1/applications"): ([PRV], "a new application"),
    ("get", APPLICATIONS): ([PRV, OFC, MGR], None),
    ("post", APPLICATIONS + "/marks"): ([MGR], {"lot": 1, "question_id": "experience", "score": 4}),
    ("post", APPLICATIONS + "/extension"): ([MGR], {"reason": "references awaited"}),
    ("post", APPLICATIONS + "/decision"): ([MGR], {"outcome": "admit", "lots": [1]}),
    ("get", "/v1/providers"): ([PRV, OFC, MGR], None),
    ("get", PROVIDERS): ([PRV, OFC, MGR], None),
    ("patch", PROVIDERS): ([PRV, MGR], {"safeguarding_lead": {"name": "Ada", "email": "ada@example.org"}}),
    ("post", PROVIDERS + "/documents"): ([PRV, MGR], {"kind": "insurance", "reference": "i.pdf",
                                                      "expires_on": "2027-01-31"}),
    ("post", PROVIDERS + "/sla-acceptances"): ([PRV], {"version": "2"}),
    ("post", PROVIDERS + "/lots/{lot}/suspension"): ([MGR], {"reason": "concern"}),
    ("post", PROVIDERS + "/lots/{lot}/reinstatement"): ([MGR], {"reason": "resolved"}),
    ("post", PROVIDERS + "/lots/{lot}/removal"): ([MGR], {"reason": "poor performance"}),
    ("put", PROVIDERS + "/lots/{lot}/capacity"): ([PRV, MGR], {"capacity": 3}),
    ("put", PROVIDERS + "/notification-addresses"): ([PRV, MGR], {"notification_addresses": ["a@b.example"]}),
    ("put", PROVIDERS + "/declared-roll"): ([PRV, MGR], {"full_time_pupils": 2, "any_looked_after": True}),
    ("post", "/v1/providers/declaration-requests"): ([MGR], None),
    ("post", PROVIDERS + "/declaration-requests"): ([MGR], None),
    ("post", PROVIDERS + "/declarations"): ([PRV], {"exclusion_grounds_apply": False,
                                                    "selection_criteria_met": True}),
    ("get", SCHEDULES): ([PRV, OFC, MGR], None),
    ("post", SCHEDULES): ([PRV], PROPOSAL),
    ("post", SCHEDULES + "/{version}/approval"): ([MGR], None),
    ("post", SCHEDULES + "/{version}/rejection"): ([MGR], {"reason": "too high"}),
    ("post", SCHEDULES + "/{version}/withdrawal"): ([PRV], None),
    ("get", "/v1/pricing-schedules"): ([OFC, MGR], None),
    ("get", "/v1/directory"): ([PUBLIC], None),
    ("get", "/v1/audit"): ([MGR], None),
    ("get", "/v1/teams"): (list(ROLES), None),  # shared/web: the commissioning teams, to anyone signed in
}
# The member's lot 2 is suspended (to reinstate) and takes the new pricing
# proposal; its lot 1 has version 2 of its schedule awaiting approval.
LOT_FOR = {"reinstatement": 2, "pricing-schedules": 2}
# The member has been asked for a renewed self-declaration (to answer); another member has not.
PROVIDER_FOR = {"declaration-requests": "unasked", "declared-roll": "unregistered"}


def _spec(client) -> dict[tuple[str, str], list[str]]:
    paths = client.get("/openapi.json").json["paths"]
    return {(method, path): operation["x-roles"] for path, operations in paths.items()
            for method, operation in operations.items() if method in ("get", "post", "put", "patch", "delete")}


def _world(client) -> dict:
    """A member admitted to lots 1 and 2 (lot 2 suspended, a pricing change
    awaiting approval on lot 1) and an applicant with a pending application;
    SLA version 2 issued (once)."""
    sla = client.get("/v1/dps").json["sla_version"]  # "2" once a world has been made
    member = admitted_provider(client, lots=(1, 2), form=application_form(lots=(1, 2), sla_version=sla))
    client.post(f"/v1/providers/{member}/lots/2/suspension", headers=MANAGER, json={"reason": "concern"})
    proposal = client.post(f"/v1/providers/{member}/lots/1/pricing-schedules", headers=provider_auth(member),
                           json=PROPOSAL)
    assert proposal.status_code == 201, proposal.json
    applicant = uuid.uuid4()
    application = apply(client, applicant, application_form(sla_version=sla))
    assert application.status_code == 201
    client.post("/v1/dps/sla-versions", headers=MANAGER, json={"version": "2"})
    assert client.post(f"/v1/providers/{member}/declaration-requests", headers=MANAGER).status_code == 201
    unasked = admitted_provider(client, form=application_form(sla_version="2"))
    unregistered = admitted_provider(client, form=application_form(sla_version="2",
                                                                   registration={"setting_kind": "unregistered"}))
    successor = client.post("/v1/dps-records", headers=MANAGER, json={
        "name": "AP open framework", "regime": "pa2023_open_framework", "lots": [1, 2, 3, 4],
        "start": "2025-01-01", "term_years": 4})
    assert successor.status_code == 201, successor.json
    return {"member": member, "unasked": unasked, "unregistered": unregistered, "applicant": applicant,
            "application_id": application.json["id"], "dps_id": successor.json["id"]}


def _request(client, world, method, template, role):
    last = template.rstrip("/").split("/")[-1]
    lot, provider = LOT_FOR.get(last, 1), world[PROVIDER_FOR.get(last, "member")]
    path = template.format(application_id=world["application_id"], provider_id=provider, lot=lot, version=2,
                           dps_id=world["dps_id"])
    body = MATRIX[(method, template)][1]
    if body == "a new application":
        body = application_form(lots=(3,), sla_version="2")
    headers = {}
    if role not in (None, PUBLIC):
        owner = world["applicant"] if "{application_id}" in template else provider
        headers = auth(role, provider_id=owner if role == PRV else None)
    return getattr(client, method)(path, headers=headers, json=body)


def test_every_operation_declares_the_roles_of_the_matrix(client):
    assert _spec(client) == {operation: roles for operation, (roles, _) in MATRIX.items()}


def test_callers_without_a_token_or_the_role_are_refused_and_change_nothing(client, rt):
    world = _world(client)
    before = snapshot(rt)
    for (method, template), (roles, _) in MATRIX.items():
        if roles == [PUBLIC]:
            continue
        response = _request(client, world, method, template, None)
        assert response.status_code == 401, (method, template, response.json)
        for role in set(ROLES) - set(roles):
            response = _request(client, world, method, template, role)
            assert response.status_code == 403, (method, template, role, response.json)
    assert snapshot(rt) == before


@pytest.mark.parametrize("method, template", list(MATRIX), ids=[f"{m} {t}" for m, t in MATRIX])
def test_every_role_an_operation_allows_gets_a_success(client, method, template):
    for role in MATRIX[(method, template)][0]:
        world = _world(client)  # a fresh provider and application for each caller
        response = _request(client, world, method, template, role)
        assert response.status_code in (200, 201), (method, template, role, response.json)


def test_bad_input_without_a_token_changes_nothing(client, rt):
    before = snapshot(rt)
    response = client.post("/v1/applications", json={"lots": "all"})
    assert response.status_code in (401, 422)
    assert snapshot(rt) == before


def test_answers_given_as_text_are_refused(client, rt):
    form = application_form(lots=[])
    form["lots"] = [lot_entry(1, answers=answers(1, enhanced_dbs="yes", experience="4"))]
    before = snapshot(rt)
    response = apply(client, uuid.uuid4(), form)
    assert response.status_code == 422 and names(response, "enhanced_dbs") and names(response, "experience")
    assert snapshot(rt) == before

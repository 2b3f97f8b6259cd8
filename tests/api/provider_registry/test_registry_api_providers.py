"""Admitted providers through the API and the real database: what admission
announces, memberships (suspend, reinstate, remove), compliance documents,
the SLA, registration details, pricing schedules, capacity, the public
directory, who sees what, and the audit trail."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from services.provider_registry.domain import PRICING_LINE_NAMESPACE
from shared.catalogue import FIRST_DPS_ID
from tests.api.provider_registry.registry_support import (
    MANAGER,
    NOW,
    OFFICER,
    admitted_provider,
    application_form,
    assert_refused,
    names,
    outbox,
    provider_auth,
    snapshot,
)
from tests.support.runtime import auth


def _lot(client, provider_id, lot=1, headers=MANAGER) -> dict:
    record = client.get(f"/v1/providers/{provider_id}", headers=headers).json
    return next(m for m in record["memberships"] if m["lot"] == lot)


# ------------------------------------------------------------ admission


def test_admission_announces_what_other_services_need(client, rt):
    provider_id = admitted_provider(client, lots=(1, 3))

    admitted = outbox(rt, "membership.admitted")

    assert [e["data"]["lot"] for e in admitted] == [1, 3]
    data = admitted[0]["data"]
    contract = {"provider_id", "provider_name", "lot", "status", "registration_status", "urn", "pricing_lines",
                "capacity", "ends_on", "at"}
    assert contract <= set(data)
    assert data["provider_id"] == str(provider_id)
    assert data["provider_name"] == "Bridges Learning Ltd"
    assert (data["status"], data["registration_status"], data["urn"]) == ("admitted", "registered_school", "123456")
    assert data["capacity"] == 6 and data["ends_on"] == "2029-02-23"  # the statutory end, before the term's
    assert data["dps_id"] == str(FIRST_DPS_ID)
    assert data["at"] == "2025-01-15T10:00:00+00:00"
    line = data["pricing_lines"][0]
    assert line == {"pricing_line_id": str(uuid.uuid5(PRICING_LINE_NAMESPACE,
                                                       f"{provider_id}:1:group place per week")),
                    "description": "Group place per week", "unit": "week", "staffing_ratio": "1:4",
                    "maximum_price_pence": 45_000}
    assert all(e["producer"] == "provider_registry" for e in admitted)


def test_unregistered_setting_is_announced_as_unregistered_without_urn(client, rt):
    form = application_form(registration={"setting_kind": "unregistered"})
    admitted_provider(client, form=form)
    data = outbox(rt, "membership.admitted")[0]["data"]
    assert (data["registration_status"], data["setting_kind"], data["urn"]) == ("unregistered", "unregistered", None)
    assert data["identifiers"] == [{"scheme": "GB-COH", "id": "01234567"}]


# ------------------------------------------------------------ who sees what


def test_provider_sees_only_its_own_record_officers_and_manager_see_all(client):
    mine, theirs = admitted_provider(client), admitted_provider(client)

    assert client.get(f"/v1/providers/{mine}", headers=provider_auth(mine)).status_code == 200
    assert client.get(f"/v1/providers/{theirs}", headers=provider_auth(mine)).status_code == 403
    assert [p["id"] for p in client.get("/v1/providers", headers=provider_auth(mine)).json] == [str(mine)]
    for headers in (OFFICER, MANAGER):
        assert client.get(f"/v1/providers/{theirs}", headers=headers).status_code == 200
        assert len(client.get("/v1/providers", headers=headers).json) == 2
    assert client.get(f"/v1/providers/{mine}").status_code == 401
    assert client.get(f"/v1/providers/{mine}", headers=auth("evaluator")).status_code == 403


def test_provider_acting_on_another_providers_record_is_forbidden_and_changes_nothing(client, rt):
    mine, theirs = admitted_provider(client), admitted_provider(client)
    me = provider_auth(mine)
    base = f"/v1/providers/{theirs}"
    attempts = [
        ("patch", base, {"safeguarding_lead": {"name": "Mal Ice", "email": "mal@example.org"}}),
        ("post", f"{base}/documents", {"kind": "insurance", "reference": "x.pdf", "expires_on": "2027-01-31"}),
        ("post", f"{base}/sla-acceptances", {"version": "1"}),
        ("put", f"{base}/lots/1/capacity", {"capacity": 0}),
        ("get", f"{base}/lots/1/pricing-schedules", None),
        ("post", f"{base}/lots/1/pricing-schedules", {"effective_from": "2025-02-01", "pricing_lines": [
            {"description": "Group place per week", "unit": "week", "staffing_ratio": "1:4",
             "maximum_price_pence": 1}]}),
        ("post", f"{base}/lots/1/pricing-schedules/1/withdrawal", None),
    ]
    before = snapshot(rt)
    for method, path, body in attempts:
        response = getattr(client, method)(path, headers=me, json=body)
        assert response.status_code == 403, (method, path, response.json)
    assert snapshot(rt) == before


def test_unknown_provider_is_not_found(client):
    assert client.get(f"/v1/providers/{uuid.uuid4()}", headers=MANAGER).status_code == 404


def test_providers_are_listed_by_lot_and_status(client):
    on_lot_1, on_lot_2 = admitted_provider(client, lots=(1,)), admitted_provider(client, lots=(2,))
    client.post(f"/v1/providers/{on_lot_2}/lots/2/suspension", headers=MANAGER, json={"reason": "concern"})

    assert [p["id"] for p in client.get("/v1/providers?lot=1", headers=OFFICER).json] == [str(on_lot_1)]
    assert [p["id"] for p in client.get("/v1/providers?status=suspended", headers=OFFICER).json] == [str(on_lot_2)]
    response = client.get("/v1/providers?lot=9", headers=OFFICER)
    assert response.status_code == 422 and names(response, "lot")


# ------------------------------------------------------------ the directory


def test_public_directory_lists_admitted_providers_by_lot_without_private_details(client):
    on_both = admitted_provider(client, lots=(1, 2))
    suspended = admitted_provider(client, lots=(1,))
    client.post(f"/v1/providers/{suspended}/lots/1/suspension", headers=MANAGER, json={"reason": "concern"})

    everyone = client.get("/v1/directory")
    lot_2 = client.get("/v1/directory?lot=2")

    assert everyone.status_code == 200
    assert [e["provider_id"] for e in everyone.json] == [str(on_both)]
    entry = everyone.json[0]
    assert entry == {"provider_id": str(on_both), "name": "Bridges Learning Ltd", "postcode_district": "NT1",
                     "registration": {"setting_kind": "registered_school", "urn": "123456", "ukprn": None,
                                      "inspectorate": "ofsted", "last_inspection_date": "2023-11-08",
                                      "last_inspection_outcome": "Good", "establishment_type": None},
                     "identifiers": [{"scheme": "GB-URN", "id": "123456"}, {"scheme": "GB-COH", "id": "01234567"}],
                     "lots": [{"lot": 1, "lot_name": "Full-time education", "admitted_on": "2025-01-15"},
                              {"lot": 2, "lot_name": "Part-time education", "admitted_on": "2025-01-15"}]}
    text = json.dumps(everyone.json)
    for private in ("sam@bridges.example", "Sam Okafor", "insurance", "45000", "scr-extract", "capacity"):
        assert private not in text
    assert [lot["lot"] for lot in lot_2.json[0]["lots"]] == [2]


# ------------------------------------------------------------ memberships


def test_manager_suspends_reinstates_and_removes_with_reasons_each_announced(client, rt):
    provider_id = admitted_provider(client)
    path = f"/v1/providers/{provider_id}/lots/1"

    suspended = client.post(f"{path}/suspension", headers=MANAGER, json={"reason": "safeguarding concern"})
    assert suspended.status_code == 200
    assert _lot(client, provider_id)["status"] == "suspended"
    reinstated = client.post(f"{path}/reinstatement", headers=MANAGER, json={"reason": "concern resolved"})
    assert reinstated.status_code == 200
    removed = client.post(f"{path}/removal", headers=MANAGER, json={"reason": "persistent poor performance"})
    assert removed.status_code == 200
    assert _lot(client, provider_id)["status"] == "removed"

    changes = [e for e in outbox(rt) if e["type"] in ("membership.suspended", "membership.reinstated",
                                                        "membership.removed")]
    events = [(e["type"], e["data"]["status"], e["data"]["reason"]) for e in changes]
    assert events == [("membership.suspended", "suspended", "safeguarding concern"),
                      ("membership.reinstated", "admitted", "concern resolved"),
                      ("membership.removed", "removed", "persistent poor performance")]
    assert all(e["data"]["provider_name"] == "Bridges Learning Ltd" and e["data"]["lot"] == 1
               for e in changes)


WRONG_MEMBERSHIP_ACTIONS = [
    ("suspension", {"reason": ""}, 422, "reason"),
    ("suspension", {}, 422, "reason"),
    ("reinstatement", {"reason": "all fine"}, 409, None),  # it is not suspended
    ("suspension", {"reason": "x", "until": "2025-02-01"}, 422, "until"),
    ("suspension", {"reason": "x"}, 422, "lot"),  # on lot 7
    ("removal", {"reason": "x"}, 404, None),  # of lot 2, which it does not hold
]


def test_wrong_membership_actions_are_refused_and_change_nothing(client, rt):
    provider_id = admitted_provider(client, lots=(1,))
    for i, (action, body, status, field) in enumerate(WRONG_MEMBERSHIP_ACTIONS):
        lot = {4: 7, 5: 2}.get(i, 1)
        assert_refused(rt, client.post, f"/v1/providers/{provider_id}/lots/{lot}/{action}", headers=MANAGER,
                       json=body, status=status, field=field, case=f"{action} {body} on lot {lot}")


def test_only_the_manager_changes_memberships(client):
    provider_id = admitted_provider(client)
    for headers in (OFFICER, provider_auth(provider_id)):
        response = client.post(f"/v1/providers/{provider_id}/lots/1/removal", headers=headers, json={"reason": "x"})
        assert response.status_code == 403


# ------------------------------------------------------------ compliance


def test_valid_document_uploaded_by_the_provider_lifts_the_automatic_suspension(client, rt):
    provider_id = admitted_provider(client)
    rt.clock = lambda: NOW.replace(year=2026, month=2, day=2)  # insurance expired on 31 January 2026
    assert "compliance_and_pricing" in rt.run_jobs()
    assert _lot(client, provider_id)["status"] == "suspended"

    uploaded = client.post(f"/v1/providers/{provider_id}/documents", headers=provider_auth(provider_id),
                           json={"kind": "insurance", "reference": "insurance-2026.pdf", "expires_on": "2027-01-31"})
    assert uploaded.status_code == 201
    assert _lot(client, provider_id)["status"] == "suspended"  # two documents are still expired
    for kind in ("dbs_confirmation", "safeguarding_policy"):
        client.post(f"/v1/providers/{provider_id}/documents", headers=provider_auth(provider_id),
                    json={"kind": kind, "reference": f"{kind}-2026.pdf", "expires_on": "2027-01-31"})

    assert _lot(client, provider_id)["status"] == "admitted"
    reinstated = outbox(rt, "membership.reinstated")
    assert [(e["data"]["lot"], e["data"]["automatic"]) for e in reinstated] == [(1, True)]


BAD_DOCUMENTS = [
    ({"kind": "insurance", "reference": "old.pdf", "expires_on": "2025-01-14"}, "expires_on"),
    ({"kind": "passport", "reference": "x.pdf", "expires_on": "2027-01-01"}, "kind"),
    ({"kind": "insurance", "reference": " ", "expires_on": "2027-01-01"}, "reference"),
    ({"kind": "insurance", "reference": "x.pdf"}, "expires_on"),
]


def test_bad_document_is_refused_and_changes_nothing(client, rt):
    provider_id = admitted_provider(client)
    for body, field in BAD_DOCUMENTS:
        assert_refused(rt, client.post, f"/v1/providers/{provider_id}/documents", headers=provider_auth(provider_id),
                       json=body, field=field, case=str(body))


# ------------------------------------------------------------ the SLA


def test_new_sla_version_is_accepted_by_the_provider(client, rt):
    provider_id = admitted_provider(client)
    issued = client.post("/v1/dps/sla-versions", headers=MANAGER, json={"version": "2", "reason": "annual review"})
    assert issued.status_code == 201 and issued.json["sla_version"] == "2"
    assert client.get(f"/v1/providers/{provider_id}", headers=MANAGER).json["current_sla_accepted"] is False

    accepted = client.post(f"/v1/providers/{provider_id}/sla-acceptances", headers=provider_auth(provider_id),
                           json={"version": "2"})

    assert accepted.status_code == 201
    assert accepted.json["current_sla_accepted"] is True
    first = str(FIRST_DPS_ID)
    assert accepted.json["sla_acceptances"] == [{"dps_id": first, "version": "1", "accepted_on": "2025-01-15"},
                                                {"dps_id": first, "version": "2", "accepted_on": "2025-01-15"}]
    before = snapshot(rt)
    again = client.post(f"/v1/providers/{provider_id}/sla-acceptances", headers=provider_auth(provider_id),
                        json={"version": "2"})
    assert again.status_code == 409
    wrong = client.post(f"/v1/providers/{provider_id}/sla-acceptances", headers=provider_auth(provider_id),
                        json={"version": "3"})
    assert wrong.status_code == 422 and names(wrong, "sla_version")
    assert snapshot(rt) == before


# ------------------------------------------------------ registration details


def test_registration_change_is_announced(client, rt):
    provider_id = admitted_provider(client)

    response = client.patch(f"/v1/providers/{provider_id}", headers=provider_auth(provider_id), json={
        "registration": {"setting_kind": "fe_or_training_provider", "ukprn": "10001234",
                         "inspectorate": "ofsted", "last_inspection_date": "2024-03-01",
                         "last_inspection_outcome": "Good"}})

    assert response.status_code == 200, response.json
    changed = outbox(rt, "provider.registration_changed")
    assert [e["data"] for e in changed] == [{
        "provider_id": str(provider_id), "provider_name": "Bridges Learning Ltd",
        "registration_status": "unregistered", "setting_kind": "fe_or_training_provider", "urn": None,
        "establishment_type": None,
        "identifiers": [{"scheme": "GB-UKPRN", "id": "10001234"}, {"scheme": "GB-COH", "id": "01234567"}],
        "declared_roll": None,
        "inspectorate": "ofsted", "last_inspection_date": "2024-03-01", "last_inspection_outcome": "Good",
        "at": "2025-01-15T10:00:00+00:00"}]


def test_safeguarding_lead_change_is_recorded_but_not_announced(client, rt):
    provider_id = admitted_provider(client)
    response = client.patch(f"/v1/providers/{provider_id}", headers=provider_auth(provider_id), json={
        "safeguarding_lead": {"name": "Ada Mensah", "email": "ada@bridges.example"}})
    assert response.status_code == 200
    assert response.json["safeguarding_lead"]["name"] == "Ada Mensah"
    assert outbox(rt, "provider.registration_changed") == []


BAD_DETAILS = [
    ({"registration": {"setting_kind": "registered_school", "urn": "1234567", "inspectorate": "ofsted"}}, "urn"),
    ({"registration": {"setting_kind": "registered_school", "urn": None, "inspectorate": "ofsted"}}, "urn"),
    ({"registration": {"setting_kind": "fe_or_training_provider", "ukprn": "1000123"}}, "ukprn"),
    ({"registration": {"setting_kind": "fe_or_training_provider", "ukprn": None}}, "ukprn"),
    ({"organisation": {"name": "", "address": "1 High Street", "postcode": "NT1 2AB"}}, "name"),
    ({"safeguarding_lead": {"name": "Ada", "email": "ada"}}, "email"),
]


def test_bad_details_are_refused_and_change_nothing(client, rt):
    provider_id = admitted_provider(client)
    for body, field in BAD_DETAILS:
        assert_refused(rt, client.patch, f"/v1/providers/{provider_id}", headers=provider_auth(provider_id),
                       json=body, field=field, case=str(body))


# ------------------------------------------------------------ capacity


def test_capacity_change_takes_effect_at_once_and_is_announced(client, rt):
    provider_id = admitted_provider(client)
    response = client.put(f"/v1/providers/{provider_id}/lots/1/capacity", headers=provider_auth(provider_id),
                          json={"capacity": 9})
    assert response.status_code == 200
    assert _lot(client, provider_id)["capacity"] == 9
    assert [(e["data"]["lot"], e["data"]["capacity"]) for e in outbox(rt, "capacity.changed")] == [(1, 9)]


def test_capacity_below_zero_or_not_whole_places_is_refused(client, rt):
    provider_id = admitted_provider(client)
    for capacity in (-1, 2.5, "3", None):
        assert_refused(rt, client.put, f"/v1/providers/{provider_id}/lots/1/capacity",
                       headers=provider_auth(provider_id), json={"capacity": capacity}, field="capacity",
                       case=repr(capacity))


# ------------------------------------------------------- pricing schedules


NEW_LINES = [{"description": "Group place per week", "unit": "week", "staffing_ratio": "1:4",
              "maximum_price_pence": 47_500},
             {"description": "Session", "unit": "session", "staffing_ratio": "group", "maximum_price_pence": 9_000}]


def _propose(client, provider_id, effective_from="2025-02-03", lines=None, lot=1):
    return client.post(f"/v1/providers/{provider_id}/lots/{lot}/pricing-schedules",
                       headers=provider_auth(provider_id),
                       json={"effective_from": effective_from, "pricing_lines": lines or NEW_LINES})


def test_pricing_change_waits_for_approval_and_takes_effect_on_its_date(client, rt):
    provider_id = admitted_provider(client)
    proposed = _propose(client, provider_id)
    assert proposed.status_code == 201, proposed.json
    assert (proposed.json["version"], proposed.json["status"]) == (2, "proposed")
    waiting = client.get("/v1/pricing-schedules?status=proposed", headers=MANAGER).json
    assert [(s["provider_id"], s["version"]) for s in waiting] == [(str(provider_id), 2)]

    approved = client.post(f"/v1/providers/{provider_id}/lots/1/pricing-schedules/2/approval", headers=MANAGER)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert outbox(rt, "pricing_schedule.effective") == []  # its date has not come
    assert _lot(client, provider_id)["pricing"]["version"] == 1

    rt.clock = lambda: NOW + timedelta(days=19)  # Monday 3 February
    rt.run_jobs()

    effective = outbox(rt, "pricing_schedule.effective")
    assert [(e["data"]["version"], e["data"]["effective_from"]) for e in effective] == [(2, "2025-02-03")]
    lines = effective[0]["data"]["pricing_lines"]
    assert lines[0]["pricing_line_id"] == str(uuid.uuid5(PRICING_LINE_NAMESPACE,
                                                         f"{provider_id}:1:group place per week"))
    assert [line["maximum_price_pence"] for line in lines] == [47_500, 9_000]
    assert _lot(client, provider_id)["pricing"]["version"] == 2
    schedules = client.get(f"/v1/providers/{provider_id}/lots/1/pricing-schedules", headers=OFFICER).json
    assert [(s["version"], s["in_force"]) for s in schedules] == [(1, False), (2, True)]


def test_pricing_change_approved_on_or_after_its_date_is_announced_at_once(client, rt):
    provider_id = admitted_provider(client)
    _propose(client, provider_id, effective_from="2025-01-15")
    client.post(f"/v1/providers/{provider_id}/lots/1/pricing-schedules/2/approval", headers=MANAGER)
    assert [e["data"]["version"] for e in outbox(rt, "pricing_schedule.effective")] == [2]


def test_rejected_or_withdrawn_pricing_change_never_takes_effect(client, rt):
    provider_id = admitted_provider(client)
    _propose(client, provider_id)
    rejected = client.post(f"/v1/providers/{provider_id}/lots/1/pricing-schedules/2/rejection", headers=MANAGER,
                           json={"reason": "above the council's benchmark"})
    assert rejected.status_code == 200 and rejected.json["reason"] == "above the council's benchmark"
    _propose(client, provider_id)
    withdrawn = client.post(f"/v1/providers/{provider_id}/lots/1/pricing-schedules/3/withdrawal",
                            headers=provider_auth(provider_id))
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"

    rt.clock = lambda: NOW + timedelta(days=30)
    rt.run_jobs()
    assert outbox(rt, "pricing_schedule.effective") == []
    before = snapshot(rt)
    again = client.post(f"/v1/providers/{provider_id}/lots/1/pricing-schedules/2/approval", headers=MANAGER)
    assert again.status_code == 409
    assert snapshot(rt) == before


BAD_PROPOSALS = [
    ("2025-02-03", [{**NEW_LINES[0], "maximum_price_pence": 0}], "maximum_price_pence"),
    ("2025-02-03", [{**NEW_LINES[0], "maximum_price_pence": -5}], "maximum_price_pence"),
    ("2025-02-03", [{**NEW_LINES[0], "maximum_price_pence": 99.99}], "maximum_price_pence"),
    ("2025-01-14", NEW_LINES, "effective_from"),
    ("2025-02-03", [{**NEW_LINES[0], "unit": "fortnight"}], "unit"),
    ("2025-02-03", [NEW_LINES[0], {**NEW_LINES[0], "description": "group place per WEEK"}], "description"),
]


def test_bad_pricing_proposal_is_refused_and_changes_nothing(client, rt):
    provider_id = admitted_provider(client)
    for effective_from, lines, field in BAD_PROPOSALS:
        assert_refused(rt, _propose, client, provider_id, effective_from, lines, field=field,
                       case=f"{effective_from} {lines}")


def test_one_pricing_proposal_at_a_time_per_lot(client, rt):
    provider_id = admitted_provider(client)
    assert _propose(client, provider_id).status_code == 201
    before = snapshot(rt)
    assert _propose(client, provider_id).status_code == 409
    assert snapshot(rt) == before


def test_only_the_manager_approves_pricing(client):
    provider_id = admitted_provider(client)
    _propose(client, provider_id)
    for headers in (OFFICER, provider_auth(provider_id)):
        response = client.post(f"/v1/providers/{provider_id}/lots/1/pricing-schedules/2/approval", headers=headers)
        assert response.status_code == 403


# ------------------------------------------------------------ audit


def test_manager_reads_who_decided_what_when_and_why(client, rt):
    provider_id = admitted_provider(client)
    client.post(f"/v1/providers/{provider_id}/lots/1/suspension", headers=MANAGER,
                json={"reason": "safeguarding concern"})

    trail = client.get("/v1/audit", headers=MANAGER)

    assert trail.status_code == 200
    by_action = {entry["action"]: entry for entry in trail.json}
    assert {"application.submitted", "application.admitted", "membership.suspend"} <= set(by_action)
    suspension = by_action["membership.suspend"]
    assert suspension["actor"] == "vls-manager" and suspension["actor_roles"] == "manager"
    assert suspension["reason"] == "safeguarding concern"
    assert suspension["at"] == "2025-01-15T10:00:00+00:00"
    assert suspension["subject_id"] == f"{provider_id}:1"
    one = client.get(f"/v1/audit?subject_type=membership&subject_id={provider_id}:1", headers=MANAGER).json
    assert [e["action"] for e in one] == ["membership.suspend"]
    for headers in (OFFICER, provider_auth(provider_id)):
        assert client.get("/v1/audit", headers=headers).status_code == 403

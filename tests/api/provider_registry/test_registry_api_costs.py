"""What reading and changing a provider costs, and that nothing is lost: a
change writes only the rows it changed (the Session tracks them) and every
other row of the provider stays as it was; a provider, or a page of them, is
read in a fixed number of statements however many rows it has; the DPS and
its lots are read per unit of work, so a change the manager makes through
one process is what every other process uses at once."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.provider_registry import models
from shared.catalogue import FIRST_DPS_ID
from tests.api.provider_registry.registry_support import (
    MANAGER,
    NOW,
    OFFICER,
    admitted_provider,
    application_form,
    apply,
    lot_entry,
    provider_auth,
)
from tests.support.runtime import build_runtime, statements_run


@pytest.fixture
def other(rt, client_for):
    """Another process's app on the same database, with its own engine."""
    runtime = build_runtime("provider_registry", rt.settings.database_url, rt.settings.amqp_url, migrate=False)
    runtime.clock = lambda: NOW
    yield client_for(runtime)
    runtime.engine.dispose()


def statements(rt):
    return statements_run(rt.engine)


def writes(seen: list[str]) -> list[tuple]:
    """(verb, table, columns set) of each INSERT, UPDATE and DELETE."""
    found = []
    for statement in seen:
        match = re.match(r"(INSERT INTO|UPDATE|DELETE FROM) (\w+)", statement)
        if match:
            assignments = statement.split(" SET ", 1)[1].split(" WHERE ")[0] if match[1] == "UPDATE" else ""
            found.append((match[1].split()[0], match[2], tuple(re.findall(r"(\w+)=", assignments))))
    return found


PROVIDER_TABLES = ("providers", "memberships", "pricing_schedules", "compliance_documents", "sla_acceptances")


def stored(rt, provider_id) -> dict[tuple, dict]:
    """(table, key...) -> the row, for every stored row of the provider."""
    rows = {}
    with rt.engine.connect() as c:
        for name in PROVIDER_TABLES:
            table = models.metadata.tables[name]
            owner = table.c.id if name == "providers" else table.c.provider_id
            keys = [k.name for k in table.primary_key.columns if k.name not in ("id", "provider_id")]
            for row in c.execute(sa.select(table).where(owner == provider_id)):
                values = dict(row._mapping)
                rows[(name, *(values[k] for k in keys))] = values
    return rows


def differences(before: dict, after: dict) -> set[tuple]:
    """(table, key..., column or "added"/"removed") of every change."""
    found = set()
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            found.add((*key, "added" if old is None else "removed"))
        else:
            found |= {(*key, column) for column in new if new[column] != old[column]}
    return found


# ------------------------------------------------------------ partial writes


def test_each_change_writes_only_its_own_rows_and_keeps_every_other(client, rt):
    provider_id = admitted_provider(client, lots=(1, 3))
    base, me = f"/v1/providers/{provider_id}", provider_auth(provider_id)
    client.post("/v1/dps/sla-versions", headers=MANAGER, json={"version": "2", "reason": "annual review"})
    new_lines = [{"description": "Session", "unit": "session", "staffing_ratio": "group",
                  "maximum_price_pence": 9_000}]
    steps = [
        (lambda: client.put(f"{base}/lots/1/capacity", headers=me, json={"capacity": 9}),
         {("memberships", FIRST_DPS_ID, 1, "capacity")}),
        (lambda: client.post(f"{base}/lots/3/pricing-schedules", headers=me,
                             json={"effective_from": "2025-03-03", "pricing_lines": new_lines}),
         {("pricing_schedules", 3, 2, "added")}),
        (lambda: client.post(f"{base}/lots/3/pricing-schedules/2/approval", headers=MANAGER),
         {("pricing_schedules", 3, 2, "status"), ("pricing_schedules", 3, 2, "decided_at")}),
        (lambda: client.post(f"{base}/documents", headers=me, json={
            "kind": "insurance", "reference": "insurance-2026.pdf", "expires_on": "2027-01-31"}),
         {("compliance_documents", "insurance", "reference"), ("compliance_documents", "insurance", "expires_on")}),
        (lambda: client.post(f"{base}/sla-acceptances", headers=me, json={"version": "2"}),
         {("sla_acceptances", FIRST_DPS_ID, "2", "added")}),
        (lambda: client.post(f"{base}/lots/3/suspension", headers=MANAGER, json={"reason": "concern"}),
         {("memberships", FIRST_DPS_ID, 3, "status"), ("memberships", FIRST_DPS_ID, 3, "reason"),
              ("memberships", FIRST_DPS_ID, 3, "since")}),
        (lambda: client.patch(base, headers=me, json={
            "registration": {"setting_kind": "registered_school", "urn": "654321", "inspectorate": "isi",
                             "last_inspection_date": "2023-11-08", "last_inspection_outcome": "Good"}}),
         {("providers", "urn"), ("providers", "inspectorate")}),
    ]
    for day, (send, changes) in enumerate(steps, start=1):
        rt.clock = lambda day=day: NOW + timedelta(days=day)
        before = stored(rt, provider_id)
        response = send()
        assert response.status_code in (200, 201), response.json
        assert differences(before, stored(rt, provider_id)) == changes | {("providers", "updated_at")}, changes

    record = client.get(base, headers=MANAGER).json
    assert {m["lot"]: (m["status"], m["capacity"]) for m in record["memberships"]} == {
        1: ("admitted", 9), 3: ("suspended", 6)}
    assert [a["version"] for a in record["sla_acceptances"]] == ["1", "2"]
    assert {d["kind"]: d["reference"] for d in record["documents"]} == {
        "insurance": "insurance-2026.pdf", "dbs_confirmation": "scr-extract.pdf",
        "safeguarding_policy": "policy-v4.pdf"}
    schedules = client.get(f"{base}/lots/3/pricing-schedules", headers=OFFICER).json
    assert [(s["version"], s["status"], len(s["pricing_lines"])) for s in schedules] == [
        (1, "approved", 2), (2, "approved", 1)]
    assert record["registration"] == {"setting_kind": "registered_school", "urn": "654321", "ukprn": None,
                                      "inspectorate": "isi", "last_inspection_date": "2023-11-08",
                                      "last_inspection_outcome": "Good", "establishment_type": None}


def test_a_change_to_nothing_writes_nothing_of_the_provider(client, rt):
    provider_id = admitted_provider(client)
    before = stored(rt, provider_id)
    rt.clock = lambda: NOW + timedelta(days=1)
    response = client.put(f"/v1/providers/{provider_id}/lots/1/capacity", headers=provider_auth(provider_id),
                          json={"capacity": 6})
    assert response.status_code == 200
    assert stored(rt, provider_id) == before


# ------------------------------------------------------------ statements


def test_reading_a_provider_takes_the_same_few_statements_whatever_it_holds(client, rt):
    small = admitted_provider(client, lots=(1,))
    large = admitted_provider(client, lots=(1, 2, 3, 4))
    me = provider_auth(large)
    for lot in (1, 2):
        client.post(f"/v1/providers/{large}/lots/{lot}/pricing-schedules", headers=me, json={
            "effective_from": "2025-03-03", "pricing_lines": [
                {"description": "Session", "unit": "session", "staffing_ratio": "group",
                 "maximum_price_pence": 9_000}]})
    counts = []
    for provider_id in (small, large):
        with statements(rt) as seen:
            response = client.get(f"/v1/providers/{provider_id}", headers=MANAGER)
        assert response.status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1] <= 7, counts  # the provider, its five kinds of rows, the SLA version


def test_capacity_change_updates_that_membership_and_the_providers_updated_at_only(client, rt):
    provider_id = admitted_provider(client, lots=(1, 3))
    rt.clock = lambda: NOW + timedelta(days=1)
    with statements(rt) as seen:
        response = client.put(f"/v1/providers/{provider_id}/lots/1/capacity", headers=provider_auth(provider_id),
                              json={"capacity": 8})
    assert response.status_code == 200
    assert [m["capacity"] for m in response.json["memberships"]] == [8, 6]
    assert sorted(w for w in writes(seen) if w[1] in PROVIDER_TABLES) == [
        ("UPDATE", "memberships", ("capacity",)), ("UPDATE", "providers", ("updated_at",))]


def test_listing_providers_reads_a_page_in_the_same_statements_however_many_are_on_it(client, rt):
    first = admitted_provider(client, lots=(1,))
    second = admitted_provider(client, lots=(2, 3))
    client.put(f"/v1/providers/{second}/lots/3/capacity", headers=provider_auth(second), json={"capacity": 2})
    with statements(rt) as seen:
        listed = client.get("/v1/providers", headers=MANAGER).json
    by_id = {p["id"]: {m["lot"]: m["capacity"] for m in p["memberships"]} for p in listed}
    assert by_id == {str(first): {1: 6}, str(second): {2: 6, 3: 2}}
    for _ in range(3):
        admitted_provider(client, lots=(1, 2))
    with statements(rt) as more:
        assert len(client.get("/v1/providers", headers=MANAGER).json) == 5
    assert len(more) == len(seen) <= 7, (len(seen), len(more))


# ------------------------------------------------------------ the DPS, read per unit of work


NEW_QUESTIONS = [
    {"kind": "pass_fail", "id": "ofsted_registered", "text": "Are you registered with Ofsted?"},
    {"kind": "scored", "id": "send_experience", "text": "Experience with SEND?", "pass_mark": 4},
]


def test_questions_set_through_one_process_are_used_at_once_by_another(client, other):
    assert other.get("/v1/lots").status_code == 200  # its copy is made
    assert other.get("/v1/dps").status_code == 200

    changed = client.put("/v1/lots/1/questions", headers=MANAGER, json={"questions": NEW_QUESTIONS})
    assert changed.status_code == 200

    ids = ["ofsted_registered", "send_experience"]
    assert [q["id"] for q in other.get("/v1/lots").json[0]["questions"]] == ids
    assert [q["id"] for q in other.get("/v1/dps").json["lots"][0]["questions"]] == ids
    form = application_form(lots=(1,))
    form["lots"] = [lot_entry(1, answers={"ofsted_registered": True, "send_experience": 5})]
    provider_id = uuid.uuid4()
    applied = apply(other, provider_id, form)
    assert applied.status_code == 201, applied.json
    assert [q["id"] for q in applied.json["lots"][0]["questions"]] == ids
    assert other.get(f"/v1/applications/{applied.json['id']}", headers=provider_auth(provider_id)).status_code == 200


def test_sla_issued_through_one_process_is_current_in_another(client, other):
    provider_id = admitted_provider(client)
    assert other.get(f"/v1/providers/{provider_id}", headers=MANAGER).json["current_sla_accepted"] is True

    client.post("/v1/dps/sla-versions", headers=MANAGER, json={"version": "2", "reason": "annual review"})

    assert other.get(f"/v1/providers/{provider_id}", headers=MANAGER).json["current_sla_accepted"] is False
    assert other.get("/v1/dps").json["sla_version"] == "2"
    accepted = other.post(f"/v1/providers/{provider_id}/sla-acceptances", headers=provider_auth(provider_id),
                          json={"version": "2"})
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["current_sla_accepted"] is True


def test_dps_closed_through_one_process_takes_no_application_in_another(client, other):
    assert other.get("/v1/dps").json["open"] is True
    client.post("/v1/dps/closure", headers=MANAGER, json={"reason": "re-procuring"})
    assert other.get("/v1/dps").json["open"] is False
    refused = apply(other, uuid.uuid4(), application_form(lots=(1,)))
    assert refused.status_code == 409, refused.json


def test_the_managers_change_is_answered_and_read_back_by_the_same_process(client):
    client.get("/v1/lots")
    answered = client.put("/v1/lots/2/questions", headers=MANAGER, json={"questions": NEW_QUESTIONS})
    assert [q["id"] for q in answered.json["questions"]] == ["ofsted_registered", "send_experience"]
    assert [q["id"] for q in client.get("/v1/lots").json[1]["questions"]] == ["ofsted_registered", "send_experience"]
    patched = client.patch("/v1/dps", headers=MANAGER, json={"name": "AP DPS (renamed)"})
    assert patched.json["name"] == "AP DPS (renamed)"
    assert client.get("/v1/dps").json["name"] == "AP DPS (renamed)"

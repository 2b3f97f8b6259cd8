"""The daily compliance and pricing job on the real database: a membership is
suspended the day after a compliance document expires and reinstated when a
valid one is uploaded; approved pricing schedules are announced on their date;
each day is claimed once."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.provider_registry.registry_support import (
    MANAGER,
    admitted_provider,
    application_form,
    outbox,
    provider_auth,
)


def on(year, month, day):
    return datetime(year, month, day, 2, 0, tzinfo=UTC)  # the worker's first tick of the day


def _form_with_insurance_expiring(day: str, lots=(1, 2)) -> dict:
    form = application_form(lots=lots)
    form["documents"][0]["expires_on"] = day
    return form


def _statuses(client, provider_id) -> dict[int, tuple[str, bool]]:
    record = client.get(f"/v1/providers/{provider_id}", headers=MANAGER).json
    return {m["lot"]: (m["status"], m["automatic"]) for m in record["memberships"]}


def test_memberships_are_suspended_the_day_after_a_document_expires(client, rt):
    provider_id = admitted_provider(client, lots=(1, 2), form=_form_with_insurance_expiring("2025-06-30"))

    assert "compliance_and_pricing" in rt.run_jobs(on(2025, 6, 30))
    assert _statuses(client, provider_id) == {1: ("admitted", False), 2: ("admitted", False)}
    assert outbox(rt, "membership.suspended") == []

    assert "compliance_and_pricing" in rt.run_jobs(on(2025, 7, 1))

    assert _statuses(client, provider_id) == {1: ("suspended", True), 2: ("suspended", True)}
    suspended = outbox(rt, "membership.suspended")
    assert [(e["data"]["lot"], e["data"]["status"], e["data"]["automatic"]) for e in suspended] == [
        (1, "suspended", True), (2, "suspended", True)]
    assert suspended[0]["data"]["reason"] == "compliance document insurance expired on 2025-06-30"
    trail = client.get("/v1/audit?subject_type=membership", headers=MANAGER).json
    assert {(e["actor"], e["action"]) for e in trail} == {("system:compliance_and_pricing", "membership.suspend")}


def test_suspended_provider_leaves_the_directory(client, rt):
    admitted_provider(client, form=_form_with_insurance_expiring("2025-06-30", lots=(1,)))
    rt.clock = lambda: on(2025, 7, 1)
    assert len(client.get("/v1/directory?lot=1").json) == 1
    rt.run_jobs()
    assert client.get("/v1/directory?lot=1").json == []


def test_each_day_is_claimed_once_and_a_forced_rerun_changes_nothing(client, rt):
    admitted_provider(client, form=_form_with_insurance_expiring("2025-06-30", lots=(1,)))
    assert "compliance_and_pricing" in rt.run_jobs(on(2025, 7, 1))
    assert "compliance_and_pricing" not in rt.run_jobs(on(2025, 7, 1).replace(hour=14))  # the day is claimed

    assert "compliance_and_pricing" in rt.run_jobs(on(2025, 7, 1), force=True)

    assert len(outbox(rt, "membership.suspended")) == 1


def test_valid_document_reinstates_and_the_next_run_leaves_it_admitted(client, rt):
    provider_id = admitted_provider(client, form=_form_with_insurance_expiring("2025-06-30", lots=(1,)))
    rt.run_jobs(on(2025, 7, 1))
    rt.clock = lambda: on(2025, 7, 3)

    uploaded = client.post(f"/v1/providers/{provider_id}/documents", headers=provider_auth(provider_id),
                           json={"kind": "insurance", "reference": "insurance-2025-26.pdf",
                                 "expires_on": "2026-06-30"})

    assert uploaded.status_code == 201
    assert _statuses(client, provider_id) == {1: ("admitted", False)}
    reinstated = outbox(rt, "membership.reinstated")
    assert [(e["data"]["status"], e["data"]["reason"]) for e in reinstated] == [
        ("admitted", "all compliance documents are valid again")]
    rt.run_jobs(on(2025, 7, 4))
    assert _statuses(client, provider_id) == {1: ("admitted", False)}
    assert len(outbox(rt, "membership.reinstated")) == 1


def test_managers_suspension_is_not_lifted_by_valid_documents(client, rt):
    provider_id = admitted_provider(client, form=_form_with_insurance_expiring("2025-06-30", lots=(1,)))
    rt.run_jobs(on(2025, 7, 1))
    rt.clock = lambda: on(2025, 7, 2)
    client.post(f"/v1/providers/{provider_id}/lots/1/suspension", headers=MANAGER,
                json={"reason": "safeguarding concern under investigation"})
    client.post(f"/v1/providers/{provider_id}/documents", headers=provider_auth(provider_id),
                json={"kind": "insurance", "reference": "new.pdf", "expires_on": "2026-06-30"})

    rt.run_jobs(on(2025, 7, 3))

    assert _statuses(client, provider_id) == {1: ("suspended", False)}
    assert outbox(rt, "membership.reinstated") == []


def test_manager_cannot_reinstate_while_a_document_is_expired(client, rt):
    provider_id = admitted_provider(client, form=_form_with_insurance_expiring("2025-06-30", lots=(1,)))
    rt.run_jobs(on(2025, 7, 1))
    rt.clock = lambda: on(2025, 7, 2)
    response = client.post(f"/v1/providers/{provider_id}/lots/1/reinstatement", headers=MANAGER,
                           json={"reason": "please"})
    assert response.status_code == 409
    assert "insurance" in response.json["message"]


def test_approved_pricing_is_announced_by_the_job_on_its_date_and_only_once(client, rt):
    provider_id = admitted_provider(client)
    client.post(f"/v1/providers/{provider_id}/lots/1/pricing-schedules", headers=provider_auth(provider_id),
                json={"effective_from": "2025-04-01", "pricing_lines": [
                    {"description": "Group place per week", "unit": "week", "staffing_ratio": "1:4",
                     "maximum_price_pence": 46_000}]})
    client.post(f"/v1/providers/{provider_id}/lots/1/pricing-schedules/2/approval", headers=MANAGER)

    rt.run_jobs(on(2025, 3, 31))
    assert outbox(rt, "pricing_schedule.effective") == []
    rt.run_jobs(on(2025, 4, 1))
    rt.run_jobs(on(2025, 4, 2))

    effective = outbox(rt, "pricing_schedule.effective")
    assert [(e["data"]["lot"], e["data"]["version"], e["data"]["effective_from"]) for e in effective] == [
        (1, 2, "2025-04-01")]
    assert effective[0]["data"]["at"] == "2025-04-01T02:00:00+00:00"


def test_removed_membership_is_left_alone_by_the_job(client, rt):
    provider_id = admitted_provider(client, form=_form_with_insurance_expiring("2025-06-30", lots=(1,)))
    client.post(f"/v1/providers/{provider_id}/lots/1/removal", headers=MANAGER, json={"reason": "left the area"})
    rt.run_jobs(on(2025, 7, 1))
    assert _statuses(client, provider_id) == {1: ("removed", False)}
    assert outbox(rt, "membership.suspended") == []


def test_the_job_warns_of_a_document_expiring_once_per_threshold_and_then_that_it_expired(client, rt):
    provider_id = admitted_provider(client, form=_form_with_insurance_expiring("2025-06-30", lots=(1,)))
    for day in (5, 31):  # 56 and 30 days before
        rt.run_jobs(on(2025, 5, day))
    rt.run_jobs(on(2025, 5, 31), force=True)  # the warning given is kept: a rerun gives none
    for day in (16, 20, 23, 30):  # 14 days before, then 10, 7 and 0
        rt.run_jobs(on(2025, 6, day))
    rt.run_jobs(on(2025, 7, 1))
    rt.run_jobs(on(2025, 7, 2))

    expiring = [(e["data"]["kind"], e["data"]["days_left"], e["data"]["expires_on"])
                for e in outbox(rt, "compliance_document.expiring")]
    assert expiring == [("insurance", 30, "2025-06-30"), ("insurance", 14, "2025-06-30"),
                        ("insurance", 7, "2025-06-30")]
    (expired,) = outbox(rt, "compliance_document.expired")
    assert (expired["data"]["provider_id"], expired["data"]["at"]) == (str(provider_id), "2025-07-01T02:00:00+00:00")
    assert len(outbox(rt, "membership.suspended")) == 1

"""Renewed self-declarations through the API on the real database: the
manager asks one provider or every member; the provider answers within 5
working days; the daily job suspends a provider that did not (membership.suspended
in the outbox); a late answer reinstates nothing; refusals change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.provider_registry.registry_support import (
    MANAGER,
    OFFICER,
    admitted_provider,
    assert_refused,
    outbox,
    provider_auth,
)

ASKED = datetime(2025, 4, 16, 9, tzinfo=UTC)  # the Wednesday before Easter: due Friday 25 April
YES = {"exclusion_grounds_apply": False, "selection_criteria_met": True}


def on(year, month, day, hour=2):
    return datetime(year, month, day, hour, tzinfo=UTC)


def _ask(client, rt, provider_id=None):
    rt.clock = lambda: ASKED
    path = f"/v1/providers/{provider_id}/declaration-requests" if provider_id else "/v1/providers/declaration-requests"
    return client.post(path, headers=MANAGER)


def _record(client, provider_id):
    return client.get(f"/v1/providers/{provider_id}", headers=MANAGER).json


def test_the_manager_asks_every_member_and_each_sees_its_last_day(client, rt):
    first, second = admitted_provider(client), admitted_provider(client)

    asked = _ask(client, rt)

    assert asked.status_code == 201, asked.json
    assert {(r["provider_id"], r["requested_on"], r["due_on"]) for r in asked.json} == {
        (str(first), "2025-04-16", "2025-04-25"), (str(second), "2025-04-16", "2025-04-25")}
    mine = client.get(f"/v1/providers/{first}", headers=provider_auth(first)).json
    assert [(d["due_on"], d["answered_at"]) for d in mine["declarations"]] == [("2025-04-25", None)]
    assert _ask(client, rt).json == []  # all asked already


def test_the_provider_answers_on_its_last_day_and_the_job_suspends_nothing(client, rt):
    provider_id = admitted_provider(client)
    assert _ask(client, rt, provider_id).status_code == 201
    rt.clock = lambda: on(2025, 4, 25, 15)

    answered = client.post(f"/v1/providers/{provider_id}/declarations", headers=provider_auth(provider_id),
                           json=YES)

    assert answered.status_code == 201, answered.json
    assert answered.json["declarations"][0]["answered_on_time"] is True
    rt.run_jobs(on(2025, 4, 26))
    assert outbox(rt, "membership.suspended") == []
    assert [m["status"] for m in _record(client, provider_id)["memberships"]] == ["admitted"]


def test_unanswered_the_job_suspends_the_day_after_and_a_late_answer_reinstates_nothing(client, rt):
    provider_id = admitted_provider(client, lots=(1, 2))
    _ask(client, rt, provider_id)

    rt.run_jobs(on(2025, 4, 25))
    assert outbox(rt, "membership.suspended") == []
    rt.run_jobs(on(2025, 4, 26))

    suspended = outbox(rt, "membership.suspended")
    assert [(e["data"]["lot"], e["data"]["automatic"]) for e in suspended] == [(1, False), (2, False)]
    assert suspended[0]["data"]["reason"].startswith("no renewed self-declaration by 2025-04-25")
    assert "PCR 2015 regulation 34(25)" in suspended[0]["data"]["reason"]
    record = _record(client, provider_id)
    assert {m["status"] for m in record["memberships"]} == {"suspended"}
    assert record["declarations"][0]["lapsed_on"] == "2025-04-26"

    rt.clock = lambda: on(2025, 4, 28, 10)
    late = client.post(f"/v1/providers/{provider_id}/declarations", headers=provider_auth(provider_id), json=YES)
    assert late.status_code == 201
    assert late.json["declarations"][0]["answered_on_time"] is False
    rt.run_jobs(on(2025, 4, 29))
    assert {m["status"] for m in _record(client, provider_id)["memberships"]} == {"suspended"}
    assert outbox(rt, "membership.reinstated") == []

    reinstated = client.post(f"/v1/providers/{provider_id}/lots/1/reinstatement", headers=MANAGER,
                             json={"reason": "renewed declaration received and checked"})
    assert reinstated.status_code == 200


def test_refusals_name_the_field_or_rule_and_change_nothing(client, rt):
    provider_id = admitted_provider(client)
    me = provider_auth(provider_id)
    answer = f"/v1/providers/{provider_id}/declarations"
    assert_refused(rt, client.post, answer, headers=me, json=YES, status=409, case="nothing asked for")
    _ask(client, rt, provider_id)
    assert_refused(rt, _ask, client, rt, provider_id, status=409, case="already asked")
    assert_refused(rt, client.post, answer, headers=me, json={**YES, "exclusion_grounds_apply": True},
                   field="changes", case="a ground applies, unexplained")
    assert_refused(rt, client.post, answer, headers=me, json={"exclusion_grounds_apply": "no",
                                                              "selection_criteria_met": True},
                   field="exclusion_grounds_apply", case="not a boolean")
    assert_refused(rt, client.post, answer, headers=MANAGER, json=YES, status=403, case="not the provider")
    assert_refused(rt, client.post, f"/v1/providers/{provider_id}/declaration-requests", headers=OFFICER,
                   status=403, case="officers do not ask")

"""The DPS records through the API on a real database: the statutory end
refuses an application and an admission the day after (409 naming the date
and SI 2024/716 regulation 5(4), nothing stored), a successor set up by the
manager and joined separately, an open framework's rounds, the award
criteria and an agreed window, and the daily job's warnings shown on the
record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared.catalogue import FIRST_DPS_ID
from tests.api.provider_registry.registry_support import (
    MANAGER,
    NOW,
    application_form,
    apply,
    assert_refused,
    decide,
    lot_entry,
    outbox,
    provider_auth,
)

LATE_DOCUMENTS = [{"kind": kind, "reference": f"{kind}.pdf", "expires_on": "2030-01-31"}
                  for kind in ("insurance", "dbs_confirmation", "safeguarding_policy")]
# A successor's lots start with no qualification questions (the manager sets them).
def successor_form(dps_id, lot=1):
    return application_form(lots=(), dps_id=dps_id) | {"lots": [lot_entry(lot, answers={})]}


MARKET = {"name": "AP dynamic market", "regime": "pa2023_dynamic_market", "lots": [1, 2], "start": "2025-01-06",
          "term_years": 4}


def on(rt, year, month, day):
    rt.clock = lambda: datetime(year, month, day, 10, tzinfo=UTC)


def test_the_first_dps_shows_its_regime_statutory_end_and_the_rules_that_hang_off_it(client):
    dps = client.get("/v1/dps").json
    assert (dps["id"], dps["regime"], dps["term_ends_on"], dps["statutory_end"], dps["ends_on"]) == (
        str(FIRST_DPS_ID), "pcr2015_dps", "2031-03-31", "2029-02-23", "2029-02-23")
    assert dps["statutory_end_regulation"] == "SI 2024/716 regulation 5(4)" and dps["ends_by_law"] is True
    assert dps["rules"]["rolling_admission"] is True
    assert dps["rules"]["call_off_standstill"] == {
        "required": False, "days": 10, "working_days": False,
        "rule": dps["rules"]["call_off_standstill"]["rule"]}
    assert [c["code"] for c in dps["award_criteria"]] == ["value", "travel", "continuity", "specialism", "start"]
    assert (dps["agreed_minimum_window_days"], dps["rounds"], dps["statutory_end_warnings"]) == (None, [], [])


def test_an_application_on_the_statutory_end_is_taken_and_the_day_after_refused_naming_date_and_regulation(
        client, rt):
    on(rt, 2029, 2, 23)
    taken = apply(client, uuid.uuid4(), application_form(documents=LATE_DOCUMENTS))
    assert taken.status_code == 201, taken.json
    on(rt, 2029, 2, 24)
    refused = assert_refused(rt, apply, client, uuid.uuid4(), application_form(documents=LATE_DOCUMENTS),
                             status=409)
    message = refused.json["message"]
    assert "2029-02-23" in message and "SI 2024/716 regulation 5(4)" in message and "the law" in message
    late_decision = assert_refused(rt, decide, client, taken.json["id"], status=409)
    assert "2029-02-23" in late_decision.json["message"] and "SI 2024/716" in late_decision.json["message"]


def test_the_manager_sets_up_a_successor_and_a_provider_joins_it_separately(client, rt):
    refused = assert_refused(rt, client.post, "/v1/dps-records", headers=MANAGER,
                             json={**MARKET, "regime": "pcr2006"}, field="regime")
    assert "pa2023_dynamic_market" in str(refused.json)
    created = client.post("/v1/dps-records", headers=MANAGER, json=MARKET)
    assert created.status_code == 201, created.json
    market_id = created.json["id"]
    assert (created.json["regime"], created.json["statutory_end"], created.json["ends_on"],
            [lot["number"] for lot in created.json["lots"]]) == ("pa2023_dynamic_market", None, "2029-01-05", [1, 2])
    assert [d["id"] for d in client.get("/v1/dps-records").json] == [str(FIRST_DPS_ID), market_id]
    assert client.get(f"/v1/dps-records/{market_id}").json["name"] == "AP dynamic market"
    assert outbox(rt, "dps.configured")[-1]["data"]["dps_id"] == market_id

    provider_id = uuid.uuid4()
    for form in (application_form(), successor_form(market_id)):
        applied = apply(client, provider_id, form)
        assert applied.status_code == 201 and applied.json["dps_id"] == form.get("dps_id", str(FIRST_DPS_ID))
        assert decide(client, applied.json["id"]).status_code == 200
    admitted = outbox(rt, "membership.admitted")
    assert [(e["data"]["dps_id"], e["data"]["lot"]) for e in admitted] == [(str(FIRST_DPS_ID), 1), (market_id, 1)]
    record = client.get(f"/v1/providers/{provider_id}", headers=MANAGER).json
    assert [(m["dps_id"], m["lot"], m["status"]) for m in record["memberships"]] == [
        (str(FIRST_DPS_ID), 1, "admitted"), (market_id, 1, "admitted")]

    assert_refused(rt, apply, client, uuid.uuid4(), successor_form(market_id, lot=3), field="lots")
    suspended = client.post(f"/v1/providers/{provider_id}/lots/1/suspension?dps_id={market_id}", headers=MANAGER,
                            json={"reason": "a concern"})
    assert suspended.status_code == 200, suspended.json
    assert outbox(rt, "membership.suspended")[-1]["data"]["dps_id"] == market_id
    assert [e["name"] for e in client.get("/v1/directory?lot=1").json] == ["Bridges Learning Ltd"]
    assert client.get(f"/v1/directory?lot=1&dps_id={market_id}").json == []


def test_an_open_framework_refuses_applications_outside_a_round(client, rt):
    framework = client.post("/v1/dps-records", headers=MANAGER,
                            json={**MARKET, "regime": "pa2023_open_framework"}).json["id"]
    refused = assert_refused(rt, apply, client, uuid.uuid4(), successor_form(framework), status=409)
    assert "admission round" in refused.json["message"] and "section 49" in refused.json["message"]
    assert_refused(rt, client.post, f"/v1/dps-records/{FIRST_DPS_ID}/rounds", headers=MANAGER,
                   json={"opens_on": "2025-01-20", "closes_on": "2025-01-31"}, status=409)
    assert_refused(rt, client.post, f"/v1/dps-records/{framework}/rounds", headers=MANAGER,
                   json={"opens_on": "2025-01-20", "closes_on": "2025-01-17"}, field="closes_on")
    opened = client.post(f"/v1/dps-records/{framework}/rounds", headers=MANAGER,
                         json={"opens_on": "2025-01-15", "closes_on": "2025-01-31"})
    assert opened.status_code == 201 and opened.json["rounds"] == [{"opens_on": "2025-01-15",
                                                                    "closes_on": "2025-01-31"}]
    assert apply(client, uuid.uuid4(), successor_form(framework)).status_code == 201


def test_the_manager_publishes_award_criteria_and_an_agreed_window_with_a_new_sla(client, rt):
    path = f"/v1/dps-records/{FIRST_DPS_ID}"
    assert_refused(rt, client.put, f"{path}/award-criteria", headers=MANAGER,
                   json={"award_criteria": [{"code": "Travel Time", "name": "Travel", "description": "x"}]},
                   field="award_criteria.0.code")
    changed = client.put(f"{path}/award-criteria", headers=MANAGER, json={"award_criteria": [
        {"code": "value", "name": "Value", "description": "Best value at the volume asked for"}]})
    assert changed.status_code == 200 and [c["code"] for c in changed.json["award_criteria"]] == ["value"]
    assert outbox(rt, "dps.configured")[-1]["data"]["award_criteria"] == [
        {"code": "value", "name": "Value", "description": "Best value at the volume asked for"}]
    assert_refused(rt, client.post, "/v1/dps/sla-versions", headers=MANAGER,
                   json={"version": "2", "agreed_minimum_window_days": 10}, field="agreed_minimum_window_days")
    issued = client.post("/v1/dps/sla-versions", headers=MANAGER,
                         json={"version": "2", "reason": "agreed windows", "agreed_minimum_window_days": 5})
    assert issued.status_code == 201, issued.json
    assert (issued.json["agreed_minimum_window_days"], issued.json["agreed_in_sla_version"]) == (5, "2")
    data = outbox(rt, "dps.configured")[-1]["data"]
    assert (data["sla_version"], data["agreed_minimum_window_days"], data["agreed_in_sla_version"]) == ("2", 5, "2")


def test_accepting_an_sla_is_announced(client, rt):
    provider_id = uuid.uuid4()
    applied = apply(client, provider_id)
    decide(client, applied.json["id"])
    client.post("/v1/dps/sla-versions", headers=MANAGER, json={"version": "2", "agreed_minimum_window_days": 5})
    accepted = client.post(f"/v1/providers/{provider_id}/sla-acceptances", headers=provider_auth(provider_id),
                           json={"version": "2"})
    assert accepted.status_code == 201, accepted.json
    (event,) = outbox(rt, "provider.sla_accepted")
    assert event["data"] == {"provider_id": str(provider_id), "dps_id": str(FIRST_DPS_ID), "sla_version": "2",
                             "accepted_at": NOW.isoformat()}


def test_the_daily_job_warns_12_months_before_once_and_the_record_shows_it(client, rt):
    assert "dps_statutory_end" in rt.run_jobs(datetime(2028, 2, 22, 10, tzinfo=UTC))
    assert outbox(rt, "dps.statutory_end_approaching") == []
    rt.run_jobs(datetime(2028, 2, 23, 10, tzinfo=UTC))
    rt.run_jobs(datetime(2028, 2, 24, 10, tzinfo=UTC))
    (warning,) = outbox(rt, "dps.statutory_end_approaching")
    assert warning["data"] == {"dps_id": str(FIRST_DPS_ID), "statutory_end": "2029-02-23", "months_before": 12,
                               "regulation": "SI 2024/716 regulation 5(4)"}
    assert client.get("/v1/dps").json["statutory_end_warnings"] == [{"months_before": 12,
                                                                      "given_on": "2028-02-23"}]

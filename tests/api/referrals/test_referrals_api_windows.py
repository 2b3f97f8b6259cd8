"""Issue #15 through the HTTP API on a real database: the DPS a referral is published on and its last day,
the offer window and its recorded basis, and the routes that leave no child at a dead end.  Every refusal
names the field and the rule, and changes nothing stored."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.api.referrals.referrals_support import (
    AFTER_DEADLINE,
    DEADLINE,
    NOW,
    OFFICER,
    admit,
    create,
    deliver,
    fields_of,
    offer,
    outbox,
    published_referral,
    referral_form,
    snapshot,
)
from tests.support.off_dps import off_dps_json

FIRST_DPS_ID = "8d7f4c1e-2b6a-4e0f-9c3d-5a1b2c3d4e01"
SUCCESSOR = "5e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b"


def configure(rt, dps_id: str = FIRST_DPS_ID, **changes) -> None:
    deliver(rt, "dps.configured", {
        "dps_id": dps_id, "name": "Hillingdon AP DPS", "regime": "pcr2015_dps", "start": "2024-04-01",
        "term_ends_on": "2031-03-31", "statutory_end": "2029-02-23", "ends_on": "2029-02-23", "status": "open",
        "lots": [1, 2, 3, 4], "award_criteria": [], "agreed_minimum_window_days": None,
        "agreed_in_sla_version": None, "sla_version": "1", **changes})


def publish_response(client, referral):
    return client.post(f"/v1/referrals/{referral['referral_id']}/publish", headers=OFFICER)


def test_a_9_day_window_without_a_basis_is_refused_422_naming_the_deadline_and_nothing_changes(client, rt):
    admit(rt)
    referral = create(client, referral_form(deadline=(NOW + timedelta(days=9)).isoformat()))
    before = snapshot(rt)
    response = publish_response(client, referral)
    assert response.status_code == 422 and "deadline" in fields_of(response)
    assert "at least 10 days" in fields_of(response)["deadline"][0]
    assert snapshot(rt) == before


def test_a_9_day_window_with_the_urgency_in_words_is_published_and_the_basis_kept_and_carried(client, rt):
    admit(rt)
    urgency = "Permanently excluded on Monday: the child has no school place"
    referral = create(client, referral_form(deadline=(NOW + timedelta(days=9)).isoformat(), urgency=urgency))
    assert publish_response(client, referral).status_code == 200
    shown = client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json
    assert shown["window_basis"] == {"kind": "urgency", "days": 9, "reason": urgency}
    assert shown["dps_id"] == FIRST_DPS_ID
    data = outbox(rt, "referral.published")[-1]["data"]
    assert data["window_basis"]["kind"] == "urgency" and data["dps_id"] == FIRST_DPS_ID
    assert data["expected_weeks"] == 12 and data["hours_per_week"] == 25


def test_the_agreed_minimum_needs_every_invited_provider_to_have_accepted_the_sla_carrying_it(client, rt):
    configure(rt, agreed_minimum_window_days=5, agreed_in_sla_version="2", sla_version="2")
    acorn, birch = admit(rt), admit(rt, name="Birch")
    deliver(rt, "provider.sla_accepted", {"provider_id": str(acorn), "dps_id": FIRST_DPS_ID, "sla_version": "2",
                                          "accepted_at": NOW.isoformat()})
    referral = create(client, referral_form(deadline=(NOW + timedelta(days=6)).isoformat()))
    before = snapshot(rt)
    response = publish_response(client, referral)
    assert response.status_code == 422 and str(birch) in fields_of(response)["deadline"][0]
    assert snapshot(rt) == before
    deliver(rt, "provider.sla_accepted", {"provider_id": str(birch), "dps_id": FIRST_DPS_ID, "sla_version": "2",
                                          "accepted_at": NOW.isoformat()})
    assert publish_response(client, referral).status_code == 200
    assert outbox(rt, "referral.published")[-1]["data"]["window_basis"]["kind"] == "agreed_minimum"


def test_publishing_after_the_statutory_end_is_refused_409_naming_the_date_and_the_regulation(client, rt):
    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    configure(rt, statutory_end=yesterday, ends_on=yesterday)
    admit(rt)
    referral = create(client)
    before = snapshot(rt)
    response = publish_response(client, referral)
    assert response.status_code == 409
    assert yesterday in response.json["message"] and "SI 2024/716 regulation 5(4)" in response.json["message"]
    assert snapshot(rt) == before


def test_a_referral_on_a_successor_dps_invites_only_the_providers_admitted_to_it(client, rt):
    configure(rt)
    configure(rt, SUCCESSOR, name="AP dynamic market", regime="pa2023_dynamic_market", statutory_end=None,
              ends_on="2033-02-23", lots=[1, 2])
    admit(rt)  # on the first DPS (the event carries no dps_id)
    newcomer = admit(rt, dps_id=SUCCESSOR, name="Newcomer")
    referral = published_referral(client, dps_id=SUCCESSOR)
    assert referral["dps_id"] == SUCCESSOR
    assert outbox(rt, "referral.published")[-1]["data"]["invited_provider_ids"] == [str(newcomer)]
    response = client.post("/v1/referrals", json=referral_form(dps_id=str(uuid.uuid4())), headers=OFFICER)
    assert response.status_code == 422 and "dps_id" in fields_of(response)


def test_an_officer_extends_an_open_window_but_not_a_closed_one(client, rt):
    admit(rt)
    referral = published_referral(client)
    url = f"/v1/referrals/{referral['referral_id']}/extend"
    earlier = client.post(url, json={"deadline": (DEADLINE - timedelta(days=1)).isoformat()}, headers=OFFICER)
    assert earlier.status_code == 422 and "deadline" in fields_of(earlier)
    later = DEADLINE + timedelta(days=3)
    response = client.post(url, json={"deadline": later.isoformat()}, headers=OFFICER)
    assert response.status_code == 200 and response.json["window_basis"]["days"] == 17
    rt.clock = lambda: later + timedelta(minutes=1)
    closed = client.post(url, json={"deadline": (later + timedelta(days=3)).isoformat()}, headers=OFFICER)
    assert closed.status_code == 409


def test_a_closed_referral_is_republished_inviting_providers_admitted_since(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    rt.clock = lambda: AFTER_DEADLINE
    newcomer = admit(rt, name="Newcomer")
    url = f"/v1/referrals/{referral['referral_id']}/republish"
    short = client.post(url, json={"deadline": (AFTER_DEADLINE + timedelta(days=3)).isoformat()}, headers=OFFICER)
    assert short.status_code == 422 and "deadline" in fields_of(short)
    response = client.post(url, json={"deadline": (AFTER_DEADLINE + timedelta(days=10)).isoformat()},
                           headers=OFFICER)
    assert response.status_code == 201, response.json
    again = response.json
    assert again["status"] == "published" and again["republished_from"] == referral["referral_id"]
    assert set(again["invited_provider_ids"]) == {str(acorn), str(newcomer)}
    assert again["child_ref"] == referral["child_ref"]
    old = client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json
    assert old["status"] == "cancelled" and again["referral_id"] in old["cancel_reason"]


def test_when_awards_finds_no_offer_eligible_the_officer_may_go_off_the_dps(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    offer_id = offer(client, referral, acorn).json["offer_id"]
    rt.clock = lambda: AFTER_DEADLINE
    base = f"/v1/referrals/{referral['referral_id']}"
    client.put(f"{base}/offers/{offer_id}/assessment", headers=OFFICER, json={
        "meets_needs": True, "reason": "Meets every need", "criteria_met": {
            q["question_id"]: True for q in referral["questions"]}})
    assert client.post(f"{base}/complete-assessment", headers=OFFICER).status_code == 200
    exception = off_dps_json(reason="The only suitable provider has no place")
    refused = client.post(f"{base}/off-dps-exception", headers=OFFICER, json=exception)
    assert refused.status_code == 409 and "award it" in refused.json["message"]
    deliver(rt, "calloff.no_eligible_offers", {
        "referral_id": referral["referral_id"], "dps_id": FIRST_DPS_ID,
        "offers": [{"offer_id": offer_id, "provider_id": str(acorn), "reasons": ["no capacity"]}]}, producer="awards")
    response = client.post(f"{base}/off-dps-exception", headers=OFFICER, json=exception)
    assert response.status_code == 201, response.json
    assert response.json["reason"] == exception["reason"]

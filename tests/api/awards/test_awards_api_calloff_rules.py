"""The call-off rules of issue #15 through the API and the real database: no
award after the DPS's last day (409 naming the date and regulation), offers
ranked like for like at the volume asked for, an override only for a
published criterion (422), every bidder able to read its own result, and the
officer told when no offer is eligible.  Each refusal changes nothing stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.api.awards.awards_support import (
    MANAGER,
    NOW,
    OFFICER,
    OTHER_OFFICER,
    admit,
    closed_referral,
    errors,
    feed,
    ids,
    membership,
    offer,
    outbox,
    provider_auth,
    snapshot,
)

SUCCESSOR = uuid.uuid4()


@pytest.fixture
def rt(service):
    runtime = service("awards")
    runtime.clock = lambda: NOW
    return runtime


@pytest.fixture
def client(rt, client_for):
    return client_for(rt)


def award(client, referral_id, offer_id, **body):
    return client.post(f"/v1/referrals/{referral_id}/award", json={"offer_id": str(offer_id), **body},
                       headers=OFFICER)


@pytest.fixture
def short_and_full(rt):
    """A 38-week referral: a 10-week offer at 4100p/h (own total 615,000p) and a
    38-week offer at 4000p/h (own total 2,280,000p)."""
    short, full = ids(2)
    admit(rt, short)
    admit(rt, full)
    referral_id = uuid.uuid4()
    offers = {"short": offer(short, 4100, weeks=10), "full": offer(full, 4000, weeks=38)}
    feed(rt, "referral.closed", {**closed_referral(referral_id, list(offers.values())), "expected_weeks": 38})
    return referral_id, {name: o["offer_id"] for name, o in offers.items()}, {"short": short, "full": full}


def test_offers_are_ranked_at_the_volume_the_referral_asked_for_and_the_ranking_says_so(client, short_and_full):
    referral_id, offer_ids, _providers = short_and_full
    shown = client.get(f"/v1/referrals/{referral_id}/ranking", headers=OFFICER).json
    assert shown["volume"] == {"hours_per_week": 15, "weeks": 38, "description": "15 hours a week for 38 weeks"}
    assert [(e["offer_id"], e["rank"], e["cost_at_volume_pence"]) for e in shown["entries"]] == [
        (offer_ids["full"], 1, 2_280_000), (offer_ids["short"], 2, 2_337_000)]


def test_an_award_after_the_statutory_end_is_refused_naming_the_date_and_regulation(client, rt, short_and_full):
    referral_id, offer_ids, _providers = short_and_full
    rt.clock = lambda: datetime(2029, 2, 24, 9, 0, tzinfo=UTC)
    before = snapshot(rt)
    refused = award(client, referral_id, offer_ids["full"])
    assert refused.status_code == 409 and refused.json["conflict"] == "dps_id"
    assert "2029-02-23" in refused.json["message"] and "SI 2024/716 regulation 5(4)" in refused.json["message"]
    assert snapshot(rt) == before
    rt.clock = lambda: datetime(2029, 2, 23, 17, 0, tzinfo=UTC)  # the last day itself
    assert award(client, referral_id, offer_ids["full"]).status_code == 201


def test_a_successor_dps_s_own_end_and_criteria_apply_to_its_referrals(client, rt):
    feed(rt, "dps.configured", {
        "dps_id": str(SUCCESSOR), "name": "AP dynamic market", "regime": "pa2023_dynamic_market",
        "start": "2024-01-01", "term_ends_on": "2025-03-11", "statutory_end": None, "ends_on": "2025-03-11",
        "status": "open", "lots": [2], "agreed_minimum_window_days": None, "agreed_in_sla_version": None,
        "sla_version": "1", "award_criteria": [{"code": "travel", "name": "Travel", "description": "Travel"}]})
    provider = uuid.uuid4()
    feed(rt, "membership.admitted", {
        "dps_id": str(SUCCESSOR), "provider_id": str(provider), "provider_name": "P", "lot": 2,
        "registration_status": "registered_school", "capacity": 3, "at": NOW.isoformat(),
        "pricing_lines": [{"pricing_line_id": str(uuid.uuid5(provider, "group place per hour")),
                           "description": "group place per hour", "unit": "hour", "maximum_price_pence": 5000}]})
    referral_id, made = uuid.uuid4(), offer(provider, 4000)
    feed(rt, "referral.closed", {**closed_referral(referral_id, [made]), "dps_id": str(SUCCESSOR)})
    refused = award(client, referral_id, made["offer_id"])  # the term ended yesterday (NOW is 12 March 2025)
    assert refused.status_code == 409 and "2025-03-11" in refused.json["message"]
    assert "advertised term" in refused.json["message"]


def test_an_override_for_a_criterion_the_dps_did_not_publish_is_refused(client, rt, short_and_full):
    referral_id, offer_ids, _providers = short_and_full
    before = snapshot(rt)
    refused = award(client, referral_id, offer_ids["short"], reason_code="cheaper", reason="it is cheaper")
    assert refused.status_code == 422 and "reason_code" in errors(refused)
    assert "PCR 2015 regulation 34" in refused.json["message"]
    words = award(client, referral_id, offer_ids["short"], reason_code="travel")
    assert words.status_code == 422 and "reason" in errors(words)
    assert snapshot(rt) == before
    made = award(client, referral_id, offer_ids["short"], reason_code="travel", reason="ten minutes from home")
    assert made.status_code == 201 and made.json["override_reason_code"] == "travel"


def test_every_bidder_reads_its_own_result_and_no_one_elses(client, rt, short_and_full):
    referral_id, offer_ids, providers = short_and_full
    url = f"/v1/referrals/{referral_id}/offers/{offer_ids['short']}/result"
    early = client.get(url, headers=provider_auth(providers["short"]))
    assert early.status_code == 409  # nothing decided yet
    assert award(client, referral_id, offer_ids["full"]).status_code == 201

    mine = client.get(url, headers=provider_auth(providers["short"]))
    assert mine.status_code == 200
    result = mine.json
    assert (result["outcome"], result["rank"], result["eligible_offers"]) == ("unsuccessful", 2, 2)
    assert result["winner_provider_id"] == str(providers["full"]) and result["cost_at_volume_pence"] == 2_337_000
    assert result["reason"].startswith("ranked 2 of 2 eligible offers at the volume asked for (15 hours a week "
                                       "for 38 weeks)")
    assert client.get(url, headers=provider_auth(providers["full"])).status_code == 403
    assert client.get(url, headers=OTHER_OFFICER).status_code == 403
    assert client.get(url, headers=MANAGER).status_code == 200
    won = client.get(f"/v1/referrals/{referral_id}/offers/{offer_ids['full']}/result",
                     headers=provider_auth(providers["full"])).json
    assert won["outcome"] == "awarded" and won["rank"] == 1
    assert client.get(f"/v1/referrals/{referral_id}/offers/{uuid.uuid4()}/result",
                      headers=OFFICER).status_code == 404


def test_an_ineligible_bidder_reads_why(client, rt, short_and_full):
    referral_id, offer_ids, providers = short_and_full
    membership(rt, "suspended", providers["short"])
    assert award(client, referral_id, offer_ids["full"]).status_code == 201
    result = client.get(f"/v1/referrals/{referral_id}/offers/{offer_ids['short']}/result",
                        headers=provider_auth(providers["short"])).json
    assert result["rank"] is None and result["reasons"] == ["the provider is suspended on lot 2"]
    assert result["reason"] == "not eligible: the provider is suspended on lot 2"


def test_no_eligible_offer_is_published_for_the_officer_to_move_the_child_on(client, rt, short_and_full):
    referral_id, offer_ids, providers = short_and_full
    for provider in providers.values():
        membership(rt, "suspended", provider)
    assert client.get(f"/v1/referrals/{referral_id}/ranking", headers=OFFICER).status_code == 200
    [event] = outbox(rt, "calloff.no_eligible_offers")
    data = event["data"]
    assert data["referral_id"] == str(referral_id) and data["dps_id"] == "8d7f4c1e-2b6a-4e0f-9c3d-5a1b2c3d4e01"
    assert {o["offer_id"]: o["reasons"] for o in data["offers"]} == {
        offer_ids[name]: ["the provider is suspended on lot 2"] for name in ("short", "full")}

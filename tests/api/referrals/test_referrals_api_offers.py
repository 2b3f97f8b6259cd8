"""Offers from providers' systems: making one (safely retried with an
Idempotency-Key), the price cap and the other refusals, changing,
withdrawing and declining, and offers sealed from everyone else.  The rules
alone are tested on the handlers: tests/unit/referrals/test_referrals_handlers_offers.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.api.referrals.referrals_support import (
    AFTER_DEADLINE,
    MANAGER,
    NOW,
    OFFICER,
    admit,
    fields_of,
    offer,
    offer_terms,
    outbox,
    pricing_lines,
    provider_auth,
    published_referral,
    snapshot,
)


@pytest.fixture
def acorn(rt):
    return admit(rt, name="Acorn")


@pytest.fixture
def referral(client, acorn):
    return published_referral(client)


def _offers_url(referral) -> str:
    return f"/v1/provider/referrals/{referral['referral_id']}/offers"


# --- making an offer --------------------------------------------------------------------------

def test_invited_provider_makes_an_offer_with_a_computed_total(client, rt, acorn, referral):
    response = offer(client, referral, acorn, units_per_week=7.5, unit_price_pence=5_999,
                     pricing_line_id=str(_tuition(acorn)), staffing_ratio="1:1")
    assert response.status_code == 201, response.json
    made = response.json
    assert made["status"] == "live" and made["provider_id"] == str(acorn)
    assert made["total_pence"] == 539_910  # 5,999 x 7.5 x 12
    assert made["maximum_price_pence"] == 6_000 and made["delivery_postcode"] == "SE15 5AB"
    [event] = outbox(rt, "offer.submitted")
    assert event["data"] == {"referral_id": referral["referral_id"], "offer_id": made["offer_id"],
                             "provider_id": str(acorn), "lot": 1, "at": NOW.isoformat()}


def _tuition(provider_id):
    from tests.api.referrals.referrals_support import line_id

    return line_id(provider_id, "1:1 tuition per hour")


def test_provider_sees_its_live_offer_on_the_referral(client, acorn, referral):
    made = offer(client, referral, acorn).json
    seen = client.get(f"/v1/provider/referrals/{referral['referral_id']}", headers=provider_auth(acorn)).json
    assert seen["my_live_offer_id"] == made["offer_id"]
    assert [o["offer_id"] for o in client.get(_offers_url(referral), headers=provider_auth(acorn)).json] == [
        made["offer_id"]]
    assert client.get(f"/v1/provider/offers/{made['offer_id']}", headers=provider_auth(acorn)).json == made


def test_a_retried_post_with_the_same_idempotency_key_returns_the_same_offer(client, rt, acorn, referral):
    headers = {**provider_auth(acorn), "Idempotency-Key": "acorn-system-4711"}
    first = offer(client, referral, acorn, headers=headers)
    again = offer(client, referral, acorn, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert len(outbox(rt, "offer.submitted")) == 1


def test_the_same_idempotency_key_with_a_different_body_is_refused(client, rt, acorn, referral):
    headers = {**provider_auth(acorn), "Idempotency-Key": "acorn-system-4711"}
    offer(client, referral, acorn, headers=headers)
    before = snapshot(rt)
    response = offer(client, referral, acorn, headers=headers, weeks=10)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["errors"]["headers"]
    assert snapshot(rt) == before


# --- refused offers change nothing ---------------------------------------------------------------

def _refused(client, rt, referral, provider_id, status: int, field: str, **changes):
    before = snapshot(rt)
    response = offer(client, referral, provider_id, **changes)
    assert response.status_code == status, response.json
    assert field in fields_of(response), response.json
    assert snapshot(rt) == before
    return response


def test_offer_above_the_maximum_price_is_refused_naming_the_maximum(client, rt, acorn, referral):
    response = _refused(client, rt, referral, acorn, 422, "unit_price_pence", unit_price_pence=50_001)
    assert "50000" in fields_of(response)["unit_price_pence"][0]


def test_offer_from_a_provider_not_invited_is_refused(client, rt, referral):
    latecomer = admit(rt, at=NOW)
    _refused(client, rt, referral, latecomer, 403, "provider_id")


def test_offer_after_the_deadline_is_refused_naming_it(client, rt, acorn, referral):
    rt.clock = lambda: AFTER_DEADLINE
    client.get(f"/v1/provider/referrals/{referral['referral_id']}", headers=provider_auth(acorn))  # closes it
    _refused(client, rt, referral, acorn, 409, "deadline")


def test_malformed_offers_are_refused_by_field(client, rt, acorn, referral):
    for field, value in [("unit_price_pence", 450.5), ("unit_price_pence", "45000"), ("unit_price_pence", 0),
                         ("weeks", 0), ("weeks", 1.5), ("units_per_week", 0), ("staffing_ratio", "lots"),
                         ("delivery_postcode", "nowhere"), ("proposed_start", "2025-01-01"),
                         ("how_it_meets_needs", " "), ("pricing_line_id", "line-1")]:
        _refused(client, rt, referral, acorn, 422, field, **{field: value})


def test_offers_on_an_unknown_referral_are_not_found(client, acorn):
    response = client.post(f"/v1/provider/referrals/{uuid.uuid4()}/offers", json=offer_terms(acorn),
                           headers=provider_auth(acorn))
    assert response.status_code == 404


def test_only_providers_make_offers(client, rt, acorn, referral):
    before = snapshot(rt)
    for headers, status in [(OFFICER, 403), (MANAGER, 403), ({}, 401)]:
        response = client.post(_offers_url(referral), json=offer_terms(acorn, referral["questions"]),
                               headers=headers)
        assert response.status_code == status
    assert snapshot(rt) == before


# --- changing, withdrawing, declining ------------------------------------------------------------

def test_provider_changes_its_offer_before_the_deadline(client, rt, acorn, referral):
    made = offer(client, referral, acorn).json
    rt.clock = lambda: NOW + timedelta(hours=2)
    changed = client.put(f"/v1/provider/offers/{made['offer_id']}", headers=provider_auth(acorn),
                         json=offer_terms(acorn, referral["questions"], unit_price_pence=40_000))
    assert changed.status_code == 200, changed.json
    assert changed.json["offer_id"] == made["offer_id"] and changed.json["total_pence"] == 480_000
    assert changed.json["changed_at"] == (NOW + timedelta(hours=2)).isoformat()
    [event] = outbox(rt, "offer.changed")
    assert event["data"]["offer_id"] == made["offer_id"] and "unit_price_pence" not in event["data"]


def test_provider_withdraws_its_offer_and_may_offer_again(client, rt, acorn, referral):
    made = offer(client, referral, acorn).json
    withdrawn = client.post(f"/v1/provider/offers/{made['offer_id']}/withdraw", headers=provider_auth(acorn))
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    [event] = outbox(rt, "offer.withdrawn")
    assert event["data"] == {"referral_id": referral["referral_id"], "offer_id": made["offer_id"],
                             "provider_id": str(acorn), "lot": 1, "at": NOW.isoformat()}
    assert client.post(f"/v1/provider/offers/{made['offer_id']}/withdraw",
                       headers=provider_auth(acorn)).status_code == 409
    assert client.put(f"/v1/provider/offers/{made['offer_id']}", headers=provider_auth(acorn),
                      json=offer_terms(acorn, referral["questions"])).status_code == 409
    again = offer(client, referral, acorn)
    assert again.status_code == 201 and again.json["offer_id"] != made["offer_id"]
    live = client.get(f"/v1/provider/offers?referral_id={referral['referral_id']}&live=true",
                      headers=provider_auth(acorn)).json
    assert [o["offer_id"] for o in live] == [again.json["offer_id"]]


def test_a_provider_may_not_touch_another_providers_offer(client, rt, acorn, referral):
    made = offer(client, referral, acorn).json
    birch = admit(rt, name="Birch")
    before = snapshot(rt)
    url = f"/v1/provider/offers/{made['offer_id']}"
    assert client.get(url, headers=provider_auth(birch)).status_code == 404
    assert client.put(url, headers=provider_auth(birch), json=offer_terms(birch)).status_code == 404
    assert client.post(f"{url}/withdraw", headers=provider_auth(birch)).status_code == 404
    assert snapshot(rt) == before


def test_provider_declines_with_a_reason(client, rt, acorn, referral):
    response = client.post(f"/v1/provider/referrals/{referral['referral_id']}/decline", headers=provider_auth(acorn),
                           json={"reason": "No places until September"})
    assert response.status_code == 200 and response.json["declined"] is True
    [event] = outbox(rt, "offer.declined")
    assert event["data"] == {"referral_id": referral["referral_id"], "provider_id": str(acorn), "lot": 1,
                             "reason": "No places until September", "at": NOW.isoformat()}


# --- sealed offers ----------------------------------------------------------------------------------

def test_officers_see_no_offers_until_the_window_closes(client, rt, acorn, referral):
    offer(client, referral, acorn)
    url = f"/v1/referrals/{referral['referral_id']}/offers"
    assert client.get(url, headers=OFFICER).status_code == 403
    assert client.get(url, headers=MANAGER).status_code == 403
    council = client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json
    assert council["answered_count"] == 1 and "offers" not in council
    rt.clock = lambda: AFTER_DEADLINE
    assert [o["provider_id"] for o in client.get(url, headers=OFFICER).json] == [str(acorn)]


def test_a_provider_never_sees_another_providers_offer(client, rt, acorn, referral):
    birch = admit(rt, name="Birch")
    referral = published_referral(client)  # invites both
    offer(client, referral, acorn)
    assert client.get(_offers_url(referral), headers=provider_auth(birch)).json == []
    assert client.get("/v1/provider/offers", headers=provider_auth(birch)).json == []
    rt.clock = lambda: AFTER_DEADLINE
    assert client.get(_offers_url(referral), headers=provider_auth(birch)).json == []
    assert client.get(f"/v1/referrals/{referral['referral_id']}/offers",
                      headers=provider_auth(birch)).status_code == 403


def test_offer_events_carry_no_terms_or_prices(client, rt, acorn, referral):
    offer(client, referral, acorn)
    for event in outbox(rt):
        if event["type"].startswith("offer."):
            assert not {"unit_price_pence", "total_pence", "pricing_line_id"} & set(event["data"])


def test_a_provider_sees_the_lines_of_its_schedule_it_may_quote_on_one_referral(client, rt):
    provider_id = admit(rt)
    referral = published_referral(client)
    shown = client.get(f"/v1/provider/referrals/{referral['referral_id']}", headers=provider_auth(provider_id)).json
    assert shown["my_pricing_lines"] == pricing_lines(provider_id)
    listed = client.get("/v1/provider/referrals", headers=provider_auth(provider_id)).json
    assert "my_pricing_lines" not in listed[0]  # the list stays as it was: one referral's page shows them

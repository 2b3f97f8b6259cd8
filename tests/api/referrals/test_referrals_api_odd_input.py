"""Odd and hostile input: always a 4xx naming the problem, never a 500, and
nothing stored."""

from __future__ import annotations

import uuid

from tests.api.referrals.referrals_support import (
    OFFICER,
    admit,
    offer_terms,
    provider_auth,
    published_referral,
    referral_form,
    snapshot,
)

ODD_BODIES = [None, [], "text", 42, {"unexpected": True}]


def test_odd_bodies_are_refused_on_every_write(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    rid = referral["referral_id"]
    offer_id = client.post(f"/v1/provider/referrals/{rid}/offers", headers=provider_auth(acorn),
                           json=offer_terms(acorn, referral["questions"])).json["offer_id"]
    writes = [("post", "/v1/referrals", OFFICER), ("patch", f"/v1/referrals/{rid}", OFFICER),
              ("post", f"/v1/referrals/{rid}/cancel", OFFICER),
              ("put", f"/v1/referrals/{rid}/offers/{offer_id}/assessment", OFFICER),
              ("post", f"/v1/referrals/{rid}/off-dps-exception", OFFICER),
              ("post", f"/v1/provider/referrals/{rid}/offers", provider_auth(acorn)),
              ("put", f"/v1/provider/offers/{offer_id}", provider_auth(acorn)),
              ("post", f"/v1/provider/referrals/{rid}/decline", provider_auth(acorn)),
              ("put", "/v1/provider/webhook", provider_auth(acorn))]
    before = snapshot(rt)
    for method, url, headers in writes:
        for body in ODD_BODIES:
            response = getattr(client, method)(url, json=body, headers=headers)
            assert 400 <= response.status_code < 500, (method, url, body, response.status_code)
        garbled = getattr(client, method)(url, data="{not json", headers={**headers,
                                                                          "Content-Type": "application/json"})
        assert 400 <= garbled.status_code < 500, (method, url)
    assert snapshot(rt) == before


def test_numbers_too_large_for_the_columns_are_refused(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    before = snapshot(rt)
    for field, value in [("unit_price_pence", 10 ** 20), ("units_per_week", 1e30), ("units_per_week", 7.555),
                         ("weeks", 10 ** 12)]:
        response = client.post(f"/v1/provider/referrals/{referral['referral_id']}/offers",
                               headers=provider_auth(acorn), json=offer_terms(acorn, referral["questions"],
                                                                              **{field: value}))
        assert response.status_code == 422 and field in response.json["errors"]["json"], (field, value)
    for changes in ({"expected_weeks": 10 ** 30}, {"age": 10 ** 30}, {"year_group": -1}):
        response = client.post("/v1/referrals", json=referral_form(profile_changes=changes), headers=OFFICER)
        assert response.status_code == 422, changes
    assert snapshot(rt) == before


def test_odd_query_strings_and_ids_are_refused(client, rt):
    for url in ("/v1/referrals?page=abc", "/v1/referrals?page_size=0", "/v1/referrals?status=lost",
                "/v1/referrals?lot=9", "/v1/referrals?child_ref=nope"):
        assert client.get(url, headers=OFFICER).status_code == 422, url
    assert client.get("/v1/referrals/not-a-uuid", headers=OFFICER).status_code == 404
    assert client.get(f"/v1/provider/offers/{uuid.uuid4()}", headers=provider_auth(uuid.uuid4())).status_code == 404

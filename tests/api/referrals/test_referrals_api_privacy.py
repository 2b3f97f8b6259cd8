"""The child's identifying details (name, date of birth, UPN, address) never
appear in anything a provider can read: any provider endpoint's response,
any webhook body, or any event on the wire.  The whole life of referrals is
driven through the API and every such text is scanned."""

from __future__ import annotations

import json

import sqlalchemy as sa

from services.referrals import models
from tests.api.referrals.referrals_support import (
    AFTER_DEADLINE,
    CHILD,
    IDENTIFYING,
    OFFICER,
    admit,
    create,
    offer,
    offer_terms,
    outbox,
    provider_auth,
    publish,
    referral_form,
)


def _leaks(text: str, child_ref: str) -> list[str]:
    found = [item for item in IDENTIFYING if item.lower() in text.lower()]
    return found + (["child_ref"] if child_ref in text else [])


def test_identifying_details_never_reach_anything_a_provider_can_read(rt, client, monkeypatch):
    monkeypatch.setenv("DPS_WEBHOOK_ALLOW_LOOPBACK", "true")  # development: the webhook below is on loopback
    acorn, birch = admit(rt, name="Acorn"), admit(rt, name="Birch")
    seen: list[str] = []

    def as_provider(method: str, url: str, provider_id, **kwargs):
        response = getattr(client, method)(url, headers=provider_auth(provider_id), **kwargs)
        assert response.status_code < 500
        seen.append(response.get_data(as_text=True))
        return response

    as_provider("put", "/v1/provider/webhook", acorn, json={"url": "http://127.0.0.1:9/hook"})
    # one referral offered on, changed, withdrawn, declined, closed and assessed ...
    referral = create(client)
    rid = referral["referral_id"]
    publish(client, rid)
    as_provider("get", "/v1/provider/referrals", acorn)
    as_provider("get", "/v1/provider/referrals?open_only=false", birch)
    as_provider("get", f"/v1/provider/referrals/{rid}", acorn)
    made = offer(client, referral, acorn)
    seen.append(made.get_data(as_text=True))
    offer_id = made.json["offer_id"]
    as_provider("put", f"/v1/provider/offers/{offer_id}", acorn,
                json=offer_terms(acorn, referral["questions"], unit_price_pence=44_000))
    as_provider("post", f"/v1/provider/offers/{offer_id}/withdraw", acorn)
    again = offer(client, referral, acorn)
    seen.append(again.get_data(as_text=True))
    as_provider("post", f"/v1/provider/referrals/{rid}/decline", birch, json={"reason": "Full"})
    as_provider("get", "/v1/provider/offers", acorn)
    as_provider("get", f"/v1/provider/referrals/{rid}/offers", acorn)
    as_provider("get", "/v1/provider/webhook/deliveries", acorn)
    # ... a second cancelled, a third off the DPS
    cancelled = create(client)
    publish(client, cancelled["referral_id"])
    client.post(f"/v1/referrals/{cancelled['referral_id']}/cancel", json={"reason": "Moved away"}, headers=OFFICER)
    as_provider("get", f"/v1/provider/referrals/{cancelled['referral_id']}", acorn)
    rt.clock = lambda: AFTER_DEADLINE
    question = referral["questions"][0]["question_id"]
    client.put(f"/v1/referrals/{rid}/offers/{again.json['offer_id']}/assessment", headers=OFFICER,
               json={"meets_needs": True, "reason": "Good", "criteria_met": {question: True}})
    assert client.post(f"/v1/referrals/{rid}/complete-assessment", headers=OFFICER).status_code == 200
    as_provider("get", f"/v1/provider/referrals/{rid}", acorn)
    as_provider("get", f"/v1/provider/offers/{again.json['offer_id']}", acorn)
    # errors a provider may provoke say nothing of the child either
    as_provider("post", f"/v1/provider/referrals/{rid}/offers", acorn, json=offer_terms(acorn))
    as_provider("get", f"/v1/provider/referrals/{rid}", admit(rt, lot=3))

    # the council did see the child: the scan would catch a leak
    council = client.get(f"/v1/referrals/{rid}", headers=OFFICER).get_data(as_text=True)
    assert _leaks(council, referral["child_ref"])

    for text in seen:
        assert not _leaks(text, referral["child_ref"]), text
    with rt.engine.connect() as connection:
        bodies = connection.execute(sa.select(models.webhook_deliveries.c.body)).scalars().all()
    assert bodies, "the webhook delivery is one of the things scanned"
    for body in bodies:
        assert not _leaks(body, referral["child_ref"]), body
    events = outbox(rt)
    assert {"referral.published", "offer.submitted", "offer.changed", "offer.withdrawn", "offer.declined",
            "referral.cancelled", "referral.closed"} <= {e["type"] for e in events}
    for event in events:
        text = json.dumps(event)
        assert not [item for item in IDENTIFYING if item.lower() in text.lower()], event["type"]
        if event["type"] != "referral.closed":  # the one event meant to carry the opaque child_ref
            assert referral["child_ref"] not in text, event["type"]


def test_a_profile_mentioning_the_home_postcode_is_refused_before_it_can_be_sent(rt, client):
    form = referral_form(profile_changes={"needs_and_risks": f"Lives near {CHILD['address'][-8:]}; anxious"})
    response = client.post("/v1/referrals", json=form, headers=OFFICER)
    assert response.status_code == 422 and "needs_and_risks" in response.json["errors"]["json"]["profile"]

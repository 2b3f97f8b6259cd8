"""A provider's access to a referral's pseudonymised profile ends (issue #17 item 1), through the API on
PostgreSQL and SQLite.

While it may still offer (the window open) and while its offer is live and not yet decided, a provider
reads the profile, lists the referral and sees the body of its webhook deliveries.  Once the window closes
without its offer (it never answered, declined or withdrew), the referral is awarded to another offer or a
block place, no offer meets the needs, or the referral is cancelled: the profile is a 404 saying "closed to
you on DATE" and why, the listing leaves the referral out (in the query, so pages stay full), and the
webhook log withholds the body, saying why.  Its own offers stay readable, without the profile.  The
winning provider keeps the referral."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.referrals import webhooks
from tests.api.referrals.referrals_support import (
    AFTER_DEADLINE,
    MANAGER,
    NOW,
    OFFICER,
    admit,
    deliver,
    offer,
    provider_auth,
    published_referral,
)
from tests.support.off_dps import off_dps_json

CLOSED_WITHOUT_OFFER = ("this referral closed to you on 2025-01-29: the window for offers closed without a live "
                        "offer from you")
AWARDED_AT = AFTER_DEADLINE + timedelta(days=2)  # 2025-01-31


@pytest.fixture(autouse=True)
def public_names(monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"], raising=False)


def _read(client, provider_id, referral):
    return client.get(f"/v1/provider/referrals/{referral['referral_id']}", headers=provider_auth(provider_id))


def _closed(client, provider_id, referral) -> str:
    """The reason a provider is given for a referral closed to it (a 404)."""
    response = _read(client, provider_id, referral)
    assert response.status_code == 404, response.json
    return response.json["message"]


def _listed(client, provider_id, **query) -> list[str]:
    response = client.get("/v1/provider/referrals", headers=provider_auth(provider_id),
                          query_string={"open_only": "false", **query})
    assert response.status_code == 200, response.json
    return [r["referral_id"] for r in response.json]


def _own_offer(client, provider_id, offer_id) -> dict:
    response = client.get(f"/v1/provider/offers/{offer_id}", headers=provider_auth(provider_id))
    assert response.status_code == 200, response.json
    assert "profile" not in response.json and "questions" not in response.json
    return response.json


def _assess_and_complete(client, referral, *offers, meets_needs=True):
    marks = {q["question_id"]: meets_needs for q in referral["questions"]}
    for made in offers:
        assert client.put(f"/v1/referrals/{referral['referral_id']}/offers/{made['offer_id']}/assessment",
                          headers=OFFICER, json={"meets_needs": meets_needs, "reason": "Judged on the profile",
                                                 "criteria_met": marks}).status_code == 200
    assert client.post(f"/v1/referrals/{referral['referral_id']}/complete-assessment",
                       headers=OFFICER).status_code == 200


def test_the_window_closing_ends_access_of_those_without_a_live_offer(stack):
    rt, client = stack
    acorn, birch, cedar, larch = (admit(rt, name=name) for name in ("Acorn", "Birch", "Cedar", "Larch"))
    referral = published_referral(client)
    offer(client, referral, acorn)
    client.post(f"/v1/provider/referrals/{referral['referral_id']}/decline", headers=provider_auth(birch),
                json={"reason": "No place until Easter"})
    withdrawn = offer(client, referral, cedar).json
    client.post(f"/v1/provider/offers/{withdrawn['offer_id']}/withdraw", headers=provider_auth(cedar))
    for provider_id in (acorn, birch, cedar, larch):  # while the window is open, whatever each answered
        assert _read(client, provider_id, referral).status_code == 200
        assert _listed(client, provider_id) == [referral["referral_id"]]

    rt.clock = lambda: AFTER_DEADLINE
    assert _read(client, acorn, referral).status_code == 200  # its offer is live and not yet decided
    assert _listed(client, acorn) == [referral["referral_id"]]
    for provider_id in (birch, cedar, larch):  # declined, withdrew, never answered
        assert _closed(client, provider_id, referral).startswith(CLOSED_WITHOUT_OFFER)
        assert _listed(client, provider_id) == []
    assert "UK GDPR Article 5(1)(c)" in _closed(client, larch, referral)
    assert _own_offer(client, cedar, withdrawn["offer_id"])["status"] == "withdrawn"  # its own, still


def test_the_award_ends_access_of_the_other_offers_and_the_winner_keeps_it(stack):
    rt, client = stack
    acorn, birch = admit(rt, name="Acorn"), admit(rt, name="Birch")
    referral = published_referral(client)
    acorns, birchs = offer(client, referral, acorn).json, offer(client, referral, birch).json
    rt.clock = lambda: AFTER_DEADLINE
    _assess_and_complete(client, referral, acorns, birchs)
    assert _read(client, acorn, referral).status_code == 200  # assessed, not yet decided
    deliver(rt, "placement.awarded", {"referral_id": referral["referral_id"], "offer_id": birchs["offer_id"],
                                      "award_id": str(uuid.uuid4()), "at": AWARDED_AT.isoformat()},
            producer="awards")
    rt.clock = lambda: AWARDED_AT + timedelta(days=30)
    assert _closed(client, acorn, referral).startswith("this referral closed to you on 2025-01-31: the referral was "
                                                       "awarded to another offer")
    assert _listed(client, acorn) == []
    assert _own_offer(client, acorn, acorns["offer_id"])["status"] == "live"
    assert _read(client, birch, referral).json["profile"]["primary_need"]  # the winner keeps what it needs
    assert _listed(client, birch) == [referral["referral_id"]]


def _one_offer(stack):
    """Acorn admitted, a referral published, and Acorn's offer on it."""
    rt, client = stack
    acorn = admit(rt)
    referral = published_referral(client)
    return rt, client, acorn, referral, offer(client, referral, acorn).json


def _officer(client, referral, action, reason, status=200):
    body = off_dps_json(reason=reason) if action == "off-dps-exception" else {"reason": reason}
    response = client.post(f"/v1/referrals/{referral['referral_id']}/{action}", headers=OFFICER, json=body)
    assert response.status_code == status, response.json


def _gone(client, provider_id, referral, notice):
    """Closed to the provider: its read says when and why, its listing leaves the referral out."""
    assert notice in _closed(client, provider_id, referral)
    assert _listed(client, provider_id) == []


def test_a_block_place_ends_access_of_every_provider(stack):
    rt, client, acorn, referral, made = _one_offer(stack)
    deliver(rt, "block_place.allocated", {"allocation_id": str(uuid.uuid4()), "referral_id": referral["referral_id"],
                                          "at": (NOW + timedelta(hours=1)).isoformat()}, producer="awards")
    _gone(client, acorn, referral, "closed to you on 2025-01-15: the child was given a place of a block contract")
    assert _own_offer(client, acorn, made["offer_id"])


def test_cancelling_ends_access_even_with_a_live_offer(stack):
    rt, client, acorn, referral, _ = _one_offer(stack)
    _officer(client, referral, "cancel", "The family moved away")
    _gone(client, acorn, referral, "closed to you on 2025-01-15: the referral was cancelled")


def test_no_suitable_offer_ends_access_and_the_referral_goes_off_the_dps(stack):
    rt, client, acorn, referral, made = _one_offer(stack)
    rt.clock = lambda: AFTER_DEADLINE
    _assess_and_complete(client, referral, made, meets_needs=False)
    _officer(client, referral, "off-dps-exception", "No provider within travelling distance", status=201)
    _gone(client, acorn, referral, "closed to you on 2025-01-29: no offer met the needs")


def test_the_listing_leaves_closed_referrals_out_in_the_query_so_pages_stay_full(stack):
    rt, client = stack
    acorn = admit(rt)
    closed, first, second = (published_referral(client) for _ in range(3))
    _officer(client, closed, "cancel", "Moved away")
    pages = [client.get("/v1/provider/referrals", headers=provider_auth(acorn),
                        query_string={"open_only": "false", "page_size": 1, "page": page}) for page in (1, 2, 3)]
    shown = [[r["referral_id"] for r in page.json] for page in pages]
    assert sorted(shown[0] + shown[1]) == sorted([first["referral_id"], second["referral_id"]]) and shown[2] == []
    assert "next" in pages[0].headers.get("Link", "") and "next" not in pages[1].headers.get("Link", "")


def test_the_webhook_log_withholds_the_body_once_the_referral_is_closed_to_the_provider(stack):
    rt, client = stack
    acorn, birch = admit(rt, name="Acorn"), admit(rt, name="Birch")
    for provider_id in (acorn, birch):
        assert client.put("/v1/provider/webhook", headers=provider_auth(provider_id),
                          json={"url": "https://hooks.example/dps"}).status_code == 200
    referral = published_referral(client)
    offer(client, referral, birch)

    def log(provider_id) -> dict:
        [delivery] = client.get("/v1/provider/webhook/deliveries", headers=provider_auth(provider_id)).json
        return delivery

    assert referral["referral_id"] in log(acorn)["body"] and log(acorn)["withheld"] is None
    rt.clock = lambda: AFTER_DEADLINE
    withheld = log(acorn)
    assert withheld["body"] is None and withheld["withheld"].startswith(CLOSED_WITHOUT_OFFER)
    assert withheld["referral_id"] == referral["referral_id"] and withheld["state"] == "pending"
    assert referral["referral_id"] in log(birch)["body"]  # its offer is live and not yet decided
    seen = client.get("/v1/webhook-deliveries", headers=MANAGER).json
    assert len(seen) == 2 and all(d["body"] for d in seen)  # the council's oversight sees what was sent


def test_a_pending_delivery_is_not_sent_once_the_referral_is_closed_to_the_provider(stack, monkeypatch):
    rt, client = stack
    posted = []
    monkeypatch.setattr(webhooks, "attempt", lambda claimed, **kw: posted.append(claimed) or webhooks.Answer(204))
    acorn, birch = admit(rt, name="Acorn"), admit(rt, name="Birch")
    for provider_id in (acorn, birch):
        client.put("/v1/provider/webhook", headers=provider_auth(provider_id), json={"url": "https://hooks.example/d"})
    cancelled, sent = published_referral(client), published_referral(client)
    _officer(client, cancelled, "cancel", "Moved away")
    rt.clock = lambda: NOW + timedelta(seconds=1)
    assert "deliver_webhooks" in rt.run_jobs(force=True)
    assert sorted(str(c.id) for c in posted) == sorted(
        d["delivery_id"] for d in client.get("/v1/webhook-deliveries?state=delivered", headers=MANAGER).json)
    assert len(posted) == 2  # the referral still open, to each provider
    given_up = client.get(f"/v1/provider/webhook/deliveries?referral_id={cancelled['referral_id']}",
                          headers=provider_auth(acorn)).json
    assert [(d["state"], d["attempts"], d["body"]) for d in given_up] == [("failed", 0, None)]
    assert given_up[0]["last_error"].startswith("this referral closed to you on 2025-01-15: the referral was "
                                                "cancelled")
    assert sent["referral_id"] in client.get(f"/v1/provider/webhook/deliveries?referral_id={sent['referral_id']}",
                                             headers=provider_auth(acorn)).json[0]["body"]

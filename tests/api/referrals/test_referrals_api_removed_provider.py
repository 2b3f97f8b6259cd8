"""A removed provider keeps no access to what its membership gave (issue 13, defect 10).

Removed from a lot (or past the end of its membership, the DPS term), a
provider no longer lists, reads, offers on or declines that lot's referrals:
403 with the reason.  Removed from every lot, it can no longer register or
rotate its webhook.  Suspension stops new referrals (it is not invited, so it
cannot offer on a referral published while it was suspended, even once
reinstated) and offers, but its existing live offers stay visible, with the
referral they were made on.  Its own offers stay readable whatever happens:
they are its own.  On PostgreSQL, through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.referrals import webhooks
from tests.api.referrals.referrals_support import (
    NOW,
    admit,
    deliver,
    offer,
    provider_auth,
    published_referral,
    snapshot,
    status_data,
    suspend,
)


@pytest.fixture(autouse=True)
def public_names(monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"], raising=False)


def _remove(rt, provider_id, lot=1, at=NOW):
    deliver(rt, "membership.removed", status_data(provider_id, lot, status="removed", at=at,
                                                  reason="Safeguarding concern upheld"))


def _get(client, provider_id, path):
    return client.get(f"/v1/provider{path}", headers=provider_auth(provider_id))


def _listed(client, provider_id, open_only=True):
    response = _get(client, provider_id, f"/referrals?open_only={'true' if open_only else 'false'}")
    assert response.status_code == 200, response.json
    return [r["referral_id"] for r in response.json]


def _decline(client, provider_id, referral):
    return client.post(f"/v1/provider/referrals/{referral['referral_id']}/decline", headers=provider_auth(provider_id),
                       json={"reason": "No places this term"})


def _webhook(client, provider_id, **extra):
    return client.put("/v1/provider/webhook", headers=provider_auth(provider_id),
                      json={"url": "https://acorn.example/dps", **extra})


# --- removed -------------------------------------------------------------------------------------------

def test_a_removed_provider_no_longer_lists_or_reads_the_lots_referrals(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    assert _listed(client, acorn) == [referral["referral_id"]]
    _remove(rt, acorn)
    assert _listed(client, acorn) == [] and _listed(client, acorn, open_only=False) == []
    read = _get(client, acorn, f"/referrals/{referral['referral_id']}")
    assert read.status_code == 403 and "removed" in read.json["message"]
    assert "profile" not in read.json


def test_a_removed_provider_cannot_decline_or_offer(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    _remove(rt, acorn)
    before = snapshot(rt)
    declined = _decline(client, acorn, referral)
    assert declined.status_code == 403 and "removed" in declined.json["message"]
    offered = offer(client, referral, acorn)
    assert offered.status_code == 403 and "removed" in offered.json["message"]
    assert snapshot(rt) == before


def test_removal_from_one_lot_leaves_the_other_lots_referrals(client, rt):
    acorn = admit(rt)
    admit(rt, acorn, lot=2)
    first, second = published_referral(client), published_referral(client, lot=2)
    _remove(rt, acorn, lot=1)
    assert _listed(client, acorn) == [second["referral_id"]]
    assert _get(client, acorn, f"/referrals/{second['referral_id']}").status_code == 200
    assert _get(client, acorn, f"/referrals/{first['referral_id']}").status_code == 403
    assert _webhook(client, acorn).status_code == 200  # still a member of lot 2


def test_a_provider_removed_from_every_lot_cannot_register_or_rotate_its_webhook(client, rt):
    acorn = admit(rt)
    assert _webhook(client, acorn).status_code == 200
    _remove(rt, acorn)
    before = snapshot(rt)
    for extra in ({"rotate_secret": True}, {}):
        response = _webhook(client, acorn, **extra)
        assert response.status_code == 403 and "removed" in response.json["message"], response.json
    assert snapshot(rt) == before
    assert client.delete("/v1/provider/webhook", headers=provider_auth(acorn)).status_code == 204  # may stop it


def test_a_provider_never_admitted_cannot_register_a_webhook(client, rt):
    from uuid import uuid4

    assert _webhook(client, uuid4()).status_code == 403


def test_its_own_offers_stay_readable_after_removal(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    made = offer(client, referral, acorn).json
    _remove(rt, acorn)
    assert _get(client, acorn, f"/offers/{made['offer_id']}").status_code == 200
    assert [o["offer_id"] for o in _get(client, acorn, "/offers").json] == [made["offer_id"]]
    assert _get(client, acorn, f"/referrals/{referral['referral_id']}").status_code == 403


def test_a_membership_past_its_end_counts_as_removed(client, rt):
    acorn = admit(rt, ends_on="2025-01-17")  # the end of its membership: before the referral's deadline
    referral = published_referral(client)
    assert _listed(client, acorn) == [referral["referral_id"]]
    rt.clock = lambda: NOW.replace(day=18)
    assert _listed(client, acorn) == []
    assert _get(client, acorn, f"/referrals/{referral['referral_id']}").status_code == 403
    assert _decline(client, acorn, referral).status_code == 403
    assert offer(client, referral, acorn).status_code == 403
    assert _webhook(client, acorn).status_code == 403


# --- suspended -----------------------------------------------------------------------------------------

def test_a_suspended_provider_keeps_its_live_offers_and_their_referrals_visible(client, rt):
    acorn = admit(rt)
    with_offer, without = published_referral(client), published_referral(client)
    made = offer(client, with_offer, acorn).json
    suspend(rt, acorn, at=NOW)
    assert _listed(client, acorn) == [with_offer["referral_id"]]
    seen = _get(client, acorn, f"/referrals/{with_offer['referral_id']}")
    assert seen.status_code == 200 and seen.json["my_live_offer_id"] == made["offer_id"]
    assert _get(client, acorn, f"/offers/{made['offer_id']}").json["status"] == "live"
    hidden = _get(client, acorn, f"/referrals/{without['referral_id']}")
    assert hidden.status_code == 403 and "suspended" in hidden.json["message"]
    assert offer(client, without, acorn).status_code == 403
    assert _webhook(client, acorn).status_code == 200  # still a member


def test_a_referral_published_while_suspended_is_never_the_providers(client, rt):
    acorn = admit(rt)
    suspend(rt, acorn, at=NOW - timedelta(hours=1))
    referral = published_referral(client)
    assert _get(client, acorn, f"/referrals/{referral['referral_id']}").status_code == 404
    assert offer(client, referral, acorn).status_code == 403
    deliver(rt, "membership.reinstated", status_data(acorn, status="admitted", at=NOW, reason="Insurance renewed"))
    assert _listed(client, acorn) == []
    refused = offer(client, referral, acorn)
    assert refused.status_code == 403 and "not invited" in refused.json["message"]
    later = published_referral(client)
    assert _listed(client, acorn) == [later["referral_id"]]


# --- the officer is not kept waiting for a provider that can no longer answer ---------------------------

def test_an_officer_may_close_early_once_every_provider_still_able_to_answer_has(client, rt):
    acorn, birch, cedar = admit(rt), admit(rt), admit(rt)
    referral = published_referral(client)
    assert offer(client, referral, acorn).status_code == 201
    _remove(rt, birch)  # can no longer offer or decline
    suspend(rt, cedar, at=NOW)  # nor can a provider suspended without a live offer
    from tests.api.referrals.referrals_support import OFFICER

    closed = client.post(f"/v1/referrals/{referral['referral_id']}/close", headers=OFFICER)
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "closed"


def test_the_referral_awarded_to_its_offer_stays_visible_after_removal(client, rt):
    from tests.api.referrals.test_referrals_api_assessment import _awarded_referral, _placement_awarded

    referral, made, acorn = _awarded_referral(client, rt)
    deliver(rt, "placement.awarded", _placement_awarded(referral, made, acorn), producer="awards")
    _remove(rt, acorn, at=rt.clock())
    assert _listed(client, acorn, open_only=False) == [referral["referral_id"]]
    seen = _get(client, acorn, f"/referrals/{referral['referral_id']}")
    assert seen.status_code == 200 and seen.json["my_live_offer_id"] == made["offer_id"]

"""A removed provider keeps no access to what its membership gave (issue 13, defect 10).

Removed from a lot (or past the end of its membership, the DPS term), a
provider no longer lists, reads, offers on or declines that lot's referrals:
403 with the reason.  Removed from every lot, it can no longer register or
rotate its webhook.  Suspension stops new referrals (it is not invited, so it
cannot offer on a referral published while it was suspended, even once
reinstated) and offers, but its existing live offers stay visible, with the
referral they were made on.  Its own offers stay readable whatever happens:
they are its own.  On PostgreSQL, through the API: 403 with the reason and
nothing stored changing, and a membership past its end (the registry copy's
query).  The rule in each case is tested on the handlers:
tests/unit/referrals/test_referrals_handlers_offers.py."""

from __future__ import annotations

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


# --- the officer is not kept waiting for a provider that can no longer answer ---------------------------


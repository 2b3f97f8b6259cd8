"""A provider's lists read that provider's own answers, not every provider's
(the national peak's busiest referrals reads: a referral open to a whole lot
of providers must not cost a row of each of them), and still show the same."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from services.referrals.domain import Decline, Offer
from tests.api.referrals.referrals_support import OFFICER, admit, offer, provider_auth, published_referral
from tests.support.runtime import statements_run


@contextlib.contextmanager
def loaded():
    """The (kind, provider_id) of every offer and decline the ORM builds meanwhile."""
    seen: list[tuple[str, str]] = []

    def on_offer(target, _context):
        seen.append(("offer", str(target.provider_id)))

    def on_decline(target, _context):
        seen.append(("decline", str(target.provider_id)))

    sa.event.listen(Offer, "load", on_offer)
    sa.event.listen(Decline, "load", on_decline)
    try:
        yield seen
    finally:
        sa.event.remove(Offer, "load", on_offer)
        sa.event.remove(Decline, "load", on_decline)


def _answered(client, rt):
    acorn, birch, cedar = admit(rt, name="Acorn"), admit(rt, name="Birch"), admit(rt, name="Cedar")
    referral = published_referral(client)
    made = {p: offer(client, referral, p).json for p in (acorn, cedar)}
    declined = client.post(f"/v1/provider/referrals/{referral['referral_id']}/decline", headers=provider_auth(birch),
                           json={"reason": "No place free this term"})
    assert declined.status_code == 200
    return referral, (acorn, birch, cedar), made


def test_a_providers_referrals_list_shows_its_own_answer_reading_only_its_own(client, rt):
    referral, (acorn, birch, cedar), made = _answered(client, rt)
    for provider, live_offer, declined in ((acorn, made[acorn]["offer_id"], False), (birch, None, True),
                                           (cedar, made[cedar]["offer_id"], False)):
        with loaded() as seen, statements_run(rt.engine) as run:
            listed = client.get("/v1/provider/referrals", headers=provider_auth(provider))
        assert listed.status_code == 200
        assert len(run) == 3, run  # its memberships, the page's ids, the referrals with their parts it sees
        [shown] = listed.json
        assert (shown["referral_id"], shown["my_live_offer_id"], shown["declined"]) == (
            referral["referral_id"], live_offer, declined)
        assert shown["questions"] == [{"question_id": q["question_id"], "text": q["text"]}
                                      for q in referral["questions"]]
        assert {p for _, p in seen} <= {str(provider)}, seen


def test_a_providers_offers_list_reads_only_its_own_offers(client, rt):
    _referral, (acorn, _birch, _cedar), made = _answered(client, rt)
    with loaded() as seen:
        listed = client.get("/v1/provider/offers", headers=provider_auth(acorn))
    assert listed.status_code == 200 and listed.json == [made[acorn]]
    assert set(seen) == {("offer", str(acorn))}


def test_the_councils_list_still_counts_every_providers_answer(client, rt):
    referral, providers, _made = _answered(client, rt)
    [shown] = client.get("/v1/referrals", headers=OFFICER).json
    assert shown["referral_id"] == referral["referral_id"]
    assert (shown["invited_count"], shown["answered_count"]) == (3, 3)
    assert sorted(shown["invited_provider_ids"]) == sorted(str(p) for p in providers)

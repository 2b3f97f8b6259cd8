"""Two officers pressing award at the same moment, on the real PostgreSQL.

- On one referral: exactly one award is made; the other officer gets 409
  (the referral row is locked, and the unique referral_id stands behind it).
- On two referrals whose best offers are from a provider with one place left:
  exactly one takes the place; the other is refused as no place is free
  (the provider's rows are locked while its places are counted).
"""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from services.awards import models
from tests.api.awards.awards_support import NOW, OFFICER, admit, close, offer, outbox
from tests.support.runtime import auth

pytestmark = pytest.mark.integration

ROUNDS = 4
SECOND_OFFICER = auth("officer", team="exclusions", sub="officer-exclusions-2")


@pytest.fixture
def rt(service):
    runtime = service("awards")
    runtime.clock = lambda: NOW
    return runtime


def at_once(rt, client_for, requests: list[tuple[str, dict, dict]]) -> list:
    """Send the requests from separate threads, released together."""
    start = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def press(i: int, url: str, body: dict, headers: dict) -> None:
        client = client_for(rt)
        start.wait()
        responses[i] = client.post(url, json=body, headers=headers)

    threads = [threading.Thread(target=press, args=(i, *request)) for i, request in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return responses


def count(rt, table: sa.Table, *where) -> int:
    with rt.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def test_two_officers_pressing_award_on_one_referral_make_exactly_one_award(rt, client_for):
    provider, other = uuid.uuid4(), uuid.uuid4()
    admit(rt, provider, capacity=50)
    admit(rt, other, capacity=50)
    for _ in range(ROUNDS):
        referral_id = uuid.uuid4()
        top, second = offer(provider, 3000), offer(other, 3500)
        close(rt, referral_id, [top, second])
        url = f"/v1/referrals/{referral_id}/award"

        responses = at_once(rt, client_for, [
            (url, {"offer_id": top["offer_id"]}, OFFICER),
            (url, {"offer_id": second["offer_id"], "reason": "closer to home"}, SECOND_OFFICER)])

        assert sorted(r.status_code for r in responses) == [201, 409], [r.json for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert "referral_id" in loser.json["errors"]["json"]
        assert count(rt, models.awards, models.awards.c.referral_id == referral_id) == 1
    assert len(outbox(rt, "placement.awarded")) == ROUNDS


def test_two_awards_racing_for_a_providers_last_place_give_it_once(rt, client_for):
    for _ in range(ROUNDS):
        provider, fallback = uuid.uuid4(), uuid.uuid4()
        admit(rt, provider, capacity=1)
        admit(rt, fallback, capacity=50)
        first, second = uuid.uuid4(), uuid.uuid4()
        first_offer, second_offer = offer(provider, 3000), offer(provider, 3000)
        close(rt, first, [first_offer, offer(fallback, 4000)])
        close(rt, second, [second_offer, offer(fallback, 4000)])

        responses = at_once(rt, client_for, [
            (f"/v1/referrals/{first}/award", {"offer_id": first_offer["offer_id"]}, OFFICER),
            (f"/v1/referrals/{second}/award", {"offer_id": second_offer["offer_id"]}, SECOND_OFFICER)])

        assert sorted(r.status_code for r in responses) == [201, 422], [r.json for r in responses]
        loser = next(r for r in responses if r.status_code == 422)
        assert loser.json["errors"]["json"]["offer_id"] == ["no place free: capacity 1, 1 in use"]
        assert count(rt, models.awards, models.awards.c.provider_id == provider) == 1

"""Officers pressing at the same moment, on SQLite (the default of `make run`)
and on PostgreSQL:

- on one referral: exactly one award is made; the other officer gets 409
  (the referral row is locked, and the unique referral_id stands behind it);
- on two referrals whose best offers are from a provider with one place left:
  exactly one takes the place; the other is refused as no place is free
  (the provider's rows are locked while its places are counted);
- twenty referrals taking places of a 2-place block contract at once: two
  places are given, the other eighteen are told all places are taken.

On SQLite a unit of work takes the write lock before it reads what it
decides on (BEGIN IMMEDIATE), as row locks do nothing there.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.awards import models
from tests.api.awards.awards_support import NOW, OFFICER, Competition, Lot1, admit, close, offer, outbox
from tests.support.races import DATABASES, app_of, at_once, runtime_on
from tests.support.runtime import auth

pytestmark = pytest.mark.integration

ROUNDS = 4
SECOND_OFFICER = auth("officer", team="exclusions", sub="officer-exclusions-2")


@pytest.fixture(params=DATABASES)
def rt(request, tmp_path):
    runtime = runtime_on(request, "awards", tmp_path)
    runtime.clock = lambda: NOW
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def app(rt):
    return app_of(rt)


def count(rt, table: sa.Table, *where) -> int:
    with rt.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def test_two_officers_pressing_award_on_one_referral_make_exactly_one_award(rt, app):
    provider, other = uuid.uuid4(), uuid.uuid4()
    admit(rt, provider, capacity=50)
    admit(rt, other, capacity=50)
    for _ in range(ROUNDS):
        referral_id = uuid.uuid4()
        top, second = offer(provider, 3000), offer(other, 3500)
        close(rt, referral_id, [top, second])
        url = f"/v1/referrals/{referral_id}/award"

        responses = at_once(app, [
            (url, {"offer_id": top["offer_id"]}, OFFICER),
            (url, {"offer_id": second["offer_id"], "reason": "closer to home", "reason_code": "travel"},
             SECOND_OFFICER)])

        assert sorted(r.status_code for r in responses) == [201, 409], [r.json for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert "referral_id" in loser.json["errors"]["json"]
        assert count(rt, models.awards, models.awards.c.referral_id == referral_id) == 1
    assert len(outbox(rt, "placement.awarded")) == ROUNDS


def test_two_awards_racing_for_a_providers_last_place_give_it_once(rt, app):
    given, refused = [], []
    for _ in range(ROUNDS):
        provider, fallback = uuid.uuid4(), uuid.uuid4()
        admit(rt, provider, capacity=1)
        admit(rt, fallback, capacity=50)
        first, second = uuid.uuid4(), uuid.uuid4()
        first_offer, second_offer = offer(provider, 3000), offer(provider, 3000)
        close(rt, first, [first_offer, offer(fallback, 4000)])
        close(rt, second, [second_offer, offer(fallback, 4000)])

        responses = at_once(app, [
            (f"/v1/referrals/{first}/award", {"offer_id": first_offer["offer_id"]}, OFFICER),
            (f"/v1/referrals/{second}/award", {"offer_id": second_offer["offer_id"]}, SECOND_OFFICER)])

        given.append(count(rt, models.awards, models.awards.c.provider_id == provider))
        statuses = sorted(r.status_code for r in responses)
        if statuses == [201, 422]:
            loser = next(r for r in responses if r.status_code == 422)
            assert loser.json["errors"]["json"]["offer_id"] == ["no place free: capacity 1, 1 in use"]
        else:
            refused.append([r.json for r in responses])
    # every round counted before judging, so a failure says in how many rounds the place went twice
    assert given == [1] * ROUNDS, f"awards of a 1-place provider per round: {given}; {refused}"


def test_twenty_children_taking_places_of_a_two_place_block_at_once_get_two(rt, app):
    client = app.test_client()
    competition = Competition(client, rt, Lot1(rt))
    assert competition.award().status_code == 201
    contract = competition.confirm(datetime(2025, 4, 9, 9, 0, tzinfo=UTC)).json
    referrals = [uuid.uuid4() for _ in range(20)]
    for referral_id in referrals:
        close(rt, referral_id, [], lot=1)
    path = f"/v1/block-contracts/{contract['contract_id']}/allocations"

    responses = at_once(app, [(path, {"referral_id": str(r)}, OFFICER) for r in referrals])

    statuses = sorted(r.status_code for r in responses)
    made = count(rt, models.block_allocations,
                 models.block_allocations.c.contract_id == uuid.UUID(contract["contract_id"]))
    assert statuses == [201] * 2 + [409] * 18, f"{made} allocations made; statuses {statuses}"
    assert {r.json["message"] for r in responses if r.status_code == 409} == {
        "all 2 places of this contract are taken"}
    assert count(rt, models.block_allocations,
                 models.block_allocations.c.contract_id == uuid.UUID(contract["contract_id"])) == 2
    assert client.get(f"/v1/block-contracts/{contract['contract_id']}",
                      headers=OFFICER).json["places_left"] == 0
    assert len(outbox(rt, "block_place.allocated")) == 2

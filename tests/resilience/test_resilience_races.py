"""Two officers pressing award at the same moment, through the awards HTTP API
of the running system (real gunicorn workers and threads), with every
service on SQLite (the default of `make run`) and then on PostgreSQL:

- on one referral: exactly one award (201); the other officer gets 409;
- two referrals whose best offers are from a provider with one place left:
  exactly one takes the place (201); the other is refused (422, no place
  free) and can then be awarded elsewhere.

Whatever the race, one placement reaches tracking and referrals per award,
never two.
"""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from demo import journey as j
from shared.catalogue import SERVICES
from shared.db import make_engine
from shared.service import load_definition
from tests.conftest import _clean_broker
from tests.support.faults import OFFICER, SECOND_OFFICER, Api, Bus, expect
from tests.support.races import DATABASES
from tests.support.runtime import build_runtime, token
from tests.support.system import System

pytestmark = pytest.mark.integration

ROUNDS = 2


@pytest.fixture(scope="module", params=DATABASES)
def running_system(request, postgres, rabbitmq, _templates, tmp_path_factory):
    """All four services as real processes, each on its own database: a
    migrated SQLite file each, or a PostgreSQL database each."""
    _clean_broker(rabbitmq.amqp_url)
    logdir = tmp_path_factory.mktemp(f"system-{request.param}")
    system = System(postgres, rabbitmq, _templates, logdir)
    if request.param == "sqlite":
        for name, service in system.services.items():
            url = f"sqlite:///{logdir}/{name}.sqlite3"
            build_runtime(name, url, rabbitmq.amqp_url).engine.dispose()  # as `dps migrate` does
            service.database_url = url
            service.env[f"DPS_{name.upper()}_DATABASE_URL"] = url
    system.start()
    yield system
    system.stop()


@pytest.fixture(scope="module")
def client(running_system):
    return j.Client(urls={name: running_system.url(name) for name in SERVICES}, token=token, wait_timeout=60)


class Stored:
    """Counts of rows in the services' databases, whichever kind they are."""

    def __init__(self, system) -> None:
        self.engines = {name: make_engine(service.database_url) for name, service in system.services.items()}

    def count(self, service: str, table_name: str, *where) -> int:
        table = load_definition(service).metadata.tables[table_name]
        with self.engines[service].connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(table).where(
                *(condition(table) for condition in where))).scalar_one()

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()


def equal(column: str, value):
    return lambda table: table.c[column] == value


@pytest.fixture(scope="module")
def db(running_system):
    stored = Stored(running_system)
    yield stored
    stored.close()


def at_once(base_url: str, requests: list[tuple[str, dict, dict]]) -> list:
    """POST each (path, body, headers) from its own thread and connection, released together."""
    start = threading.Barrier(len(requests))
    answers: list = [None] * len(requests)

    def press(i: int, path: str, body: dict, headers: dict) -> None:
        api = Api(base_url)
        start.wait()
        answers[i] = api.post(path, body, headers)

    threads = [threading.Thread(target=press, args=(i, *request)) for i, request in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return answers


def closed_referral(client, lot: int, offers: list[tuple[j.Provider, int]],
                    decliners: list[j.Provider] = ()) -> j.Referral:
    """Referred, every invited provider answered (offers, or declines), closed early, assessed:
    returns once awards has it."""
    referral = j.refer_child(client, lot=lot)
    answering = {str(p.id) for p, _ in offers} | {str(p.id) for p in decliners}
    assert set(referral.invited) <= answering, "an invited provider would keep the window open"
    for provider in decliners:
        if str(provider.id) in referral.invited:
            j.decline_referral(client, provider, referral, "No place for this child")
    for provider, price in offers:
        j.make_offer(client, provider, referral, unit_price_pence=price)
    j.close_and_assess(client, referral)
    return referral


def test_two_officers_awarding_one_referral_at_once_make_exactly_one_award(running_system, client, db):
    first = j.admit_provider(client, "Race Alder", lots=(3,), capacity=20)
    second = j.admit_provider(client, "Race Birch", lots=(3,), capacity=20)
    for _ in range(ROUNDS):
        referral = closed_referral(client, 3, [(first, 40_000), (second, 42_000)])
        ranked = {e["provider_id"]: e for e in j.ranking(client, referral)["entries"]}
        top, other = ranked[str(first.id)], ranked[str(second.id)]
        assert top["rank"] == 1
        path = f"/v1/referrals/{referral.id}/award"

        answers = at_once(running_system.url("awards"), [
            (path, {"offer_id": top["offer_id"]}, OFFICER),
            (path, {"offer_id": other["offer_id"], "reason": "closer to the child's home", "reason_code": "travel"},
             SECOND_OFFICER)])

        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        won = next(a for a in answers if a.status_code == 201).json()
        lost = next(a for a in answers if a.status_code == 409).json()
        assert "referral_id" in lost["errors"]["json"], lost
        # One award, one placement, one referral marked awarded: by whoever won.
        awards = expect(Api(running_system.url("awards")).get(f"/v1/awards?referral_id={referral.id}", OFFICER),
                        200)
        assert [a["award_id"] for a in awards] == [won["award_id"]]
        j.wait_for_placement(client, won["placement_id"])
        client.wait_for("referrals to mark it awarded",
                        lambda r=referral: j.council_view(client, r)["status"] == "awarded")
        assert db.count("tracking", "placements", equal("referral_id", uuid.UUID(referral.id))) == 1
        assert db.count("awards", "outbox", equal("event_type", "placement.awarded"),
                        lambda table, r=referral: table.c.body.like(f"%{r.id}%")) == 1


def test_two_awards_racing_for_a_providers_last_place_give_it_once(running_system, client, db):
    bus = Bus(running_system.rabbitmq.amqp_url)
    fallback = j.admit_provider(client, "Race Fallback", lots=(2,), capacity=20)
    full: list[j.Provider] = []  # the last-place providers of earlier rounds: they decline
    for round_ in range(ROUNDS):
        last = j.admit_provider(client, f"Race Last Place {round_}", lots=(2,), capacity=1)
        referrals = [closed_referral(client, 2, [(last, 40_000), (fallback, 44_000)], decliners=full)
                     for _ in range(2)]
        offers = []
        for referral in referrals:
            ranked = {e["provider_id"]: e for e in j.ranking(client, referral)["entries"]}
            assert ranked[str(last.id)]["rank"] == 1
            offers.append(ranked)

        answers = at_once(running_system.url("awards"), [
            (f"/v1/referrals/{referral.id}/award", {"offer_id": ranked[str(last.id)]["offer_id"]}, officer)
            for referral, ranked, officer in zip(referrals, offers, (OFFICER, SECOND_OFFICER), strict=True)])

        assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
        loser = next(i for i, a in enumerate(answers) if a.status_code == 422)
        assert answers[loser].json()["errors"]["json"]["offer_id"] == ["no place free: capacity 1, 1 in use"]
        standing = next(m for m in expect(Api(running_system.url("awards")).get("/v1/providers?lot=2", OFFICER), 200)
                        if m["provider_id"] == str(last.id))
        assert (standing["places_in_use"], standing["places_free"]) == (1, 0)
        # The refused referral is awarded to the next offer instead, with a reason.
        j.award(client, referrals[loser], offer_id=offers[loser][str(fallback.id)]["offer_id"],
                reason="the top-ranked provider has no place left")
        assert db.count("tracking", "placements", equal("provider_id", last.id)) == 1
        assert db.count("awards", "awards", equal("provider_id", last.id)) == 1
        full.append(last)
    assert bus.dead_letters("tracking") == [] and bus.dead_letters("referrals") == []

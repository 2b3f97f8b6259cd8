"""The broker or the databases go away in the middle of the journey, on the
whole system as real processes.

- RabbitMQ stopped for 30 seconds and restarted: every request made meanwhile
  is accepted (its events wait in the service's outbox), every event arrives
  once it is back, every service converges, every outbox drains, and nothing
  is applied twice.
- The PostgreSQL cluster stopped for a few seconds: each API says 503 on
  /readyz and answers requests with a clear 503 quickly (no hang); each
  consumer pauses without dead-lettering anything and catches up; each relay
  resumes.
"""

from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager

import pytest
from kombu import Connection, Queue

from demo import journey as j
from shared.catalogue import CATALOGUE, SERVICES
from shared.messaging.topology import service_exchange
from shared.service import load_definition
from tests.support.faults import (
    OFFICER,
    Bus,
    admitted,
    apis,
    databases,
    eventually,
    expect,
    provider_auth,
    status_changed,
)
from tests.support.runtime import token, wait_until

pytestmark = pytest.mark.integration

OUTAGE = 30.0  # seconds, as issue 7 asks
READERS = ("referrals", "awards", "tracking")


# the services that publish events (notifications reads only)
PUBLISHERS = tuple(s for s in SERVICES if any(e.producer == s for e in CATALOGUE.values()))


@pytest.fixture(scope="module")
def client(running_system):
    return j.Client(urls={name: running_system.url(name) for name in SERVICES}, token=token, wait_timeout=60)


@pytest.fixture(scope="module")
def bus(running_system):
    return Bus(running_system.rabbitmq.amqp_url)


@pytest.fixture(scope="module")
def db(running_system):
    found = databases(running_system)
    yield found
    for database in found.values():
        database.close()


@pytest.fixture(scope="module")
def api(running_system):
    return apis(running_system)


@contextmanager
def watching(amqp_url: str):
    """A durable queue bound to every exchange (as a reporting system would bind one): it outlives
    a broker restart, so it holds whatever is published during and after the outage."""
    name = f"test.resilience.watch.{uuid.uuid4().hex[:8]}"
    with Connection(amqp_url) as connection:
        channel = connection.channel()
        queue = Queue(name, durable=True, bindings=[]).bind(channel)
        queue.declare()
        for service in SERVICES:
            exchange = service_exchange(service).bind(channel)
            exchange.declare()
            queue.bind_to(exchange=exchange, routing_key="#")
    received: list[dict] = []

    def drain() -> list[dict]:
        with Connection(amqp_url) as connection:
            queue = Queue(name).bind(connection.channel())
            while (message := queue.get(no_ack=True)) is not None:
                received.append(json.loads(message.body))
        return received

    try:
        yield drain
    finally:
        with Connection(amqp_url) as connection:
            connection.channel().queue_delete(name)


def assert_all_running(system) -> None:
    dead = {f"{name} {role}": process.returncode for name, service in system.services.items()
            for role, process in service.processes.items() if process.poll() is not None}
    assert not dead, f"processes exited: {dead}"


def revive(system) -> None:
    """Restart whatever exited (as a process supervisor would), so that the next test starts whole."""
    for service in system.services.values():
        for role, process in list(service.processes.items()):
            if process.poll() is not None:
                service.start(role)
    system.wait_ready()


def last_positions(db) -> dict[str, int]:
    return {name: int(d.scalar("SELECT coalesce(max(position), 0) FROM outbox")) for name, d in db.items()}


def outbox_since(db, since: dict[str, int]) -> dict[str, list[dict]]:
    return {name: d.rows("SELECT event_id, event_type, published_at FROM outbox WHERE position > :p "
                         "ORDER BY position", p=since[name]) for name, d in db.items()}


def test_rabbitmq_stopped_for_30_seconds_mid_journey_every_event_arrives_and_every_service_converges(
        running_system, client, bus, db, api):
    rabbitmq = running_system.rabbitmq
    # Before the outage: three providers on lot 1, a first child placed, a second referral closed.
    bridges = j.admit_provider(client, "Outage Bridges", lots=(1,), capacity=10)
    oakwood = j.admit_provider(client, "Outage Oakwood", lots=(1,), registered=False, capacity=10)
    harbour = j.admit_provider(client, "Outage Harbour", lots=(1,), capacity=10)
    providers = (bridges, oakwood, harbour)
    first = j.refer_child(client, lot=1)
    for provider, price in zip(providers, (42_000, 38_000, 44_000), strict=True):
        j.make_offer(client, provider, first, unit_price_pence=price)
    j.close_and_assess(client, first)
    placed = j.award(client, first)  # waits for tracking's placement and referrals' "awarded"
    second = j.refer_child(client, lot=1)
    for provider, price in zip(providers, (41_000, 39_000, 43_000), strict=True):
        j.make_offer(client, provider, second, unit_price_pence=price)
    j.close_and_assess(client, second)  # awards has it
    winner = next(p for p in providers if str(p.id) == placed.provider_id)

    with watching(rabbitmq.amqp_url) as drain:
        before = last_positions(db)
        rabbitmq.stop_app()
        stopped = time.monotonic()
        try:
            # The broker is away: every service still takes requests; the events wait in the outboxes.
            # Every web process stays ready (its pods stay in the Service): the outbox holds the events.
            for name in SERVICES:
                ready = api[name].get("/readyz")
                assert ready.status_code == 200, (name, ready.status_code, ready.text)
            # The broker's state is detail of /healthz (checked again at most every 15 s).
            wait_until(lambda: api["referrals"].get("/healthz").json()["checks"]["broker"].startswith("unavailable"),
                       timeout=20, message="/healthz reports the broker unavailable")
            newcomer = j.admit_provider(client, "Outage Newcomer", lots=(1,), capacity=10, wait=False)
            j.suspend_provider(client, harbour, 1, "Insurance certificate expired", wait=False)
            third = j.refer_child(client, lot=1)  # invites from referrals' copy as it stands
            j.make_offer(client, bridges, third, unit_price_pence=40_000)
            awarded = j.award(client, second, wait=False)
            j.start_placement(client, winner, placed.placement_id)
            j.return_attendance(client, winner, placed.placement_id, attended=5)
            waiting = outbox_since(db, before)
            for name in PUBLISHERS:
                assert waiting[name], f"{name} wrote no event during the outage"
                assert all(row["published_at"] is None for row in waiting[name]), name
            # Nothing has reached the other services.
            assert expect(api["referrals"].get(f"/v1/registry/memberships?provider_id={newcomer.id}", OFFICER),
                          200) == []
            assert api["tracking"].get(f"/v1/placements/{awarded.placement_id}", OFFICER).status_code == 404
            time.sleep(max(0.0, OUTAGE - (time.monotonic() - stopped)))  # the outage issue 7 asks for
        finally:
            rabbitmq.start_app()
        try:
            assert_all_running(running_system)  # each consumer and relay waited for the broker
        finally:
            revive(running_system)
        written = outbox_since(db, before)

        # Back: every service converges.
        j.wait_for_membership(client, newcomer, (1,), "admitted")
        j.wait_for_membership(client, harbour, (1,), "suspended")
        j.wait_for_placement(client, awarded.placement_id)
        client.wait_for("referrals to mark the second referral awarded",
                        lambda: j.council_view(client, second)["status"] == "awarded")
        for name in READERS:
            reads = set(load_definition(name).event_handlers())  # what it binds (not e.g. application.*)
            registry_events = [row["event_id"] for row in written["provider_registry"] if row["event_type"] in reads]
            wait_until(lambda n=name, ids=registry_events: db[n].inbox(ids) == len(ids), timeout=60,
                       message=f"{name} applied the registry's events")
        # Invitations follow the registry again: the newcomer is invited, the suspended provider is not.
        fourth = j.refer_child(client, lot=1)
        assert str(newcomer.id) in fourth.invited and str(harbour.id) not in fourth.invited
        assert {str(bridges.id), str(oakwood.id)} <= set(fourth.invited)
        shown = j.placement(client, placed.placement_id)
        assert shown["status"] == "started" and shown["started_on"]
        newcomer_rows = [m for m in expect(api["awards"].get("/v1/providers?lot=1", OFFICER), 200)
                         if m["provider_id"] == str(newcomer.id)]
        assert [m["membership_status"] for m in newcomer_rows] == ["admitted"]
        assert db["tracking"].count("memberships", "provider_id = :p AND status = 'suspended'",
                                    p=str(harbour.id)) == 1

        # Every outbox drains; every event written meanwhile reached the exchanges, once each.
        def drained():
            left = {name: d.unpublished() for name, d in db.items()}
            assert not any(left.values()), left

        eventually(drained, timeout=60, message="every outbox drained")
        expected_ids = {str(r["event_id"]) for rows in written.values() for r in rows}

        def all_arrived():
            got = [e["id"] for e in drain()]
            assert expected_ids <= set(got), sorted(expected_ids - set(got))
            return got

        got = eventually(all_arrived, timeout=30, message="every event on the exchanges")
        types = {e["type"] for e in drain() if e["id"] in expected_ids}
        assert {"membership.admitted", "membership.suspended", "referral.published", "placement.awarded",
                "placement.started", "attendance.recorded", "concern.raised"} <= types
        assert len([i for i in got if i in expected_ids]) == len(expected_ids), "an event published twice"

    # Each consumer recorded every event it reads exactly once; nothing applied twice, nothing dead-lettered.
    for name in READERS:
        reads = set(load_definition(name).event_handlers())
        ids = [row["event_id"] for rows in written.values() for row in rows if row["event_type"] in reads]
        wait_until(lambda n=name, i=ids: db[n].inbox(i) == len(i), timeout=30, message=f"{name} read them all")
        assert bus.dead_letters(name) == []
    assert db["tracking"].count("placements", "referral_id = :r", r=second.id) == 1
    assert db["awards"].count("awards", "referral_id = :r", r=second.id) == 1
    assert db["referrals"].count("memberships", "provider_id = :p", p=str(newcomer.id)) == 1


# -- the databases ----------------------------------------------------------------------------

# One request of each service that needs its database (the token is checked before it is used).
NEEDS_DATABASE = {"provider_registry": ("GET", "/v1/providers"), "referrals": ("GET", "/v1/referrals"),
                  "awards": ("GET", "/v1/referrals"), "tracking": ("GET", "/v1/placements"),
                  "notifications": ("GET", "/v1/preferences")}
BOUNDED = 10.0  # seconds: an answer, not a hang
DATABASE_OUTAGE = 6.0  # seconds (short: the session's cluster holds every suite's databases)


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - started


def test_databases_unavailable_the_apis_say_503_at_once_consumers_pause_and_catch_up_relays_resume(
        running_system, client, bus, db, api):
    postgres = running_system.postgres
    first_provider = j.admit_provider(client, "Outage Riverside", lots=(2,), capacity=10)
    referrals = []
    for _ in range(2):
        referral = j.refer_child(client, lot=2)
        j.make_offer(client, first_provider, referral, unit_price_pence=40_000)
        j.close_and_assess(client, referral)
        referrals.append(referral)
    placed = j.award(client, referrals[0])
    during = uuid.uuid4()
    form = j.application_form(client, "Outage Refused", (2,))

    postgres.pg_ctl("stop")
    stopped = time.monotonic()
    try:
        for name in SERVICES:
            ready, took = timed(api[name].get, "/readyz", timeout=BOUNDED)
            assert ready.status_code == 503 and took < BOUNDED, (name, ready.status_code, took)
            assert ready.json()["checks"]["database"].startswith("unavailable"), ready.json()
            assert "broker" not in ready.json()["checks"], "ready follows the database alone"
            assert api[name].get("/healthz").status_code == 200, "alive, only not ready"
            method, path = NEEDS_DATABASE[name]
            answer, took = timed(api[name].request, method, path, OFFICER, timeout=BOUNDED)
            assert answer.status_code == 503 and took < BOUNDED, (name, answer.status_code, took, answer.text)
            assert answer.json()["message"] == "the service's database is unavailable; try again shortly"
        # A write is refused as clearly, and nothing of it is kept.
        refused, took = timed(api["provider_registry"].post, "/v1/applications", form, provider_auth(uuid.uuid4()),
                              timeout=BOUNDED)
        assert refused.status_code == 503 and took < BOUNDED, (refused.status_code, took)
        # Events keep coming while the databases are away: the consumers cannot apply them yet.
        admission = bus.event("membership.admitted", admitted(during, lot=2, name="Admitted During The Outage"))
        suspension = bus.event("membership.suspended", status_changed(during, lot=2, status="suspended"))
        wait_until(lambda: all(not d.answers() for d in db.values()), timeout=5)
        time.sleep(max(0.0, DATABASE_OUTAGE - (time.monotonic() - stopped)))  # the outage lasts a while
    finally:
        postgres.pg_ctl("start")

    # The consumers caught up: each event applied once, nothing dead-lettered.
    for name in READERS:
        wait_until(lambda n=name: db[n].inbox([admission.id, suspension.id]) == 2, timeout=60,
                   message=f"{name} caught up")
        assert bus.dead_letters(name) == []
    for name in SERVICES:
        wait_until(running_system[name].ready, timeout=30, message=f"{name} ready again")
    copy = expect(api["referrals"].get(f"/v1/registry/memberships?provider_id={during}", OFFICER), 200)
    assert [(m["lot"], m["status"]) for m in copy] == [(2, "suspended")]
    standing = [m for m in expect(api["awards"].get("/v1/providers?lot=2", OFFICER), 200)
                if m["provider_id"] == str(during)]
    assert [m["membership_status"] for m in standing] == ["suspended"]

    # The relays resumed: each service's events flow again.
    j.admit_provider(client, "Outage After", lots=(2,), capacity=10)                  # provider_registry
    j.refer_child(client, lot=2)                                                       # referrals
    j.start_placement(client, first_provider, placed.placement_id)                     # tracking
    j.award(client, referrals[1])                                                      # awards (and tracking)

    def drained():
        left = {name: d.unpublished() for name, d in db.items()}
        assert not any(left.values()), left

    eventually(drained, timeout=30, message="every outbox drained")
    assert_all_running(running_system)

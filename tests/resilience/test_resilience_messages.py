"""Faults in the messages themselves, on the whole system as real processes:

- a consumer killed with SIGKILL while it drains a burst: what it held is
  redelivered, and every effect happens exactly once;
- a poison message on each service's queue: dead-lettered at once with its
  reason (as `dps dead-letters SERVICE` shows it), the valid events behind it
  still flow; replayed after a fix that did not cover it, it is dead-lettered
  again with the same reason, once, while the events after it are applied;
- events arriving out of order: no crash, nothing dead-lettered, the right
  final state.
"""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from datetime import timedelta

import pytest

from demo import journey as j
from shared.catalogue import SERVICES
from shared.events import new_event
from shared.messaging.consumer import replay_dead_letters
from tests.support.faults import (
    OFFICER,
    Bus,
    admitted,
    apis,
    closed_offer,
    databases,
    eventually,
    expect,
    now,
    placement_awarded,
    placement_ended,
    referral_closed,
    status_changed,
)
from tests.support.runtime import token, wait_until
from tests.support.system import DPS, ROOT

pytestmark = pytest.mark.integration

BURST = 200
READERS = ("referrals", "awards", "tracking")  # provider_registry reads nothing, but has its queue


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


@pytest.fixture(scope="module")
def client(running_system):
    return j.Client(urls={name: running_system.url(name) for name in SERVICES}, token=token, wait_timeout=60)


def test_a_consumer_killed_while_draining_a_burst_applies_every_event_exactly_once(running_system, bus, db):
    referrals = running_system["referrals"]
    providers = [uuid.uuid4() for _ in range(BURST)]
    envelopes = [new_event("membership.admitted", admitted(p, lot=3, name=f"Burst {i:03}"), "provider_registry")
                 for i, p in enumerate(providers)]
    ids = [e.id for e in envelopes]
    bus.publish(*envelopes)

    # SIGKILL in the middle of the burst: some handled, most not yet (it holds up to 20 unacked).
    try:
        wait_until(lambda: db["referrals"].inbox(ids) >= 10, timeout=30, interval=0.01,
                   message="the referrals consumer started on the burst")
        referrals.signal("consumer", signal.SIGKILL)
        handled_before_kill = db["referrals"].inbox(ids)
        assert handled_before_kill < BURST, "the consumer finished the burst before it could be killed"
    finally:
        if referrals.processes["consumer"].poll() is not None:
            referrals.start("consumer")

    def every_effect_once():
        ref = db["referrals"]
        assert ref.inbox(ids) == BURST
        assert ref.count("memberships", "CAST(provider_id AS text) = ANY(:ids)",
                         ids=[str(p) for p in providers]) == BURST
        assert ref.count("pricing_schedules", "CAST(provider_id AS text) = ANY(:ids)",
                         ids=[str(p) for p in providers]) == BURST
        assert ref.count("providers", "CAST(provider_id AS text) = ANY(:ids)", ids=[str(p) for p in providers]) \
            == BURST

    eventually(every_effect_once, timeout=60, message="every admission applied once by referrals")
    assert bus.depth("referrals.events") == 0
    assert bus.dead_letters("referrals") == []
    # The other consumers of the same events were never disturbed: once each too.
    for name in ("awards", "tracking"):
        wait_until(lambda name=name: db[name].inbox(ids) == BURST, timeout=60, interval=0.2,
                   message=f"{name} applied the burst")
    # A redelivery of events already applied (as a relay killed before marking its rows sent gives) has no
    # second effect: tracking writes an audit row each time it applies an admission, so a duplicate the inbox
    # missed would show here as a second row.
    redelivered = bus.publish(*envelopes[:20])
    memberships = [f"{p}:3" for p in providers]

    marker = bus.event("membership.admitted", admitted(uuid.uuid4(), lot=3, name="After The Redelivery"))
    wait_until(lambda: db["tracking"].inbox([marker.id]) == 1, timeout=60, message="tracking read past the copies")
    assert db["tracking"].count("audit_log", "action = 'membership.admitted' AND subject_id = ANY(:s)",
                                s=memberships) == BURST, "a redelivered event was applied twice"
    assert db["tracking"].inbox([e.id for e in redelivered]) == len(redelivered)
    assert db["awards"].count("provider_lots", "lot = 3 AND CAST(provider_id AS text) = ANY(:ids)",
                              ids=[str(p) for p in providers]) == BURST
    assert db["tracking"].count("memberships", "lot = 3 AND CAST(provider_id AS text) = ANY(:ids)",
                                ids=[str(p) for p in providers]) == BURST


# -- poison messages ---------------------------------------------------------------------


def dps(running_system, service: str, *args: str) -> list[dict]:
    """The operator's tool: `dps dead-letters SERVICE [...]`, one JSON document a line."""
    env = running_system[service].env
    result = subprocess.run([*DPS, "dead-letters", service, *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def poison_for(service: str) -> dict[str, tuple[str, str]]:
    """message_id -> (body, the start of the reason it must be dead-lettered with)."""
    poison = {str(uuid.uuid4()): ("{this is not json", "undecodable envelope")}
    if service in READERS:
        # A well-formed envelope of a type the service reads, whose data fails its schema.
        data = admitted(uuid.uuid4(), lot=4)
        del data["provider_id"]
        envelope = new_event("membership.admitted", data, "provider_registry")
        poison[str(envelope.id)] = (envelope.to_json(), "invalid data: ")
    return poison


def test_a_poison_message_on_each_queue_is_dead_lettered_with_its_reason_and_the_rest_flow(running_system, bus, db,
                                                                                           api):
    for service in SERVICES:
        bus.purge_dead_letters(service)
    poisons = {service: poison_for(service) for service in SERVICES}
    try:
        poison_flow(running_system, bus, db, api, poisons)
    finally:
        for service in SERVICES:  # the next test starts with no dead letters
            bus.purge_dead_letters(service)


def poison_flow(running_system, bus, db, api, poisons) -> None:
    for service, messages in poisons.items():
        for message_id, (body, _) in messages.items():
            bus.to_queue(service, body, message_id=message_id)
    # Valid events behind the poison: every reader applies them.
    behind = uuid.uuid4()
    admission = bus.event("membership.admitted", admitted(behind, lot=4, name="Behind The Poison"))
    for service in READERS:
        wait_until(lambda s=service: db[s].inbox([admission.id]) == 1, timeout=30,
                   message=f"{service} applied the event behind the poison")
    copy = expect(api["referrals"].get(f"/v1/registry/memberships?provider_id={behind}", OFFICER), 200)
    assert [(m["lot"], m["status"]) for m in copy] == [(4, "admitted")]

    def dead_lettered(service: str, operator: bool = False) -> dict[str, dict]:
        found = dps(running_system, service) if operator else bus.dead_letters(service)
        letters = {d["message_id"]: d for d in found}
        assert set(letters) == set(poisons[service]), (service, letters)
        return letters

    for service, messages in poisons.items():
        eventually(lambda s=service: dead_lettered(s), timeout=30, message=f"{service} dead letters")
        letters = dead_lettered(service, operator=True)  # as `dps dead-letters SERVICE` prints them
        for message_id, (body, reason) in messages.items():
            letter = letters[message_id]
            assert letter["reason"].startswith(reason), (service, letter)
            assert letter["attempts"] == 1, "a poison message is never retried"
            assert letter["body"] == body, "dead-lettered as it came"
            if reason.startswith("invalid data"):
                assert "provider_id" in letter["reason"], "the reason names the field"
        assert bus.depth(f"{service}.events") == 0
        # Nothing of the poison was applied.
        if service in READERS:
            ids = [i for i, (_, r) in messages.items() if r.startswith("invalid")]
            assert db[service].inbox(ids) == 0

    # Replayed (after a fix that did not cover them): back on the queue, dead-lettered again with the
    # same reason, once each; what comes after them still flows.
    for service in SERVICES:
        # `dps dead-letters SERVICE --replay --limit N` (without a limit replay_dead_letters may keep moving
        # what the consumer dead-letters anew: see test_replaying_dead_letters_moves_each_once)
        count = len(poisons[service])
        assert replay_dead_letters(service, running_system.rabbitmq.amqp_url, limit=count) == count
    after = uuid.uuid4()
    admission = bus.event("membership.admitted", admitted(after, lot=4, name="After The Replay"))
    for service in READERS:
        wait_until(lambda s=service: db[s].inbox([admission.id]) == 1, timeout=30,
                   message=f"{service} applied the event after the replay")
    for service, messages in poisons.items():
        letters = eventually(lambda s=service: dead_lettered(s), timeout=30, message=f"{service} dead letters")
        for message_id, (_, reason) in messages.items():
            assert letters[message_id]["reason"].startswith(reason)
            assert letters[message_id]["attempts"] == 1


def test_replaying_dead_letters_moves_each_once(running_system, bus):
    service, count = "provider_registry", 20
    bus.purge_dead_letters(service)
    for i in range(count):
        bus.to_queue(service, f"not json {i}")
    wait_until(lambda: bus.depth(f"{service}.events.dead") == count, timeout=30,
               message="the poison dead-lettered")

    try:
        # bounded (5 x count), or the moves might go on for as long as the consumer keeps up
        moved = replay_dead_letters(service, running_system.rabbitmq.amqp_url, limit=5 * count)
        wait_until(lambda: bus.depth(f"{service}.events.dead") == count, timeout=30,
                   message="the replayed poison dead-lettered again")
    finally:
        bus.purge_dead_letters(service)
    assert moved == count, f"{moved} moves for {count} dead letters"


# -- events out of order ---------------------------------------------------------------------


def test_a_suspension_that_overtakes_the_admission_leaves_the_provider_suspended_everywhere(running_system, bus,
                                                                                          db, api, client):
    late, reinstated = uuid.uuid4(), uuid.uuid4()
    t = now()
    sent = [
        # `late`: suspended at t, but that news arrives before its admission an hour earlier.
        bus.event("membership.suspended", status_changed(late, lot=2, status="suspended", at=t)),
        bus.event("membership.admitted", admitted(late, lot=2, at=t - timedelta(hours=1))),
        # `reinstated`: admitted, suspended, reinstated; the reinstatement overtakes the suspension.
        bus.event("membership.admitted", admitted(reinstated, lot=2, at=t - timedelta(hours=2))),
        bus.event("membership.reinstated", status_changed(reinstated, lot=2, status="admitted", at=t)),
        bus.event("membership.suspended", status_changed(reinstated, lot=2, status="suspended",
                                                         at=t - timedelta(hours=1))),
    ]
    for name in READERS:
        wait_until(lambda n=name: db[n].inbox([e.id for e in sent]) == len(sent), timeout=30,
                   message=f"{name} applied them all")
        assert bus.dead_letters(name) == []
    expected = {str(late): "suspended", str(reinstated): "admitted"}
    for provider, status in expected.items():
        copy = expect(api["referrals"].get(f"/v1/registry/memberships?provider_id={provider}", OFFICER), 200)
        assert [(m["lot"], m["status"]) for m in copy] == [(2, status)], provider
        assert db["tracking"].count("memberships", "provider_id = :p AND lot = 2 AND status = :s",
                                    p=provider, s=status) == 1
    standing = {m["provider_id"]: m["membership_status"]
                for m in expect(api["awards"].get("/v1/providers?lot=2", OFFICER), 200)}
    assert {p: standing[p] for p in expected} == expected
    # What the officer sees next: a referral on lot 2 goes to the reinstated provider, not the suspended one.
    referral = j.refer_child(client, lot=2)
    assert str(reinstated) in referral.invited and str(late) not in referral.invited


def test_an_offer_from_a_provider_awards_has_not_heard_of_yet_becomes_eligible_when_it_does(running_system, bus,
                                                                                            db, api):
    newcomer, referral_id = uuid.uuid4(), uuid.uuid4()
    offer = closed_offer(newcomer, lot=1, unit_price=3_000)
    # The closed referral (from referrals) overtakes the provider's admission (from the registry).
    closing = bus.event("referral.closed", referral_closed(referral_id, [offer], lot=1))
    wait_until(lambda: db["awards"].inbox([closing.id]) == 1, timeout=30, message="awards has the referral")
    [entry] = expect(api["awards"].get(f"/v1/referrals/{referral_id}/ranking", OFFICER), 200)["entries"]
    assert entry["eligible"] is False and entry["rank"] is None, entry

    admission = bus.event("membership.admitted", admitted(newcomer, lot=1, capacity=1, name="Late News Ltd"))
    wait_until(lambda: db["awards"].inbox([admission.id]) == 1, timeout=30, message="awards has the admission")
    [entry] = expect(api["awards"].get(f"/v1/referrals/{referral_id}/ranking", OFFICER), 200)["entries"]
    assert entry["eligible"] is True and entry["rank"] == 1, entry
    made = expect(api["awards"].post(f"/v1/referrals/{referral_id}/award", {"offer_id": offer["offer_id"]},
                                     OFFICER), 201)
    shown = eventually(lambda: expect(api["tracking"].get(f"/v1/placements/{made['placement_id']}", OFFICER), 200),
                       timeout=30, message="tracking shows the placement")
    assert shown["provider_id"] == str(newcomer) and shown["provider_name"] == "Late News Ltd"

    # Tracking's news that a placement ended frees the place; news of one awards never made changes nothing.
    def places_in_use() -> int:
        return next(m["places_in_use"] for m in expect(api["awards"].get("/v1/providers?lot=1", OFFICER), 200)
                    if m["provider_id"] == str(newcomer))

    assert places_in_use() == 1
    unknown = bus.event("placement.ended", placement_ended(uuid.uuid4(), newcomer, lot=1))
    ended = bus.event("placement.ended", placement_ended(made["placement_id"], newcomer, lot=1))
    wait_until(lambda: db["awards"].inbox([unknown.id, ended.id]) == 2, timeout=30, message="awards heard")
    assert places_in_use() == 0
    for name in READERS:
        assert bus.dead_letters(name) == []


def test_a_suspension_that_overtakes_a_placement_flags_it_when_it_arrives(running_system, bus, db, api):
    provider = uuid.uuid4()
    bus.event("membership.admitted", admitted(provider, lot=2, at=now() - timedelta(days=30), name="Crossed Wires"))
    suspended = bus.event("membership.suspended", status_changed(provider, lot=2, status="suspended",
                                                                 reason="Safeguarding concern", name="Crossed Wires"))
    # The award was made before the suspension, but its event comes later (another exchange).
    award = placement_awarded(provider, lot=2, at=now() - timedelta(minutes=5))
    awarded = bus.event("placement.awarded", award)
    wait_until(lambda: db["tracking"].inbox([suspended.id, awarded.id]) == 2, timeout=30, message="tracking heard")
    shown = expect(api["tracking"].get(f"/v1/placements/{award['placement_id']}", OFFICER), 200)
    assert shown["flagged_for_review"] is True
    assert "suspended from lot 2" in shown["review_flags"][0]["reason"]
    assert "Safeguarding concern" in shown["review_flags"][0]["reason"]
    assert bus.dead_letters("tracking") == []


def test_a_cancellation_that_overtakes_the_closing_stands(running_system, bus, db, api):
    provider, referral_id = uuid.uuid4(), uuid.uuid4()
    admission = bus.event("membership.admitted", admitted(provider, lot=1, name="Cancelled Too"))
    cancelled = bus.event("referral.cancelled", {"referral_id": str(referral_id), "reason": "The family moved away",
                                                 "at": now().isoformat()})
    offer = closed_offer(provider, lot=1)
    closing = bus.event("referral.closed", referral_closed(referral_id, [offer], lot=1,
                                                           at=now() - timedelta(hours=1)))
    wait_until(lambda: db["awards"].inbox([admission.id, cancelled.id, closing.id]) == 3, timeout=30,
               message="awards heard")
    [row] = [r for r in expect(api["awards"].get("/v1/referrals", OFFICER), 200)
             if r["referral_id"] == str(referral_id)]
    assert row["state"] == "cancelled"
    refused = api["awards"].post(f"/v1/referrals/{referral_id}/award", {"offer_id": offer["offer_id"]}, OFFICER)
    assert refused.status_code == 409, refused.text
    assert bus.dead_letters("awards") == []

"""The messaging backbone on the real RabbitMQ, with each service's database on
SQLite (the default) and on PostgreSQL: outbox, relay, inbox, retries, dead
letters and replay.

The consumer under test is the tracking service's, given handlers of our own
whose effect is a row in a table of the test's: the mechanics are shared, so
any service would do."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
import sqlalchemy as sa
from kombu import Connection, Producer
from marshmallow import Schema, fields

from shared.events import new_event
from shared.messaging.consumer import EventConsumer, RetryLater, peek_dead_letters, replay_dead_letters
from shared.messaging.relay import wait_until_drained
from shared.messaging.topology import dead_letter_queue_name, service_exchange
from tests.support.runtime import TEST_RETRY_DELAYS, build_runtime, wait_until

pytestmark = pytest.mark.integration

EFFECTS = sa.Table("test_effects", sa.MetaData(), sa.Column("event_id", sa.Uuid, primary_key=True),
                   sa.Column("n", sa.Integer))


class AwardData(Schema):
    n = fields.Integer(required=True)


def _effects(runtime) -> int:
    with runtime.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(EFFECTS)).scalar_one()


def _record_effect(uow, envelope):
    data = AwardData().load(envelope.data)  # bad data -> ValidationError -> dead letter
    uow.session.execute(EFFECTS.insert().values(event_id=envelope.id, n=data["n"]))


@pytest.fixture(params=["sqlite", "postgresql"])
def on(request, tmp_path, broker):
    """on(service) -> a migrated Runtime on SQLite (the default) or PostgreSQL, on the test broker."""
    made = []

    def make(name: str):
        if request.param == "sqlite":
            runtime = build_runtime(name, f"sqlite:///{tmp_path}/{name}.sqlite3", broker)
        else:
            runtime = build_runtime(name, request.getfixturevalue("database")(name), broker, migrate=False)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.engine.dispose()


@pytest.fixture
def awards(on):
    """The awards service publishes (its relay)..."""
    return on("awards")


@pytest.fixture
def tracking(on):
    """...and tracking consumes, with our recording handler."""
    runtime = on("tracking")
    EFFECTS.create(runtime.engine)
    return runtime


def _consumer(runtime, handler=_record_effect) -> EventConsumer:
    s = runtime.settings
    return EventConsumer("tracking", runtime.session_factory, runtime.inbox_table, runtime.outbox,
                         {"placement.awarded": handler}, s.amqp_url, retry_delays=s.retry_delays)


class Running:
    def __init__(self, *workers):
        self.workers = workers
        self.threads = [threading.Thread(target=w.run, daemon=True) for w in workers]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        for w in self.workers:
            w.stop()
        for t in self.threads:
            t.join(timeout=15)


def _publish_raw(amqp_url: str, body: str | bytes, routing_key: str = "placement.awarded") -> None:
    with Connection(amqp_url, transport_options={"confirm_publish": True}) as connection:
        exchange = service_exchange("awards")
        Producer(connection.channel(), exchange=exchange).publish(
            body, routing_key=routing_key, content_type="application/json", delivery_mode=2, declare=[exchange])


def _write_events(runtime, count: int, commit: bool = True) -> None:
    with runtime.unit_of_work() as uow:
        for i in range(count):
            uow.publish("placement.awarded", {"n": i})
        if commit:
            uow.commit()


def _declare(tracking) -> None:
    """Bind tracking's queue before anything is published (as a deployed system has)."""
    consumer = _consumer(tracking)
    with Connection(tracking.settings.amqp_url) as connection:
        from shared.messaging.topology import declare_consumer_topology

        declare_consumer_topology(connection.channel(), "tracking", list(consumer.handlers),
                                  consumer.retry_delays, False)


# -- outbox ------------------------------------------------------------------------

def test_event_in_a_rolled_back_transaction_is_never_published(awards, tracking, events):
    waiter = events(("dps.awards", "#"))
    _write_events(awards, 1, commit=False)
    _write_events(awards, 1, commit=True)  # a committed one, to know when the relay has run
    relay = awards.relay()
    assert relay.publish_batch() == 1
    relay.close()
    received = waiter.wait_for(lambda e: e["type"] == "placement.awarded")
    waiter._drain(0.5)
    assert len(waiter.received) == 1 and received[0]["data"] == {"n": 0}
    with awards.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(awards.outbox_table)).scalar_one() == 1


def test_a_committed_event_wakes_the_relay_and_a_rolled_back_one_does_not(service):
    import psycopg

    from shared.messaging.outbox import NOTIFY_CHANNEL

    awards = service("awards")  # NOTIFY: PostgreSQL only (on SQLite the relay polls)

    url = awards.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        _write_events(awards, 2, commit=False)
        assert list(listener.notifies(timeout=0.5, stop_after=1)) == []
        _write_events(awards, 2, commit=True)
        assert [n.channel for n in listener.notifies(timeout=5, stop_after=1)] == [NOTIFY_CHANNEL]
    with awards.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(awards.outbox_table)).scalar_one() == 2


def test_envelope_carries_id_type_version_time_producer_and_correlation(awards, events):
    waiter = events(("dps.awards", "placement.awarded"))
    _write_events(awards, 1)
    relay = awards.relay()
    relay.publish_batch()
    relay.close()
    envelope = waiter.wait_for()[0]
    assert set(envelope) >= {"id", "type", "version", "occurred_at", "producer", "correlation_id", "causation_id",
                             "data"}
    uuid.UUID(envelope["id"])
    assert envelope["producer"] == "awards" and envelope["version"] == 1
    assert envelope["occurred_at"].endswith("+00:00")


def test_relay_killed_between_publish_and_mark_has_one_effect(awards, tracking):
    _declare(tracking)
    _write_events(awards, 1)
    relay = awards.relay()
    original = relay._mark_published

    def killed(*_args):
        raise RuntimeError("relay killed before marking the row sent")

    relay._mark_published = killed
    with pytest.raises(RuntimeError):
        relay.publish_batch()
    relay._mark_published = original
    assert relay.publish_batch() == 1  # the same row again, on "restart"
    relay.close()
    consumer = _consumer(tracking)
    with Running(consumer):
        wait_until(lambda: consumer.handled >= 2, message="both copies handled")
    assert _effects(tracking) == 1


def test_burst_of_1000_events_survives_a_broker_restart(awards, tracking, rabbitmq):
    _declare(tracking)
    relay, consumer = awards.relay(), _consumer(tracking)
    with Running(relay, consumer):
        for _ in range(5):
            _write_events(awards, 100)
        wait_until(lambda: _effects(tracking) > 0, message="first events through")
        rabbitmq.stop_app()
        for _ in range(5):  # committed while the broker is away: they wait in the outbox
            _write_events(awards, 100)
        rabbitmq.start_app()
        assert wait_until_drained(awards.engine, awards.outbox_table, timeout=60)
        wait_until(lambda: _effects(tracking) >= 1000, timeout=60, message="all 1000 effects")
    assert _effects(tracking) == 1000


# -- inbox ---------------------------------------------------------------------------

def test_same_event_delivered_twice_has_one_effect(tracking):
    _declare(tracking)
    body = new_event("placement.awarded", {"n": 7}, "awards").to_json()
    _publish_raw(tracking.settings.amqp_url, body)
    _publish_raw(tracking.settings.amqp_url, body)
    consumer = _consumer(tracking)
    with Running(consumer):
        wait_until(lambda: consumer.handled >= 2, message="both deliveries handled")
    assert _effects(tracking) == 1


def test_poison_messages_are_dead_lettered_with_reason_and_others_keep_flowing(tracking):
    _declare(tracking)
    url = tracking.settings.amqp_url
    _publish_raw(url, b"{not json")
    _publish_raw(url, new_event("placement.awarded", {"n": "seven"}, "awards").to_json())
    _publish_raw(url, new_event("placement.awarded", {"n": 8}, "awards").to_json())
    consumer = _consumer(tracking)
    with Running(consumer):
        wait_until(lambda: consumer.handled >= 3, message="three messages settled")
    assert _effects(tracking) == 1
    letters = peek_dead_letters("tracking", url)
    reasons = sorted(letter["reason"] for letter in letters)
    assert len(letters) == 2
    assert reasons[0].startswith("invalid data") and "n" in reasons[0]
    assert reasons[1].startswith("undecodable envelope")


def _commits(runtime) -> list[int]:
    seen: list[int] = []
    sa.event.listen(runtime.engine, "commit", lambda _connection: seen.append(1))
    return seen


def test_a_waiting_burst_is_applied_in_batches_each_event_once(tracking):
    _declare(tracking)
    url = tracking.settings.amqp_url
    bodies = [new_event("placement.awarded", {"n": i}, "awards").to_json() for i in range(60)]
    for body in bodies + bodies[:5]:  # five redelivered: no second effect
        _publish_raw(url, body)
    commits = _commits(tracking)
    consumer = _consumer(tracking)
    with Running(consumer):
        wait_until(lambda: consumer.handled >= 65, message="the burst settled")
    assert _effects(tracking) == 60
    assert len(commits) < 30, f"{len(commits)} transactions for 65 messages: not batched"
    with tracking.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(tracking.inbox_table)).scalar_one() == 60


def test_a_poison_message_in_a_batch_is_dead_lettered_alone_and_the_rest_of_the_batch_applied(tracking):
    _declare(tracking)
    url = tracking.settings.amqp_url
    for i in range(10):
        _publish_raw(url, new_event("placement.awarded", {"n": i}, "awards").to_json())
    _publish_raw(url, new_event("placement.awarded", {"n": "eleven"}, "awards").to_json())
    for i in range(10, 20):
        _publish_raw(url, new_event("placement.awarded", {"n": i}, "awards").to_json())
    consumer = _consumer(tracking)
    with Running(consumer):
        wait_until(lambda: consumer.handled >= 21, message="every message settled")
    assert _effects(tracking) == 20
    [letter] = peek_dead_letters("tracking", url)
    assert letter["reason"].startswith("invalid data")


def test_transiently_failing_handler_succeeds_on_a_later_retry(tracking):
    _declare(tracking)
    calls = []

    def flaky(uow, envelope):
        calls.append(envelope.id)
        if len(calls) < 3:
            raise RetryLater("referral not here yet")
        _record_effect(uow, envelope)

    _publish_raw(tracking.settings.amqp_url, new_event("placement.awarded", {"n": 1}, "awards").to_json())
    consumer = _consumer(tracking, flaky)
    with Running(consumer):
        wait_until(lambda: _effects(tracking) == 1, timeout=20, message="effect after retries")
    assert len(calls) == 3
    assert peek_dead_letters("tracking", tracking.settings.amqp_url) == []


def test_dead_letters_replay_after_a_fix(tracking):
    _declare(tracking)
    fixed = threading.Event()

    def broken_until_fixed(uow, envelope):
        if not fixed.is_set():
            raise RuntimeError("bug in handler")
        _record_effect(uow, envelope)

    url = tracking.settings.amqp_url
    _publish_raw(url, new_event("placement.awarded", {"n": 1}, "awards").to_json())
    consumer = _consumer(tracking, broken_until_fixed)
    with Running(consumer):
        wait_until(lambda: len(peek_dead_letters("tracking", url)) == 1, timeout=20, message="dead-lettered")
        letter = peek_dead_letters("tracking", url)[0]
        assert "bug in handler" in letter["reason"] and letter["attempts"] == len(TEST_RETRY_DELAYS) + 1
        fixed.set()
        assert replay_dead_letters("tracking", url) == 1
        wait_until(lambda: _effects(tracking) == 1, message="effect after replay")
    assert peek_dead_letters("tracking", url) == []
    assert dead_letter_queue_name("tracking") == "tracking.events.dead"
    json.dumps(letter)

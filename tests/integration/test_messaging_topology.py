"""The messaging edges on the real RabbitMQ, with the outbox on SQLite (the
default) and PostgreSQL:

- `dps migrate` declares every exchange, queue and binding up front: an event
  published before its consumer ever ran waits in its queue;
- an event no queue is bound for is kept in `dps.<service>.unrouted` (the
  exchange's alternate exchange), where operators read and replay it;
- an exchange declared by an older version (no alternate exchange) still works;
- retry hops keep the original exchange and routing key; reading dead letters
  leaves the queue as it was;
- published messages carry timestamp, app_id and correlation_id;
- an idle relay keeps its connection with heartbeats;
- the relay and the consumer count what they do (Prometheus), and each handled
  event leaves one log line."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
import uuid

import amqp
import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Producer, Queue

from shared import cli
from shared.events import new_event
from shared.messaging import metrics
from shared.messaging import relay as relay_module
from shared.messaging.consumer import EventConsumer, peek_dead_letters, replay_dead_letters
from shared.messaging.topology import (
    dead_letter_queue_name,
    declare_consumer_topology,
    service_exchange,
    unrouted_name,
)
from tests.support.runtime import TEST_RETRY_DELAYS, build_runtime, wait_until
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def runtimes(request, tmp_path, broker):
    """runtimes(service) -> a migrated Runtime on SQLite or PostgreSQL, on the test broker."""
    made = []

    def make(service: str):
        if request.param == "sqlite":
            runtime = build_runtime(service, f"sqlite:///{tmp_path}/{service}.sqlite3", broker)
        else:
            runtime = build_runtime(service, request.getfixturevalue("database")(service), broker, migrate=False)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.engine.dispose()


def _write(runtime, type_: str, data: dict, count: int = 1) -> None:
    with runtime.unit_of_work() as uow:
        for _ in range(count):
            uow.publish(type_, data)
        uow.commit()


def _publish_all(runtime) -> int:
    relay = runtime.relay()
    try:
        return relay.publish_batch()
    finally:
        relay.close()


def _depth(amqp_url: str, queue: str) -> int:
    with Connection(amqp_url) as connection:
        return connection.channel().queue_declare(queue, passive=True).message_count


def _take_all(amqp_url: str, queue: str) -> list:
    taken = []
    with Connection(amqp_url) as connection:
        source = Queue(queue, no_declare=True).bind(connection.channel())
        while (message := source.get(no_ack=True)) is not None:
            taken.append(message)
    return taken


# -- declared up front -------------------------------------------------------------------

def test_migrate_declares_the_queues_so_an_event_published_before_its_consumer_ran_waits(runtimes, monkeypatch):
    awards, tracking = runtimes("awards"), runtimes("tracking")
    monkeypatch.setenv("DPS_AMQP_URL", tracking.settings.amqp_url)
    monkeypatch.setenv("DPS_TRACKING_DATABASE_URL", tracking.settings.database_url)
    assert cli.main(["migrate", "tracking"]) == 0  # what `make run` and a deployment run first
    _write(awards, "placement.awarded", {"n": 1})
    assert _publish_all(awards) == 1
    [message] = _take_all(awards.settings.amqp_url, "tracking.events")  # no tracking consumer ever ran
    assert json.loads(message.body)["type"] == "placement.awarded"


def test_an_event_no_queue_is_bound_for_is_kept_and_an_operator_can_read_and_replay_it(runtimes):
    awards = runtimes("awards")
    url = awards.settings.amqp_url
    _write(awards, "block_contract.awarded", {"contract_id": "c-1"}, count=2)
    assert _publish_all(awards) == 2
    wait_until(lambda: _depth(url, unrouted_name("awards")) == 2, message="kept in the unrouted queue")
    letters = peek_dead_letters("awards", url, source=unrouted_name("awards"))
    assert [json.loads(letter["body"])["type"] for letter in letters] == ["block_contract.awarded"] * 2
    assert {letter["original_routing_key"] for letter in letters} == {"block_contract.awarded"}
    assert _depth(url, unrouted_name("awards")) == 2, "reading took them"
    # A reader binds later (a reporting system); the operator replays what it missed.
    with Connection(url) as connection:
        channel = connection.channel()
        reader = Queue("test.topology.reader", durable=False, auto_delete=False,
                       exchange=service_exchange("awards", declare=False), routing_key="block_contract.*")
        reader.bind(channel).declare()
        try:
            assert replay_dead_letters("awards", url, source=unrouted_name("awards")) == 2
            wait_until(lambda: _depth(url, "test.topology.reader") == 2, message="the reader got the replay")
            assert _depth(url, unrouted_name("awards")) == 0
        finally:
            channel.queue_delete("test.topology.reader")


def test_an_exchange_declared_by_an_older_version_is_still_used(runtimes, caplog):
    awards = runtimes("awards")
    url = awards.settings.amqp_url
    with Connection(url) as connection:  # as an older version declared it: no alternate exchange
        Exchange("dps.awards", type="topic", durable=True).bind(connection.channel()).declare()
        reader = Queue("test.topology.old", exchange=Exchange("dps.awards", type="topic", durable=True,
                                                                no_declare=True), routing_key="#")
        reader.bind(connection.channel()).declare()
    try:
        _write(awards, "placement.awarded", {"n": 1})
        with caplog.at_level(logging.WARNING, logger="shared.messaging.topology"):
            assert _publish_all(awards) == 1
        assert _depth(url, "test.topology.old") == 1
        assert any("without its alternate exchange" in r.getMessage() for r in caplog.records)
    finally:
        with Connection(url) as connection:
            connection.channel().queue_delete("test.topology.old")


# -- hops and reading -------------------------------------------------------------------

def _tracking_consumer(runtime, handler) -> EventConsumer:
    return EventConsumer("tracking", runtime.session_factory, runtime.inbox_table, runtime.outbox,
                         {"placement.awarded": handler}, runtime.settings.amqp_url, retry_delays=TEST_RETRY_DELAYS)


def test_every_retry_hop_keeps_the_exchange_and_routing_key_the_event_was_published_with(runtimes):
    awards, tracking = runtimes("awards"), runtimes("tracking")
    tracking.declare_topology()

    def broken(uow, envelope):
        raise RuntimeError("bug in handler")

    _write(awards, "placement.awarded", {"n": 1})
    assert _publish_all(awards) == 1
    consumer = _tracking_consumer(tracking, broken)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: _depth(tracking.settings.amqp_url, dead_letter_queue_name("tracking")) == 1,
                   timeout=20, message="dead-lettered after the retries")
    finally:
        consumer.stop()
        thread.join(10)
    [letter] = _take_all(tracking.settings.amqp_url, dead_letter_queue_name("tracking"))
    assert letter.headers["x-dps-attempt"] == len(TEST_RETRY_DELAYS) + 1
    assert letter.headers["x-dps-original-exchange"] == "dps.awards"
    assert letter.headers["x-dps-original-routing-key"] == "placement.awarded"


@pytest.mark.parametrize("quorum", [False, True])
def test_reading_dead_letters_leaves_the_same_messages_in_the_same_order(broker, quorum):
    with Connection(broker) as connection:
        declare_consumer_topology(connection.channel(), "tracking", ["placement.awarded"], TEST_RETRY_DELAYS, quorum)
    queue = dead_letter_queue_name("tracking")
    ids = [str(uuid.uuid4()) for _ in range(6)]
    with Connection(broker, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection.channel())
        for i, message_id in enumerate(ids):
            producer.publish(f"letter {i}", exchange="", routing_key=queue, message_id=message_id,
                             headers={"x-dps-reason": f"reason {i}", "x-dps-attempt": 1}, delivery_mode=2)
    assert [letter["message_id"] for letter in peek_dead_letters("tracking", broker, limit=3)] == ids[:3]
    assert [letter["message_id"] for letter in peek_dead_letters("tracking", broker)] == ids
    assert [letter["message_id"] for letter in peek_dead_letters("tracking", broker, limit=4)] == ids[:4]
    assert [m.properties["message_id"] for m in _take_all(broker, queue)] == ids


# -- what a published message carries ------------------------------------------------------

def test_a_published_message_carries_timestamp_app_id_and_correlation_id(runtimes):
    awards = runtimes("awards")
    url = awards.settings.amqp_url
    with Connection(url) as connection:
        Exchange("dps.awards", type="topic", durable=True,
                 arguments={"alternate-exchange": unrouted_name("awards")}).bind(connection.channel()).declare()
        Queue("test.topology.raw", exchange=service_exchange("awards", declare=False),
              routing_key="#").bind(connection.channel()).declare()
    try:
        before = int(time.time())
        _write(awards, "placement.awarded", {"n": 1})
        assert _publish_all(awards) == 1
        [message] = _take_all(url, "test.topology.raw")
        envelope = json.loads(message.body)
        props = message.properties
        assert props["app_id"] == "awards"
        assert props["correlation_id"] == envelope["correlation_id"]
        assert props["message_id"] == envelope["id"] and props["type"] == "placement.awarded"
        stamp = props["timestamp"]
        stamp = stamp.timestamp() if hasattr(stamp, "timestamp") else stamp
        assert before - 5 <= stamp <= time.time() + 5
    finally:
        with Connection(url) as connection:
            connection.channel().queue_delete("test.topology.raw")


# -- heartbeats -----------------------------------------------------------------------------

def test_an_idle_relay_keeps_its_connection_with_heartbeats(runtimes, monkeypatch):
    heartbeat = 2
    awards = runtimes("awards")
    monkeypatch.setattr(relay_module, "broker_connection",
                        lambda url, **_: Connection(url, transport_options={"confirm_publish": True},
                                                    heartbeat=heartbeat, connect_timeout=5))
    sent: list[float] = []
    original = amqp.Connection.send_heartbeat

    def counting(self):
        sent.append(time.monotonic())
        return original(self)

    monkeypatch.setattr(amqp.Connection, "send_heartbeat", counting)
    relay = awards.relay()
    reconnects: list[int] = []
    drop = relay._drop_connection
    relay._drop_connection = lambda: (reconnects.append(1), drop())[1]
    thread = threading.Thread(target=relay.run, daemon=True)
    _write(awards, "placement.awarded", {"n": 1})
    thread.start()
    try:
        wait_until(lambda: relay._connection is not None and _unsent(awards) == 0, message="first event out")
        connection = relay._connection
        idle_from = time.monotonic()
        # idle for more than three heartbeat intervals: the relay must have sent heartbeats meanwhile
        wait_until(lambda: len(sent) >= 3 and time.monotonic() - idle_from > 3 * heartbeat, timeout=20,
                   message="heartbeats sent while idle")
        _write(awards, "placement.awarded", {"n": 2})
        wait_until(lambda: _unsent(awards) == 0, timeout=5, message="published after the idle time")
        assert relay._connection is connection and reconnects == [], "the relay had to reconnect"
    finally:
        relay.stop()
        thread.join(10)


def _unsent(runtime) -> int:
    with runtime.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(runtime.outbox_table)
                         .where(runtime.outbox_table.c.published_at.is_(None))).scalar_one()


# -- metrics and the log line -----------------------------------------------------------------

def _sample(name: str, **labels) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def test_the_relay_serves_what_it_published_and_the_outbox_backlog(runtimes):
    awards = runtimes("awards")
    port = free_port()
    metrics.serve(port, metrics.OutboxBacklog("awards", awards.engine, awards.outbox_table), host="127.0.0.1")
    before = _sample("dps_events_published_total", service="awards", event_type="placement.awarded")
    _write(awards, "placement.awarded", {"n": 1}, count=3)
    text = _scrape(port)
    assert 'dps_outbox_unsent_rows{service="awards"} 3.0' in text
    age = next(line for line in text.splitlines() if line.startswith("dps_outbox_oldest_unsent_age_seconds"))
    assert 0 <= float(age.split()[-1]) < 60
    assert _publish_all(awards) == 3
    text = _scrape(port)
    assert 'dps_outbox_unsent_rows{service="awards"} 0.0' in text
    assert _sample("dps_events_published_total", service="awards", event_type="placement.awarded") == before + 3


def test_the_consumer_counts_outcomes_and_logs_one_line_per_event_without_the_payload(runtimes, caplog):
    tracking = runtimes("tracking")
    tracking.declare_topology()
    url = tracking.settings.amqp_url
    secret = "Jane Doe 2012-03-04"
    good = new_event("placement.awarded", {"n": 1, "name": secret}, "awards")
    bad = new_event("placement.awarded", {"n": 2, "name": secret}, "awards")
    applied = []

    def handler(uow, envelope):
        if envelope.id == bad.id:
            from shared.errors import InvalidInput
            raise InvalidInput("not a lot", field="lot")
        applied.append(envelope.id)

    labels = {"service": "tracking", "event_type": "placement.awarded"}
    before = {name: _sample(name, **labels) for name in ("dps_events_duplicates_total",
                                                        "dps_events_dead_lettered_total",
                                                        "dps_event_handler_seconds_count")}
    done_before = _sample("dps_events_handled_total", outcome="done", **labels)
    with Connection(url, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection.channel())
        for envelope in (good, good, bad):
            producer.publish(envelope.to_json(), exchange="", routing_key="tracking.events",
                             message_id=str(envelope.id), type=envelope.type, delivery_mode=2)
    consumer = _tracking_consumer(tracking, handler)
    consumer.prefetch = 1  # one at a time: each on its own path
    with caplog.at_level(logging.INFO, logger="shared.messaging.consumer"):
        thread = threading.Thread(target=consumer.run, daemon=True)
        thread.start()
        try:
            wait_until(lambda: consumer.handled >= 3, message="three settled")
        finally:
            consumer.stop()
            thread.join(10)
    assert _sample("dps_events_handled_total", outcome="done", **labels) == done_before + 1
    assert _sample("dps_events_duplicates_total", **labels) == before["dps_events_duplicates_total"] + 1
    assert _sample("dps_events_dead_lettered_total", **labels) == before["dps_events_dead_lettered_total"] + 1
    assert _sample("dps_event_handler_seconds_count", **labels) == before["dps_event_handler_seconds_count"] + 2
    depth = {m.name: m.samples[0].value for m in metrics.QueueDepths("tracking", url).collect()}
    assert depth["dps_dead_letter_queue_depth"] == 1
    lines = [r for r in caplog.records if r.name == "shared.messaging.consumer" and r.getMessage().startswith("event ")]
    assert [(r.event_id, r.outcome) for r in lines] == [(str(good.id), "done"), (str(good.id), "duplicate"),
                                                       (str(bad.id), "dead_lettered")]
    for record in lines:
        assert record.event_type == "placement.awarded" and record.ms >= 0
        assert secret not in json.dumps(record.__dict__, default=str)


def test_dps_relay_and_consumer_serve_their_metrics_on_the_port_they_are_given(runtimes):
    import os
    import subprocess

    from tests.support.system import DPS, ROOT

    awards = runtimes("awards")
    _write(awards, "placement.awarded", {"n": 1}, count=2)
    env = {**os.environ, "DPS_AMQP_URL": awards.settings.amqp_url, "DPS_AWARDS_DATABASE_URL":
           awards.settings.database_url, "DPS_JWT_SECRET": awards.settings.jwt_secret or "x" * 32}
    ports = {"relay": free_port(), "consumer": free_port()}
    processes = {role: subprocess.Popen([*DPS, role, "awards", "--metrics-port", str(port)], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for role, port in ports.items()}
    try:
        def scraped(role: str, line: str) -> bool:
            try:
                return line in _scrape(ports[role])
            except OSError:
                return False

        wait_until(lambda: scraped("relay", 'dps_events_published_total{event_type="placement.awarded",'
                                            'service="awards"} 2.0'), timeout=30, message="relay metrics")
        assert scraped("relay", 'dps_outbox_unsent_rows{service="awards"} 0.0')
        wait_until(lambda: scraped("consumer", 'dps_dead_letter_queue_depth{service="awards"} 0.0'), timeout=30,
                   message="consumer metrics")
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(15)

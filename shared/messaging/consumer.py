"""The consumer: one queue per service, an inbox for idempotency, a retry
ladder of TTL queues, and a dead-letter queue.

For each message:
- it cannot be decoded, or its data fails the handler's schema: dead-lettered
  at once with the reason (a poison message is never retried, never dropped);
- its event id is already in the inbox: acked, no second effect;
- otherwise the handler runs and the event id is recorded in the same database
  transaction, then the message is acked;
- the handler fails: what that means is one rule (`outcome_of`):
  - a domain refusal (a DPSError of shared.errors, a 4xx in the API: the
    council's rules refuse this data) or PoisonMessage: dead-lettered at once
    with the reason, since retrying cannot change the answer;
  - RetryLater (not yet, e.g. it depends on an event still on its way): the
    retry ladder;
  - anything else (a bug, a lock timeout): the retry ladder, whose TTL sends
    it back later; after the last delay it is dead-lettered;
- the database is unreachable: the message is returned to the queue and the
  consumer pauses until the database answers, so nothing is dead-lettered for
  an outage.

Every hop keeps the exchange and routing key the event was first published
with (`x-dps-original-exchange`, `x-dps-original-routing-key`).  Each settled
message leaves one log line (type, id, outcome, milliseconds; never the
payload) and is counted in the metrics (shared.messaging.metrics).

Messages that are already waiting are applied several at a time, in one
transaction (each claimed in the inbox with its effect): under a burst the
round trips of a transaction are paid once per batch.  If any message of a
batch fails, nothing of the batch is kept and each is handled again on its
own, so every outcome above stays per message.
"""


from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from kombu import Producer, Queue
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from shared import context
from shared.db import insert_for, utcnow
from shared.errors import DPSError
from shared.events import Envelope
from shared.messaging import metrics
from shared.messaging.outbox import Outbox
from shared.messaging.relay import BROKER_ERRORS, broker_connection
from shared.messaging.topology import (
    dead_letter_queue_name,
    declare_consumer_topology,
    queue_name,
    retry_queue_name,
)
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[["UnitOfWork", Envelope], None]
"""A handler applies one event through the unit of work it is given; it never
commits (the consumer commits the effect and the inbox row together)."""


def reading(schema: Schema, command: Callable[[UnitOfWork, dict], object]) -> Handler:
    """The one consumer adapter: the event's data through the service's own
    schema of what it reads (fields it does not know are its to ignore), then
    the command.  Data that fails the schema is dead-lettered with the reason."""

    def handle(uow: UnitOfWork, envelope: Envelope) -> None:
        command(uow, schema.load(envelope.data))

    handle.__name__ = getattr(command, "__name__", "handle")
    return handle

ATTEMPT_HEADER = "x-dps-attempt"
REASON_HEADER = "x-dps-reason"
ORIGINAL_EXCHANGE_HEADER = "x-dps-original-exchange"
ORIGINAL_ROUTING_KEY_HEADER = "x-dps-original-routing-key"


class PoisonMessage(Exception):
    """The message can never be handled as it is: dead-letter it now."""


class RetryLater(Exception):
    """Not yet (e.g. an event that arrived before the one it depends on): the retry ladder."""


class Action(StrEnum):
    """What became of a message."""

    DONE = "done"  # applied, with its inbox row
    DUPLICATE = "duplicate"  # its event id was in the inbox: no second effect
    IGNORED = "ignored"  # no handler here for its type
    RETRY = "retry"  # failed: to the next retry queue, or dead after the last
    DEAD = "dead"  # can never be handled as it is: to the dead-letter queue now
    REQUEUE = "requeue"  # the database is away: back to the queue, the consumer pauses


@dataclass(frozen=True)
class Outcome:
    action: Action
    reason: str = ""
    # what the message was and how long it took: for the log line and the metrics, not for equality
    event_type: str | None = field(default=None, compare=False)
    event_id: str | None = field(default=None, compare=False)
    seconds: float = field(default=0.0, compare=False)
    trace: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", Action(self.action))


def _database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, sa.exc.DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError)
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return f"invalid data: {json.dumps(exc.messages, default=str)}"
    if isinstance(exc, DPSError):
        fields = f" {json.dumps(exc.field_errors, default=str)}" if exc.field_errors else ""
        return f"refused ({type(exc).__name__}): {exc.message}{fields}"
    return f"{type(exc).__name__}: {exc}"


def outcome_of(exc: BaseException) -> Outcome:
    """The one rule for a handler that raised (see the module's docstring)."""
    if isinstance(exc, (PoisonMessage, ValidationError)):
        return Outcome("dead", _reason(exc))
    if isinstance(exc, DPSError) and exc.status < 500:
        return Outcome("dead", _reason(exc))  # the council's rules refuse it: retrying cannot help
    if _database_unavailable(exc):
        return Outcome("requeue", _reason(exc))
    if isinstance(exc, RetryLater):
        return Outcome("retry", _reason(exc))
    return Outcome("retry", _reason(exc), trace=traceback.format_exc(limit=5))


class EventConsumer:
    def __init__(self, service: str, session_factory: sessionmaker[Session], inbox: sa.Table, outbox: Outbox,
                 handlers: dict[str, Handler], amqp_url: str, *, retry_delays: tuple[float, ...] = (1, 5, 30),
                 quorum: bool = False, prefetch: int = 20, clock: Callable[[], datetime] = utcnow,
                 unit_of_work: Callable[[Session], UnitOfWork] | None = None) -> None:
        self.service = service
        # builds the service's unit of work on the consumer's session (Runtime.unit_of_work_around)
        self.unit_of_work = unit_of_work
        self.session_factory = session_factory
        self.inbox = inbox
        self.outbox = outbox
        self.handlers = handlers
        self.amqp_url = amqp_url
        self.retry_delays = retry_delays
        self.quorum = quorum
        self.prefetch = prefetch
        self.clock = clock
        self.stopping = threading.Event()
        self.handled = 0  # messages settled (any outcome), for tests and logs

    # -- deciding what a message means; no broker here -----------------------
    def handle(self, body: bytes | str) -> Outcome:
        started = time.perf_counter()
        try:
            envelope = Envelope.from_json(body)
        except (ValueError, ValidationError, TypeError) as exc:
            return Outcome("dead", f"undecodable envelope: {_reason(exc)}", seconds=time.perf_counter() - started)
        about = {"event_type": envelope.type, "event_id": str(envelope.id)}
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return Outcome("ignored", f"no handler for {envelope.type}", **about)
        session = self.session_factory()
        try:
            with context.bound(request=None, correlation=envelope.correlation_id, causation=str(envelope.id)):
                if not self._claim(session, envelope):
                    return Outcome("duplicate", **about, seconds=time.perf_counter() - started)
                self._apply(handler, session, envelope)
                session.commit()
                return Outcome("done", **about, seconds=time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - outcome_of says what each failure means
            failed = outcome_of(exc)
            return Outcome(failed.action, failed.reason, **about, seconds=time.perf_counter() - started,
                           trace=failed.trace)
        finally:
            session.rollback()
            session.close()

    def handle_batch(self, bodies: list[bytes | str]) -> list[Outcome] | None:
        """Apply several messages in one transaction, in order; their outcomes
        (done, duplicate or ignored), or None if any of them failed in any way:
        then nothing of the batch was kept and each must be handled on its own."""
        session = self.session_factory()
        outcomes: list[Outcome] = []
        try:
            for body in bodies:
                started = time.perf_counter()
                envelope = Envelope.from_json(body)
                about = {"event_type": envelope.type, "event_id": str(envelope.id)}
                handler = self.handlers.get(envelope.type)
                if handler is None:
                    outcomes.append(Outcome("ignored", f"no handler for {envelope.type}", **about))
                    continue
                with context.bound(request=None, correlation=envelope.correlation_id, causation=str(envelope.id)):
                    if not self._claim(session, envelope):
                        outcomes.append(Outcome("duplicate", **about, seconds=time.perf_counter() - started))
                        continue
                    self._apply(handler, session, envelope)
                outcomes.append(Outcome("done", **about, seconds=time.perf_counter() - started))
            session.commit()
            return outcomes
        except Exception:  # noqa: BLE001 - whatever it was, each message is handled again alone
            return None
        finally:
            session.rollback()
            session.close()

    def _apply(self, handler: Handler, session: Session, envelope: Envelope) -> None:
        """The handler's effect, with what its aggregates' events become
        (outbox, audit), in the consumer's transaction."""
        uow = (self.unit_of_work(session) if self.unit_of_work is not None
               else UnitOfWork.around(session, self.outbox, self.clock))
        handler(uow, envelope)
        uow.collect()

    def _claim(self, session: Session, envelope: Envelope) -> bool:
        """Record the event id in the inbox; False if it is already there.

        One statement: a duplicate (redelivered, or taken by another consumer
        of this queue, which waits for its commit) claims nothing.  Whether a
        row was inserted is read from RETURNING (SQLite >= 3.35, PostgreSQL),
        never from the driver's rowcount: psycopg 3 reports -1 for an
        INSERT .. ON CONFLICT DO NOTHING."""
        claim = insert_for(session, self.inbox).values(
            event_id=envelope.id, consumer=self.service, event_type=envelope.type, received_at=utcnow(),
        ).on_conflict_do_nothing().returning(self.inbox.c.event_id)
        return session.execute(claim).first() is not None

    # -- the loop --------------------------------------------------------------
    def run(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                self._consume()
                backoff = 0.5
            except BROKER_ERRORS as exc:
                log.warning("broker unavailable; consumer reconnects", extra={"error": str(exc), "retry_in": backoff})
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10)
        log.info("consumer stopped")

    def stop(self) -> None:
        self.stopping.set()

    def _consume(self) -> None:
        pending: deque = deque()
        with broker_connection(self.amqp_url) as connection:
            connection.ensure_connection(max_retries=1)
            channel = connection.channel()
            queue = declare_consumer_topology(channel, self.service, list(self.handlers), self.retry_delays,
                                              self.quorum)
            publisher = Producer(connection.channel())
            # Deliveries are only queued here: a confirm wait on the publishing
            # channel may deliver more, and handlers must never run re-entrantly.
            consumer = connection.Consumer(queue, channel=channel, on_message=pending.append,
                                           prefetch_count=self.prefetch)
            with consumer:
                log.info("consumer started", extra={"queue": queue_name(self.service),
                                                    "event_types": sorted(self.handlers)})
                while not self.stopping.is_set():
                    if not pending:
                        try:
                            connection.drain_events(timeout=1)
                        except TimeoutError:
                            connection.heartbeat_check()
                            continue
                    self._gather(connection, pending)
                    while pending and not self.stopping.is_set():
                        batch = [pending.popleft() for _ in range(min(len(pending), self.prefetch))]
                        if not self._settle_batch(batch, publisher):
                            # database down: give back everything we hold and pause
                            for held in pending:
                                held.requeue()
                            pending.clear()
                            consumer.cancel()
                            self._wait_for_database()
                            return

    def _gather(self, connection, pending: deque) -> None:
        """Take in the deliveries already on their way (up to the prefetch),
        without waiting for more than a moment."""
        while len(pending) < self.prefetch:
            before = len(pending)
            try:
                connection.drain_events(timeout=0.001)
            except TimeoutError:
                return
            if len(pending) == before:
                return

    def _settle_batch(self, batch: list, publisher: Producer) -> bool:
        """Settle a batch: together when it can be, else one by one.  False when
        the database is down (the messages not settled were requeued)."""
        outcomes = self.handle_batch([message.body for message in batch]) if len(batch) > 1 else None
        if outcomes is not None:
            for message, outcome in zip(batch, outcomes, strict=True):
                self.handled += 1
                message.ack()
                self._settled(message, outcome, outcome.action)
            return True
        for i, message in enumerate(batch):
            if not self._settle(message, publisher):
                for held in batch[i + 1:]:
                    held.requeue()
                return False
        return True

    def _settle(self, message, publisher: Producer) -> bool:
        outcome = self.handle(message.body)
        self.handled += 1
        if outcome.action in ("done", "duplicate", "ignored"):
            message.ack()
            self._settled(message, outcome, outcome.action)
            return True
        if outcome.action == "requeue":
            message.requeue()
            self._settled(message, outcome, "requeued")
            return False
        headers = message.headers or {}
        attempt = int(headers.get(ATTEMPT_HEADER, 0))
        if outcome.action == "retry" and attempt < len(self.retry_delays):
            target, settled = retry_queue_name(self.service, self.retry_delays[attempt]), "retried"
        else:
            target, settled = dead_letter_queue_name(self.service), "dead_lettered"
        headers = {**headers, ATTEMPT_HEADER: attempt + 1, REASON_HEADER: outcome.reason[:1000],
                   "x-dps-failed-at": utcnow().isoformat(),
                   # where it was first published: a retry hop comes back by the default exchange
                   ORIGINAL_ROUTING_KEY_HEADER: headers.get(ORIGINAL_ROUTING_KEY_HEADER)
                   or message.delivery_info.get("routing_key"),
                   ORIGINAL_EXCHANGE_HEADER: headers.get(ORIGINAL_EXCHANGE_HEADER)
                   or message.delivery_info.get("exchange")}
        publisher.publish(message.body, exchange="", routing_key=target, headers=headers, delivery_mode=2,
                          content_type=message.content_type or "application/json",
                          content_encoding=message.content_encoding or "utf-8",
                          **_kept_properties(message), retry=False)
        message.ack()  # only after the broker confirmed the copy
        self._settled(message, outcome, settled, attempt=attempt + 1, target=target)
        return True

    def _settled(self, message, outcome: Outcome, settled: str, **more) -> None:
        """The one log line of a settled message, and its metrics."""
        event_type = outcome.event_type or message.properties.get("type")
        event_id = outcome.event_id or message.properties.get("message_id")
        kind = metrics.label(event_type)
        metrics.HANDLED.labels(self.service, kind, settled).inc()
        if outcome.action in ("done", "duplicate"):
            metrics.HANDLER_SECONDS.labels(self.service, kind).observe(outcome.seconds)
        if settled == "duplicate":
            metrics.DUPLICATES.labels(self.service, kind).inc()
        elif settled == "retried":
            metrics.RETRIED.labels(self.service, kind).inc()
        elif settled == "dead_lettered":
            metrics.DEAD_LETTERED.labels(self.service, kind).inc()
        extra = {"event_type": event_type, "event_id": event_id, "outcome": settled,
                 "ms": round(outcome.seconds * 1000, 2), **more}
        if outcome.reason:
            extra["reason"] = outcome.reason[:1000]
        if outcome.trace:
            extra["trace"] = outcome.trace
        level = logging.WARNING if settled in ("retried", "dead_lettered", "requeued") else logging.INFO
        log.log(level, "event %s", settled, extra=extra)

    def _wait_for_database(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                with self.session_factory() as session:
                    session.execute(sa.text("SELECT 1"))
                log.info("database reachable again; consumer resumes")
                return
            except sa.exc.SQLAlchemyError:
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10)


def _kept_properties(message) -> dict:
    """The AMQP properties a message keeps on every hop (retry, dead letter, replay)."""
    props = message.properties
    return {name: props[name] for name in ("message_id", "type", "app_id", "correlation_id", "timestamp")
            if props.get(name) is not None}


def replay_dead_letters(service: str, amqp_url: str, limit: int | None = None,
                        source: str | None = None) -> int:
    """Move dead letters back to the service's queue (after a fix); returns how many.

    Only the letters there when it starts are moved: one that fails again and
    comes back meanwhile waits for the next replay, so this always ends.

    With `source` another queue is replayed the same way: the unrouted queue
    `dps.<service>.unrouted` is replayed onto the service's exchange with each
    event's own routing key (so whatever is bound by now receives it)."""
    from shared.messaging.topology import dead_letter_queue_name as dead_name
    from shared.messaging.topology import unrouted_name

    queue = source or dead_name(service)
    unrouted = queue == unrouted_name(service)
    moved = 0
    with broker_connection(amqp_url) as connection:
        channel = connection.channel()
        publisher = Producer(channel)
        depth = channel.queue_declare(queue, passive=True).message_count
        to_move = depth if limit is None else min(limit, depth)
        taken = Queue(queue, no_declare=True).bind(channel)  # get() never declares
        while moved < to_move:
            message = taken.get(no_ack=False)
            if message is None:
                break
            headers = dict(message.headers or {})
            if unrouted:
                exchange, routing_key = message.delivery_info.get("exchange"), message.delivery_info["routing_key"]
                if not exchange:
                    raise RuntimeError(f"a message in {queue} without its exchange")
                headers["x-dps-replayed-at"] = utcnow().isoformat()
            else:
                exchange, routing_key = "", queue_name(service)
                headers = {k: v for k, v in headers.items() if not k.startswith("x-dps-")
                           or k in (ORIGINAL_EXCHANGE_HEADER, ORIGINAL_ROUTING_KEY_HEADER)}
                headers["x-dps-replayed-at"] = utcnow().isoformat()
            publisher.publish(message.body, exchange=exchange, routing_key=routing_key, headers=headers,
                              delivery_mode=2, content_type=message.content_type or "application/json",
                              content_encoding=message.content_encoding or "utf-8",
                              **_kept_properties(message), retry=False)
            message.ack()
            moved += 1
    return moved


def peek_dead_letters(service: str, amqp_url: str, limit: int = 50, source: str | None = None) -> list[dict]:
    """Read dead letters (or, with `source`, another of the service's queues)
    without taking them: the queue keeps the same messages in the same order.

    Every message of the queue is consumed unacknowledged (only the first
    `limit` are reported) and the channel is then closed, which gives them all
    back at once and in order (RabbitMQ marks them redelivered; nothing else
    changes).  basic.get then reject one by one returns each on its own, and a
    quorum queue puts a returned message behind the ones still there: reading
    part of the queue that way reorders it."""
    queue = source or dead_letter_queue_name(service)
    seen: list[dict] = []
    with broker_connection(amqp_url) as connection:
        depth = connection.channel().queue_declare(queue, passive=True).message_count
        if min(limit, depth) == 0:
            return []
        wanted = min(depth, 65535)  # the most a channel may hold unacknowledged
        channel = connection.channel()
        held: list = []
        reader = connection.Consumer(Queue(queue, no_declare=True), channel=channel, on_message=held.append,
                                     prefetch_count=wanted, no_ack=False)
        reader.consume()
        deadline = time.monotonic() + 10
        while len(held) < wanted and time.monotonic() < deadline:
            try:
                connection.drain_events(timeout=1)
            except TimeoutError:
                break
        for message in held[:limit]:
            headers = message.headers or {}
            body = message.body
            seen.append({"message_id": message.properties.get("message_id"),
                         "type": message.properties.get("type"),
                         "reason": headers.get(REASON_HEADER),
                         "attempts": headers.get(ATTEMPT_HEADER),
                         "original_exchange": headers.get(ORIGINAL_EXCHANGE_HEADER)
                         or message.delivery_info.get("exchange"),
                         "original_routing_key": headers.get(ORIGINAL_ROUTING_KEY_HEADER)
                         or message.delivery_info.get("routing_key"),
                         "body": body.decode("utf-8", "replace") if isinstance(body, bytes) else body})
        channel.close()  # not acked: every message goes back where it was
    return seen


def wait_for(predicate: Callable[[], bool], timeout: float = 10, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()

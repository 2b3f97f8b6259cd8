"""The consumer: one queue per service, an inbox for idempotency, a retry
ladder of TTL queues, and a dead-letter queue.

For each message:
- it cannot be decoded, or its data fails the handler's schema: dead-lettered
  at once with the reason (a poison message is never retried, never dropped);
- its event id is already in the inbox: acked, no second effect;
- otherwise the handler runs and the event id is recorded in the same database
  transaction, then the message is acked;
- the handler fails: the message goes to the next retry queue, whose TTL
  sends it back later; after the last delay it is dead-lettered;
- the database is unreachable: the message is returned to the queue and the
  consumer pauses until the database answers, so nothing is dead-lettered for
  an outage.

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
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from kombu import Producer
from marshmallow import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from shared import context
from shared.db import insert_for, utcnow
from shared.events import Envelope
from shared.messaging.outbox import Outbox
from shared.messaging.relay import BROKER_ERRORS, broker_connection
from shared.messaging.topology import (
    dead_letter_queue,
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

ATTEMPT_HEADER = "x-dps-attempt"
REASON_HEADER = "x-dps-reason"


class PoisonMessage(Exception):
    """The message can never be handled as it is: dead-letter it now."""


class RetryLater(Exception):
    """Not yet (e.g. an event that arrived before the one it depends on)."""


@dataclass(frozen=True)
class Outcome:
    action: str  # done | duplicate | ignored | retry | dead | requeue
    reason: str = ""


def _database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, sa.exc.DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError)
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return f"invalid data: {json.dumps(exc.messages, default=str)}"
    return f"{type(exc).__name__}: {exc}"


class EventConsumer:
    def __init__(self, service: str, session_factory: sessionmaker[Session], inbox: sa.Table, outbox: Outbox,
                 handlers: dict[str, Handler], amqp_url: str, *, retry_delays: tuple[float, ...] = (1, 5, 30),
                 quorum: bool = False, prefetch: int = 20, clock: Callable[[], datetime] = utcnow) -> None:
        self.service = service
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
        try:
            envelope = Envelope.from_json(body)
        except (ValueError, ValidationError, TypeError) as exc:
            return Outcome("dead", f"undecodable envelope: {_reason(exc)}")
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return Outcome("ignored", f"no handler for {envelope.type}")
        session = self.session_factory()
        try:
            with context.bound(request=None, correlation=envelope.correlation_id, causation=str(envelope.id)):
                # One statement claims the event id: a duplicate (redelivered, or taken
                # by another consumer of this queue, which waits for its commit) claims nothing.
                claimed = session.execute(self._claim(session, envelope)).rowcount
                if not claimed:
                    return Outcome("duplicate")
                handler(UnitOfWork.around(session, self.outbox, self.clock), envelope)
                session.commit()
                return Outcome("done")
        except (PoisonMessage, ValidationError) as exc:
            return Outcome("dead", _reason(exc))
        except Exception as exc:  # noqa: BLE001 - every other failure is retried, then dead-lettered
            if _database_unavailable(exc):
                return Outcome("requeue", _reason(exc))
            log.warning("handler failed", extra={"event_type": envelope.type, "event_id": str(envelope.id),
                                                 "error": _reason(exc), "trace": traceback.format_exc(limit=5)})
            return Outcome("retry", _reason(exc))
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
                envelope = Envelope.from_json(body)
                handler = self.handlers.get(envelope.type)
                if handler is None:
                    outcomes.append(Outcome("ignored", f"no handler for {envelope.type}"))
                    continue
                with context.bound(request=None, correlation=envelope.correlation_id, causation=str(envelope.id)):
                    if not session.execute(self._claim(session, envelope)).rowcount:
                        outcomes.append(Outcome("duplicate"))
                        continue
                    handler(UnitOfWork.around(session, self.outbox, self.clock), envelope)
                outcomes.append(Outcome("done"))
            session.commit()
            return outcomes
        except Exception:  # noqa: BLE001 - whatever it was, each message is handled again alone
            return None
        finally:
            session.rollback()
            session.close()

    def _claim(self, session: Session, envelope: Envelope):
        return insert_for(session, self.inbox).values(
            event_id=envelope.id, consumer=self.service, event_type=envelope.type, received_at=utcnow(),
        ).on_conflict_do_nothing()

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
                if outcome.action != "done":
                    log.info("message %s", outcome.action,
                             extra={"message_id": message.properties.get("message_id"), "reason": outcome.reason})
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
            if outcome.action != "done":
                log.info("message %s", outcome.action, extra={"message_id": message.properties.get("message_id"),
                                                             "reason": outcome.reason})
            return True
        if outcome.action == "requeue":
            log.warning("database unavailable; message returned to the queue", extra={"error": outcome.reason})
            message.requeue()
            return False
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0))
        if outcome.action == "retry" and attempt < len(self.retry_delays):
            target = retry_queue_name(self.service, self.retry_delays[attempt])
        else:
            target = dead_letter_queue_name(self.service)
        headers = {**(message.headers or {}), ATTEMPT_HEADER: attempt + 1, REASON_HEADER: outcome.reason[:1000],
                   "x-dps-failed-at": utcnow().isoformat(),
                   "x-dps-original-routing-key": message.delivery_info.get("routing_key"),
                   "x-dps-original-exchange": message.delivery_info.get("exchange")}
        publisher.publish(message.body, exchange="", routing_key=target, headers=headers, delivery_mode=2,
                          content_type=message.content_type or "application/json",
                          content_encoding=message.content_encoding or "utf-8",
                          message_id=message.properties.get("message_id"), retry=False)
        message.ack()  # only after the broker confirmed the copy
        log.warning("message sent to %s", target, extra={"reason": outcome.reason, "attempt": attempt + 1})
        return True

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


def replay_dead_letters(service: str, amqp_url: str, limit: int | None = None) -> int:
    """Move dead letters back to the service's queue (after a fix); returns how many.

    Only the letters there when it starts are moved: one that fails again and
    comes back meanwhile waits for the next replay, so this always ends."""
    moved = 0
    with broker_connection(amqp_url) as connection:
        channel = connection.channel()
        publisher = Producer(channel)
        depth = channel.queue_declare(dead_letter_queue_name(service), passive=True).message_count
        to_move = depth if limit is None else min(limit, depth)
        source = dead_letter_queue(service, quorum=False).bind(channel)  # get() never declares
        while moved < to_move:
            message = source.get(no_ack=False)
            if message is None:
                break
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-dps-")}
            headers["x-dps-replayed-at"] = utcnow().isoformat()
            publisher.publish(message.body, exchange="", routing_key=queue_name(service), headers=headers,
                              delivery_mode=2, content_type=message.content_type or "application/json",
                              content_encoding=message.content_encoding or "utf-8",
                              message_id=message.properties.get("message_id"), retry=False)
            message.ack()
            moved += 1
    return moved


def peek_dead_letters(service: str, amqp_url: str, limit: int = 50) -> list[dict]:
    """Read dead letters without removing them (they are requeued)."""
    seen = []
    with broker_connection(amqp_url) as connection:
        channel = connection.channel()
        source = dead_letter_queue(service, quorum=False).bind(channel)
        held = []
        while len(held) < limit:
            message = source.get(no_ack=False)
            if message is None:
                break
            held.append(message)
            seen.append({"message_id": message.properties.get("message_id"),
                         "reason": (message.headers or {}).get(REASON_HEADER),
                         "attempts": (message.headers or {}).get(ATTEMPT_HEADER),
                         "body": message.body.decode("utf-8", "replace") if isinstance(message.body, bytes)
                         else message.body})
        for message in held:
            message.requeue()
    return seen


def wait_for(predicate: Callable[[], bool], timeout: float = 10, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()

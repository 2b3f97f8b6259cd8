"""The outbox relay: publishes committed outbox rows to the service's exchange
with publisher confirms, then marks them published.

A crash between the confirm and the mark publishes the row again on restart:
delivery is at least once and consumers dedupe by event id (the inbox).  On
PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED, so several relays of
one service never publish the same row at the same time.

Each message carries the envelope as its body and, as AMQP properties, the
event id (message_id), type, the time it was written (timestamp), the
publishing service (app_id) and the conversation (correlation_id), so tools
that read properties (the management UI, tracing) need not parse the body.
While it waits for work the relay reads the broker's heartbeats and sends its
own, so an idle relay keeps its connection (RabbitMQ drops a client that
misses two heartbeats)."""

from __future__ import annotations

import json
import logging
import threading
import time

import sqlalchemy as sa
from kombu import Connection, Producer
from sqlalchemy.engine import Engine

from shared.db import utcnow
from shared.messaging import metrics
from shared.messaging.outbox import NOTIFY_CHANNEL
from shared.messaging.topology import declare_exchanges, service_exchange

log = logging.getLogger(__name__)

BROKER_ERRORS: tuple[type[BaseException], ...]


def _broker_errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError

    probe = Connection("amqp://")
    # ensure_connection wraps "connection refused" in kombu's OperationalError
    return tuple(probe.connection_errors) + tuple(probe.channel_errors) + (OSError, OperationalError)


BROKER_ERRORS = _broker_errors()


HEARTBEAT_SECONDS = 30


def broker_connection(amqp_url: str, heartbeat: float = HEARTBEAT_SECONDS) -> Connection:
    # confirm_publish: basic_publish returns only when the broker has the message.
    # heartbeat: whoever holds the connection must service it (heartbeat_check) while idle.
    return Connection(amqp_url, transport_options={"confirm_publish": True}, heartbeat=heartbeat,
                      connect_timeout=5)


class OutboxRelay:
    def __init__(self, service: str, engine: Engine, outbox: sa.Table, amqp_url: str, *,
                 batch_size: int = 200, poll_interval: float = 0.05) -> None:
        self.service = service
        self.engine = engine
        self.outbox = outbox
        self.amqp_url = amqp_url
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.stopping = threading.Event()
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._listener = None  # a psycopg connection LISTENing for commits (PostgreSQL)

    # -- broker -----------------------------------------------------------
    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            connection = broker_connection(self.amqp_url)
            connection.ensure_connection(max_retries=1)
            # the exchange, its alternate exchange and that one's queue: nothing confirmed is dropped
            declare_exchanges(connection, [self.service])
            self._connection = connection
            self._producer = Producer(connection.channel(), exchange=service_exchange(self.service, declare=False))
        return self._producer

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - already broken; we only tidy up
                pass
        self._connection = None
        self._producer = None

    def close(self) -> None:
        self._drop_connection()

    # -- one pass ------------------------------------------------------------
    def publish_batch(self) -> int:
        """Publish up to batch_size unpublished rows; return how many were sent."""
        producer = self._ensure_producer()
        table = self.outbox
        published: list[int] = []
        failure: BaseException | None = None
        with self.engine.connect() as connection:
            with connection.begin():
                rows = connection.execute(
                    sa.select(table.c.position, table.c.event_id, table.c.event_type, table.c.body,
                              table.c.created_at)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.position)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                ).all()
                for row in rows:
                    try:
                        producer.publish(
                            row.body,
                            routing_key=row.event_type,
                            content_type="application/json",
                            content_encoding="utf-8",
                            delivery_mode=2,
                            message_id=str(row.event_id),
                            type=row.event_type,
                            app_id=self.service,
                            timestamp=int(row.created_at.timestamp()),
                            correlation_id=_correlation_id(row.body),
                            retry=False,
                        )
                    except BROKER_ERRORS as exc:
                        failure = exc
                        break
                    published.append(row.position)
                    metrics.PUBLISHED.labels(self.service, metrics.label(row.event_type)).inc()
                # Mark what the broker confirmed, even when a later publish failed.
                if published:
                    self._mark_published(connection, published)
        if failure is not None:
            raise failure
        return len(published)

    def _mark_published(self, connection, positions: list[int]) -> None:
        connection.execute(
            self.outbox.update().where(self.outbox.c.position.in_(positions)).values(published_at=utcnow())
        )

    def keep_alive(self) -> None:
        """Read what the broker sent (its heartbeats) and send ours when due;
        called between waits, so an idle connection stays open.  Raises a
        broker error if the broker is gone (the loop reconnects)."""
        if self._connection is None:
            return
        try:
            self._connection.drain_events(timeout=0.001)
        except TimeoutError:
            pass
        self._connection.heartbeat_check()

    # -- waiting for work ------------------------------------------------------
    def _wait_for_work(self) -> None:
        """On PostgreSQL, sleep until a commit NOTIFYs (polling each second as a
        fallback); elsewhere poll every poll_interval."""
        if self.engine.dialect.name != "postgresql":
            self.stopping.wait(self.poll_interval)
            return
        try:
            if self._listener is None:
                import psycopg

                url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._listener = psycopg.connect(url, autocommit=True, connect_timeout=5)
                self._listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            for _ in self._listener.notifies(timeout=1.0, stop_after=1):
                pass
        except Exception as exc:  # noqa: BLE001 - fall back to polling; reconnect next time
            log.warning("outbox notifications unavailable; polling", extra={"error": str(exc)})
            self._close_listener()
            self.stopping.wait(self.poll_interval)

    def _close_listener(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
        self._listener = None

    # -- the loop ------------------------------------------------------------
    def run(self) -> None:
        backoff = 0.5
        log.info("outbox relay started", extra={"exchange": f"dps.{self.service}"})
        while not self.stopping.is_set():
            try:
                sent = self.publish_batch()
                backoff = 0.5
                if sent < self.batch_size:
                    self._wait_for_work()
                    self.keep_alive()
            except BROKER_ERRORS as exc:
                log.warning("broker unavailable; outbox rows wait", extra={"error": str(exc), "retry_in": backoff})
                self._drop_connection()
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10)
            except sa.exc.SQLAlchemyError as exc:
                log.warning("database unavailable; relay waits", extra={"error": str(exc), "retry_in": backoff})
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10)
        self.close()
        self._close_listener()
        log.info("outbox relay stopped")

    def stop(self) -> None:
        self.stopping.set()


def _correlation_id(body: str) -> str | None:
    try:
        return json.loads(body).get("correlation_id")
    except (ValueError, AttributeError):
        return None


def wait_until_drained(engine: Engine, outbox: sa.Table, timeout: float = 10) -> bool:
    """True once every outbox row is published (for tests and shutdown)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            left = connection.execute(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            ).scalar_one()
        if left == 0:
            return True
        time.sleep(0.05)
    return False

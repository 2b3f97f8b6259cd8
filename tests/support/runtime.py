"""Building services against the test servers: settings, runtimes, apps,
workers running in threads, tokens, and a waiter for events on the exchanges."""

from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace

from kombu import Connection, Queue

from shared.auth import mint_token
from shared.config import load_settings
from shared.messaging.topology import service_exchange
from shared.service import Runtime, load_definition

TEST_JWT_SECRET = "dps-test-secret-of-at-least-32-bytes"
TEST_RETRY_DELAYS = (0.2, 0.5)


def test_settings(service: str, database_url: str, amqp_url: str, **overrides):
    settings = load_settings(service)
    return replace(settings, database_url=database_url, amqp_url=amqp_url, jwt_secret=TEST_JWT_SECRET,
                   jwt_public_key=None, retry_delays=TEST_RETRY_DELAYS, relay_poll_interval=0.02, **overrides)


def build_runtime(service: str, database_url: str, amqp_url: str, migrate: bool = True, **overrides) -> Runtime:
    runtime = Runtime(load_definition(service), test_settings(service, database_url, amqp_url, **overrides))
    if migrate:
        runtime.migrate()
    return runtime


def token(*roles: str, team: str | None = None, provider_id: uuid.UUID | str | None = None,
          sub: str = "test-user") -> str:
    if "officer" in roles and team is None:
        team = "exclusions"
    return mint_token(roles=list(roles), sub=sub, team=team, provider_id=provider_id, secret=TEST_JWT_SECRET)


def auth(*roles: str, **kwargs) -> dict:
    return {"Authorization": f"Bearer {token(*roles, **kwargs)}"}


class Workers:
    """A service's relay and consumer running in threads of the test process."""

    def __init__(self, runtime: Runtime, relay: bool = True, consumer: bool = True) -> None:
        self.runtime = runtime
        self.relay = runtime.relay() if relay else None
        self.consumer = runtime.consumer() if consumer else None
        self.threads: list[threading.Thread] = []

    def start(self) -> Workers:
        for worker in (self.relay, self.consumer):
            if worker is not None:
                t = threading.Thread(target=worker.run, daemon=True, name=f"{self.runtime.definition.name}-worker")
                t.start()
                self.threads.append(t)
        return self

    def stop(self) -> None:
        for worker in (self.relay, self.consumer):
            if worker is not None:
                worker.stop()
        for t in self.threads:
            t.join(timeout=15)


@contextmanager
def running(*runtimes: Runtime, relay: bool = True, consumer: bool = True):
    workers = [Workers(r, relay=relay, consumer=consumer).start() for r in runtimes]
    try:
        yield workers
    finally:
        for w in workers:
            w.stop()


class EventWaiter:
    """Binds a private queue to exchanges and waits for matching events
    (the test's own consumer: never a sleep)."""

    def __init__(self, amqp_url: str, bindings: list[tuple[str, str]]) -> None:
        self.connection = Connection(amqp_url)
        self.channel = self.connection.channel()
        self.queue = Queue(f"test.waiter.{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True,
                           bindings=[])
        self.queue = self.queue.bind(self.channel)
        self.queue.declare()
        for exchange, routing_key in bindings:
            ex = service_exchange(exchange.removeprefix("dps."))  # as `dps migrate` declares it
            ex.bind(self.channel).declare()
            self.queue.bind_to(exchange=ex, routing_key=routing_key)
        self.received: list[dict] = []

    def _drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.queue.get(no_ack=True)
            if message is None:
                time.sleep(0.02)
                continue
            self.received.append(json.loads(message.body))
            return

    def wait_for(self, predicate=lambda e: True, timeout: float = 15, count: int = 1) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matches = [e for e in self.received if predicate(e)]
            if len(matches) >= count:
                return matches
            self._drain(min(0.5, max(0.0, deadline - time.monotonic())))
        matches = [e for e in self.received if predicate(e)]
        if len(matches) >= count:
            return matches
        raise AssertionError(f"waited {timeout}s for {count} matching events; got {len(matches)}; "
                             f"received types: {[e.get('type') for e in self.received]}")

    def close(self) -> None:
        try:
            self.connection.release()
        except OSError:
            pass


def wait_until(predicate, timeout: float = 15, interval: float = 0.05, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    if not predicate():
        raise AssertionError(f"{message} not met within {timeout}s")


@contextmanager
def statements_run(engine):
    """The SQL text of every statement `engine` runs meanwhile (what a request costs, in round trips)."""
    import sqlalchemy as sa

    seen: list[str] = []

    def note(_connection, _cursor, statement, *_args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)

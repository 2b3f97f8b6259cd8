"""The whole system for the benchmarks: the four services as real processes
(web under gunicorn at the README's settings, consumer, relay), each on its
own PostgreSQL database, all on the run's RabbitMQ; plus what the event path
and HTTP sections share: an HTTP client per thread, tokens, each service's
database, and the commit-to-effect times read from PostgreSQL.

Production settings, not the tests' quick ones: relay poll 0.05 s, retry
delays 1,5,30 s, jobs every 300 s, web 2 workers x 4 threads
(DPS_WEB_WORKERS / DPS_WEB_THREADS), INFO logs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import requests
import sqlalchemy as sa

from shared.catalogue import SERVICES
from tests.support import runtime as rt
from tests.support.system import DPS, ROLES, ROOT, System

PRODUCTION_ENV = {
    "DPS_RELAY_POLL_INTERVAL": "0.05",
    "DPS_RELAY_BATCH_SIZE": "200",
    "DPS_RETRY_DELAYS": "1,5,30",
    "DPS_JOB_INTERVAL": "300",
    "DPS_WEB_WORKERS": os.environ.get("DPS_WEB_WORKERS", "2"),
    "DPS_WEB_THREADS": os.environ.get("DPS_WEB_THREADS", "4"),
}


@contextmanager
def own_servers(ctx):
    """The run's own RabbitMQ and PostgreSQL (started as the tests start them) on `ctx`, stopped after."""
    from tests.support.servers import start_postgres, start_rabbitmq

    ctx.rabbitmq, ctx.postgres = start_rabbitmq(), start_postgres()
    try:
        yield ctx
    finally:
        ctx.rabbitmq.stop()
        ctx.postgres.stop()


def consumers_of() -> dict[str, set[str]]:
    """event type -> the services whose consumer handles it (from their own handler tables)."""
    import importlib

    found: dict[str, set[str]] = {}
    for service in SERVICES:
        handlers = importlib.import_module(f"services.{service}.consumers").event_handlers()
        for event_type in handlers:
            found.setdefault(event_type, set()).add(service)
    return found


def templates(ctx):
    """template(service) -> a database migrated once per run, copied for each system (as the tests do)."""
    if getattr(ctx, "templates", None) is None:
        made: dict[str, str] = {}

        def template(service: str) -> str:
            if service not in made:
                name = f"bench_tpl_{service}"
                ctx.postgres.drop_database(name)
                runtime = rt.build_runtime(service, ctx.postgres.create_database(name), "amqp://unused//")
                runtime.engine.dispose()
                made[service] = name
            return made[service]

        ctx.templates = template
    return ctx.templates


def clean_broker(amqp_url: str) -> None:
    """No DPS queue or exchange left by an earlier section's system."""
    from kombu import Connection

    from shared.messaging.topology import dead_letter_queue_name, queue_name, retry_queue_name

    delays = {float(d) for d in PRODUCTION_ENV["DPS_RETRY_DELAYS"].split(",")} | set(rt.TEST_RETRY_DELAYS)
    with Connection(amqp_url) as connection:
        channel = connection.channel()
        for service in SERVICES:
            for name in [queue_name(service), dead_letter_queue_name(service),
                         *(retry_queue_name(service, d) for d in delays)]:
                channel.queue_delete(name)
            channel.exchange_delete(f"dps.{service}")


def enable_commit_timestamps(postgres) -> bool:
    """track_commit_timestamp on, so an inbox row's commit time is the moment
    its effect became visible (a restart of the run's own throwaway cluster)."""
    engine = postgres.admin_engine()
    try:
        with engine.connect() as c:
            if c.execute(sa.text("SHOW track_commit_timestamp")).scalar() == "on":
                return True
            if postgres.container is not None:
                return False
            c.execute(sa.text("ALTER SYSTEM SET track_commit_timestamp = on"))
    finally:
        engine.dispose()
    postgres.pg_ctl("stop")
    postgres.pg_ctl("start")
    engine = postgres.admin_engine()
    try:
        with engine.connect() as c:
            return c.execute(sa.text("SHOW track_commit_timestamp")).scalar() == "on"
    finally:
        engine.dispose()


class BenchSystem:
    def __init__(self, ctx, extra_env: dict | None = None) -> None:
        self.ctx = ctx
        self.logdir = Path(tempfile.mkdtemp(prefix="dps-bench-system-"))
        self.system = System(ctx.postgres, ctx.rabbitmq, templates(ctx), self.logdir,
                             extra_env={**PRODUCTION_ENV, **(extra_env or {})})
        self.engines = {name: sa.create_engine(s.database_url, pool_size=4, max_overflow=4)
                        for name, s in self.system.services.items()}
        self._local = threading.local()
        with self.engines["tracking"].connect() as c:
            self.commit_timestamps = c.execute(sa.text("SHOW track_commit_timestamp")).scalar() == "on"

    # -- processes -----------------------------------------------------------------
    def start(self) -> BenchSystem:
        clean_broker(self.ctx.rabbitmq.amqp_url)
        for service in self.system.services.values():
            for role in ROLES:
                # as `make run` starts them: `dps web` takes DPS_WEB_WORKERS (the tests' System uses 1)
                log = open(self.logdir / f"{service.name}.{role}.log", "ab")
                service.processes[role] = subprocess.Popen([*DPS, role, service.name], cwd=ROOT, env=service.env,
                                                           stdout=log, stderr=subprocess.STDOUT,
                                                           start_new_session=True)
        self.system.wait_ready(90)
        return self

    def stop(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
        self.system.stop()

    def __enter__(self) -> BenchSystem:
        return self.start()

    def __exit__(self, exc_type, *_exc) -> None:
        self.stop()
        if exc_type is None:
            shutil.rmtree(self.logdir, ignore_errors=True)
        else:
            print(f"   the system's logs: {self.logdir}", file=sys.stderr, flush=True)

    def url(self, service: str) -> str:
        return self.system.url(service)

    # -- HTTP -----------------------------------------------------------------------
    @property
    def http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def call(self, method: str, service: str, path: str, headers: dict, body=None, expect=(200, 201)) -> dict:
        response = self.http.request(method, self.url(service) + path, json=body, headers=headers, timeout=60)
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {service}{path} -> {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else {}

    # -- databases --------------------------------------------------------------------
    def scalar(self, service: str, sql: str, **params):
        with self.engines[service].connect() as c:
            return c.execute(sa.text(sql), params).scalar()

    def rows(self, service: str, sql: str, **params) -> list:
        with self.engines[service].connect() as c:
            return c.execute(sa.text(sql), params).all()

    def outbox_position(self) -> dict[str, int]:
        """Where each service's outbox stands now: events after it are the next phase's."""
        return {s: self.scalar(s, "SELECT coalesce(max(position), 0) FROM outbox") for s in SERVICES}

    def produced_since(self, since: dict[str, int]) -> list[dict]:
        """Events each service committed to its outbox after `since`: id, type, producer, occurred_at."""
        out = []
        for service in SERVICES:
            for event_id, event_type, body in self.rows(
                    service, "SELECT event_id, event_type, body FROM outbox WHERE position > :p ORDER BY position",
                    p=since[service]):
                out.append({"id": str(event_id), "type": event_type, "producer": service,
                            "occurred_at": datetime.fromisoformat(json.loads(body)["occurred_at"])})
        return out

    def unpublished(self) -> int:
        return sum(self.scalar(s, "SELECT count(*) FROM outbox WHERE published_at IS NULL") for s in SERVICES)

    def effects(self, events: Iterable[dict], consumers: dict[str, set[str]], timeout: float = 120) -> list[dict]:
        """Waits until every consumer of each event has applied it; returns one
        row per delivery with the latency from the event's occurred_at to the
        commit of the consumer's transaction (its inbox row)."""
        wanted: dict[str, dict[str, dict]] = {s: {} for s in SERVICES}
        for event in events:
            for service in consumers.get(event["type"], ()):
                wanted[service][event["id"]] = event
        done: list[dict] = []
        deadline = time.monotonic() + timeout
        for service, pending in wanted.items():
            while pending:
                ids = list(pending)
                for chunk in range(0, len(ids), 5000):
                    committed_at = "pg_xact_commit_timestamp(xmin)" if self.commit_timestamps else "NULL"
                    for event_id, committed, received in self.rows(
                            service, f"SELECT event_id::text, {committed_at}, received_at FROM inbox "
                                     "WHERE consumer = :c AND event_id::text = ANY(:ids)",
                            c=service, ids=ids[chunk:chunk + 5000]):
                        event = pending.pop(event_id)
                        effect_at = committed or received
                        done.append({"id": event_id, "type": event["type"], "consumer": service,
                                     "producer": event["producer"], "occurred_at": event["occurred_at"],
                                     "effect_at": effect_at, "received_at": received,
                                     "latency_ms": (effect_at - event["occurred_at"]).total_seconds() * 1000})
                if pending:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{len(pending)} deliveries to {service} not applied in {timeout}s "
                                           f"(e.g. {next(iter(pending.values()))['type']})")
                    time.sleep(0.1)
        return done

    def add_published_at(self, effects: list[dict]) -> None:
        """When the producer's relay marked each event published (after the broker confirmed its batch)."""
        by_producer: dict[str, set[str]] = {}
        for e in effects:
            by_producer.setdefault(e["producer"], set()).add(e["id"])
        published = {}
        for producer, ids in by_producer.items():
            published.update(self.rows(producer, "SELECT event_id::text, published_at FROM outbox "
                                                 "WHERE event_id::text = ANY(:ids)", ids=list(ids)))
        for e in effects:
            e["published_at"] = published.get(e["id"])

    def wait_drained(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.unpublished():
            if time.monotonic() > deadline:
                raise RuntimeError(f"outbox rows still unpublished after {timeout}s")
            time.sleep(0.1)

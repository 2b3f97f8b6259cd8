"""Several replicas of one service's workers are safe on PostgreSQL:
two relays never publish one outbox row twice, two consumers on one queue
keep the inbox guarantee, and a scheduled job runs once per period."""

from __future__ import annotations

import collections
import json
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from kombu import Connection, Queue

from shared.messaging.relay import wait_until_drained
from shared.messaging.topology import service_exchange
from shared.service import Runtime, ScheduledJob
from tests.integration.test_messaging import EFFECTS, Running, _consumer, _declare, _effects, _write_events
from tests.support.runtime import wait_until

pytestmark = pytest.mark.integration


def _count_published(amqp_url: str, expected: int, stop: threading.Event, counts: collections.Counter) -> None:
    with Connection(amqp_url) as connection:
        channel = connection.channel()
        queue = Queue("test.replicas.tap", exchange=service_exchange("awards"), routing_key="#",
                      exclusive=True).bind(channel)
        queue.declare()
        ready = _count_published.ready
        ready.set()
        while not stop.is_set() and sum(counts.values()) < expected:
            message = queue.get(no_ack=True)
            if message is None:
                stop.wait(0.01)
                continue
            counts[json.loads(message.body)["id"]] += 1


def test_two_relays_publish_each_row_once_and_two_consumers_apply_each_once(service):
    awards = service("awards")
    tracking = service("tracking")
    EFFECTS.create(tracking.engine)
    _declare(tracking)
    total = 2000
    counts: collections.Counter = collections.Counter()
    stop = threading.Event()
    _count_published.ready = threading.Event()
    tap = threading.Thread(target=_count_published, args=(awards.settings.amqp_url, total, stop, counts), daemon=True)
    tap.start()
    assert _count_published.ready.wait(10)
    for _ in range(total // 200):
        _write_events(awards, 200)
    relays = [awards.relay(), awards.relay()]
    relays[0].batch_size = relays[1].batch_size = 50  # many small claims: the relays interleave
    consumers = [_consumer(tracking), _consumer(tracking)]
    with Running(*relays, *consumers):
        assert wait_until_drained(awards.engine, awards.outbox_table, timeout=60)
        wait_until(lambda: _effects(tracking) >= total, timeout=60, message="every event applied")
    stop.set()
    tap.join(timeout=10)
    assert len(counts) == total, "none lost"
    assert max(counts.values()) == 1, "no row published twice"
    assert _effects(tracking) == total
    assert all(c.handled > 0 for c in consumers), "both consumers took a share"


def test_a_scheduled_job_runs_once_per_period_across_replicas(service):
    runs = []
    lock = threading.Lock()

    def job(uow, now):
        with lock:
            runs.append(now)

    base = service("provider_registry")
    definition = replace(base.definition, jobs=[ScheduledJob("compliance-probe", job)])
    replicas = [Runtime(definition, base.settings) for _ in range(3)]
    now = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    threads = [threading.Thread(target=r.run_jobs, args=(now,)) for r in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) == 1
    replicas[0].run_jobs(now.replace(hour=23))  # same day: not again
    assert len(runs) == 1
    replicas[1].run_jobs(now.replace(day=23))  # the next day: once more
    assert len(runs) == 2
    with base.engine.connect() as c:
        claimed = c.execute(sa.select(base.job_runs_table.c.job, base.job_runs_table.c.period)).all()
    assert sorted(p for j, p in claimed if j == "compliance-probe") == ["2026-11-22", "2026-11-23"]
    for r in replicas:
        r.engine.dispose()


def test_housekeeping_removes_old_published_outbox_rows_and_old_inbox_rows(service):
    runtime = service("tracking")
    now = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    old, recent = now - timedelta(days=120), now - timedelta(days=1)
    with runtime.engine.begin() as c:
        for published in (old, recent, None):
            c.execute(runtime.outbox_table.insert().values(
                event_id=uuid.uuid4(), event_type="placement.started", exchange="dps.tracking", body="{}",
                created_at=old, published_at=published))
        for received in (old, recent):
            c.execute(runtime.inbox_table.insert().values(
                event_id=uuid.uuid4(), consumer="tracking", event_type="placement.awarded", received_at=received))
    assert "retention" in runtime.run_jobs(now)
    with runtime.engine.connect() as c:
        outbox = c.execute(sa.select(runtime.outbox_table.c.published_at)).scalars().all()
        inbox = c.execute(sa.select(runtime.inbox_table.c.received_at)).scalars().all()
    assert sorted(outbox, key=lambda t: t or now) == [recent, None], "unpublished rows are never removed"
    assert inbox == [recent]

"""Prometheus metrics of the asynchronous side: the relay and the consumer.

Counters and the handler-time histogram count as things happen; the outbox
backlog and the dead-letter depth are read when Prometheus scrapes (a query
and a passive queue declare), so they are never stale.  A worker process
serves them on a port of its own (`dps consumer|relay SERVICE --metrics-port
N`, or DPS_METRICS_PORT); with PROMETHEUS_MULTIPROC_DIR set, the counters are
multiprocess files, read the way shared.web reads the web workers'.

Labels are bounded: the service, an event type of the catalogue (anything
else is "unknown") and the outcome.  No label or value carries personal data.
"""

from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from shared.catalogue import CATALOGUE
from shared.db import utcnow

log = logging.getLogger(__name__)

PUBLISHED = Counter("dps_events_published_total", "Events the relay published (confirmed by the broker)",
                    ["service", "event_type"])
HANDLED = Counter("dps_events_handled_total",
                  "Messages the consumer settled, by outcome (done, duplicate, ignored, retried, "
                  "dead_lettered, requeued)", ["service", "event_type", "outcome"])
DUPLICATES = Counter("dps_events_duplicates_total", "Events the inbox had already seen (no second effect)",
                     ["service", "event_type"])
RETRIED = Counter("dps_events_retried_total", "Messages sent to a retry queue", ["service", "event_type"])
DEAD_LETTERED = Counter("dps_events_dead_lettered_total", "Messages sent to the dead-letter queue",
                        ["service", "event_type"])
HANDLER_SECONDS = Histogram("dps_event_handler_seconds", "Time to apply one event (handler and inbox)",
                            ["service", "event_type"],
                            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def label(event_type: str | None) -> str:
    """An event type as a label value: only the catalogue's (bounded cardinality)."""
    return event_type if event_type in CATALOGUE else "unknown"


class OutboxBacklog:
    """dps_outbox_unsent_rows and dps_outbox_oldest_unsent_age_seconds, read at scrape."""

    def __init__(self, service: str, engine: sa.engine.Engine, outbox: sa.Table) -> None:
        self.service, self.engine, self.outbox = service, engine, outbox

    def collect(self):
        rows = GaugeMetricFamily("dps_outbox_unsent_rows", "Outbox rows not yet published", labels=["service"])
        age = GaugeMetricFamily("dps_outbox_oldest_unsent_age_seconds",
                                "Age of the oldest outbox row not yet published (0 when none)", labels=["service"])
        try:
            with self.engine.connect() as connection:
                count, oldest = connection.execute(
                    sa.select(sa.func.count(), sa.func.min(self.outbox.c.created_at))
                    .where(self.outbox.c.published_at.is_(None))).one()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("outbox metrics unavailable", extra={"error": type(exc).__name__})
            return []
        rows.add_metric([self.service], count)
        age.add_metric([self.service], (utcnow() - oldest).total_seconds() if oldest is not None else 0.0)
        return [rows, age]


class QueueDepths:
    """dps_dead_letter_queue_depth and dps_unrouted_queue_depth, read at scrape (passive declares)."""

    def __init__(self, service: str, amqp_url: str) -> None:
        self.service, self.amqp_url = service, amqp_url

    def collect(self):
        from shared.messaging.topology import dead_letter_queue_name, unrouted_name

        families = []
        for name, queue, meaning in (
                ("dps_dead_letter_queue_depth", dead_letter_queue_name(self.service),
                 "Messages in the dead-letter queue"),
                ("dps_unrouted_queue_depth", unrouted_name(self.service),
                 "Events of this service's exchange that no queue was bound for")):
            family = GaugeMetricFamily(name, meaning, labels=["service"])
            depth = queue_depth(self.amqp_url, queue)
            if depth is None:
                continue
            family.add_metric([self.service], depth)
            families.append(family)
        return families


def queue_depth(amqp_url: str, queue: str) -> int | None:
    """How many messages a queue holds (a passive declare: it creates nothing); None when the broker or the
    queue cannot be reached."""
    from shared.messaging.relay import broker_connection

    try:
        with broker_connection(amqp_url) as connection:
            return connection.channel().queue_declare(queue, passive=True).message_count
    except Exception as exc:  # noqa: BLE001 - no broker or no queue yet: no sample
        log.debug("queue depth unavailable", extra={"queue": queue, "error": type(exc).__name__})
        return None


class _Counted:
    """What this process counted (the default registry, or the multiprocess files)."""

    def collect(self):
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return registry.collect()
        return REGISTRY.collect()


def registry_of(*collectors) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Counted())
    for collector in collectors:
        registry.register(collector)
    return registry


def serve(port: int | None, *collectors, host: str = "0.0.0.0") -> CollectorRegistry | None:
    """Serve /metrics on `port` (None or 0: not at all); returns the registry served."""
    if not port:
        return None
    registry = registry_of(*collectors)
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:  # the port is taken: the worker's work matters more than its metrics
        log.error("metrics not served: port unavailable", extra={"port": port, "error": str(exc)})
        return None
    log.info("metrics served", extra={"port": port})
    return registry

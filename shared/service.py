"""What a service is made of, and what it builds from its settings at start.

Each service declares a `ServiceDefinition` in `services/<name>/service.py`;
the web app, the consumer, the relay, the scheduled jobs and the migrations
are all built from it by the same code here.  Nothing is built at import time.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.actor import Actor
from shared.auth import TokenVerifier
from shared.calendar import Calendar, school_calendar
from shared.config import Settings, load_settings
from shared.db import make_engine, make_session_factory, migrate, utcnow
from shared.messaging.consumer import EventConsumer, Handler
from shared.messaging.outbox import Outbox
from shared.messaging.relay import OutboxRelay
from shared.retention import RetentionTable, messaging_rules
from shared.retention import run as apply_retention
from shared.subject_access import Gatherer
from shared.unit_of_work import AuditEntry, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledJob:
    """A job run once per period (e.g. daily compliance expiry), by whichever
    replica claims the period first in the job_runs table."""

    name: str
    run: Callable[[UnitOfWork, datetime], None]
    period: str = "daily"  # daily | hourly | minute

    _FORMATS = {"daily": "%Y-%m-%d", "hourly": "%Y-%m-%dT%H", "minute": "%Y-%m-%dT%H:%M"}

    def __post_init__(self) -> None:
        if self.period not in self._FORMATS:
            raise ValueError(f"period must be one of {', '.join(self._FORMATS)}")

    def period_key(self, now: datetime) -> str:
        return now.strftime(self._FORMATS[self.period])


@dataclass
class ServiceDefinition:
    name: str
    title: str
    metadata: sa.MetaData
    versions: Path  # the service's Alembic versions folder
    blueprints: Callable[[], list] = list
    event_handlers: Callable[[], dict[str, Handler]] = dict
    jobs: list[ScheduledJob] = field(default_factory=list)
    description: str = ""
    # the service's unit of work: its repositories and its one mapping of domain events
    unit_of_work: type[UnitOfWork] = UnitOfWork
    # refuses settings the service cannot work with (ValueError naming the setting): checked at start
    check_settings: Callable[[Settings], None] = lambda settings: None
    # what the service holds about one child, for subject access (its `subject_access.py`)
    subject_access: Gatherer | None = None
    # how long each kind of the service's records is kept (its `retention.py`), given its tables
    retention: Callable[[Mapping[str, sa.Table]], RetentionTable] = lambda tables: RetentionTable((), {})
    # what it publishes on dps.<name>: event type -> the marshmallow schema of its `data`
    # (its `messages.DATA_SCHEMAS`; the AsyncAPI document is generated from it: shared/asyncapi.py)
    published: Mapping[str, type] = field(default_factory=dict)
    # what the service's `relay` process runs, given the runtime (run() and stop()), and its scrape-time
    # metrics: the outbox relay unless the service says otherwise (notifications sends mail instead)
    relay: Callable[[Runtime], object] | None = None
    relay_backlog: Callable[[Runtime], object] | None = None


def load_definition(service: str) -> ServiceDefinition:
    return importlib.import_module(f"services.{service}.service").definition()


class Runtime:
    """The engine, session factory and outbox of one running service."""

    def __init__(self, definition: ServiceDefinition, settings: Settings, engine: Engine | None = None) -> None:
        self.definition = definition
        self.settings = settings
        definition.check_settings(settings)  # a bad setting stops the process at start, not at a request
        # the school calendar every service counts school days in (a bad file stops the process, named)
        self.calendar: Calendar = school_calendar(settings.school_calendar_file)
        self.engine = engine or make_engine(settings.database_url)
        self.session_factory: sessionmaker[Session] = make_session_factory(self.engine)
        tables = definition.metadata.tables
        self.outbox_table, self.inbox_table, self.job_runs_table = tables["outbox"], tables["inbox"], tables["job_runs"]
        self.audit_table = tables["audit_log"]
        self.outbox = Outbox(definition.name, self.outbox_table)
        own = definition.retention(tables)
        self.retention = RetentionTable(messaging_rules(tables) + own.rules, own.kept)
        self.retention.check(settings.retention)  # a period under the law's minimum stops the service at start
        self.jobs = [*definition.jobs, ScheduledJob("retention", self._apply_retention)]
        # The service's notion of now; tests replace it to cross deadlines.
        self.clock = utcnow
        self._verifier: TokenVerifier | None = None

    @classmethod
    def for_service(cls, service: str, settings: Settings | None = None) -> Runtime:
        return cls(load_definition(service), settings or load_settings(service))

    @property
    def verifier(self) -> TokenVerifier:
        if self._verifier is None:
            self._verifier = TokenVerifier.of(self.settings)
        return self._verifier

    def unit_of_work(self, actor: Actor | None = None, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work of this service, acting as `actor` (the service's own
        process when none is given); `read_only` takes no write lock on SQLite."""
        return self.definition.unit_of_work(self.session_factory, self.outbox, lambda: self.clock(),
                                            actor=actor or self.system_actor, audit_table=self.audit_table,
                                            read_only=read_only)

    @property
    def system_actor(self) -> Actor:
        return Actor.system(self.definition.name)

    def unit_of_work_around(self, session: Session) -> UnitOfWork:
        """The consumer's unit of work: on the consumer's session, which it commits."""
        return self.definition.unit_of_work.around(session, self.outbox, lambda: self.clock(),
                                                   actor=self.system_actor, audit_table=self.audit_table)

    def migrate(self) -> None:
        migrate(self.engine, self.definition.versions, self.definition.metadata)

    def declare_topology(self) -> None:
        """Every service's exchange (with its alternate exchange), and this
        service's queues bound to what it reads: up front, so nothing published
        before its consumer first runs is lost, and outside readers can bind."""
        from shared.messaging.relay import broker_connection
        from shared.messaging.topology import declare_topology

        s = self.settings
        with broker_connection(s.amqp_url) as connection:
            connection.ensure_connection(max_retries=1)
            declare_topology(connection, {self.definition.name: sorted(self.definition.event_handlers())},
                             s.retry_delays, s.quorum_queues)

    def relay(self) -> OutboxRelay:
        if self.definition.relay is not None:
            return self.definition.relay(self)
        s = self.settings
        return OutboxRelay(self.definition.name, self.engine, self.outbox_table, s.amqp_url,
                           batch_size=s.relay_batch_size, poll_interval=s.relay_poll_interval)

    def relay_backlog(self):
        """What the relay process's metrics read when scraped."""
        if self.definition.relay_backlog is not None:
            return self.definition.relay_backlog(self)
        from shared.messaging import metrics

        return metrics.OutboxBacklog(self.definition.name, self.engine, self.outbox_table)

    def consumer(self) -> EventConsumer:
        s = self.settings
        return EventConsumer(self.definition.name, self.session_factory, self.inbox_table, self.outbox,
                             self.definition.event_handlers(), s.amqp_url, retry_delays=s.retry_delays,
                             quorum=s.quorum_queues, prefetch=s.prefetch, clock=lambda: self.clock(),
                             unit_of_work=self.unit_of_work_around)

    # -- scheduled jobs --------------------------------------------------------
    def run_jobs(self, now: datetime | None = None, *, force: bool = False) -> list[str]:
        """Run each job whose period has not been claimed yet; return the ones run."""
        now = now or self.clock()
        ran = []
        for job in self.jobs:
            with self.unit_of_work() as uow:
                period = job.period_key(now) if not force else f"forced-{now.isoformat()}"
                try:
                    uow.session.execute(self.job_runs_table.insert().values(job=job.name, period=period, ran_at=now))
                    uow.session.flush()
                except sa.exc.IntegrityError:
                    continue  # another replica has this period
                job.run(uow, now)
                uow.commit()
                ran.append(job.name)
                log.info("scheduled job ran", extra={"job": job.name, "period": period})
        return ran

    def _apply_retention(self, uow: UnitOfWork, now: datetime) -> None:
        """Everything past its retention period goes, in batches; the audit
        trail records how many of each kind, never what they held."""
        removed = apply_retention(uow.session, self.retention, self.settings.retention, now)
        uow.record(AuditEntry("retention.applied", "retention", now.date().isoformat(),
                              details={kind: count for kind, count in removed.items() if count}))

    def job_loop(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                self.run_jobs()
            except Exception:  # noqa: BLE001 - a failing job must not stop the consumer; it runs again next tick
                log.exception("scheduled job failed")
            stopping.wait(self.settings.job_interval)

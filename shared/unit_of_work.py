"""A unit of work: one database transaction, the service's repositories in
it, and what commits with it: the events it publishes (outbox) and the audit
trail.  After cosmicpython's `unit_of_work.py` and `collect_new_events`.

A service subclasses `UnitOfWork`:

    class ReferralsUnitOfWork(UnitOfWork):
        def open_repositories(self, session):
            self.referrals = ReferralRepository(session)

        def translate(self, event):          # the service's one mapping
            yield Message("referral.published", {...})
            yield AuditEntry("referral.published", "referral", event.referral_id)

A handler loads aggregates through the repositories (`uow.referrals.get(id)`)
and lets the domain decide; the aggregates record what happened in their
`events`.  On `commit` every aggregate a repository has seen gives up its
new events, and each becomes what `translate` makes of it (messages for the
outbox, audit entries), in the same transaction: no handler can forget to
publish or to audit.

On SQLite a unit of work holds the database's write lock from its first read
to its end (see shared.db), so what a use case reads to decide cannot change
before it writes; a `read_only` one takes no lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from shared import audit
from shared.actor import Actor
from shared.db import begin_read_only, utcnow
from shared.events import Envelope
from shared.messaging.outbox import Outbox


@dataclass(frozen=True)
class Message:
    """An event to publish: its catalogue type and its data (already on the wire's terms)."""

    type: str
    data: dict


@dataclass(frozen=True)
class AuditEntry:
    """A line of the audit trail; the actor and time come from the unit of work."""

    action: str
    subject_type: str
    subject_id: Any
    reason: str | None = None
    details: dict | None = None
    actor: Actor | None = None  # when someone other than the unit's actor did it


class Repository:
    """What every repository shares: the session, and the aggregates it has
    handed out or been given (`seen`), whose events the unit of work collects."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: list[Any] = []

    def _seen(self, aggregate):
        if aggregate is not None and not any(aggregate is known for known in self.seen):
            self.seen.append(aggregate)
        return aggregate


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session], outbox: Outbox,
                 clock: Callable[[], datetime] = utcnow, *, actor: Actor | None = None,
                 audit_table: sa.Table | None = None, read_only: bool = False) -> None:
        self.session_factory = session_factory
        self.outbox = outbox
        self.clock = clock
        self.actor = actor or Actor.system(outbox.producer)
        self.audit_table = audit_table
        self.read_only = read_only
        self.session: Session | None = None
        self._audit: list[AuditEntry] = []

    @classmethod
    def around(cls, session: Session, outbox: Outbox, clock: Callable[[], datetime] = utcnow, *,
               actor: Actor | None = None, audit_table: sa.Table | None = None) -> UnitOfWork:
        """A unit of work on a session someone else opened and commits (the
        consumer's, which commits the effect with its inbox row): it calls
        `collect` before that commit."""
        uow = cls(lambda: session, outbox, clock, actor=actor, audit_table=audit_table)
        uow.session = session
        uow.open_repositories(session)
        return uow

    # -- what a service says ---------------------------------------------------
    def open_repositories(self, session: Session) -> None:
        """Build the service's repositories on the session (a subclass's part)."""

    def translate(self, event) -> Iterable[Message | AuditEntry]:
        """The service's one mapping from a domain event to what it publishes
        and audits (a subclass's part)."""
        raise NotImplementedError(f"{type(self).__name__} does not say what {type(event).__name__} becomes")

    # -- the transaction -------------------------------------------------------
    def now(self) -> datetime:
        """The time of this unit of work (tests set the service's clock)."""
        return self.clock()

    def __enter__(self) -> UnitOfWork:
        self.session = self.session_factory()
        if self.read_only:
            begin_read_only(self.session)
        self.open_repositories(self.session)
        return self

    def __exit__(self, *exc_info) -> None:
        # Closing rolls back anything not committed explicitly, and leaves what
        # was read readable (a rollback would expire the aggregates a view is
        # about to show); their events go with them.
        self.session.close()

    def commit(self) -> None:
        self.collect()
        self.session.commit()

    def rollback(self) -> None:
        """What was not committed is thrown away, the aggregates' events with
        it: a later commit of this unit must not publish changes never stored."""
        self.session.rollback()
        for repository in self.repositories():
            for aggregate in repository.seen:
                getattr(aggregate, "events", []).clear()
            repository.seen.clear()
        self._audit.clear()

    def repositories(self) -> Iterator[Repository]:
        return (value for value in vars(self).values() if isinstance(value, Repository))

    def collect_new_events(self) -> Iterator[Any]:
        """Every new event of every aggregate the repositories have seen, in order, once."""
        for repository in self.repositories():
            for aggregate in repository.seen:
                events = getattr(aggregate, "events", None) or []
                while events:
                    yield events.pop(0)

    def collect(self) -> None:
        """Write what the seen aggregates' events become, and the audit entries
        recorded by hand, into this transaction (the outbox and the trail)."""
        for event in self.collect_new_events():
            for item in self.translate(event):
                if isinstance(item, Message):
                    self.publish(item.type, item.data)
                else:
                    self._audit.append(item)
        entries, self._audit = self._audit, []
        for entry in entries:
            self._write_audit(entry)

    # -- for what is not an aggregate's event ------------------------------------
    def publish(self, type_: str, data: dict) -> Envelope:
        """Record an event to be published if, and only if, this unit commits."""
        return self.outbox.add(self.session, type_, data, occurred_at=self.now())

    def record(self, entry: AuditEntry) -> None:
        """An audit entry for something that is no aggregate's event (written at commit)."""
        self._audit.append(entry)

    def _write_audit(self, entry: AuditEntry) -> None:
        table = self.audit_table
        if table is None:
            raise RuntimeError("this unit of work was given no audit table")
        actor = entry.actor or self.actor
        audit.record(self.session, table, actor=actor.id, roles=actor.roles, action=entry.action,
                     subject_type=entry.subject_type, subject_id=entry.subject_id, reason=entry.reason,
                     details=entry.details, at=self.now())

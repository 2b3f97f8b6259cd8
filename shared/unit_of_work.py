"""A unit of work: one database transaction, and the outbox that rides in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from shared.db import begin_read_only, utcnow
from shared.events import Envelope
from shared.messaging.outbox import Outbox


class UnitOfWork:
    """One transaction.  On SQLite it holds the database's write lock from
    its first read to its end (see shared.db), so what a use case reads to
    decide cannot change before it writes; a `read_only` one takes no lock."""

    def __init__(self, session_factory: sessionmaker[Session], outbox: Outbox,
                 clock: Callable[[], datetime] = utcnow, *, read_only: bool = False) -> None:
        self.session_factory = session_factory
        self.outbox = outbox
        self.clock = clock
        self.read_only = read_only
        self.session: Session | None = None

    @classmethod
    def around(cls, session: Session, outbox: Outbox, clock: Callable[[], datetime] = utcnow) -> UnitOfWork:
        """A unit of work on a session someone else opened (the consumer's)."""
        uow = cls(lambda: session, outbox, clock)
        uow.session = session
        return uow

    def now(self) -> datetime:
        """The time of this unit of work (tests set the service's clock)."""
        return self.clock()

    def __enter__(self) -> UnitOfWork:
        self.session = self.session_factory()
        if self.read_only:
            begin_read_only(self.session)
        return self

    def __exit__(self, *exc_info) -> None:
        # Anything not committed explicitly is thrown away, events included.
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def publish(self, type_: str, data: dict) -> Envelope:
        """Record an event to be published if, and only if, this unit commits."""
        return self.outbox.add(self.session, type_, data, occurred_at=self.now())

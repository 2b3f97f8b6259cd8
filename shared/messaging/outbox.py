"""The transactional outbox: an event is a row written in the same database
transaction as the change it reports.  If the transaction rolls back, the event
never existed; if it commits, the relay will publish it, however long the
broker is away."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.catalogue import exchange_for
from shared.db import utcnow
from shared.events import Envelope, new_event

NOTIFY_CHANNEL = "dps_outbox"


class Outbox:
    def __init__(self, producer: str, table: sa.Table) -> None:
        self.producer = producer
        self.table = table

    def add(self, session: Session, type_: str, data: dict, occurred_at: datetime | None = None) -> Envelope:
        """Write one event in the session's transaction; nothing is sent now."""
        envelope = new_event(type_, data, self.producer, occurred_at)
        insert = self.table.insert().values(
            event_id=envelope.id,
            event_type=envelope.type,
            exchange=exchange_for(self.producer),
            body=envelope.to_json(),
            created_at=utcnow(),
        )
        if session.get_bind().dialect.name == "postgresql":
            # The NOTIFY rides in the same statement (no extra round trip); it is
            # delivered at commit, and not at all on rollback: it wakes the relay at once.
            added = insert.returning(self.table.c.position).cte("added")
            session.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, "")).select_from(added))
        else:
            session.execute(insert)
        return envelope

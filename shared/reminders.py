"""Reminders a service's scheduled job publishes, once each (issue #18): a
review due soon or overdue, a sixth-day deadline at risk or missed, an
application due for decision or overdue.  The job runs daily and looks again
each day; `reminders_published` remembers what went, by subject (a placement,
a referral, an application), kind and due date, so each reminder is published
once, and a new due date (a review recorded, a deadline extended) may be told
again.  The row and the event commit together (the outbox)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from uuid import UUID

import sqlalchemy as sa

from shared.db import insert_for, reminder_columns
from shared.retention import Period, RetentionRule, delete_rows
from shared.unit_of_work import UnitOfWork

TABLE = "reminders_published"


def reminders_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(TABLE, metadata, *reminder_columns())


def publish_once(uow: UnitOfWork, table: sa.Table, type_: str, *, subject_id: UUID, due_on: date,
                 data: dict) -> bool:
    """Publish the event unless this subject's reminder of this kind for this due date went already."""
    inserted = uow.session.execute(insert_for(uow.session, table).values(
        subject_id=subject_id, kind=type_, due_on=due_on, published_at=uow.now()).on_conflict_do_nothing()
        .returning(table.c.subject_id)).first()
    if inserted is None:
        return False
    uow.publish(type_, data)
    return True


def retention_rule(tables: Mapping[str, sa.Table]) -> RetentionRule:
    """A reminder's row goes two years after its due date: the event is long told."""
    table = tables[TABLE]
    return RetentionRule(
        "reminder", "which reminders were published (subject, kind, due date)", (TABLE,),
        Period("DPS_RETENTION_REMINDER_YEARS", 2, "years", 1, "a reminder is told once per due date"),
        "the due date", "deleted",
        lambda s, cutoff, now, n: delete_rows(s, table, table.c.due_on < cutoff.date(), n))

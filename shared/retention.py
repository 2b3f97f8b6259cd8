"""Retention: how long each kind of record is kept, and the job that ends it.

Every table of every service is either covered by one `RetentionRule` of that
service's retention table (`services/<service>/retention.py`) or listed there
as kept, with the reason (a test holds every table to one or the other).  A
rule names its setting (`DPS_RETENTION_...`), its default and the legal
minimum below which the service refuses to start; its `remove` finds one
batch of records past their time and deletes or anonymises them.

The daily job (`retention`) runs each rule in batches, each batch its own
transaction so no lock is held for long, and writes one audit entry with how
many records each rule removed: counts, never contents.  Replicas share the
job's claim on the day (`job_runs`), so it runs once a day across them, and a
second run finds nothing left to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

BATCH = 500  # records per transaction
DAYS_A_YEAR = 365.25


@dataclass(frozen=True)
class Period:
    """How long, as a setting: `setting` holds a whole number of `unit`s."""

    setting: str
    default: int
    unit: str  # "days" | "years"
    minimum: int = 0
    minimum_because: str = ""  # the law that sets the minimum, named in the refusal

    def __post_init__(self) -> None:
        if self.unit not in ("days", "years"):
            raise ValueError(f"{self.setting}: a period is in days or years")

    def value(self, configured: dict[str, str]) -> int:
        """The configured number of units (the default when unset); a
        ValueError naming the setting when it is not a whole number or is
        under the legal minimum.  `configured`: `Settings.retention`."""
        raw = configured.get(self.setting)
        if raw is None or raw.strip() == "":
            return self.default
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{self.setting} must be a whole number of {self.unit}, not {raw!r}") from None
        if value < self.minimum:
            raise ValueError(f"{self.setting} is {value} {self.unit}, under the legal minimum of "
                             f"{self.minimum} {self.unit} ({self.minimum_because})")
        return value

    def before(self, now: datetime, value: int) -> datetime:
        """The moment a record dated before it has passed its time."""
        days = value if self.unit == "days" else value * DAYS_A_YEAR
        return now - timedelta(days=days)


@dataclass(frozen=True)
class RetentionRule:
    kind: str  # what the audit entry and the documentation call it
    what: str  # the records, in words
    tables: tuple[str, ...]  # the tables whose rows it ends
    period: Period
    counted_from: str  # in words: "publication", "the child's date of birth"
    how: str  # "deleted" or "anonymised"
    # Removes at most `limit` records past their time (dated before `cutoff`);
    # returns how many it removed.  Given the session, the cutoff, now, the limit.
    remove: Callable[[Session, datetime, datetime, int], int]


@dataclass(frozen=True)
class RetentionTable:
    """A service's retention: its rules, and the tables it keeps with why."""

    rules: tuple[RetentionRule, ...]
    kept: dict[str, str]  # table -> why it has no period of its own

    def check(self, configured: dict[str, str]) -> dict[str, int]:
        """Every rule's configured value, or a ValueError naming the setting (checked at start)."""
        return {rule.kind: rule.period.value(configured) for rule in self.rules}

    def tables(self) -> set[str]:
        return {table for rule in self.rules for table in rule.tables} | set(self.kept)


def run(session: Session, table: RetentionTable, configured: dict[str, str], now: datetime,
        batch: int = BATCH) -> dict[str, int]:
    """Apply every rule in batches until nothing is past its time, committing
    each batch (so no lock is held for long); the counts by kind."""
    values = table.check(configured)
    removed: dict[str, int] = {}
    for rule in table.rules:
        cutoff = rule.period.before(now, values[rule.kind])
        total = 0
        while True:
            done = rule.remove(session, cutoff, now, batch)
            session.commit()
            total += done
            if done < batch:
                break
        removed[rule.kind] = total
        if total:
            log.info("retention applied", extra={"kind": rule.kind, "removed": total})
    return removed


# --- helpers for the rules' `remove` ------------------------------------------


def delete_rows(session: Session, table: sa.Table, where: sa.ColumnElement, limit: int,
                children: Sequence[tuple[sa.Table, Sequence[str]]] = ()) -> int:
    """Delete up to `limit` rows of `table` matching `where`, and first the rows
    of each child table whose columns reference them (`(child, [fk column])`
    for a one-column primary key)."""
    key = list(table.primary_key.columns)
    chosen = session.execute(sa.select(*key).where(where).limit(limit)).all()
    if not chosen:
        return 0
    if len(key) == 1:
        ids = [row[0] for row in chosen]
        for child, columns in children:
            for column in columns:
                session.execute(child.delete().where(child.c[column].in_(ids)))
        session.execute(table.delete().where(key[0].in_(ids)))
    else:  # a composite key: no children by design
        for row in chosen:
            session.execute(table.delete().where(sa.and_(*(c == v for c, v in zip(key, row, strict=True)))))
    return len(chosen)


def older_than(column: sa.ColumnElement, cutoff: datetime) -> sa.ColumnElement:
    return sa.and_(column.is_not(None), column < cutoff)


AUDIT_PERIOD = Period("DPS_RETENTION_AUDIT_YEARS", 7, "years", 6,
                      "the Limitation Act 1980 s.5: six years to bring a claim on a contract")


def messaging_rules(tables: dict[str, sa.Table]) -> tuple[RetentionRule, ...]:
    """What every service keeps alike: its outbox, inbox, audit trail and job claims."""
    outbox, inbox, audit, runs = tables["outbox"], tables["inbox"], tables["audit_log"], tables["job_runs"]
    return (
        RetentionRule(
            "outbox", "events this service published (kept to inspect and replay)", ("outbox",),
            Period("DPS_RETENTION_OUTBOX_DAYS", 90, "days", 1, "a day at least, so a relay's restart loses nothing"),
            "publication", "deleted",
            lambda s, cutoff, now, n: delete_rows(s, outbox, older_than(outbox.c.published_at, cutoff), n)),
        RetentionRule(
            "inbox", "ids of events received (so a redelivery has no second effect)", ("inbox",),
            Period("DPS_RETENTION_INBOX_DAYS", 30, "days", 1, "a day at least: longer than any redelivery"),
            "receipt", "deleted",
            lambda s, cutoff, now, n: delete_rows(s, inbox, inbox.c.received_at < cutoff, n)),
        RetentionRule(
            "audit", "the audit trail: who did what, read what, when and why", ("audit_log",),
            AUDIT_PERIOD,
            "the entry", "deleted",
            lambda s, cutoff, now, n: delete_rows(s, audit, audit.c.at < cutoff, n)),
        RetentionRule(
            "job_claims", "which replica ran which scheduled job when", ("job_runs",),
            Period("DPS_RETENTION_JOB_CLAIMS_DAYS", 2, "days", 2, "two days: a day's claim must outlive the day"),
            "the run", "deleted",
            lambda s, cutoff, now, n: delete_rows(s, runs, runs.c.ran_at < cutoff, n)),
    )


def years_after(column: sa.ColumnElement, dialect: str, years: int) -> sa.ColumnElement:
    """`column` (a date) plus a number of years, in SQL, for SQLite and PostgreSQL."""
    if dialect == "sqlite":
        return sa.func.date(column, f"+{years} years")
    return column + sa.text(f"interval '{int(years)} years'")


def describe(table: RetentionTable) -> Iterable[tuple[str, str, str, str, str]]:
    """Rows for the documentation: kind, records, setting (default), counted from, how."""
    for rule in table.rules:
        p = rule.period
        minimum = f"; at least {p.minimum} ({p.minimum_because})" if p.minimum else ""
        yield (rule.kind, rule.what, f"`{p.setting}` = {p.default} {p.unit}{minimum}", rule.counted_from, rule.how)

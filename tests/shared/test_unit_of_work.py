"""The shared unit of work: what commits with it, and what a rollback throws away."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from shared.db import make_engine, make_session_factory, new_metadata
from shared.messaging.outbox import Outbox
from shared.unit_of_work import AuditEntry, Message, Repository, UnitOfWork


@dataclass(frozen=True)
class Happened:
    thing_id: str


@dataclass
class Thing:
    thing_id: str
    events: list = field(default_factory=list)

    def touch(self):
        self.events.append(Happened(self.thing_id))


class Things(Repository):
    def add(self, thing):
        return self._seen(thing)


class ThingsUnitOfWork(UnitOfWork):
    def open_repositories(self, session):
        self.things = Things(session)

    def translate(self, event):
        yield Message("capacity.changed", {"thing_id": event.thing_id})
        yield AuditEntry("thing.happened", "thing", event.thing_id)


def _unit(tmp_path):
    metadata = new_metadata()
    engine = make_engine(f"sqlite:///{tmp_path}/uow.sqlite3")
    metadata.create_all(engine)
    tables = metadata.tables
    uow = ThingsUnitOfWork(make_session_factory(engine), Outbox("provider_registry", tables["outbox"]),
                           audit_table=tables["audit_log"])
    return uow, engine, tables


def _count(engine, table):
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def test_commit_publishes_and_audits_every_seen_aggregates_events_once(tmp_path):
    uow, engine, tables = _unit(tmp_path)
    with uow:
        thing = uow.things.add(Thing("a"))
        thing.touch()
        thing.touch()
        uow.commit()
        uow.commit()  # nothing new: nothing written twice
    assert _count(engine, tables["outbox"]) == 2
    assert _count(engine, tables["audit_log"]) == 2


def test_a_rollback_throws_the_events_away_with_the_changes(tmp_path):
    uow, engine, tables = _unit(tmp_path)
    with uow:
        uow.things.add(Thing("a")).touch()
        uow.rollback()
        uow.commit()
    assert _count(engine, tables["outbox"]) == 0
    assert _count(engine, tables["audit_log"]) == 0

"""shared.db on SQLite: a unit of work takes the write lock before its first
read, so a second one reads only after the first has committed (what row
locks do on PostgreSQL); a read-only one takes no lock and is not held up.
The races over the HTTP APIs (tests/integration/*/test_*_races.py,
test_awards_concurrency.py) show what this is for, on both databases."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from shared.db import make_engine, make_session_factory
from shared.messaging.outbox import Outbox
from shared.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration

PLACES = sa.Table("test_places", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("taken", sa.Integer, nullable=False))


@pytest.fixture
def factory(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/locks.sqlite3")
    PLACES.create(engine)
    with engine.begin() as connection:
        connection.execute(PLACES.insert().values(id=1, taken=0))
    yield make_session_factory(engine)
    engine.dispose()


def _uow(factory, read_only: bool = False) -> UnitOfWork:
    return UnitOfWork(factory, Outbox("test", sa.Table("outbox", sa.MetaData())), read_only=read_only)


def _taken(session) -> int:
    return session.execute(sa.select(PLACES.c.taken).where(PLACES.c.id == 1)).scalar_one()


def test_a_second_unit_of_work_reads_only_after_the_first_has_committed(factory):
    second_read: list[int] = []
    with _uow(factory) as first:
        assert _taken(first.session) == 0  # the first read takes the write lock

        def second() -> None:
            with _uow(factory) as uow:
                second_read.append(_taken(uow.session))  # waits for the lock, then reads
        waiter = threading.Thread(target=second)
        waiter.start()
        waiter.join(timeout=0.5)
        assert waiter.is_alive() and second_read == [], "the second read before the first committed"

        with _uow(factory, read_only=True) as reader:  # a reader is not held up
            assert _taken(reader.session) == 0
        first.session.execute(PLACES.update().values(taken=PLACES.c.taken + 1))
        first.commit()
    waiter.join(timeout=30)
    assert second_read == [1]


def test_a_read_only_unit_of_work_reads_one_snapshot(factory):
    with _uow(factory, read_only=True) as reader:
        assert _taken(reader.session) == 0
        with _uow(factory) as writer:
            writer.session.execute(PLACES.update().values(taken=5))
            writer.commit()
        assert _taken(reader.session) == 0  # still its snapshot
    with _uow(factory, read_only=True) as reader:
        assert _taken(reader.session) == 5

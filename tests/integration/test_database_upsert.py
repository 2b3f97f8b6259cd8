"""shared.db.upsert_if_newer, on SQLite (the default) and PostgreSQL: a
replica's fact is inserted, overwritten by an event at least as recent, and
kept against an older one arriving late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.db import UTCDateTime, make_engine, upsert_if_newer

FACTS = sa.Table("test_replica_facts", sa.MetaData(),
                 sa.Column("provider_id", sa.Integer, primary_key=True),
                 sa.Column("lot", sa.Integer, primary_key=True),
                 sa.Column("name", sa.String(50), nullable=False, default=""),
                 sa.Column("capacity", sa.Integer, nullable=True),
                 sa.Column("capacity_at", UTCDateTime, nullable=True))
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = (f"sqlite:///{tmp_path}/facts.sqlite3" if request.param == "sqlite"
           else request.getfixturevalue("database")("awards"))
    engine = make_engine(url)
    FACTS.create(engine)
    yield engine
    FACTS.drop(engine)
    engine.dispose()


def _capacity(engine, provider_id: int, lot: int) -> tuple:
    with engine.connect() as c:
        return c.execute(sa.select(FACTS.c.name, FACTS.c.capacity, FACTS.c.capacity_at).where(
            FACTS.c.provider_id == provider_id, FACTS.c.lot == lot)).one()


def _set(engine, capacity: int, at: datetime, provider_id: int = 1, lot: int = 1) -> None:
    with Session(engine) as session:
        upsert_if_newer(session, FACTS, {"provider_id": provider_id, "lot": lot}, "capacity_at", at,
                        capacity=capacity)
        session.commit()


def test_inserted_then_overwritten_by_newer_and_kept_against_older(engine):
    _set(engine, 5, T0)
    assert _capacity(engine, 1, 1) == ("", 5, T0)  # the column's default where the event says nothing
    _set(engine, 7, T0 + timedelta(hours=1))
    _set(engine, 3, T0 + timedelta(minutes=30))  # older, arrives late: ignored
    assert _capacity(engine, 1, 1) == ("", 7, T0 + timedelta(hours=1))
    _set(engine, 8, T0 + timedelta(hours=1))  # the same time applies (a redelivered or equal event)
    assert _capacity(engine, 1, 1)[1] == 8
    _set(engine, 2, T0, lot=2)  # another row, same statement shape
    assert _capacity(engine, 1, 2)[1:] == (2, T0) and _capacity(engine, 1, 1)[1] == 8

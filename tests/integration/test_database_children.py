"""shared.db.read_children, on SQLite (the default) and PostgreSQL: several
child tables read in one statement, each table's rows back as its own, in its
own order, with typed columns (UTC datetime, JSON, UUID) as Python values."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.db import UTCDateTime, make_engine, read_children

METADATA = sa.MetaData()
NOTES = sa.Table("test_children_notes", METADATA,
                 sa.Column("id", sa.Uuid, primary_key=True),
                 sa.Column("parent_id", sa.Integer, nullable=False),
                 sa.Column("position", sa.Integer, nullable=False),
                 sa.Column("text", sa.Text, nullable=False))
EVENTS = sa.Table("test_children_events", METADATA,
                  sa.Column("parent_id", sa.Integer, primary_key=True),
                  sa.Column("ref", sa.Uuid, primary_key=True),
                  sa.Column("at", UTCDateTime, nullable=False),
                  sa.Column("data", sa.JSON, nullable=False),
                  sa.Column("on", sa.Date, nullable=True))
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
A, B, C = (uuid.UUID(int=n) for n in (1, 2, 3))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = (f"sqlite:///{tmp_path}/children.sqlite3" if request.param == "sqlite"
           else request.getfixturevalue("database")("referrals"))
    engine = make_engine(url)
    METADATA.create_all(engine)
    with engine.begin() as c:
        c.execute(NOTES.insert(), [{"id": A, "parent_id": 1, "position": 2, "text": "second"},
                                   {"id": B, "parent_id": 1, "position": 1, "text": "first"},
                                   {"id": C, "parent_id": 2, "position": 0, "text": "other"}])
        c.execute(EVENTS.insert(), [
            {"parent_id": 1, "ref": A, "at": T0 + timedelta(hours=1), "data": {"n": 1, "x": [1, 2]}, "on": None},
            {"parent_id": 1, "ref": B, "at": T0, "data": {"n": 0}, "on": date(2026, 1, 5)},
            {"parent_id": 3, "ref": C, "at": T0, "data": {}, "on": None}])
    yield engine
    METADATA.drop_all(engine)
    engine.dispose()


def _count(engine):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    return statements, lambda: sa.event.remove(engine, "before_cursor_execute", count)


def test_each_table_gets_its_own_rows_in_its_own_order_typed(engine):
    statements, stop = _count(engine)
    with Session(engine) as session:
        found = read_children(session, "parent_id", {NOTES: [1, 2], EVENTS: [1, 2]},
                              order_by={NOTES: ["position"], EVENTS: ["at"]})
    stop()
    assert len(statements) == 1
    assert [(n.parent_id, n.position, n.text) for n in found[NOTES]] == [(2, 0, "other"), (1, 1, "first"),
                                                                        (1, 2, "second")]
    assert [n["id"] for n in found[NOTES] if n["parent_id"] == 1] == [B, A]
    assert set(found[NOTES][0]) == {"id", "parent_id", "position", "text"}
    first, second = found[EVENTS]
    assert (first.ref, first.at, first.data, first.on) == (B, T0, {"n": 0}, date(2026, 1, 5))
    assert (second.ref, second.at, second.data, second.on) == (A, T0 + timedelta(hours=1), {"n": 1, "x": [1, 2]},
                                                               None)
    assert isinstance(second.ref, uuid.UUID) and second.at.tzinfo is not None


def test_one_key_and_tables_given_no_keys(engine):
    statements, stop = _count(engine)
    with Session(engine) as session:
        one = read_children(session, "parent_id", {NOTES: [1], EVENTS: []}, order_by={NOTES: ["position"]})
        none = read_children(session, "parent_id", {NOTES: [], EVENTS: []})
        missing = read_children(session, "parent_id", {NOTES: [9], EVENTS: [9]})
    stop()
    assert [n.text for n in one[NOTES]] == ["first", "second"] and one[EVENTS] == []
    assert none == {NOTES: [], EVENTS: []} and missing == {NOTES: [], EVENTS: []}
    assert len(statements) == 2  # a table given no keys is not read; no keys at all, no statement

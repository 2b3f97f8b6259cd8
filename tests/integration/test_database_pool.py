"""The pool's liveness check on real PostgreSQL: a connection that sat idle
is pinged (and replaced if the server dropped it), one in steady use is not."""

from __future__ import annotations

import time

import sqlalchemy as sa

from shared import db


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def _statements(engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_an_idle_connection_the_server_dropped_is_replaced_before_a_request_sees_it(database, monkeypatch):
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 0.2)
    engine = db.make_engine(database("tracking"), pool_size=1, max_overflow=0)
    try:
        first = _backend_pid(engine)
        with db.make_engine(database("tracking")).connect() as admin:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            admin.commit()
        time.sleep(0.3)
        assert _backend_pid(engine) != first  # no error: the dead connection was found and replaced
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged_and_one_left_idle_is(database, monkeypatch):
    engine = db.make_engine(database("tracking"), pool_size=1, max_overflow=0)
    try:
        pings: list[int] = []
        real_ping = engine.dialect.do_ping
        monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
        for _ in range(20):
            _backend_pid(engine)
        assert pings == []
        time.sleep(db.IDLE_BEFORE_PING_SECONDS + 0.1)
        _backend_pid(engine)
        assert pings == [1]
    finally:
        engine.dispose()

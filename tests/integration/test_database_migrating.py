"""Migrations on SQLite may rebuild a table other tables refer to (SQLite's way
to change a column): `shared.db.migrating` switches foreign keys off outside
the transaction, as SQLite's documentation asks, and checks every key before
it commits; a migration that would leave a dangling key is refused whole."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.db import make_engine, migrating


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/m.sqlite3")
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY, old TEXT)")
        c.exec_driver_sql("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))")
        c.exec_driver_sql("INSERT INTO parent VALUES (1, 'x')")
        c.exec_driver_sql("INSERT INTO child VALUES (1)")
    yield engine
    engine.dispose()


def _rebuild_parent(c, keep: bool) -> None:
    c.exec_driver_sql("CREATE TABLE new_parent (id INTEGER PRIMARY KEY)")
    if keep:
        c.exec_driver_sql("INSERT INTO new_parent SELECT id FROM parent")
    c.exec_driver_sql("DROP TABLE parent")
    c.exec_driver_sql("ALTER TABLE new_parent RENAME TO parent")


def test_a_referred_table_is_rebuilt_and_keys_stay_enforced_after(engine):
    with migrating(engine) as c:
        _rebuild_parent(c, keep=True)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT id FROM parent")).scalars().all() == [1]
        with pytest.raises(sa.exc.IntegrityError):
            c.exec_driver_sql("INSERT INTO child VALUES (9)")


def test_a_migration_that_leaves_a_dangling_key_is_refused_whole(engine):
    with pytest.raises(RuntimeError, match="referring to rows that are gone"), migrating(engine) as c:
        _rebuild_parent(c, keep=False)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT id, old FROM parent")).all() == [(1, "x")]  # rolled back

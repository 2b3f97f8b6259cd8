"""Database set-up: one engine per service from its DATABASE_URL, sessions,
types that behave the same on SQLite and PostgreSQL, and Alembic migrations."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_ENV = Path(__file__).parent / "migrations"


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times are timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Choice(sa.types.TypeDecorator):
    """A member of one of a domain's enums, stored as its value (a string); a string binds as the member it
    names (an unknown one is refused before it reaches the database)."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type, length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, **kwargs) -> Engine:
    """The service's engine.  No error it raises carries the values of a
    statement (a child's name, date of birth, UPN or address would reach the
    logs): SQL parameters are hidden, and PostgreSQL's own detail ("Failing
    row contains (...)", "Key (upn)=(...)") is dropped (`without_values`)."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Web, consumer and relay share one file: WAL lets readers and one
            # writer work at once; busy_timeout waits instead of failing.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    connect_args = kwargs.pop("connect_args", {})
    # A database that does not answer must not hang a request: fail fast, /readyz says 503.
    connect_args.setdefault("connect_timeout", 5)
    engine = sa.create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "handle_error", without_values)
    if not kwargs.get("pool_pre_ping"):
        ping_when_idle(engine)
    return engine


# The execution option that says how a transaction on SQLite begins (see
# `_sqlite_begin`); a session of the service's session factory has it True.
WRITE_LOCK = "dps_write_lock"


def _sqlite_begin(connection) -> None:
    """How a transaction begins on SQLite.  Row locks (SELECT ... FOR UPDATE)
    do nothing there, and sqlite3 begins a transaction only before the first
    INSERT, UPDATE or DELETE: what a use case reads to decide (the places
    left, the weeks returned, the child's placements) was read outside any
    transaction, so two requests both saw the last place free and both took
    it.  A unit of work that may write begins with BEGIN IMMEDIATE: it takes
    the database's one write lock before its first read and holds it to the
    end, so the next one waits (busy_timeout) and then reads what the first
    wrote, as the row locks make it on PostgreSQL.  A read-only one begins a
    deferred transaction: one consistent snapshot, no lock.  A connection
    that says neither (the relay, /readyz, migrations) is left to sqlite3."""
    write_lock = connection.get_execution_options().get(WRITE_LOCK)
    if write_lock is not None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_lock else "BEGIN")


def without_values(context) -> None:
    """A PostgreSQL error keeps its primary message ('duplicate key value
    violates unique constraint "uq_children_upn"'), the statement and the
    constraint's name, but not the server's DETAIL, which quotes the values
    (the failing row, the duplicate key): they would reach the logs with the
    exception's text or its traceback."""
    original = context.original_exception
    diag = getattr(original, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not primary:
        return
    original.args = (primary,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        wrapped.args = (f"({type(original).__module__}.{type(original).__name__}) {primary}",)


# A connection back in the pool for longer than this is pinged before use.
IDLE_BEFORE_PING_SECONDS = 1.0


def ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat idle: after a
    database restart the idle connections are dead, and a request must not be
    the one to find out.  A connection in steady use skips the round trip
    (`pool_pre_ping` would cost one on every checkout); one that dies while
    in use fails its statement, which invalidates the whole pool (SQLAlchemy's
    default on a disconnect), so the next checkout connects afresh."""
    from time import monotonic

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection, record):
        record.info.pop("dps_checked_in_at", None)

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record):
        if record is not None:
            record.info["dps_checked_in_at"] = monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        since = record.info.get("dps_checked_in_at")
        if since is None or monotonic() - since < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # the ping's SELECT opened a transaction
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            # the pool discards this connection and checks out another (up to three tries)
            raise sa.exc.DisconnectionError("idle connection found dead")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that may write: on SQLite each takes the write lock when it
    begins (`_sqlite_begin`); `begin_read_only` makes one a plain reader."""
    return sessionmaker(bind=engine.execution_options(**{WRITE_LOCK: True}), expire_on_commit=False)


def begin_read_only(session: Session) -> Session:
    """Begin this session's transaction as a reader: on SQLite a deferred
    transaction (one snapshot, no write lock).  Call before its first statement."""
    session.connection(execution_options={WRITE_LOCK: False})
    return session


@contextmanager
def transaction(session_factory: sessionmaker[Session]):
    """One unit of work: commit on success, roll back on any error."""
    session = session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def insert_for(session: Session, table: sa.Table):
    """The dialect's INSERT, which has ON CONFLICT (PostgreSQL and SQLite alike)."""
    return _insert_of(session.get_bind().dialect.name)(table)


def _insert_of(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def upsert_if_newer(session: Session, table: sa.Table, key: dict, stamp: str, at: datetime, **values) -> None:
    """A replica's fact, in one statement: insert the row, or overwrite the
    fact only if `at` is at least as recent as the event that set it (events
    may arrive out of order).  `stamp` is the column holding that time."""
    statement = _upsert_statement(session.get_bind().dialect.name, table, tuple(key), stamp, tuple(values))
    session.execute(statement, {**key, **values, stamp: at})


@functools.lru_cache(maxsize=256)
def _upsert_statement(dialect: str, table: sa.Table, key: tuple[str, ...], stamp: str, values: tuple[str, ...]):
    # Built once per shape: consumers run it for every event, and building
    # an ON CONFLICT statement costs more than executing it.
    insert = _insert_of(dialect)(table)
    statement = insert.values({name: sa.bindparam(name, type_=table.c[name].type)
                               for name in (*key, *values, stamp)})
    stored = table.c[stamp]
    return statement.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key.columns],
        set_={name: statement.excluded[name] for name in (*values, stamp)},
        where=sa.or_(stored.is_(None), stored <= statement.excluded[stamp]))


class ChildRow(dict):
    """One row of a child table as `read_children` returns it: its columns by
    name, read as keys (`row["at"]`) or as attributes (`row.at`)."""

    __slots__ = ()

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def read_children(session: Session, key: str, keys: Mapping[sa.Table, Sequence],
                  order_by: Mapping[sa.Table, Sequence[str]] | None = None) -> dict[sa.Table, list[ChildRow]]:
    """The rows of several child tables whose `key` column is one of the given
    keys (per table: a table given none is not read), in one round trip.
    Each table's rows come in its `order_by` columns' order."""
    order_by = order_by or {}
    tables = tuple(table for table, wanted in keys.items() if wanted)
    found: dict[sa.Table, list[ChildRow]] = {table: [] for table in keys}
    if not tables:
        return found
    # one key each (the usual case) by `=`: an expanding IN costs more to compile each time
    one = all(len(keys[table]) == 1 for table in tables)
    orders = tuple(tuple(order_by.get(table, ())) for table in tables)
    statement, split = children_query(tables, key, orders, one=one)
    params = {f"{key}_{number}": keys[table][0] if one else list(keys[table])
              for number, table in enumerate(tables)}
    found.update(split(session.execute(statement, params)))
    return found


@functools.lru_cache(maxsize=64)
def children_query(tables: tuple[sa.Table, ...], key: str, order_by: tuple[tuple[str, ...], ...] = (), *,
                   one: bool = False) -> tuple[sa.CompoundSelect, Callable[[Iterable], dict[sa.Table, list[ChildRow]]]]:
    """Several child tables read as one statement, and what splits its rows
    back by table.  A UNION ALL with a part per table: its number (`part`),
    the shared `key` column, then every table's other columns labelled
    table__column, the part's own filled and the others NULL (cast to the
    column's type: PostgreSQL has to unite them, and each labelled column's
    type still turns values into Python ones).  Part n keeps the rows whose
    key is `:<key>_n` (`one`) or in the list `:<key>_n`; the rows come by
    part, then by each table's `order_by` column names (NULL in the other
    parts, so only its own part is ordered by them).  Built once per shape."""
    others = [[column for column in table.c if column.name != key] for table in tables]
    parts = []
    for number, table in enumerate(tables):
        wanted = sa.bindparam(f"{key}_{number}", expanding=not one)
        columns = [sa.literal(number, sa.Integer).label("part"), table.c[key].label(key)]
        for other, their_columns in zip(tables, others, strict=True):
            columns += [(column if other is table else sa.cast(sa.null(), column.type))
                        .label(f"{other.name}__{column.name}") for column in their_columns]
        which = table.c[key] == wanted if one else table.c[key].in_(wanted)
        parts.append(sa.select(*columns).where(which))
    statement = sa.union_all(*parts)
    ordering = ["part", *(f"{table.name}__{name}" for table, names in zip(tables, order_by, strict=False)
                          for name in names)]
    statement = statement.order_by(*(statement.selected_columns[name] for name in ordering))
    # Where each table's columns sit in a row: (name, position), the key at 1.
    positions, at = [], 2
    for table, their_columns in zip(tables, others, strict=True):
        place = {column.name: at + i for i, column in enumerate(their_columns)}
        positions.append([(column.name, place.get(column.name, 1)) for column in table.c])
        at += len(their_columns)

    def split(rows: Iterable) -> dict[sa.Table, list[ChildRow]]:
        found: dict[sa.Table, list[ChildRow]] = {table: [] for table in tables}
        for row in rows:
            number = row[0]
            found[tables[number]].append(ChildRow((name, row[i]) for name, i in positions[number]))
        return found

    return statement, split


def _alembic_config(versions: Path, metadata: sa.MetaData, connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_ENV))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(versions))
    cfg.attributes["target_metadata"] = metadata
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def migrating(engine: Engine) -> Iterator[sa.Connection]:
    """A connection in one transaction for migrations.

    PostgreSQL: two replicas starting together must not both migrate, so the
    second waits.  On SQLite the whole migration, DDL included, is one
    transaction.  SQLite rebuilds a table to change a column, and a table
    other tables refer to cannot be rebuilt with foreign keys enforced: as
    SQLite's documentation for ALTER TABLE says, they are switched off outside
    the transaction, and every key is checked before it commits."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")
            # BEGIN IMMEDIATE (`_sqlite_begin`): the DDL is inside the transaction too, so a
            # migration that fails leaves nothing half done (sqlite3 alone would commit each statement).
            connection = connection.execution_options(**{WRITE_LOCK: True})
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(7231959)"))
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration would leave {len(broken)} rows of "
                                           f"{sorted({row[0] for row in broken})} referring to rows that are gone")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def migrate(engine: Engine, versions: Path, metadata: sa.MetaData) -> None:
    """Bring the service's database to the latest migration."""
    from alembic import command

    with migrating(engine) as connection:
        command.upgrade(_alembic_config(versions, metadata, connection), "head")


def make_migration(versions: Path, metadata: sa.MetaData, message: str) -> None:
    """Write a new migration by comparing the models with a scratch database at head."""
    import tempfile

    from alembic import command

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/scratch.sqlite3")
        with engine.begin() as connection:
            cfg = _alembic_config(versions, metadata, connection)
            command.upgrade(cfg, "head")
            command.revision(cfg, message=message, autogenerate=True)
        engine.dispose()


# Named constraints, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def reminder_columns() -> list:
    """The `reminders_published` table's columns (shared/reminders.py), for the model and its migrations."""
    return [sa.Column("subject_id", sa.Uuid, primary_key=True),
            sa.Column("kind", sa.String(50), primary_key=True),  # the event type
            sa.Column("due_on", sa.Date, primary_key=True),
            sa.Column("published_at", UTCDateTime, nullable=False)]


def new_metadata() -> sa.MetaData:
    """A service's metadata, with the shared tables in it: outbox, inbox,
    job_runs (messaging) and audit_log."""
    from shared.audit import audit_table
    from shared.messaging.tables import messaging_tables

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    messaging_tables(metadata)
    audit_table(metadata)
    return metadata

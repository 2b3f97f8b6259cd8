"""Each service's migrations build exactly the tables its models describe, on
SQLite and on PostgreSQL: a model changed without its migration (or a
migration that drifts from the model) fails here, not in production."""

from __future__ import annotations

import importlib

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.catalogue import SERVICES
from shared.db import make_engine, migrate


def _definition(service: str):
    return importlib.import_module(f"services.{service}.service").definition()


def _differences(url: str, service: str) -> list:
    definition = _definition(service)
    engine = make_engine(url)
    try:
        migrate(engine, definition.versions, definition.metadata)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return [d for d in compare_metadata(context, definition.metadata)
                    if not _is_alembic_own(d)]
    finally:
        engine.dispose()


def _is_alembic_own(difference) -> bool:
    # alembic_version is Alembic's own table, not the service's.
    return (isinstance(difference, tuple) and difference[0] == "remove_table"
            and isinstance(difference[1], sa.Table) and difference[1].name == "alembic_version")


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models_on_sqlite(service, tmp_path):
    assert _differences(f"sqlite:///{tmp_path}/{service}.sqlite3", service) == []


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models_on_postgresql(service, postgres):
    name = f"m_{service}"
    postgres.drop_database(name)
    url = postgres.create_database(name)
    try:
        assert _differences(url, service) == []
    finally:
        postgres.drop_database(name)

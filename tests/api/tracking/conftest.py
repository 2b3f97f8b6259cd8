"""A faster tracking runtime for the API tests: one database per test module
(copied from the migrated template, as the `service` fixture does), emptied
before each test, instead of a new database per test.  The API tests need no
broker: their events stay in the outbox, where the tests read them."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from services.tracking import models
from tests.api.tracking.tracking_support import NOW
from tests.support import runtime as support


@pytest.fixture(scope="module")
def tracking_database(postgres, _templates):
    name = f"t_tracking_{uuid.uuid4().hex[:10]}"
    url = postgres.create_database(name, template=_templates("tracking"))
    yield url
    postgres.drop_database(name)


@pytest.fixture
def rt(tracking_database):
    """A tracking runtime on an empty database, its clock at NOW."""
    runtime = support.build_runtime("tracking", tracking_database, "amqp://unused//", migrate=False)
    tables = ", ".join(table.name for table in models.metadata.sorted_tables)
    with runtime.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables}"))
    runtime.clock = lambda: NOW
    yield runtime
    runtime.engine.dispose()

"""Migration 0006 on a database that holds providers and applications from
before it: a registered school keeps its URN and its Ofsted grade becomes its
last inspection's outcome in words; an unregistered setting becomes
`unregistered`; application forms are rewritten in the new shape; and the
tables match the models.  Then back down to 0004.  On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.provider_registry import models
from shared.db import _alembic_config, migrating

pytestmark = pytest.mark.integration

VERSIONS = Path(models.__file__).parent / "migrations" / "versions"
AT = datetime(2025, 1, 15, 10, tzinfo=UTC)
SCHOOL, SETTING = uuid.uuid4(), uuid.uuid4()


def _run(engine, step, revision):
    with migrating(engine) as connection:
        step(_alembic_config(VERSIONS, models.metadata, connection), revision)


def _old_provider(connection, provider_id, status, urn, grade):
    connection.execute(sa.text(
        "INSERT INTO providers (id, name, address, postcode, registration_status, urn, ofsted_grade, "
        "safeguarding_lead, created_at, updated_at) VALUES (:id, :name, '1 High St', 'NT1 2AB', :status, :urn, "
        ":grade, '{}', :at, :at)"), {"id": provider_id.hex, "name": f"p-{status}", "status": status, "urn": urn,
                                   "grade": grade, "at": AT.isoformat()})


def _old_application(connection, provider_id, registration):
    form = {"organisation": {"name": "x"}, "registration": registration}
    applications = sa.table("applications", *(sa.column(c) for c in (
        "id", "provider_id", "organisation_name", "status", "questions", "marks", "submitted_at", "submitted_on",
        "working_days", "extended_working_days", "due_on")), sa.column("form", sa.JSON()))
    connection.execute(applications.insert().values(
        id=uuid.uuid4().hex, provider_id=provider_id.hex, organisation_name="x", status="admitted", form=form,
        questions="{}", marks="[]", submitted_at=AT.isoformat(), submitted_on="2025-01-06", working_days=10,
        extended_working_days=15, due_on="2025-01-20"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """A database with nothing migrated yet, on each database the product supports."""
    if request.param == "sqlite":
        made = sa.create_engine(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
        yield made
    else:
        postgres, name = request.getfixturevalue("postgres"), f"t_migration_{uuid.uuid4().hex[:10]}"
        made = sa.create_engine(postgres.create_database(name))
        yield made
        made.dispose()
        postgres.drop_database(name)
    made.dispose()


def _key(value) -> str:
    return uuid.UUID(str(value)).hex


def test_existing_providers_and_forms_migrate_and_back(engine):
    _run(engine, command.upgrade, "0004")
    with engine.begin() as connection:
        _old_provider(connection, SCHOOL, "registered_school", "123456", "requires_improvement")
        _old_provider(connection, SETTING, "unregistered_setting", None, None)
        _old_application(connection, SCHOOL, {"status": "registered_school", "urn": "123456",
                                               "ofsted_grade": "good"})

    _run(engine, command.upgrade, "head")

    with engine.connect() as connection:
        rows = {_key(row.id): row for row in connection.execute(sa.text(
            "SELECT id, setting_kind, urn, ukprn, inspectorate, last_inspection_date, last_inspection_outcome "
            "FROM providers"))}
        assert tuple(rows[SCHOOL.hex])[1:] == ("registered_school", "123456", None, "ofsted", None,
                                               "Requires improvement")
        assert tuple(rows[SETTING.hex])[1:] == ("unregistered", None, None, None, None, None)
        form = connection.execute(sa.select(sa.column("form", sa.JSON())).select_from(
            sa.table("applications"))).scalar_one()
        assert form["registration"] == {"setting_kind": "registered_school", "urn": "123456", "ukprn": None,
                                        "inspectorate": "ofsted", "last_inspection_date": None,
                                        "last_inspection_outcome": "Good"}
        assert compare_metadata(MigrationContext.configure(connection), models.metadata) == []

    _run(engine, command.downgrade, "0004")

    with engine.connect() as connection:
        grades = connection.execute(sa.text("SELECT id, ofsted_grade FROM providers"))
        rows = {_key(id_): grade for id_, grade in grades}
        assert rows == {SCHOOL.hex: "requires_improvement", SETTING.hex: None}

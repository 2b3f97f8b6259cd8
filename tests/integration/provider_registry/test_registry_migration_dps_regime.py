"""Migration 0005 on a database that has lived under 0004: the one DPS there
was becomes the first DPS record (FIRST_DPS_ID) under the 2015 rules with its
statutory end, and its lots, memberships, applications and SLA acceptances
become its own; the ORM then reads them as before.  On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from services.provider_registry import models, orm
from services.provider_registry.domain import Regime
from services.provider_registry.repository import DpsRepository, ProviderRepository
from services.provider_registry.service import definition
from shared.catalogue import FIRST_DPS_ID
from shared.db import _alembic_config, make_engine, make_session_factory, migrating

pytestmark = pytest.mark.integration

PROVIDER = uuid.UUID("0b6c3a3e-5b0a-4d8e-9f51-2c1a2b3c4d5e")
WHEN = datetime(2025, 1, 15, 10, tzinfo=UTC)


def _at(engine, revision: str) -> None:
    with migrating(engine) as connection:
        command.upgrade(_alembic_config(definition().versions, models.metadata, connection), revision)


def _rows_of_0004(engine) -> None:
    with engine.begin() as c:
        c.execute(sa.text(
            "INSERT INTO providers (id, name, address, postcode, registration_status, safeguarding_lead, "
            "created_at, updated_at) VALUES (:id, 'Bridges', '1 High St', 'NT1 2AB', 'unregistered_setting', "
            "'{\"name\": \"A Lead\", \"email\": \"a@b.org\", \"phone\": null}', :at, :at)"),
            {"id": PROVIDER if c.dialect.name == "postgresql" else PROVIDER.hex, "at": WHEN})
        c.execute(sa.text(
            "INSERT INTO memberships (provider_id, lot, status, admitted_on, ends_on, since, automatic, capacity) "
            "VALUES (:id, 1, 'admitted', '2025-01-15', '2031-03-31', '2025-01-15', false, 6)"),
            {"id": PROVIDER if c.dialect.name == "postgresql" else PROVIDER.hex})
        c.execute(sa.text(
            "INSERT INTO sla_acceptances (provider_id, version, accepted_on, position) "
            "VALUES (:id, '1', '2025-01-06', 0)"), {"id": PROVIDER if c.dialect.name == "postgresql" else PROVIDER.hex})


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/registry.sqlite3")
    else:
        postgres = request.getfixturevalue("postgres")
        name = f"t_mig_{uuid.uuid4().hex[:10]}"
        engine = make_engine(postgres.create_database(name))
    yield engine
    engine.dispose()


def test_the_existing_dps_becomes_the_first_record_and_keeps_what_was_of_it(engine):
    _at(engine, "0004")
    _rows_of_0004(engine)
    _at(engine, "head")
    keys = {name: sa.inspect(engine).get_pk_constraint(name) for name in ("dps", "lots", "memberships")}
    assert {name: (key["name"], key["constrained_columns"]) for name, key in keys.items()} == {
        "dps": ("pk_dps", ["id"]), "lots": ("pk_lots", ["dps_id", "number"]),
        "memberships": ("pk_memberships", ["provider_id", "dps_id", "lot"])}

    orm.start_mappers()
    with make_session_factory(engine)() as session:
        dps = DpsRepository(session).get()
        assert (dps.id, dps.regime, dps.statutory_end) == (FIRST_DPS_ID, Regime.PCR2015_DPS, date(2029, 2, 23))
        assert dps.ends_on == date(2029, 2, 23) and dps.term_ends_on == date(2031, 3, 31)
        assert [c.code for c in dps.award_criteria] == ["value", "travel", "continuity", "specialism", "start"]
        assert (dps.agreed_minimum_window_days, dps.rounds, dps.warnings_given) == (None, (), ())
        assert sorted(dps.lots) == [1, 2, 3, 4] and all(lot.dps_id == FIRST_DPS_ID for lot in dps.lots.values())
        provider = ProviderRepository(session, lambda: WHEN).get(PROVIDER)
        assert list(provider.memberships) == [(FIRST_DPS_ID, 1)]
        assert provider.membership(1).capacity == 6
        assert provider.has_accepted("1", FIRST_DPS_ID)


def test_the_migration_goes_back_to_one_dps(engine):
    _at(engine, "head")
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO dps (id, name, start, term_years, status, sla_version, decision_working_days, "
                          "extended_decision_working_days, regime, award_criteria, rounds, warnings_given) VALUES "
                          "(:id, 'AP market', '2025-02-24', 4, 'open', '1', 10, 15, 'pa2023_dynamic_market', "
                          "'[]', '[]', '[]')"), {"id": uuid.uuid4() if c.dialect.name == "postgresql"
                                                 else uuid.uuid4().hex})
    with migrating(engine) as connection:
        command.downgrade(_alembic_config(definition().versions, models.metadata, connection), "0004")
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT id, name FROM dps")).all() == [(1, "Alternative Provision Dynamic "
                                                                           "Purchasing System")]
        assert c.execute(sa.text("SELECT count(*) FROM lots")).scalar_one() == 4

"""Awards' copy of the DPS records and of memberships per DPS, on the real
databases (PostgreSQL and SQLite): dps.configured kept newest-first, a
provider admitted to a successor DPS separately, and the migration moving
existing memberships and schedules onto the first DPS."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from services.awards import models
from services.awards.domain import Regime
from shared.catalogue import FIRST_DPS_ID
from shared.db import _alembic_config, make_engine
from tests.api.awards.awards_support import EARLIER, NOW, OFFICER, admit, feed
from tests.support import runtime as support

SUCCESSOR = uuid.uuid4()


def configured(**changes) -> dict:
    data = {"dps_id": str(SUCCESSOR), "name": "AP open framework", "regime": "pa2023_open_framework",
            "start": "2029-01-01", "term_ends_on": "2032-12-31", "statutory_end": None, "ends_on": "2032-12-31",
            "status": "open", "lots": [1, 2], "agreed_minimum_window_days": None, "agreed_in_sla_version": None,
            "sla_version": "1", "award_criteria": [{"code": "value", "name": "Value", "description": "Best value"}]}
    return {**data, **changes}


@pytest.fixture(params=["postgresql", "sqlite"])
def rt(request, tmp_path):
    if request.param == "postgresql":
        runtime = request.getfixturevalue("service")("awards")
    else:
        runtime = support.build_runtime("awards", f"sqlite:///{tmp_path}/awards.sqlite3", "amqp://unused//")
    runtime.clock = lambda: NOW
    yield runtime
    runtime.engine.dispose()


def test_dps_configured_is_kept_and_an_older_one_arriving_late_changes_nothing(rt):
    feed(rt, "dps.configured", configured())  # no `at`: the envelope's time orders it
    feed(rt, "dps.configured", configured(name="stale", at=(EARLIER - timedelta(days=400)).isoformat()))
    with rt.unit_of_work() as uow:
        successor = uow.dps_records.get(SUCCESSOR)
        assert successor.name == "AP open framework" and successor.regime is Regime.PA2023_OPEN_FRAMEWORK
        assert successor.lots == (1, 2) and successor.criterion("value").description == "Best value"
        first = uow.dps_records.get(FIRST_DPS_ID)  # not heard of yet: the configured default
        assert first.regime is Regime.PCR2015_DPS and first.ends_on == date(2029, 2, 23)
        assert [r.dps_id for r in uow.dps_records.all()] == [FIRST_DPS_ID, SUCCESSOR]


def test_a_provider_admitted_to_the_successor_is_not_a_member_of_the_first_dps(rt):
    provider = uuid.uuid4()
    feed(rt, "membership.admitted", {
        "dps_id": str(SUCCESSOR), "provider_id": str(provider), "provider_name": "P", "lot": 2,
        "registration_status": "registered_school", "capacity": 2, "at": EARLIER.isoformat(),
        "pricing_lines": [{"pricing_line_id": str(uuid.uuid4()), "description": "d", "unit": "hour",
                           "maximum_price_pence": 100}]})
    with rt.unit_of_work() as uow:
        assert uow.registry.registry_for(2).on_lot(provider, 2) is None
        assert uow.registry.registry_for(2, dps_id=SUCCESSOR).on_lot(provider, 2).capacity == 2
    admit(rt, provider)  # the first DPS (no dps_id), the same pricing line id kept apart
    with rt.unit_of_work() as uow:
        assert uow.registry.registry_for(2).on_lot(provider, 2).can_be_awarded


def test_the_migration_puts_existing_memberships_and_schedules_on_the_first_dps(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/old.sqlite3")
    versions = support.load_definition("awards").versions
    provider, line = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as connection:
        command.upgrade(_alembic_config(versions, models.metadata, connection), "0003")
        connection.execute(sa.text("INSERT INTO provider_lots (provider_id, lot, capacity) VALUES (:p, 2, 3)"),
                           {"p": provider.hex})
        connection.execute(sa.text("INSERT INTO pricing_lines (provider_id, lot, pricing_line_id, description, unit,"
                                   " maximum_price_pence) VALUES (:p, 2, :l, 'd', 'hour', 100)"),
                           {"p": provider.hex, "l": line.hex})
    with engine.begin() as connection:
        command.upgrade(_alembic_config(versions, models.metadata, connection), "head")
    with engine.connect() as connection:
        for table in (models.provider_lots, models.pricing_lines):
            assert connection.execute(sa.select(table.c.dps_id, table.c.provider_id)).one() == (FIRST_DPS_ID,
                                                                                                provider)
    for target in ("0003", "head"):  # and back again, the first DPS's rows kept
        with engine.begin() as connection:
            migrate = command.downgrade if target == "0003" else command.upgrade
            migrate(_alembic_config(versions, models.metadata, connection), target)
    with engine.connect() as connection:
        assert connection.execute(sa.select(models.provider_lots.c.dps_id)).scalar_one() == FIRST_DPS_ID
    engine.dispose()


def test_the_dps_records_and_their_published_criteria_are_listed(rt, client_for):
    client = client_for(rt)
    feed(rt, "dps.configured", configured())
    shown = client.get("/v1/dps", headers=OFFICER)
    assert shown.status_code == 200
    first, successor = shown.json
    assert (first["dps_id"], first["regime"], first["ends_on"]) == (str(FIRST_DPS_ID), "pcr2015_dps", "2029-02-23")
    assert [c["code"] for c in first["award_criteria"]] == ["value", "travel", "continuity", "specialism", "start"]
    assert successor["award_criteria"] == [{"code": "value", "name": "Value", "description": "Best value"}]
    assert client.get("/v1/dps").status_code == 401

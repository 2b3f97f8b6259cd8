"""A database error while a referral is saved leaves no personal data in the
logs, on SQLite (the default) and PostgreSQL: not the SQL parameters, not
the database's own detail ("Failing row contains (...)", "Key (upn)=(...)"),
in no log record of any logger, nor in the exception text a record carries."""

from __future__ import annotations

import logging
import uuid

import pytest
import sqlalchemy as sa

from shared.logs import JsonFormatter
from tests.api.referrals.referrals_support import NOW, OFFICER, referral_form
from tests.support.runtime import build_runtime

pytestmark = pytest.mark.integration

CHILD = {"name": "Ottoline Brackenbury-Vasquez", "date_of_birth": "2011-09-17", "upn": "K918273645501",
         "address": "27 Quince Mews, Lambeth SW9 7ZX"}
PERSONAL = ["Ottoline", "Brackenbury", "K918273645501", "2011-09-17", "2011, 9, 17", "Quince Mews", "SW9 7ZX"]


@pytest.fixture(params=["sqlite", "postgresql"])
def rt(request, tmp_path):
    url = (f"sqlite:///{tmp_path}/referrals.sqlite3" if request.param == "sqlite"
           else request.getfixturevalue("database")("referrals"))
    runtime = build_runtime("referrals", url, "amqp://unused//", migrate=request.param == "sqlite")
    runtime.clock = lambda: NOW
    yield runtime
    runtime.engine.dispose()


def _refuse_children(engine) -> None:
    """Every new row of the child's identity is refused by the database itself."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # NOT VALID: checked on new rows only; PostgreSQL's detail would quote the whole row
            connection.exec_driver_sql("ALTER TABLE referral_children ADD CONSTRAINT forced_failure "
                                       "CHECK (false) NOT VALID")
        else:
            connection.exec_driver_sql("CREATE TRIGGER forced_failure BEFORE INSERT ON referral_children "
                                       "BEGIN SELECT RAISE(ABORT, 'forced failure'); END")


def _everything_logged(records: list[logging.LogRecord]) -> str:
    plain, structured = logging.Formatter(), JsonFormatter("referrals")
    return "\n".join(f"{plain.format(r)}\n{structured.format(r)}\n{r.__dict__!r}" for r in records)


def test_a_database_error_saving_a_referral_logs_no_personal_data(rt, client_for, caplog):
    _refuse_children(rt.engine)
    client = client_for(rt)
    caplog.set_level(logging.DEBUG)  # every logger, every level

    response = client.post("/v1/referrals", json=referral_form(child=dict(CHILD)), headers=OFFICER)

    assert response.status_code == 500
    body = response.get_data(as_text=True)
    logged = _everything_logged(caplog.records)
    assert "unhandled error" in logged  # the failure was logged: the test looks at real log lines
    for value in PERSONAL:
        assert value not in logged, f"{value!r} reached the logs"
        assert value not in body
    with rt.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM referral_children")).scalar_one() == 0


def test_the_database_error_still_says_what_failed(rt):
    """Hiding the values keeps what an engineer needs: the statement and the constraint."""
    _refuse_children(rt.engine)
    values = {"referral_id": uuid.uuid4(), "child_ref": uuid.uuid4(), "name": CHILD["name"],
              "date_of_birth": NOW.date(), "upn": CHILD["upn"], "address": CHILD["address"]}
    with pytest.raises(sa.exc.DBAPIError) as raised, rt.engine.begin() as connection:
        connection.execute(rt.definition.metadata.tables["referral_children"].insert().values(**values))
    text = str(raised.value) + repr(raised.value.orig) + str(raised.value.orig)
    assert "INSERT INTO referral_children" in text
    assert ("forced_failure" if rt.engine.dialect.name == "postgresql" else "forced failure") in text
    for value in PERSONAL + [CHILD["name"], CHILD["upn"]]:
        assert value not in text


@pytest.mark.parametrize("statement", [
    "SELECT no_such_function(:name)",                 # a mistake in the code (ProgrammingError / OperationalError)
    "SELECT CAST(:name AS INTEGER) + no_such_column",  # a statement the database cannot plan
])
def test_no_database_error_of_any_kind_carries_the_values(rt, statement):
    with pytest.raises(sa.exc.DBAPIError) as raised, rt.engine.connect() as connection:
        connection.execute(sa.text(statement), {"name": CHILD["name"]})
    assert "hidden due to hide_parameters" in str(raised.value)
    assert CHILD["name"] not in str(raised.value) + str(raised.value.orig)

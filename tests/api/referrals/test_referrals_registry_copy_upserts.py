"""The registry copy writes each fact with one upsert that keeps the fact from
the later event: an older event arriving late changes nothing, one of the same
time applies, and a provider's name, its registration, a membership's status
and its capacity each keep their own event time.  On PostgreSQL and SQLite."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from services.referrals import models
from services.referrals.domain import MembershipStatus
from services.referrals.repository import NEVER, RegistryCopy
from shared.db import make_engine, make_session_factory
from tests.api.referrals.referrals_support import NOW

T0, T1, T2, T3, T4 = (NOW + timedelta(hours=h) for h in range(5))
ADMITTED, SUSPENDED, REMOVED = MembershipStatus.ADMITTED, MembershipStatus.SUSPENDED, MembershipStatus.REMOVED


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request, tmp_path):
    if request.param == "postgresql":
        yield request.getfixturevalue("rt").engine
        return
    engine = make_engine(f"sqlite:///{tmp_path}/referrals.sqlite3")
    models.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def apply(engine):
    """Apply one event's write (its own transaction, as the consumer does); its result."""
    factory = make_session_factory(engine)

    def run(method: str, *args, **kwargs):
        with factory() as session:
            result = getattr(RegistryCopy(session), method)(*args, **kwargs)
            session.commit()
            return result

    return run


def _row(engine, table, **key):
    with engine.connect() as connection:
        return connection.execute(sa.select(table).where(*(table.c[k] == v for k, v in key.items()))).one()


def test_a_name_from_an_earlier_event_does_not_replace_a_later_one(engine, apply):
    acorn = uuid.uuid4()
    apply("note_provider", acorn, "Acorn Learning", T2)
    apply("note_provider", acorn, "Acorn (old name)", T1)
    assert _row(engine, models.providers, provider_id=acorn).name == "Acorn Learning"
    apply("note_provider", acorn, "Acorn Learning Ltd", T2)  # the same time: applies
    apply("note_provider", acorn, None, T3)  # no name: leaves it
    row = _row(engine, models.providers, provider_id=acorn)
    assert (row.name, row.name_at) == ("Acorn Learning Ltd", T2)


def test_the_name_and_the_registration_keep_their_own_event_times(engine, apply):
    acorn = uuid.uuid4()
    apply("note_provider", acorn, None, T3, registration={
        "registration_status": "unregistered", "urn": None, "ofsted_grade": "good"})
    apply("note_provider", acorn, "Acorn", T1)  # the name was never set: an older event sets it
    row = _row(engine, models.providers, provider_id=acorn)
    assert (row.name, row.registration_status, row.ofsted_grade, row.registration_at) == (
        "Acorn", "unregistered", "good", T3)
    apply("note_provider", acorn, "Acorn (old)", T0,
          registration={"registration_status": "registered_school", "urn": "100001"})
    row = _row(engine, models.providers, provider_id=acorn)
    assert (row.name, row.registration_status, row.urn) == ("Acorn", "unregistered", None)
    apply("note_provider", acorn, "Acorn School", T2,  # newer name, older registration
          registration={"registration_status": "registered_school", "urn": "100001"})
    row = _row(engine, models.providers, provider_id=acorn)
    assert (row.name, row.name_at, row.registration_status, row.registration_at) == (
        "Acorn School", T2, "unregistered", T3)
    apply("note_provider", acorn, None, T4, registration={"registration_status": "registered_school",
                                                          "urn": "100001"})  # no grade sent: the grade stays
    row = _row(engine, models.providers, provider_id=acorn)
    assert (row.name, row.registration_status, row.urn, row.ofsted_grade, row.registration_at) == (
        "Acorn School", "registered_school", "100001", "good", T4)


def test_a_status_applies_unless_a_later_event_set_it(engine, apply):
    acorn = uuid.uuid4()
    assert apply("set_status", acorn, 1, ADMITTED, T1, capacity=4, ends_on=date(2031, 12, 31)) is True
    assert apply("set_status", acorn, 1, SUSPENDED, T3, reason="Insurance expired") is True
    assert apply("set_status", acorn, 1, ADMITTED, T2, reason="Reinstated") is False  # late: no effect
    row = _row(engine, models.memberships, provider_id=acorn, lot=1)
    assert (row.status, row.reason, row.status_at, row.capacity, row.ends_on) == (
        "suspended", "Insurance expired", T3, 4, date(2031, 12, 31))
    assert apply("set_status", acorn, 1, REMOVED, T3) is True  # the same time: applies, its reason too
    row = _row(engine, models.memberships, provider_id=acorn, lot=1)
    assert (row.status, row.reason, row.ends_on) == ("removed", None, date(2031, 12, 31))


def test_a_late_admission_still_brings_a_capacity_nothing_later_set(engine, apply):
    acorn = uuid.uuid4()
    assert apply("set_status", acorn, 1, SUSPENDED, T3) is True
    assert apply("set_status", acorn, 1, ADMITTED, T1, capacity=4, ends_on=date(2031, 12, 31)) is False
    row = _row(engine, models.memberships, provider_id=acorn, lot=1)
    assert (row.status, row.status_at, row.capacity, row.capacity_at, row.ends_on) == (
        "suspended", T3, 4, T1, None)
    apply("set_capacity", acorn, 1, 6, T2)
    assert apply("set_status", acorn, 1, ADMITTED, T0, capacity=9) is False  # neither applies
    row = _row(engine, models.memberships, provider_id=acorn, lot=1)
    assert (row.status, row.capacity, row.capacity_at) == ("suspended", 6, T2)


def test_capacity_applies_unless_older_even_before_the_admission(engine, apply):
    acorn = uuid.uuid4()
    apply("set_capacity", acorn, 1, 7, T2)  # before the admission: kept, not eligible
    row = _row(engine, models.memberships, provider_id=acorn, lot=1)
    assert (row.status, row.status_at, row.capacity, row.capacity_at) == ("removed", NEVER, 7, T2)
    apply("set_capacity", acorn, 1, 3, T1)
    assert _row(engine, models.memberships, provider_id=acorn, lot=1).capacity == 7
    apply("set_capacity", acorn, 1, 5, T2)  # the same time: applies
    assert apply("set_status", acorn, 1, ADMITTED, T0, capacity=2) is True  # older than the capacity
    row = _row(engine, models.memberships, provider_id=acorn, lot=1)
    assert (row.status, row.status_at, row.capacity, row.capacity_at) == ("admitted", T0, 5, T2)
    apply("set_capacity", acorn, 2, 1, T4)  # another lot: another membership
    assert _row(engine, models.memberships, provider_id=acorn, lot=1).capacity == 5

"""Awards' copy of each DPS record (dps.configured), its statutory end, and
memberships held per DPS: the domain value and the handlers on the fakes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from services.awards import consumers, handlers
from services.awards.domain import STATUTORY_END_RULE, DpsRecord, Regime
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict
from tests.unit.awards.fakes import STATUTORY_END, FakeUnitOfWork, Store
from tests.unit.awards.test_awards_handlers import EARLIER, NOW, admit, feed

SUCCESSOR = uuid.UUID("2b0e7a4c-6f1d-4c7e-8a55-3c2d1e0f9a77")


def configured(dps_id=SUCCESSOR, **changes) -> dict:
    data = {"dps_id": str(dps_id), "name": "AP dynamic market", "regime": "pa2023_dynamic_market",
            "start": "2029-01-01", "term_ends_on": "2035-12-31", "statutory_end": None, "ends_on": "2035-12-31",
            "status": "open", "lots": [1, 2, 3, 4], "agreed_minimum_window_days": 5,
            "agreed_in_sla_version": "2", "sla_version": "2", "something_new": "ignored",
            "award_criteria": [{"code": "value", "name": "Value", "description": "Best value"},
                               {"code": "travel", "name": "Travel", "description": "Travel time"}],
            "at": NOW.isoformat()}
    return {**data, **changes}


def record(unit, data: dict) -> None:
    handlers.dps_configured(unit, consumers.DpsConfigured().load(data))
    unit.commit()


@pytest.fixture
def uow():
    store = Store()
    return lambda: FakeUnitOfWork(store, now=NOW)


# --- the domain value


def test_the_first_dps_before_its_record_is_a_2015_dps_ending_at_the_configured_statutory_end():
    first = DpsRecord.first(date(2029, 2, 23))
    assert first.dps_id == FIRST_DPS_ID and first.regime is Regime.PCR2015_DPS
    assert first.statutory_end == first.ends_on == date(2029, 2, 23)  # earlier than the advertised 2031
    assert {c.code for c in first.award_criteria} == {"value", "travel", "continuity", "specialism", "start"}
    assert STATUTORY_END == date(2029, 2, 23)


def test_an_award_is_allowed_on_the_day_of_the_statutory_end_and_refused_the_day_after():
    first = DpsRecord.first(date(2029, 2, 23))
    first.check_may_award(date(2029, 2, 23))
    with pytest.raises(Conflict) as refused:
        first.check_may_award(date(2029, 2, 24))
    assert "2029-02-23" in refused.value.message and STATUTORY_END_RULE in refused.value.message
    assert "law" in refused.value.message


def test_a_dps_whose_term_ends_first_refuses_after_its_term_naming_the_councils_terms():
    short = DpsRecord(SUCCESSOR, "x", Regime.PA2023_OPEN_FRAMEWORK, date(2025, 1, 1), date(2027, 12, 31), None,
                      date(2027, 12, 31))
    short.check_may_award(date(2027, 12, 31))
    with pytest.raises(Conflict) as refused:
        short.check_may_award(date(2028, 1, 1))
    assert "2027-12-31" in refused.value.message and STATUTORY_END_RULE not in refused.value.message


def test_no_call_off_under_a_closed_dps_or_before_a_successor_starts():
    successor = DpsRecord(SUCCESSOR, "AP dynamic market", Regime.PA2023_DYNAMIC_MARKET, date(2029, 1, 1),
                          date(2035, 12, 31), None, date(2035, 12, 31))
    successor.check_may_award(date(2029, 1, 1))
    with pytest.raises(Conflict, match="starts on 2029-01-01"):
        successor.check_may_award(date(2028, 12, 31))
    with pytest.raises(Conflict, match="is closed"):
        replace(successor, status="closed").check_may_award(date(2030, 1, 1))


def test_the_call_off_standstill_hangs_off_the_regime():
    thursday = date(2025, 3, 27)
    assert not Regime.PCR2015_DPS.call_off_standstill(thursday).applies  # voluntary for a DPS call-off
    used = Regime.PCR2015_DPS.call_off_standstill(thursday, used=True)
    assert used.applies and used.ends_on == date(2025, 4, 6)  # 10 calendar days
    act = Regime.PA2023_DYNAMIC_MARKET.call_off_standstill(thursday)
    assert act.applies and act.ends_on == date(2025, 4, 8) and "8 working days" in act.basis


# --- the replica, fed by dps.configured


def test_dps_configured_is_kept_and_the_first_dps_is_there_before_any_record(uow):
    assert [r.dps_id for r in uow().dps_records.all()] == [FIRST_DPS_ID]
    record(uow(), configured())
    successor = uow().dps_records.get(SUCCESSOR)
    assert successor.regime is Regime.PA2023_DYNAMIC_MARKET and successor.agreed_minimum_window_days == 5
    assert successor.ends_on == date(2035, 12, 31) and successor.criterion("travel").name == "Travel"
    assert successor.criterion("continuity") is None
    assert [r.dps_id for r in uow().dps_records.all()] == [FIRST_DPS_ID, SUCCESSOR]
    assert uow().dps_records.get(uuid.uuid4()) is None


def test_a_membership_of_the_successor_does_not_admit_the_provider_to_the_first_dps(uow):
    provider = uuid.uuid4()
    feed(uow, "membership.admitted", {
        "dps_id": str(SUCCESSOR), "provider_id": str(provider), "provider_name": "P", "lot": 2,
        "registration_status": "registered_school", "capacity": 3, "at": EARLIER.isoformat(),
        "pricing_lines": []})
    assert uow().registry.registry_for(2).on_lot(provider, 2) is None
    assert uow().registry.registry_for(2, dps_id=SUCCESSOR).on_lot(provider, 2).can_be_awarded
    admit(uow, provider)  # no dps_id: the first DPS
    assert uow().registry.registry_for(2).on_lot(provider, 2).can_be_awarded


def test_a_referral_without_a_dps_id_is_the_first_dps_s(uow):
    from tests.unit.awards.test_awards_handlers import close
    referral_id, other = uuid.uuid4(), uuid.uuid4()
    close(uow, referral_id, [])
    close(uow, other, [], dps_id=str(SUCCESSOR))
    assert uow().call_offs.get(referral_id).referral.dps_id == FIRST_DPS_ID
    assert uow().call_offs.get(other).referral.dps_id == SUCCESSOR

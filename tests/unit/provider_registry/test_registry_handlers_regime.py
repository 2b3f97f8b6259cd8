"""The use cases of the DPS records on the fake unit of work: a successor set
up beside the first and joined separately, the statutory end refusing
admission (nothing committed), award criteria and an agreed window published
on dps.configured, SLA acceptance announced, and the daily job's warnings
given once."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.provider_registry import handlers
from services.provider_registry.domain import (
    DPS,
    AwardCriterion,
    PricingLine,
    Unit,
)
from shared.actor import Actor
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, InvalidInput
from tests.unit.provider_registry.fakes import FakeUnitOfWork
from tests.unit.provider_registry.test_domain_registry_regime import at, form

MANAGER = Actor("vls-manager", frozenset({"manager"}))
LINE = PricingLine("Group place per week", Unit.WEEK, "1:4", 45_000)
NOW = datetime(2025, 3, 3, 10, tzinfo=UTC)


def provider_user(provider_id) -> Actor:
    return Actor(f"user-of-{provider_id}", frozenset({"provider"}), provider_id=provider_id)


@pytest.fixture
def uow():
    return FakeUnitOfWork(DPS("Alternative Provision DPS"), now=NOW)


def set_up(uow, regime="pa2023_dynamic_market", lots=(1, 2)) -> DPS:
    return handlers.set_up_dps(uow.acting_as(MANAGER), MANAGER, name="AP dynamic market", regime=regime,
                               lots=list(lots), start=date(2025, 2, 24), term_years=4,
                               statutory_end=date(2029, 2, 23))


def admit(uow, provider_id, dps_id=FIRST_DPS_ID, lots=(1,)):
    user = provider_user(provider_id)
    application = handlers.submit_application(uow.acting_as(user), user, form(lots, dps_id))
    handlers.decide(uow.acting_as(MANAGER), MANAGER, application.id, admit=True, lots=lots)
    return uow.providers.stored[provider_id]


def test_the_manager_sets_up_a_successor_which_is_published_and_audited(uow):
    market = set_up(uow)
    assert uow.committed and handlers.dps_records(uow) == [uow.dps.get(), market]
    (data,) = uow.published("dps.configured")
    assert (data["dps_id"], data["regime"], data["lots"], data["statutory_end"], data["ends_on"]) == (
        str(market.id), "pa2023_dynamic_market", [1, 2], None, "2029-02-23")
    assert [c["code"] for c in data["award_criteria"]] == ["value", "travel", "continuity", "specialism", "start"]
    assert uow.actions() == ["dps.configured"]


def test_a_successor_refused_commits_nothing(uow):
    with pytest.raises(InvalidInput):
        handlers.set_up_dps(uow.acting_as(MANAGER), MANAGER, name="X", regime="pcr2006", lots=[1],
                            start=date(2025, 2, 24), term_years=4, statutory_end=date(2029, 2, 23))
    assert not uow.committed and handlers.dps_records(uow) == [uow.dps.get()] and uow.messages == []


def test_a_provider_of_the_first_dps_joins_the_successor_separately(uow):
    market = set_up(uow)
    provider_id = uuid.uuid4()
    admit(uow, provider_id)
    uow.messages.clear()
    provider = admit(uow, provider_id, market.id)  # lot 1 again, of the successor
    (data,) = uow.published("membership.admitted")
    assert (data["dps_id"], data["lot"], data["ends_on"]) == (str(market.id), 1, "2029-02-23")
    assert set(provider.memberships) == {(FIRST_DPS_ID, 1), (market.id, 1)}
    handlers.suspend(uow.acting_as(MANAGER), MANAGER, provider_id, 1, "a concern", market.id)
    (suspended,) = uow.published("membership.suspended")
    assert suspended["dps_id"] == str(market.id)
    _, listed = handlers.directory(uow, 1)
    assert [p.id for p in listed] == [provider_id]  # still admitted to the first DPS's lot 1
    assert handlers.directory(uow, 1, market.id)[1] == []


def test_an_application_after_the_statutory_end_is_refused_and_nothing_is_committed(uow):
    uow.time = at(date(2029, 2, 24))
    provider_id = uuid.uuid4()
    with pytest.raises(Conflict, match=r"no admission after 2029-02-23: .*SI 2024/716 regulation 5\(4\)"):
        handlers.submit_application(uow.acting_as(provider_user(provider_id)), provider_user(provider_id), form())
    assert not uow.committed and uow.applications.stored == {}


def test_an_open_framework_takes_applications_in_a_round_the_manager_opens(uow):
    framework = set_up(uow, "pa2023_open_framework")
    user = provider_user(uuid.uuid4())
    with pytest.raises(Conflict, match="only in an admission round"):
        handlers.submit_application(uow.acting_as(user), user, form(dps_id=framework.id))
    handlers.open_round(uow.acting_as(MANAGER), MANAGER, date(2025, 3, 3), date(2025, 3, 14), framework.id)
    application = handlers.submit_application(uow.acting_as(user), user, form(dps_id=framework.id))
    assert application.dps_id == framework.id


def test_award_criteria_and_an_agreed_window_are_published_on_the_record(uow):
    handlers.set_award_criteria(uow.acting_as(MANAGER), MANAGER,
                                [AwardCriterion("value", "Value", "Best value at the volume asked for"),
                                 AwardCriterion("travel", "Travel", "Travel time for this child")])
    handlers.issue_sla(uow.acting_as(MANAGER), MANAGER, "2", "agreed windows", agreed_minimum_window_days=5)
    criteria, sla = uow.published("dps.configured")
    assert [c["code"] for c in criteria["award_criteria"]] == ["value", "travel"]
    assert (sla["sla_version"], sla["agreed_minimum_window_days"], sla["agreed_in_sla_version"]) == ("2", 5, "2")
    assert uow.actions() == ["dps.configured", "sla.issued"]


def test_accepting_an_sla_is_announced_with_its_dps_and_moment(uow):
    provider_id = uuid.uuid4()
    admit(uow, provider_id)
    handlers.issue_sla(uow.acting_as(MANAGER), MANAGER, "2", agreed_minimum_window_days=5)
    uow.messages.clear()
    handlers.accept_sla(uow.acting_as(provider_user(provider_id)), provider_user(provider_id), provider_id, "2")
    assert uow.published("provider.sla_accepted") == [{
        "provider_id": str(provider_id), "dps_id": str(FIRST_DPS_ID), "sla_version": "2",
        "accepted_at": "2025-03-03T10:00:00+00:00"}]


def test_the_daily_job_warns_once_at_12_6_and_3_months(uow):
    def run(day: date) -> list[int]:
        uow.messages.clear()
        uow.time = at(day)
        handlers.run_dps_checks(uow, uow.time, statutory_end=date(2029, 2, 23))
        uow.commit()
        return [d["months_before"] for d in uow.published("dps.statutory_end_approaching")]

    assert run(date(2028, 2, 22)) == []
    assert run(date(2028, 2, 23)) == [12]
    assert run(date(2028, 2, 23)) == []  # never twice for the same DPS and months
    assert run(date(2028, 8, 23)) == [6]
    assert run(date(2028, 11, 23)) == [3]
    assert run(date(2029, 1, 4)) == []
    assert [w.months_before for w in uow.dps.get().warnings_given] == [12, 6, 3]
    assert "dps.statutory_end_approaching" in uow.actions()


def test_the_daily_job_applies_the_configured_statutory_end_and_memberships_end_with_it(uow):
    market = set_up(uow)
    provider = admit(uow, uuid.uuid4())
    admit(uow, provider.id, market.id)
    uow.messages.clear()
    handlers.run_dps_checks(uow, NOW, statutory_end=date(2028, 10, 27))
    uow.commit()
    (data,) = uow.published("dps.configured")
    assert (data["dps_id"], data["statutory_end"], data["ends_on"]) == (str(FIRST_DPS_ID), "2028-10-27", "2028-10-27")
    assert market.statutory_end is None  # only a 2015-rules DPS has one
    assert (provider.membership(1).ends_on, provider.membership(1, market.id).ends_on) == (
        date(2028, 10, 27), date(2029, 2, 23))
    uow.messages.clear()
    handlers.run_dps_checks(uow, NOW, statutory_end=date(2028, 10, 27))
    assert uow.published("dps.configured") == []


def test_the_default_statutory_end_comes_from_the_setting(uow, monkeypatch):
    monkeypatch.setenv("DPS_PCR2015_STATUTORY_END", "2028-10-27")
    handlers.run_dps_checks(uow, NOW)
    assert uow.dps.get().statutory_end == date(2028, 10, 27)
    monkeypatch.setenv("DPS_PCR2015_STATUTORY_END", "27/10/2028")
    with pytest.raises(ValueError, match="DPS_PCR2015_STATUTORY_END must be a date"):
        handlers.run_dps_checks(uow, NOW)


def test_a_form_names_the_first_dps_unless_it_says_otherwise():
    assert form().dps_id == FIRST_DPS_ID and replace(form(), dps_id=FIRST_DPS_ID) == form()

"""A placement does not start during its call-off's standstill (Procurement Act
2023 s.51): the domain rule, and the date kept from placement.awarded."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from services.tracking import consumers, handlers
from services.tracking.domain import PlacementStatus
from shared.errors import Conflict
from shared.events import new_event
from tests.api.tracking.tracking_support import award_data
from tests.unit.tracking.fakes import FakeUnitOfWork
from tests.unit.tracking.test_domain_tracking_placement import NOW, OFFICER, new_placement
from tests.unit.tracking.test_tracking_handlers import PROVIDER, placement


def test_a_start_on_the_last_day_of_the_standstill_is_refused_naming_the_rule_and_the_day_after_is_not():
    during = new_placement(standstill_ends_on=date(2024, 1, 9))
    with pytest.raises(Conflict) as refused:
        during.start(date(2024, 1, 9), by=OFFICER, now=NOW)
    assert refused.value.field == "started_on"
    assert "2024-01-09" in refused.value.message and "2024-01-10" in refused.value.message
    assert "Procurement Act 2023 s.51" in refused.value.message and "law" in refused.value.message
    assert during.status is PlacementStatus.AWARDED and during.started_on is None and during.events == []
    during.start(date(2024, 1, 10), by=OFFICER, now=NOW)
    assert during.status is PlacementStatus.STARTED


def test_no_standstill_means_any_day():
    new_placement().start(date(2024, 1, 8), by=OFFICER, now=NOW)


def test_the_standstill_is_kept_from_placement_awarded_and_missing_means_none():
    uow = FakeUnitOfWork()
    with_one, without = award_data(standstill_ends_on="2024-01-09"), award_data()
    without.pop("standstill_ends_on", None)
    for data in (with_one, without):
        consumers.event_handlers()["placement.awarded"](uow, new_event("placement.awarded", data, "awards"))
    assert uow.placements.stored[UUID(with_one["placement_id"])].standstill_ends_on == date(2024, 1, 9)
    assert uow.placements.stored[UUID(without["placement_id"])].standstill_ends_on is None


def test_a_start_during_the_standstill_commits_nothing():
    made = placement(standstill_ends_on=date(2024, 1, 9))
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    with pytest.raises(Conflict):
        handlers.start_placement(uow, PROVIDER, made.placement_id, date(2024, 1, 8))
    assert not uow.committed and made.status is PlacementStatus.AWARDED and uow.messages == []

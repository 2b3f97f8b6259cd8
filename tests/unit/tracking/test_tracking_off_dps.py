"""An approved off-DPS exception becomes a tracked placement (issue #16 item 5):
source off_dps, its cost committed, its provider named in the reports; and,
since an off-DPS provider has no account here, the commissioning team's
officer returns its attendance."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.tracking import consumers, handlers
from services.tracking.domain import PlacementSource, PlacementStatus, SixthDayStatus, sixth_day_row
from shared.actor import Actor
from shared.calendar import school_calendar
from shared.errors import Forbidden
from shared.events import new_event
from tests.unit.tracking.fakes import FakeUnitOfWork
from tests.unit.tracking.test_tracking_handlers import MANAGER, OFFICER, OTHER_TEAM, POLICY, placement, running

PROVIDER_ID = uuid4()


def approved(**changes) -> dict:
    """off_dps_placement.approved as awards publishes it."""
    return {"placement_id": str(uuid4()), "referral_id": str(uuid4()), "dps_id": str(uuid4()),
            "provider_id": str(PROVIDER_ID), "provider_name": "Riverside Tuition", "setting_kind": "unregistered",
            "urn": None, "ukprn": None, "lot": 2, "team": "exclusions", "child_ref": str(uuid4()),
            "reason_for_ap": "permanent_exclusion", "hours_per_week": 15, "full_time": False,
            "start_date": "2024-01-08", "weeks": 12, "weekly_cost_pence": 45000, "total_pence": 540_000,
            "approved_by": "vls-manager", "at": "2024-01-05T10:00:00+00:00", **changes}


def consume(uow: FakeUnitOfWork, data: dict) -> None:
    handler = consumers.event_handlers()["off_dps_placement.approved"]
    handler(uow, new_event("off_dps_placement.approved", data, "awards"))


def test_an_approved_off_dps_exception_becomes_a_tracked_placement_once():
    uow, data = FakeUnitOfWork(), approved()
    consume(uow, data)
    consume(uow, data)  # a second copy changes nothing
    [made] = uow.placements.stored.values()
    assert made.source is PlacementSource.OFF_DPS and made.status is PlacementStatus.AWARDED
    assert (made.agreed_cost_pence, made.hours_per_week, made.full_time) == (540_000, Decimal(15), False)
    assert made.expected_end_date == date(2024, 3, 31) and made.awarded_at == datetime(2024, 1, 5, 10, tzinfo=UTC)
    assert uow.registry.name_of(PROVIDER_ID) == "Riverside Tuition"
    assert uow.placements.award_terms[made.placement_id]["awarded_by"] == "vls-manager"


def week(uow, actor, placement):
    return handlers.record_attendance(uow, actor, placement.placement_id, week_commencing=date(2024, 1, 8),
                                      sessions_offered=10, attended=9, authorised_absence=1,
                                      unauthorised_absence=0, policy=POLICY)


def test_the_teams_officer_returns_an_off_dps_placements_attendance():
    made = running()
    made.source = PlacementSource.OFF_DPS
    for actor in (OFFICER, MANAGER):
        uow = FakeUnitOfWork([made], actor=actor)
        placement, returned, _ = week(uow, actor, made)
        assert returned.attended == 9 and uow.committed
    with pytest.raises(Forbidden):
        week(FakeUnitOfWork([made], actor=OTHER_TEAM), OTHER_TEAM, made)


def test_an_officer_still_does_not_return_a_dps_providers_attendance():
    made = running()
    with pytest.raises(Forbidden, match="off-DPS"):
        week(FakeUnitOfWork([made], actor=OFFICER), OFFICER, made)
    provider = Actor("provider.a", frozenset({"provider"}), provider_id=made.provider_id)
    assert week(FakeUnitOfWork([made], actor=provider), provider, made)[1].attended == 9


# -- the sixth day: an off-DPS placement is the child's provision like any other ------------------

def duty_of(uow: FakeUnitOfWork, child_ref: str):
    closed = {"referral_id": str(uuid4()), "child_ref": child_ref, "team": "exclusions", "lot": 1,
              "reason_for_ap": "permanent_exclusion", "looked_after": False, "full_time_provision_by": "2024-01-12",
              "first_school_day": "2024-01-05", "at": "2024-01-05T09:00:00+00:00"}
    consumers.event_handlers()["referral.closed"](uow, new_event("referral.closed", closed, "referrals"))
    [duty] = uow.sixth_day.duties.values()
    return duty


def sixth_day_of(uow: FakeUnitOfWork, duty, today: date):
    return sixth_day_row(duty, uow.placements.of_child(duty.child_ref), today=today, calendar=school_calendar())


def test_an_approved_off_dps_placement_starting_full_time_is_the_childs_first_full_time_day():
    uow, child_ref = FakeUnitOfWork(now=datetime(2024, 1, 10, 12, tzinfo=UTC)), str(uuid4())
    duty = duty_of(uow, child_ref)
    data = approved(child_ref=child_ref, lot=1, hours_per_week=25, full_time=True)
    consume(uow, data)
    assert sixth_day_of(uow, duty, date(2024, 1, 10)).status is SixthDayStatus.AT_RISK  # approved, not started
    handlers.start_placement(uow, OFFICER, uuid.UUID(data["placement_id"]), date(2024, 1, 9))
    row = sixth_day_of(uow, duty, date(2024, 1, 10))
    assert (row.first_full_time_day, row.status, row.placed_part_time_only) == (
        date(2024, 1, 9), SixthDayStatus.MET, False)


def test_a_part_time_off_dps_placement_adds_its_hours_to_the_childs_other_placement():
    uow, child_ref = FakeUnitOfWork(now=datetime(2024, 1, 10, 12, tzinfo=UTC)), str(uuid4())
    duty = duty_of(uow, child_ref)
    off_dps = approved(child_ref=child_ref, hours_per_week=10, full_time=False)
    consume(uow, off_dps)
    handlers.start_placement(uow, OFFICER, uuid.UUID(off_dps["placement_id"]), date(2024, 1, 8))
    assert sixth_day_of(uow, duty, date(2024, 1, 8)).placed_part_time_only  # 10 hours alone
    call_off = placement(child_ref=uuid.UUID(child_ref), lot=2, hours_per_week=Decimal(9), full_time=False)
    uow.placements.add(call_off)
    handlers.start_placement(uow, OFFICER, call_off.placement_id, date(2024, 1, 10))
    row = sixth_day_of(uow, duty, date(2024, 1, 10))
    assert (row.first_full_time_day, row.status) == (date(2024, 1, 10), SixthDayStatus.MET)  # 19 hours together

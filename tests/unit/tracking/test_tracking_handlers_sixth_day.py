"""Tracking keeps each child's sixth-day deadline from `referral.closed` (through the consumer's own
schema), and starts and reviews count on the school calendar they are given."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from services.tracking import consumers, handlers
from services.tracking.domain import Placement
from shared.actor import Actor
from shared.calendar import school_calendar
from shared.schemas import cached
from tests.unit.tracking.fakes import FakeUnitOfWork

AT = datetime(2025, 10, 30, 9, 0, tzinfo=UTC)


def closed(**overrides) -> dict:
    data = {"referral_id": str(uuid4()), "child_ref": str(uuid4()), "team": "exclusions", "lot": 2,
            "reason_for_ap": "permanent_exclusion", "looked_after": True, "full_time_provision_by": "2025-11-05",
            "first_school_day": "2025-10-22", "at": AT.isoformat(), "offers": [], "dps_id": str(uuid4())}
    return {**data, **overrides}


def consume(uow, data: dict) -> bool:
    return handlers.note_sixth_day(uow, cached(consumers.ReferralClosed).load(data))


def test_a_closed_referral_with_a_deadline_is_kept_for_its_child():
    uow, data = FakeUnitOfWork(), closed()
    assert consume(uow, data)
    [duty] = uow.sixth_day.duties.values()
    assert (str(duty.child_ref), duty.full_time_provision_by, duty.first_day_aim) == (
        data["child_ref"], date(2025, 11, 5), date(2025, 10, 22))


def test_a_republished_referral_for_the_same_duty_replaces_the_first():
    uow, first = FakeUnitOfWork(), closed()
    again = {**first, "referral_id": str(uuid4()), "at": datetime(2025, 11, 20, tzinfo=UTC).isoformat()}
    consume(uow, first)
    consume(uow, again)
    [duty] = uow.sixth_day.duties.values()
    assert str(duty.referral_id) == again["referral_id"]


def test_a_medical_referral_carries_no_deadline_and_is_not_kept():
    uow = FakeUnitOfWork()
    assert not consume(uow, closed(reason_for_ap="medical", full_time_provision_by=None, first_school_day=None))
    assert not uow.sixth_day.duties


def test_an_older_referral_closed_event_without_the_fields_is_read_as_no_duty():
    data = closed()
    del data["full_time_provision_by"], data["first_school_day"], data["looked_after"]
    assert not consume(FakeUnitOfWork(), data)


def test_a_start_and_a_review_count_school_weeks_on_the_calendar_given():
    placement = Placement.from_call_off(
        placement_id=uuid4(), referral_id=uuid4(), child_ref=uuid4(), provider_id=uuid4(), lot=2,
        commissioning_team="exclusions", reason_for_ap="permanent_exclusion", hours_per_week=Decimal(15),
        agreed_cost_pence=500_000, start_date=date(2025, 10, 13), expected_end_date=date(2026, 3, 27),
        safeguarding="home_school", provision="main", awarded_at=datetime(2025, 10, 1, tzinfo=UTC))
    uow = FakeUnitOfWork([placement], now=datetime(2025, 12, 10, 12, 0, tzinfo=UTC))
    officer = Actor("officer.exclusions", frozenset({"officer"}), team="exclusions")
    handlers.start_placement(uow, officer, placement.placement_id, date(2025, 10, 13), calendar=school_calendar())
    assert placement.review_due_date == date(2025, 12, 1)  # the half term does not count
    _, review = handlers.record_review(uow, officer, placement.placement_id, review_date=date(2025, 12, 8),
                                       attendance="improving", attitude="steady", attainment="steady",
                                       behaviour="improving", notes="settling", child_views="likes art",
                                       family_views="relieved", calendar=school_calendar())
    assert placement.review_due_date == date(2026, 2, 2)  # nor do the Christmas holidays
    assert "child_views" not in uow.messages[-1].data and "family_views" not in uow.messages[-1].data

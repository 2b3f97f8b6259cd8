"""Tracking's rules through its handlers on the fake unit of work, moved down
from the API tests (issue #14, item 3): the registry's news and the flags it
raises, the overlap rule, the order of a placement's life, the attendance
concerns, and the `full_time` transition of an award event (through the
consumer's own schema).  The API tests keep one refusal of each kind for its
status code and error body."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from services.tracking import consumers, handlers
from services.tracking.domain import PlacementStatus
from shared.errors import Conflict, Forbidden
from shared.events import new_event
from tests.api.tracking.tracking_support import award_data
from tests.unit.tracking.fakes import FakeUnitOfWork
from tests.unit.tracking.test_tracking_handlers import (
    OFFICER,
    POLICY,
    PROVIDER,
    PROVIDER_ID,
    placement,
    running,
)


def _news(status: str, at: datetime, reason: str) -> dict:
    return dict(provider_id=PROVIDER_ID, provider_name="Northside Learning", lot=1, status=status, reason=reason,
                at=at)


def _reasons(made) -> list[str]:
    return [flag.reason for flag in made.review_flags]


# -- the registry's news ------------------------------------------------------------------
# (was tests/api/tracking/test_tracking_api_registry.py)

def test_a_removal_flags_too():
    made = running()
    uow = FakeUnitOfWork([made])
    handlers.apply_membership(uow, **_news("removed", datetime(2024, 3, 14, 9, tzinfo=UTC), "safeguarding concern"))
    assert _reasons(made) == ["Northside Learning was removed from lot 1 on 2024-03-14: safeguarding concern"]


def test_a_review_clears_the_flag_and_reinstatement_leaves_it():
    made = running()
    uow = FakeUnitOfWork([made], actor=OFFICER)
    handlers.apply_membership(uow, **_news("suspended", datetime(2024, 3, 11, 9, tzinfo=UTC), "insurance expired"))
    handlers.apply_membership(uow, **_news("admitted", datetime(2024, 3, 13, 9, tzinfo=UTC), "insurance renewed"))
    assert made.flagged_for_review
    handlers.record_review(uow, OFFICER, made.placement_id, review_date=date(2024, 3, 15), attendance="steady",
                           attitude="steady", attainment="steady", behaviour="steady",
                           notes="met the provider; new insurance seen",
                           child_views="likes the small group", family_views="pleased with progress")
    assert not made.flagged_for_review and made.review_flags == []


def test_a_late_copy_of_an_older_suspension_changes_nothing():
    made = running()
    uow = FakeUnitOfWork([made])
    handlers.apply_membership(uow, **_news("admitted", datetime(2024, 3, 13, 9, tzinfo=UTC), "insurance renewed"))
    uow.collect()
    audited = list(uow.audit)
    assert handlers.apply_membership(
        uow, **_news("suspended", datetime(2024, 3, 11, 9, tzinfo=UTC), "insurance expired")) == 0
    uow.collect()
    assert uow.audit == audited and not made.flagged_for_review
    assert uow.registry.membership(PROVIDER_ID, 1)["status"] == "admitted"


# -- one full-time main placement at a time ---------------------------------------------------
# (was tests/api/tracking/test_tracking_api_placements.py)

def test_a_part_time_supplementary_placement_alongside_needs_no_reason():
    first = running()
    extra = placement(child_ref=first.child_ref, lot=2, hours_per_week=Decimal(6), full_time=False)
    uow = FakeUnitOfWork([first, extra], actor=PROVIDER)
    handlers.start_placement(uow, PROVIDER, extra.placement_id, date(2024, 2, 5))
    assert extra.status is PlacementStatus.STARTED and extra.overlap_reason is None


def test_making_a_running_placement_the_main_one_follows_the_overlap_rule():
    first = running()
    second = placement(child_ref=first.child_ref)
    uow = FakeUnitOfWork([first, second], actor=OFFICER)
    handlers.set_arrangements(uow, OFFICER, second.placement_id, provision="supplementary")
    handlers.start_placement(uow, OFFICER, second.placement_id, date(2024, 2, 5))
    uow = FakeUnitOfWork([first, second], actor=OFFICER)
    with pytest.raises(Conflict) as refused:
        handlers.set_arrangements(uow, OFFICER, second.placement_id, provision="main")
    assert refused.value.field == "overlap_reason" and not uow.committed
    assert second.provision.value == "supplementary"
    handlers.set_arrangements(uow, OFFICER, second.placement_id, provision="main",
                              overlap_reason="first placement winding down")
    assert second.provision.value == "main" and uow.committed


# -- the order of a placement's life ------------------------------------------------------------
# (was tests/api/tracking/test_tracking_api_placements.py and test_tracking_api_reviews.py; the API keeps
#  test_starting_twice_is_a_conflict for the 409 and its error body)

END = dict(end_date=date(2024, 3, 8), end_reason="completed", next_step="employment")


def test_ending_a_placement_that_has_not_started_is_a_conflict():
    made = placement()
    uow = FakeUnitOfWork([made], actor=OFFICER)
    with pytest.raises(Conflict) as refused:
        handlers.end_placement(uow, OFFICER, made.placement_id, **END)
    assert refused.value.field == "placement_id" and not uow.committed
    assert made.status is PlacementStatus.AWARDED


def test_ending_twice_is_a_conflict():
    made = running()
    handlers.end_placement(FakeUnitOfWork([made], actor=OFFICER), OFFICER, made.placement_id, **END)
    with pytest.raises(Conflict):
        handlers.end_placement(FakeUnitOfWork([made], actor=OFFICER), OFFICER, made.placement_id, **END)


def test_a_provider_may_not_cancel_and_a_started_placement_is_ended_not_cancelled():
    awarded = placement()
    with pytest.raises(Forbidden):
        handlers.cancel_placement(FakeUnitOfWork([awarded]), PROVIDER, awarded.placement_id, reason="never came",
                                  next_step="other")
    started = running()
    uow = FakeUnitOfWork([started], actor=OFFICER)
    with pytest.raises(Conflict) as refused:
        handlers.cancel_placement(uow, OFFICER, started.placement_id, reason="never came", next_step="other")
    assert refused.value.field == "placement_id" and not uow.committed
    assert started.status is PlacementStatus.STARTED


def _review(uow, made, on=date(2024, 3, 8)):
    return handlers.record_review(uow, OFFICER, made.placement_id, review_date=on, attendance="improving",
                                  attitude="steady", attainment="improving", behaviour="declining",
                                  notes="attending most days",
                                  child_views="likes the small group", family_views="pleased with progress")


def test_reviewing_an_ended_placement_is_refused():
    made = running()
    handlers.end_placement(FakeUnitOfWork([made], actor=OFFICER), OFFICER, made.placement_id,
                           end_date=date(2024, 3, 1), end_reason="completed", next_step="further_education")
    uow = FakeUnitOfWork([made], actor=OFFICER)
    with pytest.raises(Conflict) as refused:
        _review(uow, made)
    assert refused.value.field == "placement_id" and not uow.committed and made.reviews == []


def test_reviewing_a_placement_not_yet_started_is_a_conflict():
    made = placement()
    with pytest.raises(Conflict):
        _review(FakeUnitOfWork([made], actor=OFFICER), made)


# -- attendance concerns --------------------------------------------------------------------------
# (was tests/api/tracking/test_tracking_api_attendance.py)

def _return(uow, made, monday: date, attended: int, authorised: int = 0, unauthorised: int = 0, offered=10):
    _, _, concerns = handlers.record_attendance(
        uow, PROVIDER, made.placement_id, week_commencing=monday, sessions_offered=offered, attended=attended,
        authorised_absence=authorised, unauthorised_absence=unauthorised, policy=POLICY)
    return concerns


def _mondays(count: int) -> list[date]:
    return [date(2024, 1, 8) + timedelta(weeks=i) for i in range(count)]


def test_no_return_before_the_placement_has_started():
    made = placement()
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    with pytest.raises(Conflict) as refused:
        _return(uow, made, date(2024, 1, 8), 10)
    assert refused.value.field == "placement_id" and not uow.committed and uow.messages == []


def test_attendance_below_80_percent_over_the_latest_four_weeks_raises_a_concern():
    made = running()
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    weeks = _mondays(4)
    # 10/10, 8/10, 7/10: 25/30 = 83.3% over three weeks, no concern yet
    for monday, attended in zip(weeks[:3], (10, 8, 7), strict=True):
        assert _return(uow, made, monday, attended, authorised=10 - attended) == []
    # then 6/10: 31/40 = 77.5% over four weeks, below 80%
    [raised] = _return(uow, made, weeks[3], 6, authorised=4)
    assert (raised.kind.value, raised.rate, raised.week_commencing) == ("low_attendance", Decimal("0.775"), weeks[3])


def test_exactly_80_percent_is_not_below_the_threshold():
    made = running()
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    for monday in _mondays(4):
        assert _return(uow, made, monday, 8, authorised=2) == []


def test_a_correction_never_raises_the_same_concern_twice():
    made = running()
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    assert len(_return(uow, made, date(2024, 1, 8), 5, unauthorised=5)) == 2
    assert _return(uow, made, date(2024, 1, 8), 4, unauthorised=6) == []
    assert uow.types().count("concern.raised") == 2  # unexplained absence and low attendance, once each



# -- from awards: the transition of `full_time` (was tests/api/tracking/test_tracking_api_placements.py) -----

def test_an_award_from_before_awards_said_full_time_is_judged_as_then():
    """Transition (consumers.full_time_of): an event without `full_time` is full-time
    above 18 hours a week or on lot 1; the consumer's own schema reads it."""
    uow = FakeUnitOfWork()
    for lot, hours, full_time in ((2, 6, False), (2, 25, True), (1, 6, True)):
        data = award_data(lot=lot, hours_per_week=hours)
        del data["full_time"]
        consumers.event_handlers()["placement.awarded"](uow, new_event("placement.awarded", data, "awards"))
        assert uow.placements.stored[UUID(data["placement_id"])].full_time is full_time, (lot, hours)

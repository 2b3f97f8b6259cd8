"""An award the child never takes up is cancelled by an officer; officers
record safeguarding and main or supplementary provision; cancelled awards
count neither for nor against a provider."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.tracking.domain import (
    Accountability,
    Actor,
    EndReason,
    NextStep,
    Placement,
    PlacementEnded,
    PlacementPerformance,
    PlacementRow,
    PlacementStatus,
    Provision,
    Safeguarding,
    accountability,
    overdue_reviews,
)
from shared.errors import Conflict, Forbidden, InvalidInput

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
OFFICER = Actor("officer.jones")
PROVIDER_ID = uuid4()
PROVIDER = Actor("provider.user", provider_id=PROVIDER_ID)
CHILD = uuid4()


def new_placement(**overrides) -> Placement:
    terms = dict(
        placement_id=uuid4(), referral_id=uuid4(), child_ref=CHILD, provider_id=PROVIDER_ID, lot=1,
        commissioning_team="exclusions", reason_for_ap="permanent exclusion", hours_per_week=Decimal(25),
        agreed_cost_pence=1_200_000, start_date=date(2024, 1, 8), expected_end_date=date(2024, 7, 19),
        safeguarding="commissioning_team", provision="main",
        full_time=True)  # as awarded
    terms.update(overrides)
    return Placement.from_call_off(**terms)


# Cancelling

def test_an_officer_cancels_an_award_that_never_started():
    placement = new_placement()
    placement.flag_for_review("provider suspended", now=NOW)
    placement.cancel(reason="family moved away before the start", next_step="moved_away", by=OFFICER, now=NOW)
    assert placement.status is PlacementStatus.CANCELLED
    assert (placement.end_date, placement.end_reason, placement.next_step) == (
        date(2024, 3, 15), EndReason.CANCELLED, NextStep.MOVED_AWAY)
    assert placement.cancel_reason == "family moved away before the start"
    assert not placement.flagged_for_review
    [event] = placement.events
    assert isinstance(event, PlacementEnded) and event.started_on is None
    assert event.end_reason is EndReason.CANCELLED


def test_a_provider_may_not_cancel():
    with pytest.raises(Forbidden):
        new_placement().cancel(reason="no", next_step="other", by=PROVIDER, now=NOW)


def test_a_started_placement_is_ended_not_cancelled():
    placement = new_placement()
    placement.start(date(2024, 1, 8), by=OFFICER, now=NOW)
    with pytest.raises(Conflict):
        placement.cancel(reason="changed our minds", next_step="other", by=OFFICER, now=NOW)


def test_cancelling_twice_is_a_conflict():
    placement = new_placement()
    placement.cancel(reason="never came", next_step="other", by=OFFICER, now=NOW)
    with pytest.raises(Conflict):
        placement.cancel(reason="never came", next_step="other", by=OFFICER, now=NOW)


@pytest.mark.parametrize("reason, next_step, field", [("  ", "other", "reason"), ("x", "gap_year", "next_step")])
def test_a_cancellation_needs_a_reason_and_a_next_step(reason, next_step, field):
    with pytest.raises(InvalidInput) as refused:
        new_placement().cancel(reason=reason, next_step=next_step, by=OFFICER, now=NOW)
    assert refused.value.field == field


def test_nothing_happens_on_a_cancelled_placement():
    placement = new_placement()
    placement.cancel(reason="never came", next_step="other", by=OFFICER, now=NOW)
    with pytest.raises(Conflict):
        placement.start(date(2024, 1, 8), by=OFFICER, now=NOW)
    with pytest.raises(Conflict):
        placement.record_outcome("start", date(2024, 1, 8), by=OFFICER, now=NOW, engagement=3)
    with pytest.raises(Conflict):
        placement.flag_for_review("provider suspended", now=NOW)


def test_ending_with_the_cancelled_reason_is_refused():
    placement = new_placement()
    placement.start(date(2024, 1, 8), by=OFFICER, now=NOW)
    with pytest.raises(InvalidInput) as refused:
        placement.end(date(2024, 3, 1), end_reason="cancelled", next_step="other", by=OFFICER, now=NOW)
    assert refused.value.field == "end_reason"


# Safeguarding and provision

def test_an_officer_records_the_home_school_and_supplementary_provision():
    placement = new_placement(lot=2, hours_per_week=Decimal(10))
    placement.set_arrangements(by=OFFICER, safeguarding="home_school", provision="supplementary")
    assert (placement.safeguarding, placement.provision) == (Safeguarding.HOME_SCHOOL, Provision.SUPPLEMENTARY)


def test_a_provider_may_not_set_the_arrangements():
    with pytest.raises(Forbidden):
        new_placement().set_arrangements(by=PROVIDER, safeguarding="home_school")


def test_making_a_running_placement_main_again_needs_a_reason_when_it_overlaps():
    first = new_placement()
    first.start(date(2024, 1, 8), by=OFFICER, now=NOW)
    second = new_placement(provision="supplementary")
    second.start(date(2024, 2, 5), by=OFFICER, now=NOW)
    with pytest.raises(Conflict) as refused:
        second.set_arrangements(by=OFFICER, others=[first], provision="main")
    assert refused.value.field == "overlap_reason"
    assert second.provision is Provision.SUPPLEMENTARY  # unchanged
    second.set_arrangements(by=OFFICER, others=[first], provision="main", overlap_reason="handover")
    assert second.provision is Provision.MAIN and second.overlap_reason == "handover"


def test_the_arrangements_of_an_ended_placement_are_closed():
    placement = new_placement()
    placement.start(date(2024, 1, 8), by=OFFICER, now=NOW)
    placement.end(date(2024, 3, 1), end_reason="completed", next_step="employment", by=OFFICER, now=NOW)
    with pytest.raises(Conflict):
        placement.set_arrangements(by=OFFICER, safeguarding="home_school")


# Reports

def test_a_cancelled_award_counts_neither_for_nor_against_the_provider():
    rows = [PlacementPerformance(PROVIDER_ID, "ended", "completed", "employment", 10, 9),
            PlacementPerformance(PROVIDER_ID, "cancelled", "cancelled", "moved_away")]
    assert accountability(rows) == Accountability(
        placements=1, active=0, ended=1, average_attendance_rate=Decimal("0.9000"),
        completion_rate=Decimal(1), reintegration_rate=Decimal(0), progression_rate=Decimal(1), concerns=0)


def test_a_flagged_award_not_yet_started_leads_the_overdue_list():
    def row(**values):
        base = dict(placement_id=uuid4(), child_ref=uuid4(), provider_id=PROVIDER_ID, lot=1,
                    commissioning_team="send", reason_for_ap="SEND needs", status="started",
                    start_date=date(2024, 1, 8), expected_end_date=date(2024, 7, 19), agreed_cost_pence=1000,
                    started_on=date(2024, 1, 8))
        return PlacementRow(**{**base, **values})

    late = row()
    flagged_award = row(status="awarded", started_on=None, flagged_for_review=True)
    quiet_award = row(status="awarded", started_on=None)
    assert overdue_reviews([late, flagged_award, quiet_award], date(2024, 3, 15)) == [
        (flagged_award, None), (late, date(2024, 2, 19))]

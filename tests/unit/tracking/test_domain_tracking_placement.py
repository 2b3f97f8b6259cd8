"""Placements: creation, start (with the overlap rule), end, transitions."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.tracking.domain import (
    Actor,
    EndReason,
    NextStep,
    Placement,
    PlacementEnded,
    PlacementSource,
    PlacementStarted,
    PlacementStatus,
    Provision,
    StartConfirmedBy,
)
from shared.errors import Conflict, Forbidden, InvalidInput

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)  # a Friday
OFFICER = Actor("officer.jones")
PROVIDER_ID = uuid4()
PROVIDER = Actor("provider.user", provider_id=PROVIDER_ID)
OTHER_PROVIDER = Actor("someone.else", provider_id=uuid4())
CHILD = uuid4()


def new_placement(**overrides) -> Placement:
    terms = dict(
        placement_id=uuid4(), referral_id=uuid4(), child_ref=CHILD, provider_id=PROVIDER_ID,
        lot=1, commissioning_team="exclusions_and_reintegration",
        reason_for_ap="permanent exclusion", hours_per_week=Decimal(25),
        agreed_cost_pence=1_200_000, start_date=date(2024, 1, 8),
        expected_end_date=date(2024, 7, 19), safeguarding="commissioning_team", provision="main",
        full_time=True)  # as awarded
    terms.update(overrides)
    return Placement.from_call_off(**terms)


def started(on=date(2024, 1, 10), **overrides) -> Placement:
    placement = new_placement(**overrides)
    placement.start(on, by=OFFICER, now=NOW)
    placement.events.clear()
    return placement


# Creation

def test_a_placement_from_a_call_off_award_is_awarded_and_not_started():
    placement = new_placement()
    assert placement.status is PlacementStatus.AWARDED
    assert placement.source is PlacementSource.CALL_OFF
    assert placement.started_on is None and placement.events == []


def test_a_block_place_allocation_makes_a_placement_of_its_own_source():
    terms = dict(placement_id=uuid4(), referral_id=uuid4(), child_ref=uuid4(),
                 provider_id=PROVIDER_ID, lot=3, commissioning_team="send",
                 reason_for_ap="SEND needs", hours_per_week=12, agreed_cost_pence=500_000,
                 start_date=date(2024, 1, 8), expected_end_date=date(2024, 3, 28),
                 safeguarding="home_school", provision="supplementary")
    placement = Placement.from_block_place(**terms)
    assert placement.source is PlacementSource.BLOCK_PLACE
    assert placement.provision is Provision.SUPPLEMENTARY


def test_full_time_is_as_awarded():
    """Awards decides full-time (where the facts are); the placement keeps what it was told."""
    assert new_placement(lot=2, hours_per_week=Decimal(10), full_time=True).full_time is True
    assert new_placement(lot=1, hours_per_week=Decimal(25), full_time=False).full_time is False


@pytest.mark.parametrize("overrides, field", [
    ({"lot": 5}, "lot"),
    ({"lot": 0}, "lot"),
    ({"hours_per_week": 0}, "hours_per_week"),
    ({"hours_per_week": "lots"}, "hours_per_week"),
    ({"agreed_cost_pence": -1}, "agreed_cost_pence"),
    ({"agreed_cost_pence": 10.5}, "agreed_cost_pence"),
    ({"expected_end_date": date(2024, 1, 7)}, "expected_end_date"),
    ({"safeguarding": "the_provider"}, "safeguarding"),
    ({"provision": "extra"}, "provision"),
    ({"commissioning_team": "  "}, "commissioning_team"),
    ({"reason_for_ap": ""}, "reason_for_ap"),
])
def test_a_placement_with_bad_terms_is_refused_naming_the_field(overrides, field):
    with pytest.raises(InvalidInput) as refused:
        new_placement(**overrides)
    assert refused.value.field == field


# Starting

def test_an_officer_confirms_the_start_and_it_is_published():
    placement = new_placement()
    placement.start(date(2024, 1, 10), by=OFFICER, now=NOW)
    assert placement.status is PlacementStatus.STARTED
    assert placement.start_confirmed_by is StartConfirmedBy.OFFICER
    [event] = placement.events
    assert isinstance(event, PlacementStarted)
    assert event.started_on == date(2024, 1, 10)
    assert event.full_time is True and event.lot == 1
    assert event.confirmed_by is StartConfirmedBy.OFFICER and event.overlap_reason is None
    assert event.at == NOW


def test_the_provider_may_confirm_its_own_placement_started():
    placement = new_placement()
    placement.start(date(2024, 1, 10), by=PROVIDER, now=NOW)
    assert placement.start_confirmed_by is StartConfirmedBy.PROVIDER


def test_another_provider_may_not_confirm_the_start():
    with pytest.raises(Forbidden):
        new_placement().start(date(2024, 1, 10), by=OTHER_PROVIDER, now=NOW)


def test_a_start_in_the_future_is_refused():
    with pytest.raises(InvalidInput) as refused:
        new_placement().start(date(2024, 3, 16), by=OFFICER, now=NOW)
    assert refused.value.field == "started_on"


def test_the_start_day_is_the_councils_day_not_utcs():
    # at 23:30 UTC on 1 July it is already 2 July in London
    placement = new_placement(expected_end_date=date(2024, 7, 19))
    placement.start(date(2024, 7, 2), by=OFFICER,
                    now=datetime(2024, 7, 1, 23, 30, tzinfo=UTC))
    assert placement.started_on == date(2024, 7, 2)


def test_a_start_after_the_expected_end_is_refused():
    placement = new_placement(expected_end_date=date(2024, 2, 1))
    with pytest.raises(InvalidInput) as refused:
        placement.start(date(2024, 2, 2), by=OFFICER, now=NOW)
    assert refused.value.field == "started_on"


def test_starting_twice_is_a_conflict():
    placement = started()
    with pytest.raises(Conflict):
        placement.start(date(2024, 1, 11), by=OFFICER, now=NOW)


# The overlap rule

def test_a_second_overlapping_full_time_main_placement_is_refused():
    first = started()
    second = new_placement()
    with pytest.raises(Conflict) as refused:
        second.start(date(2024, 2, 5), by=OFFICER, now=NOW, others=[first])
    assert str(first.placement_id) in refused.value.message
    assert second.status is PlacementStatus.AWARDED and second.events == []


def test_an_officer_may_start_an_overlapping_placement_recording_why():
    first = started()
    second = new_placement()
    second.start(date(2024, 2, 5), by=OFFICER, now=NOW, others=[first],
                 overlap_reason="handover week agreed with both providers")
    assert second.overlap_reason == "handover week agreed with both providers"
    assert second.events[0].overlap_reason == "handover week agreed with both providers"


def test_a_blank_overlap_reason_is_no_reason():
    first = started()
    with pytest.raises(Conflict):
        new_placement().start(date(2024, 2, 5), by=OFFICER, now=NOW, others=[first],
                              overlap_reason="   ")


def test_a_provider_cannot_override_the_overlap_rule():
    first = started()
    with pytest.raises(Conflict) as refused:
        new_placement().start(date(2024, 2, 5), by=PROVIDER, now=NOW, others=[first],
                              overlap_reason="we think it is fine")
    assert "officer" in refused.value.message


@pytest.mark.parametrize("second_terms", [
    {"provision": "supplementary"},               # supplementary provision alongside
    {"lot": 2, "hours_per_week": Decimal(10), "full_time": False},  # part-time (as awarded)
    {"child_ref": uuid4()},                       # another child
])
def test_supplementary_part_time_or_another_childs_placement_may_overlap(second_terms):
    first = started()
    second = new_placement(**second_terms)
    second.start(date(2024, 2, 5), by=OFFICER, now=NOW, others=[first])
    assert second.status is PlacementStatus.STARTED


def test_a_placement_ended_before_the_new_start_does_not_overlap():
    first = started()
    first.end(date(2024, 2, 2), end_reason="breakdown", next_step="other", by=OFFICER, now=NOW)
    second = new_placement()
    second.start(date(2024, 2, 5), by=OFFICER, now=NOW, others=[first])
    assert second.status is PlacementStatus.STARTED


def test_ending_and_starting_on_the_same_day_overlaps():
    first = started()
    first.end(date(2024, 2, 5), end_reason="breakdown", next_step="other", by=OFFICER, now=NOW)
    with pytest.raises(Conflict):
        new_placement().start(date(2024, 2, 5), by=OFFICER, now=NOW, others=[first])


def test_an_awarded_placement_not_yet_started_does_not_count_as_overlap():
    waiting = new_placement()
    second = new_placement()
    second.start(date(2024, 2, 5), by=OFFICER, now=NOW, others=[waiting])
    assert second.status is PlacementStatus.STARTED


def test_a_later_placement_overlaps_when_the_new_one_runs_into_it():
    later = started(on=date(2024, 3, 1))
    earlier = new_placement(start_date=date(2024, 1, 8), expected_end_date=date(2024, 3, 1))
    with pytest.raises(Conflict):
        earlier.start(date(2024, 1, 8), by=OFFICER, now=NOW, others=[later])


# Ending

def test_ending_records_reason_and_next_step_and_is_published():
    placement = started()
    placement.end(date(2024, 3, 8), end_reason="completed", next_step="reintegrated_mainstream",
                  by=OFFICER, now=NOW)
    assert placement.status is PlacementStatus.ENDED
    assert placement.end_reason is EndReason.COMPLETED
    assert placement.next_step is NextStep.REINTEGRATED_MAINSTREAM
    [event] = placement.events
    assert isinstance(event, PlacementEnded)
    assert (event.end_date, event.next_step) == (date(2024, 3, 8), NextStep.REINTEGRATED_MAINSTREAM)


def test_an_end_date_before_the_start_is_refused():
    placement = started(on=date(2024, 1, 10))
    with pytest.raises(InvalidInput) as refused:
        placement.end(date(2024, 1, 9), end_reason="other", next_step="other", by=OFFICER, now=NOW)
    assert refused.value.field == "end_date"


def test_ending_on_the_start_day_is_allowed():
    placement = started(on=date(2024, 1, 10))
    placement.end(date(2024, 1, 10), end_reason="breakdown", next_step="neet", by=OFFICER, now=NOW)
    assert placement.status is PlacementStatus.ENDED


def test_an_end_date_in_the_future_is_refused():
    with pytest.raises(InvalidInput) as refused:
        started().end(date(2024, 3, 18), end_reason="completed", next_step="employment",
                      by=OFFICER, now=NOW)
    assert refused.value.field == "end_date"


def test_an_unknown_next_step_is_refused():
    with pytest.raises(InvalidInput) as refused:
        started().end(date(2024, 3, 8), end_reason="completed", next_step="gap_year",
                      by=OFFICER, now=NOW)
    assert refused.value.field == "next_step"
    assert "reintegrated_mainstream" in refused.value.message


def test_an_unknown_end_reason_is_refused():
    with pytest.raises(InvalidInput) as refused:
        started().end(date(2024, 3, 8), end_reason="bored", next_step="neet", by=OFFICER, now=NOW)
    assert refused.value.field == "end_reason"


@pytest.mark.parametrize("next_step", [step.value for step in NextStep])
def test_every_next_step_is_accepted(next_step):
    placement = started()
    placement.end(date(2024, 3, 8), end_reason="completed", next_step=next_step,
                  by=OFFICER, now=NOW)
    assert placement.next_step.value == next_step


def test_ending_a_placement_that_has_not_started_is_a_conflict():
    with pytest.raises(Conflict):
        new_placement().end(date(2024, 3, 8), end_reason="other", next_step="other",
                            by=OFFICER, now=NOW)


def test_ending_twice_is_a_conflict():
    placement = started()
    placement.end(date(2024, 3, 8), end_reason="completed", next_step="employment",
                  by=OFFICER, now=NOW)
    with pytest.raises(Conflict):
        placement.end(date(2024, 3, 8), end_reason="completed", next_step="employment",
                      by=OFFICER, now=NOW)


def test_starting_an_ended_placement_is_a_conflict():
    placement = started()
    placement.end(date(2024, 3, 8), end_reason="completed", next_step="employment",
                  by=OFFICER, now=NOW)
    with pytest.raises(Conflict):
        placement.start(date(2024, 3, 11), by=OFFICER, now=NOW)


def test_another_provider_may_not_end_the_placement():
    with pytest.raises(Forbidden):
        started().end(date(2024, 3, 8), end_reason="completed", next_step="employment",
                      by=OTHER_PROVIDER, now=NOW)


def test_active_on_covers_the_start_day_but_not_the_day_it_ended():
    placement = started(on=date(2024, 1, 10))
    placement.end(date(2024, 3, 8), end_reason="completed", next_step="employment",
                  by=OFFICER, now=NOW)
    assert not placement.active_on(date(2024, 1, 9))
    assert placement.active_on(date(2024, 1, 10)) and placement.active_on(date(2024, 3, 7))
    assert not placement.active_on(date(2024, 3, 8))  # ended that day: not active
    assert not placement.active_on(date(2024, 3, 9))


# A start is not dated before the award (issue #16 item 9)

def test_a_start_may_be_dated_on_the_day_of_the_award():
    placement = new_placement(awarded_at=datetime(2024, 1, 10, 9, 0, tzinfo=UTC))
    placement.start(date(2024, 1, 10), by=OFFICER, now=NOW)
    assert placement.started_on == date(2024, 1, 10)


def test_a_start_dated_the_day_before_the_award_is_refused_naming_the_award_date():
    placement = new_placement(awarded_at=datetime(2024, 1, 10, 9, 0, tzinfo=UTC))
    with pytest.raises(InvalidInput) as refused:
        placement.start(date(2024, 1, 9), by=OFFICER, now=NOW)
    assert refused.value.field == "started_on"
    assert "2024-01-10" in str(refused.value) and "council policy" in str(refused.value)
    assert placement.status is PlacementStatus.AWARDED and placement.started_on is None
    assert placement.events == []


def test_the_award_date_is_the_councils_date_not_utcs():
    # 23:30 UTC on 9 June is 00:30 on 10 June in London: the award's day is the 10th
    placement = new_placement(start_date=date(2024, 6, 10), expected_end_date=date(2024, 9, 1),
                              awarded_at=datetime(2024, 6, 9, 23, 30, tzinfo=UTC))
    later = datetime(2024, 6, 20, 12, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="2024-06-10"):
        placement.start(date(2024, 6, 9), by=OFFICER, now=later)
    placement.start(date(2024, 6, 10), by=OFFICER, now=later)
    assert placement.started_on == date(2024, 6, 10)

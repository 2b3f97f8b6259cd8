"""Reviews every six weeks, flags for review, outcomes, and the events' names."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.tracking import messages
from services.tracking.domain import (
    EVENT_CLASSES,
    Actor,
    NextStep,
    OutcomeRecorded,
    OutcomeStage,
    Placement,
    Progress,
    Qualification,
    ReviewRecorded,
    Subject,
    review_due,
)
from shared.catalogue import CATALOGUE
from shared.errors import Conflict, Forbidden, InvalidInput

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
OFFICER = Actor("officer.jones")
PROVIDER_ID = uuid4()
PROVIDER = Actor("provider.user", provider_id=PROVIDER_ID)
OTHER_PROVIDER = Actor("someone.else", provider_id=uuid4())


def new_placement() -> Placement:
    return Placement.from_call_off(
        placement_id=uuid4(), referral_id=uuid4(), child_ref=uuid4(), provider_id=PROVIDER_ID,
        lot=2, commissioning_team="exclusions_and_reintegration",
        reason_for_ap="at risk of permanent exclusion", hours_per_week=Decimal(15),
        agreed_cost_pence=600_000, start_date=date(2024, 1, 8),
        expected_end_date=date(2024, 7, 19), safeguarding="home_school", provision="main")


def started(on=date(2024, 1, 10)) -> Placement:
    placement = new_placement()
    placement.start(on, by=OFFICER, now=NOW)
    placement.events.clear()
    return placement


def review(placement, on, by=OFFICER, **progress):
    marks = dict(attendance="improving", attitude="steady", attainment="steady",
                 behaviour="improving", notes="settling well; maths gaps being closed",
                 child_views="likes the small group", family_views="pleased with progress")
    marks.update(progress)
    return placement.record_review(on, by=by, now=NOW, **marks)


# Reviews

def test_the_first_review_is_due_six_weeks_after_the_start():
    placement = started(on=date(2024, 1, 10))
    assert placement.review_due_date == date(2024, 2, 21)  # 10 January + 42 days
    assert not placement.is_review_overdue(date(2024, 2, 21))
    assert placement.is_review_overdue(date(2024, 2, 22))


def test_a_review_moves_the_next_due_date_six_weeks_on():
    placement = started(on=date(2024, 1, 10))
    review(placement, date(2024, 2, 20))
    assert placement.review_due_date == date(2024, 4, 2)
    assert not placement.is_review_overdue(date(2024, 3, 15))
    [event] = placement.events
    assert isinstance(event, ReviewRecorded)
    assert event.next_review_due == date(2024, 4, 2) and event.attendance is Progress.IMPROVING


def test_the_latest_review_date_counts_even_when_recorded_out_of_order():
    placement = started(on=date(2024, 1, 10))
    review(placement, date(2024, 3, 1))
    review(placement, date(2024, 2, 1))
    assert placement.last_review_on == date(2024, 3, 1)


def test_no_review_is_due_before_the_start_or_after_the_end():
    placement = new_placement()
    assert placement.review_due_date is None and not placement.is_review_overdue(date(2030, 1, 1))
    placement.start(date(2024, 1, 10), by=OFFICER, now=NOW)
    placement.end(date(2024, 3, 1), end_reason="completed", next_step="special_school",
                  by=OFFICER, now=NOW)
    assert placement.review_due_date is None and not placement.is_review_overdue(date(2030, 1, 1))


def test_review_due_is_counted_from_the_start_without_a_review():
    assert review_due(date(2024, 1, 10), None) == date(2024, 2, 21)
    assert review_due(date(2024, 1, 10), date(2024, 2, 1)) == date(2024, 3, 14)


def test_a_review_of_an_ended_placement_is_a_conflict():
    placement = started()
    placement.end(date(2024, 3, 1), end_reason="completed", next_step="special_school",
                  by=OFFICER, now=NOW)
    with pytest.raises(Conflict):
        review(placement, date(2024, 3, 8))


def test_a_review_before_the_start_is_a_conflict():
    with pytest.raises(Conflict):
        review(new_placement(), date(2024, 1, 5))


@pytest.mark.parametrize("aim", ["attendance", "attitude", "attainment", "behaviour"])
def test_progress_must_be_improving_steady_or_declining(aim):
    with pytest.raises(InvalidInput) as refused:
        review(started(), date(2024, 2, 20), **{aim: "great"})
    assert refused.value.field == aim


def test_a_review_needs_notes():
    with pytest.raises(InvalidInput) as refused:
        review(started(), date(2024, 2, 20), notes=" ")
    assert refused.value.field == "notes"


@pytest.mark.parametrize("on", [date(2024, 3, 16), date(2024, 1, 9)])
def test_a_review_date_in_the_future_or_before_the_start_is_refused(on):
    with pytest.raises(InvalidInput) as refused:
        review(started(on=date(2024, 1, 10)), on)
    assert refused.value.field == "review_date"


def test_another_provider_may_not_record_a_review():
    with pytest.raises(Forbidden):
        review(started(), date(2024, 2, 20), by=OTHER_PROVIDER)


def test_a_suspended_providers_placement_is_flagged_until_reviewed():
    placement = started(on=date(2024, 3, 1))
    assert not placement.needs_review(date(2024, 3, 15))
    placement.flag_for_review("provider suspended on lot 2: insurance expired", now=NOW)
    assert placement.flagged_for_review and placement.needs_review(date(2024, 3, 15))
    review(placement, date(2024, 3, 15))
    assert not placement.flagged_for_review and not placement.needs_review(date(2024, 3, 15))


def test_an_awarded_placement_can_be_flagged_too():
    placement = new_placement()
    placement.flag_for_review("provider suspended", now=NOW)
    assert placement.flagged_for_review


def test_flagging_an_ended_placement_is_a_conflict():
    placement = started()
    placement.end(date(2024, 3, 1), end_reason="completed", next_step="employment",
                  by=OFFICER, now=NOW)
    with pytest.raises(Conflict):
        placement.flag_for_review("provider suspended", now=NOW)


def test_a_flag_needs_a_reason():
    with pytest.raises(InvalidInput):
        started().flag_for_review("", now=NOW)


# Outcomes

def test_attainment_at_the_start_is_recorded_and_published():
    placement = started()
    outcome = placement.record_outcome(
        "start", date(2024, 1, 12), by=PROVIDER, now=NOW,
        attainment={"maths": "working at year 7", "english": "grade 3", Subject.SCIENCE: "grade 2"},
        engagement=2)
    assert outcome.attainment == ((Subject.ENGLISH, "grade 3"),
                                  (Subject.MATHS, "working at year 7"),
                                  (Subject.SCIENCE, "grade 2"))
    [event] = placement.events
    assert isinstance(event, OutcomeRecorded)
    assert event.stage is OutcomeStage.START and event.engagement == 2 and event.next_step is None


def test_qualifications_gained_are_recorded():
    placement = started()
    outcome = placement.record_outcome(
        "review", date(2024, 3, 1), by=OFFICER, now=NOW,
        qualifications=[Qualification("Functional Skills English", "Level 1", "Pass"),
                        {"name": "GCSE Maths", "level": "Level 2", "grade": "4"}])
    assert [q.name for q in outcome.qualifications] == ["Functional Skills English", "GCSE Maths"]


@pytest.mark.parametrize("engagement", [1, 5])
def test_engagement_is_on_a_1_to_5_scale(engagement):
    outcome = started().record_outcome("review", date(2024, 3, 1), by=OFFICER, now=NOW,
                                       engagement=engagement)
    assert outcome.engagement == engagement


@pytest.mark.parametrize("engagement", [0, 6, -1, "3", 2.5, True])
def test_engagement_outside_1_to_5_is_refused(engagement):
    with pytest.raises(InvalidInput) as refused:
        started().record_outcome("review", date(2024, 3, 1), by=OFFICER, now=NOW,
                                 engagement=engagement)
    assert refused.value.field == "engagement"


def test_an_unknown_subject_is_refused():
    with pytest.raises(InvalidInput) as refused:
        started().record_outcome("review", date(2024, 3, 1), by=OFFICER, now=NOW,
                                 attainment={"history": "grade 4"})
    assert refused.value.field == "attainment"


def test_a_qualification_without_a_grade_is_refused():
    with pytest.raises(InvalidInput) as refused:
        started().record_outcome("end", date(2024, 3, 1), by=OFFICER, now=NOW,
                                 qualifications=[{"name": "GCSE Maths", "level": "Level 2"}])
    assert refused.value.field == "qualifications"


def test_an_empty_outcome_is_refused():
    with pytest.raises(InvalidInput):
        started().record_outcome("review", date(2024, 3, 1), by=OFFICER, now=NOW)


def test_outcomes_may_follow_the_end_and_carry_the_next_step():
    placement = started()
    placement.end(date(2024, 3, 1), end_reason="completed", next_step="further_education",
                  by=OFFICER, now=NOW)
    placement.events.clear()
    placement.record_outcome("end", date(2024, 3, 15), by=OFFICER, now=NOW,
                             qualifications=[Qualification("GCSE English", "Level 2", "5")])
    assert placement.events[0].next_step is NextStep.FURTHER_EDUCATION


def test_outcomes_before_the_start_are_a_conflict():
    with pytest.raises(Conflict):
        new_placement().record_outcome("start", date(2024, 1, 8), by=OFFICER, now=NOW,
                                       engagement=3)


def test_an_unknown_outcome_stage_is_refused():
    with pytest.raises(InvalidInput) as refused:
        started().record_outcome("midway", date(2024, 3, 1), by=OFFICER, now=NOW, engagement=3)
    assert refused.value.field == "stage"


# Events match the catalogue

def test_every_tracking_event_is_named_after_its_catalogue_type():
    tracking_types = {name for name, e in CATALOGUE.items() if e.producer == "tracking"}
    assert {cls.type for cls in EVENT_CLASSES} | set(messages.REMINDERS) == tracking_types  # + the daily job's
    for cls in EVENT_CLASSES:
        expected = "".join(part.capitalize() for part in re.split(r"[._]", cls.type))
        assert cls.__name__ == expected

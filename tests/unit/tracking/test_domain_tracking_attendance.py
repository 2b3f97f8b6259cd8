"""Attendance returns: validation, rates, and the concerns they raise."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.tracking.domain import (
    Actor,
    AttendanceRecorded,
    AttendanceReturn,
    ConcernKind,
    ConcernPolicy,
    ConcernRaised,
    Placement,
    assess_week,
    window_rate,
)
from shared.errors import Conflict, Forbidden, InvalidInput

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)  # Friday; its week commences 11 March
OFFICER = Actor("officer.jones")
PROVIDER_ID = uuid4()
PROVIDER = Actor("provider.user", provider_id=PROVIDER_ID)
OTHER_PROVIDER = Actor("someone.else", provider_id=uuid4())

W1, W2, W3, W4, W5 = (date(2024, 1, 8) + timedelta(weeks=n) for n in range(5))


def new_placement(**overrides) -> Placement:
    terms = dict(
        placement_id=uuid4(), referral_id=uuid4(), child_ref=uuid4(), provider_id=PROVIDER_ID,
        lot=1, commissioning_team="send", reason_for_ap="SEND needs the school cannot meet",
        hours_per_week=Decimal(25), agreed_cost_pence=1_000_000, start_date=date(2024, 1, 8),
        expected_end_date=date(2024, 7, 19), safeguarding="commissioning_team", provision="main",
        full_time=True)  # as awarded
    terms.update(overrides)
    return Placement.from_call_off(**terms)


def started(on=date(2024, 1, 10)) -> Placement:  # a Wednesday in week W1
    placement = new_placement()
    placement.start(on, by=OFFICER, now=NOW)
    placement.events.clear()
    return placement


def week(monday, offered=10, attended=10, authorised=0, unauthorised=0) -> AttendanceReturn:
    return AttendanceReturn(monday, offered, attended, authorised, unauthorised)


def send(placement, ret, **options):
    """The provider returns a week's attendance; the concerns raised come back."""
    return placement.record_attendance(ret, by=PROVIDER, now=NOW, **options)


def concerns_of(placement, kind):
    return [c for c in placement.concerns if c.kind is kind]


# A week's return and its rate

def test_the_attendance_rate_is_attended_over_offered():
    assert week(W1, offered=10, attended=7, authorised=2, unauthorised=0).rate == Decimal("0.7000")


def test_the_rate_is_rounded_half_up_to_four_places():
    assert week(W1, offered=3, attended=2).rate == Decimal("0.6667")
    assert week(W1, offered=8, attended=1).rate == Decimal("0.1250")


def test_a_week_with_no_sessions_offered_has_no_rate():
    assert week(W1, offered=0, attended=0).rate is None


def test_a_return_is_recorded_and_published():
    placement = started()
    send(placement, week(W1, offered=10, attended=9, authorised=1))
    [event] = placement.events
    assert isinstance(event, AttendanceRecorded)
    assert (event.week_commencing, event.sessions_offered, event.attended) == (W1, 10, 9)
    assert event.attendance_rate == Decimal("0.9000") and event.correction is False
    assert placement.concerns == []


# Bad input

@pytest.mark.parametrize("field", ["sessions_offered", "attended", "authorised_absence",
                                   "unauthorised_absence"])
def test_negative_numbers_are_refused_naming_the_field(field):
    counts = dict(sessions_offered=10, attended=5, authorised_absence=0, unauthorised_absence=0)
    counts[field] = -1
    with pytest.raises(InvalidInput) as refused:
        AttendanceReturn(W1, **counts)
    assert refused.value.field == field


@pytest.mark.parametrize("value", [2.5, "3", True, None])
def test_sessions_are_whole_numbers(value):
    with pytest.raises(InvalidInput) as refused:
        AttendanceReturn(W1, 10, value, 0, 0)
    assert refused.value.field == "attended"


def test_attended_more_than_offered_is_refused():
    with pytest.raises(InvalidInput) as refused:
        week(W1, offered=10, attended=11)
    assert refused.value.field == "attended"


def test_attended_and_absences_more_than_offered_is_refused():
    with pytest.raises(InvalidInput) as refused:
        week(W1, offered=10, attended=8, authorised=2, unauthorised=1)
    assert set(refused.value.field_errors) == {"authorised_absence", "unauthorised_absence"}


def test_attended_and_absences_may_add_up_to_exactly_what_was_offered():
    assert week(W1, offered=10, attended=7, authorised=2, unauthorised=1).rate == Decimal("0.7")


def test_a_week_must_commence_on_a_monday():
    with pytest.raises(InvalidInput) as refused:
        week(date(2024, 1, 9))
    assert refused.value.field == "week_commencing"


def test_a_week_in_the_future_is_refused():
    with pytest.raises(InvalidInput) as refused:
        started().record_attendance(week(date(2024, 3, 18)), by=PROVIDER, now=NOW)
    assert refused.value.field == "week_commencing"


def test_the_current_week_may_be_returned():
    placement = started()
    send(placement, week(date(2024, 3, 11)))
    assert date(2024, 3, 11) in placement.attendance


def test_a_week_before_the_placement_started_is_refused():
    with pytest.raises(InvalidInput) as refused:
        send(started(on=date(2024, 1, 10)), week(date(2024, 1, 1)))
    assert refused.value.field == "week_commencing"


def test_the_week_the_placement_started_in_may_be_returned():
    placement = started(on=date(2024, 1, 10))  # a Wednesday
    send(placement, week(W1, offered=6, attended=6))
    assert W1 in placement.attendance


def test_attendance_for_a_placement_not_started_is_a_conflict():
    with pytest.raises(Conflict):
        new_placement().record_attendance(week(W1), by=PROVIDER, now=NOW)


def test_a_late_return_for_a_week_before_the_end_is_taken():
    placement = started()
    placement.end(date(2024, 2, 7), end_reason="completed", next_step="further_education",
                  by=OFFICER, now=NOW)
    send(placement, week(date(2024, 2, 5), offered=6, attended=6))
    assert date(2024, 2, 5) in placement.attendance


def test_a_week_after_the_placement_ended_is_refused():
    placement = started()
    placement.end(date(2024, 2, 7), end_reason="completed", next_step="further_education",
                  by=OFFICER, now=NOW)
    with pytest.raises(InvalidInput) as refused:
        send(placement, week(date(2024, 2, 12)))
    assert refused.value.field == "week_commencing"


def test_a_provider_may_not_return_attendance_for_another_providers_placement():
    placement = started()
    with pytest.raises(Forbidden):
        placement.record_attendance(week(W1), by=OTHER_PROVIDER, now=NOW)
    assert placement.attendance == {}


def test_an_end_date_before_a_week_already_returned_is_refused():
    placement = started()
    send(placement, week(W3))
    with pytest.raises(InvalidInput) as refused:
        placement.end(W3 - timedelta(days=1), end_reason="breakdown", next_step="neet",
                      by=OFFICER, now=NOW)
    assert refused.value.field == "end_date"


# Corrections

def test_resubmitting_a_week_replaces_it_as_a_correction():
    placement = started()
    send(placement, week(W1, offered=10, attended=5, authorised=5))
    send(placement, week(W1, offered=10, attended=9, authorised=1))
    assert placement.attendance[W1].attended == 9
    assert len(placement.attendance) == 1
    recorded = [e for e in placement.events if isinstance(e, AttendanceRecorded)]
    assert [e.correction for e in recorded] == [False, True]


# Unexplained absence

def test_any_unauthorised_absence_raises_an_unexplained_absence_concern():
    placement = started()
    raised = send(placement, week(W1, offered=10, attended=9, unauthorised=1))
    [concern] = raised
    assert concern.kind is ConcernKind.UNEXPLAINED_ABSENCE
    assert concern.week_commencing == W1 and concern.rate == Decimal("0.9000")
    [event] = [e for e in placement.events if isinstance(e, ConcernRaised)]
    assert event.kind is ConcernKind.UNEXPLAINED_ABSENCE and event.commissioning_team == "send"


def test_authorised_absence_alone_raises_no_concern():
    placement = started()
    assert send(placement, week(W1, offered=10, attended=9, authorised=1)) == []


def test_correcting_a_week_does_not_raise_the_same_concern_twice():
    placement = started()
    send(placement, week(W1, offered=10, attended=9, unauthorised=1))
    again = send(placement, week(W1, offered=10, attended=8, unauthorised=2))
    assert again == []
    assert len(concerns_of(placement, ConcernKind.UNEXPLAINED_ABSENCE)) == 1


# Low attendance over the last four weeks

def test_four_weeks_at_77_5_percent_raise_a_low_attendance_concern():
    # 10/10, 8/10, 6/10, 7/10: 31/40 = 77.5%, below 80%
    placement = started()
    raised_each_week = [
        send(placement, week(monday, offered=10, attended=attended, authorised=10 - attended))
        for monday, attended in [(W1, 10), (W2, 8), (W3, 6), (W4, 7)]]
    # week 2: 18/20 = 90%; week 3: 24/30 = exactly 80%, not below it
    assert raised_each_week[:3] == [[], [], []]
    [concern] = raised_each_week[3]
    assert concern.kind is ConcernKind.LOW_ATTENDANCE
    assert concern.week_commencing == W4 and concern.rate == Decimal("0.7750")


def test_exactly_80_percent_over_four_weeks_raises_no_concern():
    placement = started()
    for monday in (W1, W2, W3, W4):
        send(placement, week(monday, offered=10, attended=8, authorised=2))
    assert placement.concerns == []
    assert placement.recent_attendance_rate(W4) == Decimal("0.8000")


def test_only_the_latest_four_weeks_count():
    # 0/10 then 10/10 x3 then 6/10: the last four are 36/40 = 90%
    placement = started()
    send(placement, week(W1, offered=10, attended=0, authorised=10))
    for monday in (W2, W3, W4):
        send(placement, week(monday))
    raised = send(placement, week(W5, offered=10, attended=6, authorised=4))
    assert raised == []
    # the weeks before were below: 0/10, 10/20, 20/30, 30/40; one concern, followed to W4
    [concern] = placement.concerns
    assert (concern.week_commencing, concern.weeks_low, concern.rate) == (W4, 4, Decimal("0.7500"))


def test_a_first_week_below_the_threshold_raises_a_concern():
    placement = started()
    [concern] = send(placement, week(W1, offered=10, attended=7, authorised=3))
    assert concern.kind is ConcernKind.LOW_ATTENDANCE and concern.rate == Decimal("0.7000")


def test_weeks_without_returns_are_skipped_not_counted_as_zero():
    # returns for W1, W3, W5 only: the window for W5 is those three, 27/30 = 90%
    placement = started()
    for monday in (W1, W3):
        send(placement, week(monday, offered=10, attended=9, authorised=1))
    assert send(placement, week(W5, offered=10, attended=9, authorised=1)) == []


def test_a_late_return_is_judged_on_the_weeks_up_to_it():
    # W3 is returned after W4: its window is W1..W3 = (10+10+4)/30 = 80%, no concern,
    # though W1..W4 would be 31/40
    placement = started()
    for monday, attended in [(W1, 10), (W2, 10), (W4, 7)]:
        send(placement, week(monday, attended=attended, authorised=10 - attended))
    assert send(placement, week(W3, attended=4, authorised=6)) == []


def test_no_duplicate_low_attendance_concern_for_the_same_week():
    placement = started()
    send(placement, week(W1, attended=5, authorised=5))
    again = send(placement, week(W1, attended=6, authorised=4))
    assert again == []
    assert len(concerns_of(placement, ConcernKind.LOW_ATTENDANCE)) == 1


def test_while_attendance_stays_low_the_open_concern_is_updated_and_escalated_not_raised_again():
    placement = started()
    [concern] = send(placement, week(W1, attended=5, authorised=5))
    assert concern.weeks_low == 1
    assert send(placement, week(W2, attended=4, authorised=6)) == []
    assert send(placement, week(W3, attended=6, authorised=4)) == []
    [still] = concerns_of(placement, ConcernKind.LOW_ATTENDANCE)
    assert still is concern and sum(isinstance(e, ConcernRaised) for e in placement.events) == 1
    # its week is the latest low one, its rate the window's there (15/30), escalated by a week each week
    assert (still.week_commencing, still.rate, still.weeks_low) == (W3, Decimal("0.5000"), 3)


def test_a_correction_of_the_open_concerns_week_updates_its_rate_but_does_not_escalate_it():
    placement = started()
    send(placement, week(W1, attended=5, authorised=5))
    send(placement, week(W1, attended=7, authorised=3))
    [concern] = placement.concerns
    assert (concern.week_commencing, concern.rate, concern.weeks_low) == (W1, Decimal("0.7000"), 1)


def test_a_late_return_for_an_earlier_week_leaves_the_open_concern_as_it_is():
    placement = started()
    send(placement, week(W2, attended=5, authorised=5))
    assert send(placement, week(W1, attended=4, authorised=6)) == []
    [concern] = placement.concerns
    assert (concern.week_commencing, concern.rate, concern.weeks_low) == (W2, Decimal("0.5000"), 1)


def test_an_acknowledged_concern_is_not_raised_again_while_attendance_stays_low():
    placement = started()
    [concern] = send(placement, week(W1, attended=5, authorised=5))
    concern.acknowledge("meeting the family", by=OFFICER, now=NOW)
    assert send(placement, week(W2, attended=5, authorised=5)) == []
    assert placement.concerns == [concern] and concern.week_commencing == W1  # closed: not followed


def test_a_new_concern_only_after_acknowledgement_and_a_fall_low_again():
    # W1 5/10 low; acknowledged; W2..W4 10/10 bring the window to 35/40 (not low); W5 0/10: 30/40 low again
    placement = started()
    [first] = send(placement, week(W1, attended=5, authorised=5))
    first.acknowledge("meeting the family", by=OFFICER, now=NOW)
    for monday in (W2, W3, W4):
        assert send(placement, week(monday)) == []
    [second] = send(placement, week(W5, attended=0, authorised=10))
    assert second is not first and (second.week_commencing, second.weeks_low) == (W5, 1)
    assert second.rate == Decimal("0.7500")


def test_a_fall_low_again_while_the_concern_is_still_open_escalates_that_one():
    # W1 0/10; W2..W4 10/10 keep the window low (10/20, 20/30, 30/40); W5 40/40 is not; W6 0/10: 30/40
    placement = started()
    [concern] = send(placement, week(W1, attended=0, authorised=10))
    for monday in (W2, W3, W4, W5):
        send(placement, week(monday))
    assert concern.weeks_low == 4 and concern.week_commencing == W4
    assert send(placement, week(W5 + timedelta(weeks=1), attended=0, authorised=10)) == []
    assert concerns_of(placement, ConcernKind.LOW_ATTENDANCE) == [concern]
    assert (concern.week_commencing, concern.weeks_low) == (W5 + timedelta(weeks=1), 5)


def test_both_concerns_may_be_raised_by_one_return():
    placement = started()
    raised = send(placement, week(W1, offered=10, attended=5, unauthorised=5))
    assert {c.kind for c in raised} == {ConcernKind.UNEXPLAINED_ABSENCE, ConcernKind.LOW_ATTENDANCE}
    assert sum(isinstance(e, ConcernRaised) for e in placement.events) == 2


def test_a_week_with_nothing_offered_raises_no_low_attendance_concern():
    placement = started()
    assert send(placement, week(W1, offered=0, attended=0)) == []


def test_the_threshold_is_configurable():
    placement = started()
    strict = ConcernPolicy(threshold=Decimal("0.95"))
    [concern] = send(placement, week(W1, attended=9, authorised=1), policy=strict)
    assert concern.kind is ConcernKind.LOW_ATTENDANCE


def test_a_threshold_outside_0_to_1_is_a_configuration_error():
    with pytest.raises(ValueError):
        ConcernPolicy(threshold=Decimal(80))


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=8))
def test_low_attendance_is_raised_exactly_when_the_window_is_below_80_percent(weeks):
    returns = [AttendanceReturn(W1 + timedelta(weeks=n), max(a, o), min(a, o), 0, 0)
               for n, (a, o) in enumerate(weeks)]
    latest = returns[-1].week_commencing
    window = returns[-4:]
    attended = sum(r.attended for r in window)
    offered = sum(r.sessions_offered for r in window)
    expected = offered > 0 and attended * 100 < 80 * offered
    findings = assess_week(returns, latest, ConcernPolicy())
    assert any(f.kind is ConcernKind.LOW_ATTENDANCE for f in findings) is expected
    if offered:
        assert window_rate(returns, latest) is not None

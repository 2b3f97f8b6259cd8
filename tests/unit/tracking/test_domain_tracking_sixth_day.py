"""The sixth day tracked: the first day of full-time provision (concurrent part-time placements add up),
and met / at risk / missed by N school days on the school calendar."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from services.tracking.domain import SixthDayDuty, SixthDayStatus, first_full_time_day, sixth_day_row, standing
from shared.calendar import WORKING_DAYS, school_calendar

NOW = datetime(2025, 11, 1, tzinfo=UTC)


@dataclass
class Spell:
    started_on: date | None
    end_date: date | None = None
    hours_per_week: Decimal = Decimal(10)
    full_time: bool = False


def duty(deadline=date(2025, 11, 5), first_school_day=date(2025, 10, 22), *, reason="permanent_exclusion",
         looked_after=False) -> SixthDayDuty:
    return SixthDayDuty(child_ref=uuid4(), full_time_provision_by=deadline, referral_id=uuid4(), team="exclusions",
                        lot=2, reason_for_ap=reason, looked_after=looked_after, first_school_day=first_school_day,
                        noted_at=NOW)


def test_two_part_time_placements_together_are_full_time_from_the_day_the_second_starts():
    spells = [Spell(date(2025, 11, 3), hours_per_week=Decimal(10)), Spell(date(2025, 11, 4), hours_per_week=Decimal(9))]
    assert first_full_time_day(spells, counts_from=date(2025, 10, 22)) == date(2025, 11, 4)


def test_part_time_hours_at_exactly_the_full_time_hours_are_not_full_time():
    spells = [Spell(date(2025, 11, 3), hours_per_week=Decimal(9)), Spell(date(2025, 11, 3), hours_per_week=Decimal(9))]
    assert first_full_time_day(spells, counts_from=date(2025, 10, 22)) is None
    assert first_full_time_day(spells, counts_from=date(2025, 10, 22), full_time_hours=Decimal(17)) == date(2025, 11, 3)


def test_placements_that_do_not_overlap_do_not_add_up():
    spells = [Spell(date(2025, 11, 3), date(2025, 11, 10), Decimal(12)), Spell(date(2025, 11, 10), None, Decimal(12))]
    # the first ended the day the second began
    assert first_full_time_day(spells, counts_from=date(2025, 10, 22)) is None


def test_one_full_time_placement_is_full_time_from_its_start():
    assert first_full_time_day([Spell(date(2025, 11, 3), full_time=True)], counts_from=date(2025, 10, 22)) == date(
        2025, 11, 3)


def test_provision_before_the_duty_began_counts_from_its_first_school_day():
    earlier = [Spell(date(2025, 9, 8), full_time=True)]  # still running when the duty began
    assert first_full_time_day(earlier, counts_from=date(2025, 10, 22)) == date(2025, 10, 22)
    ended = [Spell(date(2025, 9, 8), date(2025, 10, 1), full_time=True)]
    assert first_full_time_day(ended, counts_from=date(2025, 10, 22)) is None


def test_met_on_or_before_the_deadline():
    assert standing(date(2025, 11, 5), date(2025, 11, 5), date(2025, 11, 20), school_calendar()).status is \
        SixthDayStatus.MET


def test_at_risk_until_the_deadline_passes_without_full_time_provision():
    assert standing(date(2025, 11, 5), None, date(2025, 11, 5), school_calendar()).status is SixthDayStatus.AT_RISK


def test_missed_by_the_school_days_from_the_deadline_to_the_first_full_time_day():
    # deadline Wed 5 Nov 2025; full-time from Mon 10: Thu 6, Fri 7, Mon 10 = 3 school days late
    late = standing(date(2025, 11, 5), date(2025, 11, 10), date(2025, 11, 20), school_calendar())
    assert (late.status, late.missed_by_school_days) == (SixthDayStatus.MISSED, 3)


def test_missed_and_still_without_provision_counts_to_today_across_a_holiday():
    # deadline Fri 19 Dec 2025, the last day of term; today Tue 6 Jan 2026: Mon 5 and Tue 6 only
    late = standing(date(2025, 12, 19), None, date(2026, 1, 6), school_calendar())
    assert (late.status, late.missed_by_school_days) == (SixthDayStatus.MISSED, 2)
    assert standing(date(2025, 12, 19), None, date(2026, 1, 6), WORKING_DAYS).missed_by_school_days == 9


def test_the_report_row_flags_an_excluded_child_placed_only_part_time():
    row = sixth_day_row(duty(), [Spell(date(2025, 11, 3), hours_per_week=Decimal(15))], today=date(2025, 11, 12),
                        calendar=school_calendar())
    assert row.placed_part_time_only and row.first_full_time_day is None
    assert (row.status, row.missed_by_school_days) == (SixthDayStatus.MISSED, 5)  # Thu 6 .. Wed 12
    other = sixth_day_row(duty(reason="other"), [Spell(date(2025, 11, 3), hours_per_week=Decimal(15))],
                          today=date(2025, 11, 12), calendar=school_calendar())
    assert not other.placed_part_time_only


def test_a_looked_after_child_shows_the_first_day_aim_and_whether_it_was_met():
    row = sixth_day_row(duty(looked_after=True), [Spell(date(2025, 10, 23), full_time=True)], today=date(2025, 11, 12),
                        calendar=school_calendar())
    assert (row.first_day_aim, row.first_day_aim_met, row.status) == (date(2025, 10, 22), False, SixthDayStatus.MET)
    assert sixth_day_row(duty(), [], today=date(2025, 11, 3), calendar=school_calendar()).first_day_aim_met is None


def test_judged_on_an_earlier_day_later_provision_is_not_yet_there():
    spells = [Spell(date(2025, 11, 10), full_time=True)]
    assert sixth_day_row(duty(), spells, today=date(2025, 11, 5), calendar=school_calendar()).status is \
        SixthDayStatus.AT_RISK


def test_an_excluded_child_whose_part_time_placement_has_ended_is_missed_not_flagged_as_placed():
    ended = [Spell(date(2025, 11, 3), date(2025, 11, 7), hours_per_week=Decimal(15))]
    row = sixth_day_row(duty(), ended, today=date(2025, 11, 12), calendar=school_calendar())
    assert row.status is SixthDayStatus.MISSED and not row.placed_part_time_only


def test_full_time_provision_begun_before_the_duty_is_not_flagged_as_part_time_only():
    # excluded on the last Friday of the half term holiday's eve; placed full-time on the Saturday; the duty's
    # first school day is the Monday after the holiday: nothing is judged yet, and nothing is part-time
    before = duty(deadline=date(2025, 11, 10), first_school_day=date(2025, 11, 3))
    row = sixth_day_row(before, [Spell(date(2025, 11, 1), full_time=True)], today=date(2025, 11, 1),
                        calendar=school_calendar())
    assert (row.status, row.first_full_time_day, row.placed_part_time_only) == (SixthDayStatus.AT_RISK, None, False)
    monday = sixth_day_row(before, [Spell(date(2025, 11, 1), full_time=True)], today=date(2025, 11, 3),
                           calendar=school_calendar())
    assert (monday.status, monday.first_full_time_day) == (SixthDayStatus.MET, date(2025, 11, 3))
    part_time = sixth_day_row(before, [Spell(date(2025, 11, 1))], today=date(2025, 11, 3), calendar=school_calendar())
    assert part_time.placed_part_time_only  # once the duty has begun

"""What the daily job tells the team, once each (issue #18; shared/reminders.py keeps the "once"):

- a review due in 5 school days (`review.due_soon`) and past its date (`review.overdue`), for each running
  placement and due date: DfE's guidance has a review at least every half term, and overdue ones flagged;
- a sixth-day deadline 2 school days away without full-time provision (`sixth_day.at_risk`), and passed
  without it (`sixth_day.missed`): the law's deadline (`sixth_day.SIXTH_DAY_RULE`).

School days are the council's school calendar.  A reminder on the first day it applies, so a job that did not
run one day tells the next."""

from __future__ import annotations

from datetime import date

from shared.calendar import Calendar

from .sixth_day import SixthDayStatus

REVIEW_NOTICE_SCHOOL_DAYS = 5
SIXTH_DAY_NOTICE_SCHOOL_DAYS = 2


def review_reminder(due_on: date | None, today: date, calendar: Calendar) -> str | None:
    """The event a running placement's review date calls for today, if any."""
    if due_on is None:
        return None
    if today > due_on:
        return "review.overdue"
    if calendar.open_days_between(today, due_on) <= REVIEW_NOTICE_SCHOOL_DAYS:
        return "review.due_soon"
    return None


def sixth_day_reminder(status: SixthDayStatus, deadline: date, today: date, calendar: Calendar) -> str | None:
    """The event a child's sixth-day standing calls for today, if any (met: none)."""
    if status is SixthDayStatus.MISSED:
        return "sixth_day.missed"
    if status is SixthDayStatus.AT_RISK and calendar.open_days_between(today, deadline) \
            <= SIXTH_DAY_NOTICE_SCHOOL_DAYS:
        return "sixth_day.at_risk"
    return None

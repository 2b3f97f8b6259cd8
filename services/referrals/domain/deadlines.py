"""The sixth-day deadline: by when a permanently excluded child must have
full-time provision.

DfE guidance: the local authority must arrange suitable full-time education
"from the sixth school day" of a permanent exclusion; for a looked-after child
the Virtual School expects it from the first day.

How we count (the council's reading, shown on the referral):
- `exclusion_start` is the first day the child is excluded (normally the
  school day after the headteacher's decision).
- If that day is a school day it is school day 1.  If it is not (a weekend, a
  bank holiday, a school holiday or closure), school day 1 is the next school
  day: days the child would not have been in school anyway do not count.
- Provision must start no later than school day 6 (school day 1 for a
  looked-after child).  So an exclusion starting on a Monday with a full week
  of school must have provision by the Monday after.
- School days come from the configured school `Calendar` (terms and closure
  days); the default is working days (Monday to Friday less England and Wales
  bank holidays).
"""

from __future__ import annotations

from datetime import date

from shared.calendar import WORKING_DAYS, Calendar

SIXTH_SCHOOL_DAY = 6
FIRST_SCHOOL_DAY = 1


def full_time_provision_deadline(exclusion_start: date, *, looked_after: bool,
                                 calendar: Calendar = WORKING_DAYS) -> date:
    """The last school day on which full-time provision may start."""
    day = FIRST_SCHOOL_DAY if looked_after else SIXTH_SCHOOL_DAY
    return calendar.nth_open_day(exclusion_start, day)

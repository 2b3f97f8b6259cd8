"""The sixth day: by when a child the council arranges AP for must have
full-time provision.

DfE, *Arranging alternative provision* (February 2025), and the Education
(Provision of Full-Time Education for Excluded Pupils) (England) Regulations
2007: AP arranged by the local authority for a non-medical reason (a
permanent exclusion, and any other child of compulsory school age without a
school place) must start as soon as possible and by the **sixth school day**
at the latest (law).  For a looked-after child the council aims for the
**first school day**, with day six as the backstop (the council's policy,
with the Virtual School).

Which referrals (`sixth_day_applies`): every reason but `medical` (education
for a child too ill to attend is arranged under the medical guidance, not
from the sixth day) and `post16` (a young person past compulsory school age:
the duty is to pupils of compulsory school age).

How we count (the council's reading, shown on the referral):
- The duty starts (`exclusion_start`) on the first day the child is
  excluded, or for another reason the first day the child has no school
  place; when the officer gives no date for another reason, the day of the
  referral.
- If that day is a school day it is school day 1.  If it is not (a weekend, a
  bank holiday, a school holiday or closure), school day 1 is the next school
  day: days the child would not have been in school anyway do not count.
- Provision must start no later than school day 6.  So a duty starting on a
  Monday with a full week of school must have provision by the Monday after.
- School days come from the school `Calendar` (`shared.calendar.school_calendar`:
  the council's terms and closures).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.calendar import WORKING_DAYS, Calendar

from .profile import ReasonForAP

SIXTH_SCHOOL_DAY = 6
FIRST_SCHOOL_DAY = 1

SIXTH_DAY_RULE = ("full-time provision by the sixth school day (law: the Education (Provision of Full-Time "
                  "Education for Excluded Pupils) (England) Regulations 2007; DfE, Arranging alternative "
                  "provision, 2025); for a looked-after child the first school day (council policy)")

NO_SIXTH_DAY = frozenset({ReasonForAP.MEDICAL, ReasonForAP.POST16})


def sixth_day_applies(reason: ReasonForAP) -> bool:
    """Whether a referral for this reason carries the sixth-day deadline."""
    return reason not in NO_SIXTH_DAY


@dataclass(frozen=True)
class SixthDay:
    """The deadline of one referral: school day 1 and school day 6, and whether day 1 is the aim."""

    first_school_day: date
    deadline: date  # the sixth school day: the backstop for every child
    looked_after: bool

    @property
    def first_day_aim(self) -> date | None:
        """A looked-after child's aim: provision from the first school day."""
        return self.first_school_day if self.looked_after else None


def sixth_day(duty_start: date, *, looked_after: bool, calendar: Calendar = WORKING_DAYS) -> SixthDay:
    """School day 1 and school day 6 of a duty starting on `duty_start`."""
    return SixthDay(first_school_day=calendar.nth_open_day(duty_start, FIRST_SCHOOL_DAY),
                    deadline=calendar.nth_open_day(duty_start, SIXTH_SCHOOL_DAY), looked_after=looked_after)


def full_time_provision_deadline(duty_start: date, *, looked_after: bool = False,
                                 calendar: Calendar = WORKING_DAYS) -> date:
    """The last school day on which full-time provision may start: the sixth (for every child)."""
    return sixth_day(duty_start, looked_after=looked_after, calendar=calendar).deadline

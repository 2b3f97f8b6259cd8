"""Renewed self-declarations.

At any time while the DPS runs the council may ask admitted providers for a
renewed and updated self-declaration (that no ground for exclusion applies
and the selection criteria are still met), to be given within **5 working
days** of the request (the law: PCR 2015 regulation 34(25), with regulation
59(1)).  Working days are the council calendar's (shared.calendar): Monday to
Friday less England and Wales bank holidays.

A provider that has not answered by the end of the last day has its
memberships suspended by the registry's daily job, with that reason (the
council's policy: the law lets the council ask, and leaves the consequence to
the DPS terms).  A late answer is kept but lifts nothing: the manager
reinstates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from shared.calendar import add_working_days, council_date

REGULATION = "PCR 2015 regulation 34(25)"
ANSWER_WORKING_DAYS = 5


def declaration_due_on(requested_on: date) -> date:
    """The last day on which a renewed self-declaration asked for on `requested_on` is on time."""
    return add_working_days(requested_on, ANSWER_WORKING_DAYS)


@dataclass
class DeclarationRequest:
    requested_at: datetime
    requested_on: date
    due_on: date
    answered_at: datetime | None = None
    exclusion_grounds_apply: bool | None = None  # the provider declares a ground for exclusion applies
    selection_criteria_met: bool | None = None  # the provider still meets the selection criteria
    changes: str | None = None  # what changed since the provider last declared, in its words
    lapsed_on: date | None = None  # the day the job found it unanswered and suspended the admitted memberships

    @classmethod
    def made(cls, now: datetime) -> DeclarationRequest:
        today = council_date(now)
        return cls(now, today, declaration_due_on(today))

    @property
    def answered_on(self) -> date | None:
        return council_date(self.answered_at) if self.answered_at else None

    @property
    def answered_on_time(self) -> bool:
        return self.answered_on is not None and self.answered_on <= self.due_on

    def is_awaited(self, today: date) -> bool:
        """Asked, not answered, and still within its 5 working days."""
        return self.answered_at is None and today <= self.due_on

    def lapses(self, today: date) -> bool:
        """Past its last day without an answer given by then, and not yet acted on."""
        return self.lapsed_on is None and today > self.due_on and not self.answered_on_time

    def lapse_reason(self) -> str:
        return (f"no renewed self-declaration by {self.due_on.isoformat()}, as asked on "
                f"{self.requested_on.isoformat()} ({ANSWER_WORKING_DAYS} working days: {REGULATION}); "
                "suspension is the council's policy and only the manager reinstates")

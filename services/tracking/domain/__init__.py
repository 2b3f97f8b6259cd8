"""Placement tracking: the council's rules, as plain Python.

Read in this order:
- `values`     the vocabulary: states, end reasons, next steps, progress;
- `placement`  the Placement aggregate: start (with the overlap rule), end,
               attendance returns, reviews every six weeks, outcomes;
- `attendance` a week's return, its rate, and the concern rules;
- `events`     what is published on `dps.tracking`;
- `reports`    the report definitions over plain rows: accountability,
               committed spend by month, active placements, overdue reviews,
               the January AP census.
"""

from .attendance import (AttendanceReturn, Concern, ConcernPolicy, Finding, assess_week,
                         recent_returns, window_rate, window_totals)
from .common import LOTS, Actor, council_date, rate, week_commencing
from .events import (EVENT_CLASSES, AttendanceRecorded, ConcernRaised, Event, OutcomeRecorded,
                     PlacementEnded, PlacementStarted, ReviewRecorded)
from .placement import (FULL_TIME_HOURS, REVIEW_INTERVAL, Outcome, Placement, Review,
                        ReviewFlag, overlapping, review_due)
from .reports import (Accountability, PlacementPerformance, PlacementRow, WeekOfAttendance,
                      accountability, accountability_by_provider, active_by, allocate_by_month,
                      attendance_by_week, census_day, census_extract, committed_spend_by_month,
                      overdue_reviews)
from .values import (PLANNED_END_REASONS, POSITIVE_NEXT_STEPS, ConcernKind, EndReason, NextStep,
                     OutcomeStage, PlacementSource, PlacementStatus, Progress, Provision,
                     Qualification, Safeguarding, StartConfirmedBy, Subject)

__all__ = [
    "AttendanceReturn",
    "Concern",
    "ConcernPolicy",
    "Finding",
    "assess_week",
    "recent_returns",
    "window_rate",
    "window_totals",
    "LOTS",
    "Actor",
    "council_date",
    "rate",
    "week_commencing",
    "EVENT_CLASSES",
    "AttendanceRecorded",
    "ConcernRaised",
    "Event",
    "OutcomeRecorded",
    "PlacementEnded",
    "PlacementStarted",
    "ReviewRecorded",
    "FULL_TIME_HOURS",
    "REVIEW_INTERVAL",
    "Outcome",
    "Placement",
    "Review",
    "ReviewFlag",
    "overlapping",
    "review_due",
    "Accountability",
    "PlacementPerformance",
    "PlacementRow",
    "WeekOfAttendance",
    "accountability",
    "accountability_by_provider",
    "active_by",
    "allocate_by_month",
    "attendance_by_week",
    "census_day",
    "census_extract",
    "committed_spend_by_month",
    "overdue_reviews",
    "PLANNED_END_REASONS",
    "POSITIVE_NEXT_STEPS",
    "ConcernKind",
    "EndReason",
    "NextStep",
    "OutcomeStage",
    "PlacementSource",
    "PlacementStatus",
    "Progress",
    "Provision",
    "Qualification",
    "Safeguarding",
    "StartConfirmedBy",
    "Subject",
]

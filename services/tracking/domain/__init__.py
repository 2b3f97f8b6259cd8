"""Placement tracking: the council's rules, as plain Python.

Read in this order:
- `common`     who may see a placement (`ensure_may_see`, and `visible_filters`
               for lists), the council's date, rates;
- `values`     the vocabulary: states, end reasons, next steps, progress;
- `placement`  the Placement aggregate: start (with the overlap rule), end,
               cancel (an award the child never took up), safeguarding and
               provision, attendance returns, reviews every six weeks, outcomes;
- `attendance` a week's return, its rate, and the concern rules
               (`assess_week`: unexplained absence, low attendance under
               `ConcernPolicy`, whose threshold and window are the council's
               settings);
- `events`     what is published on `dps.tracking`;
- `reports`    the report definitions over plain rows: accountability,
               committed spend by month, active placements, overdue reviews,
               the January AP census.
"""

from shared.calendar import ap_census_day as census_day  # DfE's census day: one rule, shared

from .attendance import (
                         AttendanceReturn,
                         Concern,
                         ConcernPolicy,
                         Finding,
                         assess_week,
                         overall_rate,
                         recent_returns,
                         window_rate,
                         window_totals,
)
from .common import LOTS, Actor, council_date, ensure_may_see, rate, visible_filters, week_commencing
from .events import (
                         EVENT_CLASSES,
                         AttendanceRecorded,
                         ConcernRaised,
                         Event,
                         OutcomeRecorded,
                         PlacementEnded,
                         PlacementStarted,
                         ReviewRecorded,
)
from .placement import (
                         REVIEW_INTERVAL,
                         Outcome,
                         Placement,
                         Review,
                         ReviewFlag,
                         expected_end,
                         flag_reason,
                         overlapping,
                         review_due,
                         review_overdue,
)
from .reports import (
                         Accountability,
                         AccountabilityTotals,
                         PlacementPerformance,
                         PlacementRow,
                         WeekOfAttendance,
                         accountability,
                         accountability_by_provider,
                         accountability_of,
                         active_by,
                         allocate_by_month,
                         attendance_by_week,
                         census_extract,
                         commitment_by_month,
                         committed_spend_by_month,
                         overdue_reviews,
)
from .values import (
                         PLANNED_END_REASONS,
                         POSITIVE_NEXT_STEPS,
                         ConcernKind,
                         EndReason,
                         NextStep,
                         OutcomeStage,
                         PlacementSource,
                         PlacementStatus,
                         Progress,
                         Provision,
                         Qualification,
                         Safeguarding,
                         StartConfirmedBy,
                         Subject,
)

__all__ = [
    "AttendanceReturn",
    "Concern",
    "ConcernPolicy",
    "Finding",
    "assess_week",
    "recent_returns",
    "window_rate",
    "overall_rate",
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
    "expected_end",
    "flag_reason",
    "ensure_may_see",
    "visible_filters",
    "REVIEW_INTERVAL",
    "Outcome",
    "Placement",
    "Review",
    "ReviewFlag",
    "overlapping",
    "review_due",
    "review_overdue",
    "Accountability",
    "PlacementPerformance",
    "PlacementRow",
    "WeekOfAttendance",
    "AccountabilityTotals",
    "accountability",
    "accountability_of",
    "accountability_by_provider",
    "active_by",
    "allocate_by_month",
    "attendance_by_week",
    "census_day",
    "census_extract",
    "commitment_by_month",
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

"""The council's vocabulary for a placement: its states, who is responsible,
how it ended, where the child went next, and how progress is described."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from shared.errors import InvalidInput


class PlacementSource(enum.StrEnum):
    CALL_OFF = "call_off"  # an individual placement awarded from offers
    BLOCK_PLACE = "block_place"  # a free place of a block contract
    OFF_DPS = "off_dps"  # an off-DPS exception the manager approved (awards' off_dps_placement.approved)


class PlacementStatus(enum.StrEnum):
    AWARDED = "awarded"
    STARTED = "started"
    ENDED = "ended"
    CANCELLED = "cancelled"  # awarded, but the child never started: see Placement.cancel


class Safeguarding(enum.StrEnum):
    """Who is responsible for the child's safeguarding: whoever commissions,
    or the home school when the child stays on its roll."""

    COMMISSIONING_TEAM = "commissioning_team"
    HOME_SCHOOL = "home_school"


class Provision(enum.StrEnum):
    MAIN = "main"
    SUPPLEMENTARY = "supplementary"


class StartConfirmedBy(enum.StrEnum):
    PROVIDER = "provider"
    OFFICER = "officer"


class EndReason(enum.StrEnum):
    COMPLETED = "completed"  # ran to its planned end
    MOVED_ON_EARLY = "moved_on_early"  # ended early because the child moved on as planned
    BREAKDOWN = "breakdown"  # the placement broke down
    PROVIDER_ENDED = "provider_ended"  # the provider ended it, or was suspended or removed
    MOVED_AWAY = "moved_away"
    OTHER = "other"
    CANCELLED = "cancelled"  # never started: only Placement.cancel gives this reason


PLANNED_END_REASONS = frozenset({EndReason.COMPLETED, EndReason.MOVED_ON_EARLY})
"""A placement 'completed' when it ended as planned: at its end, or early
because the child moved on to the next step the plan aimed at."""


class NextStep(enum.StrEnum):
    REINTEGRATED_MAINSTREAM = "reintegrated_mainstream"
    SPECIAL_SCHOOL = "special_school"
    FURTHER_EDUCATION = "further_education"
    TRAINING_OR_APPRENTICESHIP = "training_or_apprenticeship"
    EMPLOYMENT = "employment"
    NEET = "neet"  # not in education, employment or training
    MOVED_AWAY = "moved_away"
    OTHER = "other"


POSITIVE_NEXT_STEPS = frozenset({
    NextStep.REINTEGRATED_MAINSTREAM,
    NextStep.SPECIAL_SCHOOL,
    NextStep.FURTHER_EDUCATION,
    NextStep.TRAINING_OR_APPRENTICESHIP,
    NextStep.EMPLOYMENT,
})
"""Next steps that count as progression: AP is an intervention, not a destination."""


class Progress(enum.StrEnum):
    """Progress against one of the placement's aims since the last review."""

    IMPROVING = "improving"
    STEADY = "steady"
    DECLINING = "declining"


class Subject(enum.StrEnum):
    ENGLISH = "english"
    MATHS = "maths"
    SCIENCE = "science"  # including IT


class OutcomeStage(enum.StrEnum):
    START = "start"
    REVIEW = "review"
    END = "end"


class ConcernKind(enum.StrEnum):
    UNEXPLAINED_ABSENCE = "unexplained_absence"
    LOW_ATTENDANCE = "low_attendance"


@dataclass(frozen=True)
class Qualification:
    """A qualification gained: e.g. ('GCSE English Language', 'Level 2', '5')."""

    name: str
    level: str
    grade: str

    def __post_init__(self) -> None:
        for name in ("name", "level", "grade"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"a qualification needs its {name}", field="qualifications")

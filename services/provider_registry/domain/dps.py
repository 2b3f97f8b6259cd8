"""The DPS itself: its term, its four lots and the qualification questions of
each lot, all configurable by the manager.  The lots' numbers are the
contract's (shared.catalogue); their names and questions are the record's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from shared.catalogue import LOTS as LOT_NAMES
from shared.catalogue import is_lot
from shared.errors import Conflict, InvalidInput

from .common import Refusals, is_blank, is_whole_number
from .events import DpsClosed, DpsConfigured, Event, LotQuestionsSet, SlaIssued
from .questions import PassFailQuestion, Question, ScoredQuestion

LOTS = tuple(LOT_NAMES)

DEFAULT_START = date(2024, 4, 1)
DEFAULT_TERM_YEARS = 7
DECISION_WORKING_DAYS = 10
EXTENDED_DECISION_WORKING_DAYS = 15


def check_lot(value: object, field: str = "lot") -> int:
    """The lot number, or a 422 naming the field."""
    if not is_lot(value):
        raise InvalidInput(f"unknown lot {value!r}; the lots are 1 to 4", field=field)
    return value  # type: ignore[return-value]


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, month=3, day=1)


class DPSStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class Lot:
    number: int
    name: str
    questions: tuple[Question, ...] = ()


def _default_lots() -> dict[int, Lot]:
    return {n: Lot(n, name) for n, name in LOT_NAMES.items()}


@dataclass
class DPS:
    """The DPS record.  Its term runs from `start` for `term_years` years; the
    last day of the term is the day before the anniversary (1 April 2024 for
    seven years ends on 31 March 2031)."""

    name: str
    start: date = DEFAULT_START
    term_years: int = DEFAULT_TERM_YEARS
    status: DPSStatus = DPSStatus.OPEN
    lots: dict[int, Lot] = field(default_factory=_default_lots)
    sla_version: str = "1"
    decision_working_days: int = DECISION_WORKING_DAYS
    extended_decision_working_days: int = EXTENDED_DECISION_WORKING_DAYS
    closed_at: datetime | None = None
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        refusals = Refusals()
        if is_blank(self.name):
            refusals.add("name", "a name is required")
        if not is_whole_number(self.term_years) or self.term_years < 1:
            refusals.add("term_years", "the term is a whole number of years, at least one")
        if not 1 <= self.decision_working_days <= self.extended_decision_working_days:
            refusals.add("extended_decision_working_days",
                         "the extended decision period cannot be shorter than the normal one")
        refusals.raise_if_any("DPS refused")

    @property
    def ends_on(self) -> date:
        """The last day of the term; memberships end with it."""
        return _years_after(self.start, self.term_years) - timedelta(days=1)

    def is_open(self, today: date) -> bool:
        """Providers may apply while the DPS is open and within its term."""
        return self.status is DPSStatus.OPEN and self.start <= today <= self.ends_on

    def close(self, now: datetime, reason: str | None = None) -> None:
        if self.status is DPSStatus.CLOSED:
            raise Conflict("the DPS is already closed")
        self.status, self.closed_at = DPSStatus.CLOSED, now
        self.events.append(DpsClosed(reason))

    def _settings(self) -> dict:
        return {"name": self.name, "start": self.start, "term_years": self.term_years,
                "decision_working_days": self.decision_working_days,
                "extended_decision_working_days": self.extended_decision_working_days}

    def reconfigure(self, *, has_members: bool, name: str | None = None, start: date | None = None,
                    term_years: int | None = None, decision_working_days: int | None = None,
                    extended_decision_working_days: int | None = None) -> None:
        """The manager changes the DPS record.  Its term is fixed once a
        provider is admitted: every membership ends with it.  New decision
        periods apply to applications submitted from then on."""
        term_changes = (start is not None and start != self.start) or (
            term_years is not None and term_years != self.term_years)
        if term_changes and has_members:
            raise Conflict("the term cannot change once providers are admitted: their memberships end with it",
                           field="start" if start is not None else "term_years")
        days = self.decision_working_days if decision_working_days is None else decision_working_days
        extended = (self.extended_decision_working_days if extended_decision_working_days is None
                    else extended_decision_working_days)
        refusals = Refusals()
        if name is not None and is_blank(name):
            refusals.add("name", "a name is required")
        if term_years is not None and (not is_whole_number(term_years) or term_years < 1):
            refusals.add("term_years", "the term is a whole number of years, at least one")
        if not (is_whole_number(days) and is_whole_number(extended) and 1 <= days <= extended):
            refusals.add("extended_decision_working_days",
                         "the extended decision period cannot be shorter than the normal one")
        refusals.raise_if_any("DPS refused")
        before = self._settings()
        self.name = name.strip() if name is not None else self.name
        self.start = start if start is not None else self.start
        self.term_years = term_years if term_years is not None else self.term_years
        self.decision_working_days, self.extended_decision_working_days = days, extended
        self.events.append(DpsConfigured(before, self._settings()))

    def questions_for(self, lot: int) -> tuple[Question, ...]:
        return self.lots[check_lot(lot)].questions

    def set_questions(self, lot: int, questions: tuple[Question, ...] | list[Question]) -> None:
        """The manager sets a lot's qualification questions.  Applications
        already submitted keep the questions they answered."""
        lot = check_lot(lot)
        questions = tuple(questions)
        refusals = Refusals()
        seen: set[str] = set()
        for i, question in enumerate(questions):
            for field_name, reason in question_problems(question):
                refusals.add(f"questions.{i}.{field_name}", reason)
            if question.id in seen:
                refusals.add(f"questions.{i}.id", f"question {question.id!r} appears twice")
            seen.add(question.id)
        refusals.raise_if_any("questions refused")
        before, self.lots[lot].questions = self.lots[lot].questions, questions
        self.events.append(LotQuestionsSet(lot, before, questions))

    def issue_sla(self, version: str, reason: str | None = None) -> None:
        """A new version of the service level agreement; providers accept it
        the same way they accepted the first."""
        if is_blank(version):
            raise InvalidInput("an SLA version is required", field="sla_version")
        if version == self.sla_version:
            raise Conflict(f"SLA version {version} is already the current version")
        previous, self.sla_version = self.sla_version, version
        self.events.append(SlaIssued(previous, version, reason))


def question_problems(question: Question) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if is_blank(question.id):
        problems.append(("id", "a question id is required"))
    if is_blank(question.text):
        problems.append(("text", "the question's text is required"))
    if isinstance(question, PassFailQuestion):
        if not isinstance(question.pass_answer, bool):
            problems.append(("pass_answer", "the passing answer is yes (true) or no (false)"))
    elif isinstance(question, ScoredQuestion):
        bounds = (question.min_score, question.max_score, question.pass_mark)
        if not all(is_whole_number(b) for b in bounds):
            problems.append(("pass_mark", "scores and the pass mark are whole numbers"))
        elif question.min_score >= question.max_score:
            problems.append(("max_score", "the maximum score must be above the minimum"))
        elif not question.min_score <= question.pass_mark <= question.max_score:
            problems.append(("pass_mark", f"the pass mark must be between {question.min_score} "
                                          f"and {question.max_score}"))
    else:
        problems.append(("kind", "a question is pass/fail or scored"))
    return problems

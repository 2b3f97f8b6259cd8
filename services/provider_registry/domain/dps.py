"""A DPS record: its regime, term and statutory end, its lots and the
qualification questions of each lot, the call-off award criteria it
publishes, any offer window agreed with its providers, and (for an open
framework) its admission rounds, all configurable by the manager.  The lots'
numbers are the contract's (shared.catalogue); their names and questions are
the record's.

The first record (`FIRST_DPS_ID`) is the council's DPS under the 2015 rules;
a successor arrangement is a second record beside it, with its own regime,
lots and terms, that providers join separately."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from shared.catalogue import FIRST_DPS_ID, is_lot
from shared.catalogue import LOTS as LOT_NAMES
from shared.errors import Conflict, InvalidInput

from .common import Refusals, is_blank, is_whole_number
from .events import DpsClosed, DpsConfigured, DpsStatutoryEndApproaching, Event, LotQuestionsSet, SlaIssued
from .questions import PassFailQuestion, Question, ScoredQuestion
from .regime import (
    DEFAULT_PCR2015_STATUTORY_END,
    STATUTORY_END_REGULATION,
    STATUTORY_END_WARNING_MONTHS,
    Regime,
)

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


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day where it has no such day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# ------------------------------------------------ published call-off award criteria


@dataclass(frozen=True)
class AwardCriterion:
    """A call-off award criterion the DPS publishes: an officer may award
    another eligible offer than the best ranked only for one of these."""

    code: str
    name: str
    description: str


DEFAULT_AWARD_CRITERIA = (
    AwardCriterion("value", "Value for money", "Best value for money at the volume asked for"),
    AwardCriterion("travel", "Travel", "Travel time and transport for this child"),
    AwardCriterion("continuity", "Continuity", "Continuity with a current or recent provider"),
    AwardCriterion("specialism", "Specialism", "Specialist provision for the child's primary need"),
    AwardCriterion("start", "Start", "Earliest start (the sixth-day duty)"),
)
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
# The standard call-off window is at least 10 days; an agreed minimum is a shorter one.
STANDARD_OFFER_WINDOW_DAYS = 10


def check_award_criteria(criteria: Iterable[AwardCriterion]) -> tuple[AwardCriterion, ...]:
    criteria = tuple(criteria)
    refusals = Refusals()
    if not criteria:
        refusals.add("award_criteria", "publish at least one award criterion")
    seen: set[str] = set()
    for i, criterion in enumerate(criteria):
        if not isinstance(criterion.code, str) or not _CODE.fullmatch(criterion.code):
            refusals.add(f"award_criteria.{i}.code", "a code is lower-case letters, digits and _ (e.g. travel)")
        elif criterion.code in seen:
            refusals.add(f"award_criteria.{i}.code", f"criterion {criterion.code!r} appears twice")
        seen.add(criterion.code)
        for name in ("name", "description"):
            if is_blank(getattr(criterion, name)):
                refusals.add(f"award_criteria.{i}.{name}", f"the criterion's {name} is required")
    refusals.raise_if_any("award criteria refused")
    return tuple(AwardCriterion(c.code, c.name.strip(), c.description.strip()) for c in criteria)


@dataclass(frozen=True)
class AdmissionRound:
    """An open framework reopened to new members: applications from
    `opens_on` to `closes_on`, both days included."""

    opens_on: date
    closes_on: date

    def includes(self, day: date) -> bool:
        return self.opens_on <= day <= self.closes_on


@dataclass(frozen=True)
class StatutoryEndWarning:
    months_before: int
    given_on: date


class DPSStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class Lot:
    number: int
    name: str
    questions: tuple[Question, ...] = ()
    dps_id: UUID = FIRST_DPS_ID


def _default_lots() -> dict[int, Lot]:
    return {n: Lot(n, name) for n, name in LOT_NAMES.items()}


@dataclass
class DPS:
    """The DPS record.  Its term runs from `start` for `term_years` years; the
    last day of the term is the day before the anniversary (1 April 2024 for
    seven years ends on 31 March 2031).  A DPS under the 2015 rules also ends
    by law on its statutory end (SI 2024/716 regulation 5(4)): `ends_on`, the
    last day anything may be admitted, invited or awarded, is the earlier."""

    name: str
    start: date = DEFAULT_START
    term_years: int = DEFAULT_TERM_YEARS
    status: DPSStatus = DPSStatus.OPEN
    lots: dict[int, Lot] = field(default_factory=_default_lots)
    sla_version: str = "1"
    decision_working_days: int = DECISION_WORKING_DAYS
    extended_decision_working_days: int = EXTENDED_DECISION_WORKING_DAYS
    closed_at: datetime | None = None
    id: UUID = FIRST_DPS_ID
    regime: Regime = Regime.PCR2015_DPS
    statutory_end: date | None = None  # a 2015-rules DPS only: DPS_PCR2015_STATUTORY_END
    award_criteria: tuple[AwardCriterion, ...] = DEFAULT_AWARD_CRITERIA
    agreed_minimum_window_days: int | None = None
    agreed_in_sla_version: str | None = None
    rounds: tuple[AdmissionRound, ...] = ()
    warnings_given: tuple[StatutoryEndWarning, ...] = ()
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
        if not self.lots:
            refusals.add("lots", "a DPS has at least one lot")
        refusals.raise_if_any("DPS refused")
        self.regime = Regime(self.regime)
        if not self.regime.has_statutory_end:
            self.statutory_end = None
        elif self.statutory_end is None:
            self.statutory_end = DEFAULT_PCR2015_STATUTORY_END
        for lot in self.lots.values():
            lot.dps_id = self.id

    @classmethod
    def set_up(cls, *, id: UUID, name: str, regime: Regime | str, lots: Iterable[int], start: date,
               term_years: int, statutory_end: date | None, award_criteria: Iterable[AwardCriterion] | None = None,
               sla_version: str = "1") -> DPS:
        """The manager sets up a DPS record (a successor arrangement beside the first)."""
        refusals = Refusals()
        try:
            regime = Regime(regime)
        except ValueError:
            refusals.add("regime", "one of " + ", ".join(r.value for r in Regime))
            regime = Regime.PCR2015_DPS  # refused below; the rest of the record is still checked
        numbers = sorted(set(lots))
        for number in numbers:
            with refusals.collect():
                check_lot(number, field="lots")
        with refusals.collect():
            criteria = check_award_criteria(DEFAULT_AWARD_CRITERIA if award_criteria is None else award_criteria)
        with refusals.collect():
            dps = cls(name.strip() if isinstance(name, str) else name, start=start, term_years=term_years,
                      lots={n: Lot(n, LOT_NAMES[n]) for n in numbers if is_lot(n)}, sla_version=sla_version,
                      id=id, regime=regime, statutory_end=statutory_end)
        refusals.raise_if_any("DPS refused")
        dps.award_criteria = criteria
        dps._published({}, dps.published())
        return dps

    # -- the term and the statutory end

    @property
    def term_ends_on(self) -> date:
        """The last day of the advertised term."""
        return _years_after(self.start, self.term_years) - timedelta(days=1)

    @property
    def ends_on(self) -> date:
        """The last day anything may be admitted, invited or awarded: the
        earlier of the term's end and the statutory end.  Memberships end with it."""
        if self.statutory_end is not None and self.statutory_end < self.term_ends_on:
            return self.statutory_end
        return self.term_ends_on

    @property
    def ends_by_law(self) -> bool:
        return self.statutory_end is not None and self.statutory_end <= self.term_ends_on

    def why_ended(self) -> str:
        """What the refusal after `ends_on` says: the day and the rule."""
        if self.ends_by_law:
            return (f"the DPS ended by law at the end of {self.ends_on.isoformat()}: a DPS set up under the "
                    f"Public Contracts Regulations 2015 expires on its statutory end ({STATUTORY_END_REGULATION}; "
                    "the law, not council policy)")
        return (f"the DPS term ended on {self.ends_on.isoformat()} (the term the council advertised: "
                "its own terms, before any statutory end)")

    def require_in_force(self, today: date) -> None:
        """No admission (and no invitation or award) after `ends_on`; call-offs already made run on."""
        if today > self.ends_on:
            raise Conflict(f"no admission after {self.ends_on.isoformat()}: {self.why_ended()}")

    def is_open(self, today: date) -> bool:
        """Providers may apply while the DPS is open, within its term (and, for an open framework, in a round)."""
        try:
            self.require_open_to_applications(today)
        except Conflict:
            return False
        return True

    def require_open_to_applications(self, today: date) -> None:
        if self.status is DPSStatus.CLOSED:
            raise Conflict("the DPS is closed to applications")
        if today < self.start:
            raise Conflict(f"the DPS opens to applications on {self.start.isoformat()}")
        self.require_in_force(today)
        if not self.regime.rolling_admission and not any(r.includes(today) for r in self.rounds):
            upcoming = sorted((r for r in self.rounds if r.opens_on > today), key=lambda r: r.opens_on)
            next_round = (f"; the next round opens on {upcoming[0].opens_on.isoformat()}" if upcoming
                          else "; no round is open or announced")
            raise Conflict(f"applications are taken only in an admission round ({self.regime.admission_rule}; "
                           f"the law){next_round}", field="dps_id")

    # -- the manager's changes

    def close(self, now: datetime, reason: str | None = None) -> None:
        if self.status is DPSStatus.CLOSED:
            raise Conflict("the DPS is already closed")
        self.status, self.closed_at = DPSStatus.CLOSED, now
        self.events.append(DpsClosed(reason, dps_id=self.id))
        self._published()

    def _settings(self) -> dict:
        return {"name": self.name, "start": self.start, "term_years": self.term_years,
                "decision_working_days": self.decision_working_days,
                "extended_decision_working_days": self.extended_decision_working_days,
                "statutory_end": self.statutory_end}

    def _published(self, before: dict | None = None, after: dict | None = None) -> None:
        """dps.configured: the whole record as it now is; `before`/`after` what
        changed, for the trail (none where the change has its own line)."""
        self.events.append(DpsConfigured(before, after, dps_id=self.id, record=self.published()))

    def published(self) -> dict:
        """What dps.configured carries (domain values; messages.py puts them on the wire)."""
        return {"dps_id": self.id, "name": self.name, "regime": self.regime.value, "start": self.start,
                "term_ends_on": self.term_ends_on, "statutory_end": self.statutory_end, "ends_on": self.ends_on,
                "status": self.status.value, "lots": sorted(self.lots),
                "award_criteria": [{"code": c.code, "name": c.name, "description": c.description}
                                   for c in self.award_criteria],
                "agreed_minimum_window_days": self.agreed_minimum_window_days,
                "agreed_in_sla_version": self.agreed_in_sla_version, "sla_version": self.sla_version}

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
        self._published(before, self._settings())

    def apply_statutory_end(self, statutory_end: date) -> bool:
        """The configured statutory end (DPS_PCR2015_STATUTORY_END) for a
        2015-rules DPS; True when it changed the record.  Memberships already
        granted keep the end they were granted with."""
        if not self.regime.has_statutory_end or statutory_end == self.statutory_end:
            return False
        before, self.statutory_end = self._settings(), statutory_end
        self._published(before, self._settings())
        return True

    def set_award_criteria(self, criteria: Iterable[AwardCriterion]) -> None:
        """The call-off award criteria the DPS publishes (for call-offs from now on)."""
        before, self.award_criteria = self.award_criteria, check_award_criteria(criteria)
        self._published({"award_criteria": [c.code for c in before]},
                        {"award_criteria": [c.code for c in self.award_criteria]})

    def open_round(self, opens_on: date, closes_on: date, today: date) -> AdmissionRound:
        """An open framework reopened to new members for a while."""
        if self.regime.rolling_admission:
            raise Conflict(f"a {self.regime.value} admits providers at any time ({self.regime.admission_rule}): "
                           "admission rounds are for an open framework", field="regime")
        refusals = Refusals()
        if not isinstance(opens_on, date) or opens_on < today:
            refusals.add("opens_on", "a round opens today or later")
        if not isinstance(closes_on, date) or (isinstance(opens_on, date) and closes_on < opens_on):
            refusals.add("closes_on", "a round closes on or after the day it opens")
        elif closes_on > self.ends_on:
            refusals.add("closes_on", f"the DPS ends on {self.ends_on.isoformat()}")
        refusals.raise_if_any("round refused")
        new = AdmissionRound(opens_on, closes_on)
        clash = next((r for r in self.rounds if r.opens_on <= closes_on and opens_on <= r.closes_on), None)
        if clash:
            raise Conflict(f"a round from {clash.opens_on.isoformat()} to {clash.closes_on.isoformat()} overlaps it",
                           field="opens_on")
        self.rounds = tuple(sorted((*self.rounds, new), key=lambda r: r.opens_on))
        self._published({}, {"round": {"opens_on": opens_on, "closes_on": closes_on}})
        return new

    def questions_for(self, lot: int, field: str = "lot") -> tuple[Question, ...]:
        return self.lot(lot, field).questions

    def lot(self, lot: int, field: str = "lot") -> Lot:
        """One of this record's lots (a successor may have fewer than four)."""
        check_lot(lot, field=field)
        if lot not in self.lots:
            raise InvalidInput(f"lot {lot} is not a lot of {self.name}; its lots are "
                               f"{', '.join(map(str, sorted(self.lots)))}", field=field)
        return self.lots[lot]

    def set_questions(self, lot: int, questions: tuple[Question, ...] | list[Question]) -> None:
        """The manager sets a lot's qualification questions.  Applications
        already submitted keep the questions they answered."""
        lot = self.lot(lot).number
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
        self.events.append(LotQuestionsSet(lot, before, questions, dps_id=self.id))

    _KEEP = object()

    def issue_sla(self, version: str, reason: str | None = None, agreed_minimum_window_days=_KEEP) -> None:
        """A new version of the service level agreement; providers accept it
        the same way they accepted the first.  An agreed minimum offer window
        (shorter than the standard 10 days) is set or cleared only with a new
        version that carries it: every provider agrees to it by accepting."""
        if is_blank(version):
            raise InvalidInput("an SLA version is required", field="sla_version")
        if agreed_minimum_window_days is not DPS._KEEP and agreed_minimum_window_days is not None and not (
                is_whole_number(agreed_minimum_window_days)
                and 1 <= agreed_minimum_window_days < STANDARD_OFFER_WINDOW_DAYS):
            raise InvalidInput(f"an agreed minimum offer window is a whole number of days from 1 to "
                               f"{STANDARD_OFFER_WINDOW_DAYS - 1} (the standard window is at least "
                               f"{STANDARD_OFFER_WINDOW_DAYS} days)", field="agreed_minimum_window_days")
        if version == self.sla_version:
            raise Conflict(f"SLA version {version} is already the current version")
        previous, self.sla_version = self.sla_version, version
        if agreed_minimum_window_days is not DPS._KEEP:
            self.agreed_minimum_window_days = agreed_minimum_window_days
            self.agreed_in_sla_version = version if agreed_minimum_window_days is not None else None
        self.events.append(SlaIssued(previous, version, reason, dps_id=self.id))
        self._published()

    # -- the statutory end's warnings (the scheduled job)

    def statutory_end_warnings_due(self, today: date) -> tuple[int, ...]:
        """The warnings (months before the statutory end) due today and not yet given."""
        if self.statutory_end is None or today > self.statutory_end:
            return ()
        given = {w.months_before for w in self.warnings_given}
        return tuple(m for m in STATUTORY_END_WARNING_MONTHS
                     if m not in given and today >= months_before(self.statutory_end, m))

    def warn_of_statutory_end(self, today: date) -> tuple[int, ...]:
        """Give each warning due, once per DPS and months before."""
        due = self.statutory_end_warnings_due(today)
        for months in due:
            self.warnings_given = (*self.warnings_given, StatutoryEndWarning(months, today))
            self.events.append(DpsStatutoryEndApproaching(self.id, self.statutory_end, months,  # type: ignore[arg-type]
                                                       STATUTORY_END_REGULATION))
        return due


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

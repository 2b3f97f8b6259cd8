"""Applications to join the DPS (requests to participate) and the manager's
decision on them.

A provider may apply at any time while the DPS is open, for one or more lots,
but not while another application of its own is still pending.  The council
decides within 10 working days of submission (England and Wales bank holidays
are not working days), extendable once to 15 with a recorded reason.  It
admits the provider to some or all of the lots applied for, or rejects it
with reasons; a rejected provider may apply again.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from shared.calendar import WORKING_DAYS, add_working_days, council_date
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, InvalidInput

from .common import Refusals, as_member, is_blank, is_whole_number, require_reason
from .compliance import REQUIRED_DOCUMENTS, ComplianceDocument, DocumentKind
from .dps import DPS, check_lot
from .events import AnswerMarked, ApplicationDecided, ApplicationSubmitted, DeadlineExtended, Event
from .pricing import PricingLine, check_pricing_lines
from .questions import Assessment, Question, ScoredQuestion, answer_problem, assess_answers
from .setting import Registration, check_registration

# ---------------------------------------------------------------- the form


@dataclass(frozen=True)
class Organisation:
    name: str
    address: str
    postcode: str
    companies_house_number: str | None = None
    charity_number: str | None = None


@dataclass(frozen=True)
class SafeguardingLead:
    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class LotApplication:
    """One lot applied for: answers to its questions (question id -> yes/no
    or score), the pricing schedule for the lot and the places offered."""

    lot: int
    answers: Mapping[str, object]
    pricing_lines: tuple[PricingLine, ...]
    capacity: int


@dataclass(frozen=True)
class ApplicationForm:
    organisation: Organisation
    registration: Registration
    safeguarding_lead: SafeguardingLead
    enhanced_dbs_confirmed: bool  # enhanced DBS checks, on a single central record
    documents: tuple[ComplianceDocument, ...]
    lots: tuple[LotApplication, ...]
    sla_version: str  # the service level agreement the provider accepts by applying
    dps_id: UUID = FIRST_DPS_ID  # the DPS record applied to (a successor arrangement is joined separately)


_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", re.IGNORECASE)
_COMPANY_NUMBER = re.compile(r"[0-9]{8}|[A-Z]{2}[0-9]{6}", re.IGNORECASE)  # 01234567, SC123456
_CHARITY_NUMBER = re.compile(r"[0-9]{6,7}|SC[0-9]{6}|NIC[0-9]{6}", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def check_organisation(org: Organisation, refusals: Refusals) -> None:
    if is_blank(org.name):
        refusals.add("organisation.name", "the organisation's name is required")
    if is_blank(org.address):
        refusals.add("organisation.address", "the address is required")
    if not isinstance(org.postcode, str) or not _POSTCODE.fullmatch(org.postcode.strip()):
        refusals.add("organisation.postcode", "not a UK postcode")
    if org.companies_house_number is not None and not (
            isinstance(org.companies_house_number, str) and _COMPANY_NUMBER.fullmatch(org.companies_house_number)):
        refusals.add("organisation.companies_house_number",
                     "a Companies House number is eight characters, such as 01234567 or SC123456")
    if org.charity_number is not None and not (
            isinstance(org.charity_number, str) and _CHARITY_NUMBER.fullmatch(org.charity_number)):
        refusals.add("organisation.charity_number", "not a registered charity number")


def check_safeguarding_lead(lead: SafeguardingLead, refusals: Refusals) -> None:
    if is_blank(lead.name):
        refusals.add("safeguarding_lead.name", "the safeguarding lead's name is required")
    if not isinstance(lead.email, str) or not _EMAIL.fullmatch(lead.email):
        refusals.add("safeguarding_lead.email", "not an email address")


MAX_NOTIFICATION_ADDRESSES = 5


def check_notification_addresses(addresses: list, refusals: Refusals) -> None:
    """One to five email addresses, each once."""
    if not addresses:
        refusals.add("notification_addresses", "at least one email address is required")
    elif len(addresses) > MAX_NOTIFICATION_ADDRESSES:
        refusals.add("notification_addresses", f"at most {MAX_NOTIFICATION_ADDRESSES} addresses")
    seen = set()
    for n, address in enumerate(addresses):
        if not isinstance(address, str) or len(address) > 254 or not _EMAIL.fullmatch(address):
            refusals.add(f"notification_addresses.{n}", "not an email address")
        elif address.lower() in seen:
            refusals.add(f"notification_addresses.{n}", "given twice")
        else:
            seen.add(address.lower())


def check_document(document: ComplianceDocument, today: date, refusals: Refusals, path: str) -> None:
    if not isinstance(document.expires_on, date):
        refusals.add(f"{path}.expires_on", "the expiry date is required")
    elif document.has_expired(today):
        refusals.add(f"{path}.expires_on", f"already expired on {document.expires_on.isoformat()}")
    if is_blank(document.reference):
        refusals.add(f"{path}.reference", "the document is required")


def _check_documents(documents: tuple[ComplianceDocument, ...], today: date, refusals: Refusals) -> None:
    given: set[DocumentKind] = set()
    for i, document in enumerate(documents):
        kind = as_member(DocumentKind, document.kind)
        if kind is None:
            refusals.add(f"documents.{i}.kind", "insurance, dbs_confirmation or safeguarding_policy")
            continue
        path = f"documents.{kind.value}"
        if kind in given:
            refusals.add(path, "given twice")
        given.add(kind)
        check_document(document, today, refusals, path)
    for kind in REQUIRED_DOCUMENTS:
        if kind not in given:
            refusals.add(f"documents.{kind.value}", "this compliance document is required")


def _check_lot_application(entry: LotApplication, questions: tuple[Question, ...], refusals: Refusals) -> None:
    path = f"lots.{entry.lot}"
    known = {q.id for q in questions}
    for question in questions:
        if question.id not in entry.answers:
            refusals.add(f"{path}.answers.{question.id}", "an answer is required")
        elif (problem := answer_problem(question, entry.answers[question.id])):
            refusals.add(f"{path}.answers.{question.id}", problem)
    for question_id in entry.answers:
        if question_id not in known:
            refusals.add(f"{path}.answers.{question_id}", f"not a question of lot {entry.lot}")
    check_pricing_lines(tuple(entry.pricing_lines), f"{path}.pricing_lines", refusals)
    if not is_whole_number(entry.capacity) or entry.capacity < 0:
        refusals.add(f"{path}.capacity", "capacity is a whole number of places, zero or more")


def check_form(form: ApplicationForm, dps: DPS, today: date) -> None:
    """Every field of the form, all refusals in one 422."""
    refusals = Refusals()
    check_organisation(form.organisation, refusals)
    check_registration(form.registration, refusals, today)
    check_safeguarding_lead(form.safeguarding_lead, refusals)
    if form.enhanced_dbs_confirmed is not True:
        refusals.add("enhanced_dbs_confirmed",
                     "enhanced DBS checks recorded on a single central record must be confirmed")
    _check_documents(tuple(form.documents), today, refusals)
    if not form.lots:
        refusals.add("lots", "apply for at least one lot")
    seen: set[int] = set()
    for entry in form.lots:
        with refusals.collect():
            check_lot(entry.lot, field="lots")
            if entry.lot in seen:
                raise InvalidInput(f"lot {entry.lot} is applied for twice", field="lots")
            seen.add(entry.lot)
            _check_lot_application(entry, dps.questions_for(entry.lot, field="lots"), refusals)
    if form.sla_version != dps.sla_version:
        refusals.add("sla_version", f"the current service level agreement is version {dps.sla_version}")
    refusals.raise_if_any("application refused")


# ------------------------------------------------------------ the deadline


@dataclass(frozen=True)
class DecisionDeadline:
    """The application decision deadline: the council decides within
    `working_days` working days of submission (10 unless the manager set
    the DPS otherwise), or `extended_working_days` (15) once extended with a
    reason.  Working days: Monday to Friday less England and Wales bank
    holidays (shared.calendar).  `due_on` is the one place it is counted."""

    submitted_on: date
    working_days: int
    extended_working_days: int
    extension_reason: str | None = None
    extended_at: datetime | None = None

    @property
    def is_extended(self) -> bool:
        return self.extension_reason is not None

    @property
    def due_on(self) -> date:
        """The last day on which the decision is on time."""
        days = self.extended_working_days if self.is_extended else self.working_days
        return add_working_days(self.submitted_on, days)


# ------------------------------------------------------------ the decision


class ApplicationStatus(StrEnum):
    PENDING = "pending"
    ADMITTED = "admitted"  # to some or all of the lots applied for
    REJECTED = "rejected"


@dataclass(frozen=True)
class Reason:
    """Why a lot was not admitted; `question_id` names the question failed,
    or is None for a reason about the lot as a whole."""

    lot: int
    question_id: str | None
    text: str


@dataclass(frozen=True)
class Decision:
    admitted_lots: tuple[int, ...]
    reasons: tuple[Reason, ...]  # for every lot applied for and not admitted
    decided_at: datetime
    decided_on: date
    on_time: bool


@dataclass
class Application:
    id: UUID
    provider_id: UUID
    form: ApplicationForm
    questions: dict[int, tuple[Question, ...]]  # as published when the provider applied
    submitted_at: datetime
    deadline: DecisionDeadline
    status: ApplicationStatus = ApplicationStatus.PENDING
    marks: dict[tuple[int, str], int] = field(default_factory=dict)  # the council's scores
    decision: Decision | None = None
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    @property
    def dps_id(self) -> UUID:
        return self.form.dps_id

    @property
    def lots_applied_for(self) -> tuple[int, ...]:
        return tuple(entry.lot for entry in self.form.lots)

    @property
    def admitted_lots(self) -> tuple[int, ...]:
        return self.decision.admitted_lots if self.decision else ()

    def lot(self, lot: int) -> LotApplication:
        return next(entry for entry in self.form.lots if entry.lot == lot)

    def is_overdue(self, today: date) -> bool:
        return self.status is ApplicationStatus.PENDING and today > self.deadline.due_on

    def _require_pending(self) -> None:
        if self.status is not ApplicationStatus.PENDING:
            raise Conflict(f"the application is {self.status.value}, not pending")

    # -- the assessment

    def assessment(self, lot: int) -> Assessment:
        """The lot's answers scored against its pass marks; the council's
        mark for a question replaces the score given with the answer."""
        answers = dict(self.lot(lot).answers)
        answers.update({qid: score for (marked_lot, qid), score in self.marks.items() if marked_lot == lot})
        return assess_answers(self.questions[lot], answers)

    def mark(self, lot: int, question_id: str, score: int) -> None:
        """The manager scores a scored question (e.g. a written answer)."""
        self._require_pending()
        if lot not in self.lots_applied_for:
            raise InvalidInput(f"lot {lot!r} was not applied for", field="lot")
        question = next((q for q in self.questions[lot] if q.id == question_id), None)
        if not isinstance(question, ScoredQuestion):
            raise InvalidInput(f"not a scored question of lot {lot}", field="question_id")
        if (problem := answer_problem(question, score)):
            raise InvalidInput(problem, field="score")
        previous = self.marks.get((lot, question_id))
        self.marks = {**self.marks, (lot, question_id): score}
        self.events.append(AnswerMarked(self.id, lot, question_id, score, previous))

    # -- the deadline

    def extend_deadline(self, reason: str, now: datetime) -> None:
        """Once, to 15 working days, with a reason, before the decision falls due."""
        self._require_pending()
        reason = require_reason(reason)
        if self.deadline.is_extended:
            raise Conflict(f"the decision deadline was already extended to {self.deadline.due_on}")
        if council_date(now) > self.deadline.due_on:
            raise Conflict(f"the decision was due on {self.deadline.due_on}; "
                           "an extension must be recorded before then")
        was_due = self.deadline.due_on
        self.deadline = replace(self.deadline, extension_reason=reason, extended_at=now)
        self.events.append(DeadlineExtended(self.id, reason, was_due, self.deadline.due_on))

    # -- the decision

    def admit(self, lots: Iterable[int], now: datetime, reasons: Iterable[Reason] = ()) -> Decision:
        """Admit to some or all of the lots applied for.  A lot is admitted
        only when every one of its questions passed; lots left out need a
        reason, which a failed question gives by itself."""
        self._require_pending()  # a decided application is a 409, whatever else is wrong
        lots = tuple(lots)
        if not lots:
            raise InvalidInput("admit to at least one lot, or reject the application", field="lots")
        return self._decide(lots, tuple(reasons), now)

    def reject(self, reasons: Iterable[Reason], now: datetime) -> Decision:
        """Reject, telling the provider why for each lot applied for (failed
        questions give their own reasons; the manager may add more)."""
        return self._decide((), tuple(reasons), now)

    def _decide(self, lots: tuple[int, ...], given: tuple[Reason, ...], now: datetime) -> Decision:
        self._require_pending()
        refusals = Refusals()
        for lot in lots:
            with refusals.collect():
                self._check_admissible(lot)
        self._check_reasons(given, lots, refusals)
        reasons = self._reasons_for_lots_left_out(lots, given)
        for lot in self.lots_applied_for:
            if lot not in lots and not any(r.lot == lot for r in reasons):
                refusals.add("reasons", f"give a reason for not admitting to lot {lot}")
        refusals.raise_if_any("decision refused")
        today = council_date(now)
        self.decision = Decision(tuple(sorted(set(lots))), reasons, now, today, today <= self.deadline.due_on)
        self.status = ApplicationStatus.ADMITTED if lots else ApplicationStatus.REJECTED
        self.events.append(ApplicationDecided(self.id, self.provider_id, self.decision.admitted_lots,
                                              self.decision.reasons, self.decision.on_time, self.form.organisation.name,
                                              self.form.safeguarding_lead.email, self.lots_applied_for, now,
                                              self.dps_id))
        return self.decision

    def _check_admissible(self, lot: int) -> None:
        check_lot(lot, field="lots")
        if lot not in self.lots_applied_for:
            raise InvalidInput(f"lot {lot} was not applied for", field="lots")
        failures = self.assessment(lot).failures
        if failures:
            failed = "; ".join(f"question {f.question_id}: {f.reason}" for f in failures)
            raise InvalidInput(f"lot {lot} cannot be admitted: {failed}", field="lots")

    def _check_reasons(self, given: tuple[Reason, ...], lots: tuple[int, ...], refusals: Refusals) -> None:
        for i, reason in enumerate(given):
            if reason.lot not in self.lots_applied_for:
                refusals.add(f"reasons.{i}.lot", f"lot {reason.lot!r} was not applied for")
                continue
            if reason.lot in lots:
                refusals.add(f"reasons.{i}.lot", f"lot {reason.lot} is admitted")
            if reason.question_id is not None and reason.question_id not in {
                    q.id for q in self.questions[reason.lot]}:
                refusals.add(f"reasons.{i}.question_id", f"not a question of lot {reason.lot}")
            if is_blank(reason.text):
                refusals.add(f"reasons.{i}.text", "a reason is required")

    def _reasons_for_lots_left_out(self, lots: tuple[int, ...], given: tuple[Reason, ...]) -> tuple[Reason, ...]:
        """Failed questions' own reasons, replaced by the manager's where the
        manager gave one for the same question."""
        by_key: dict[tuple[int, str | None], Reason] = {}
        for lot in self.lots_applied_for:
            if lot in lots:
                continue
            for failure in self.assessment(lot).failures:
                by_key[(lot, failure.question_id)] = Reason(lot, failure.question_id, failure.reason or "failed")
        for reason in given:
            if not is_blank(reason.text):
                by_key[(reason.lot, reason.question_id)] = Reason(reason.lot, reason.question_id, reason.text.strip())
        return tuple(by_key.values())


def submit_application(dps: DPS, form: ApplicationForm, *, application_id: UUID, provider_id: UUID,
                       now: datetime, pending_application_exists: bool = False,
                       member_lots: Collection[int] = ()) -> Application:
    """A provider's request to participate.  The service layer says whether the
    provider has an application pending and which lots it is already a member
    of (admitted or suspended); a provider removed from a lot may apply again."""
    if form.dps_id != dps.id:
        raise ValueError("the form applies to another DPS record")
    today = council_date(now)
    dps.require_open_to_applications(today)  # closed, ended (by term or by law), or outside a round
    if pending_application_exists:
        raise Conflict("this provider already has an application awaiting a decision")
    check_form(form, dps, today)
    already = sorted({entry.lot for entry in form.lots} & set(member_lots))
    if already:
        raise Conflict(f"the provider is already a member of lot {', '.join(map(str, already))}")
    application = Application(
        id=application_id,
        provider_id=provider_id,
        form=form,
        questions={entry.lot: dps.questions_for(entry.lot, field="lots") for entry in form.lots},
        submitted_at=now,
        deadline=DecisionDeadline(today, dps.decision_working_days, dps.extended_decision_working_days),
    )
    application.events.append(ApplicationSubmitted(application.id, provider_id, application.lots_applied_for,
                                                   application.deadline.due_on, form.organisation.name,
                                                   form.safeguarding_lead.email, now, dps.id))
    return application


def overdue_applications(applications: Iterable[Application], today: date) -> list[Application]:
    """Pending applications past their decision date, the longest overdue first."""
    return sorted((a for a in applications if a.is_overdue(today)), key=lambda a: a.deadline.due_on)


DECISION_NOTICE_WORKING_DAYS = 2


def decision_reminder(due_on: date, today: date) -> str | None:
    """What a pending application's decision date calls for today (issue #18): the manager is told 2 working
    days before (`application.decision_due`) and once it has passed (`application.decision_overdue`), each once
    per due date (an extension gives a new one).  PCR 2015 reg. 34(15)-(16): 10 working days, or 15 with
    reasons (law)."""
    if today > due_on:
        return "application.decision_overdue"
    if WORKING_DAYS.open_days_between(today, due_on) <= DECISION_NOTICE_WORKING_DAYS:
        return "application.decision_due"
    return None

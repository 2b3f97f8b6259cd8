"""Rows <-> the registry's domain objects: the DPS, applications and providers.

The DPS and its lots change only when the manager changes them, so each
process keeps them in memory, keyed by the DPS row's revision (a new random
value on every change): a reader checks the revision, read with the provider
or on its own, and reads the DPS again only when it moved.  Other processes'
changes are seen at once, and nothing is cached that another process could
have changed unseen.

A provider is loaded whole (its row, then its memberships, schedules,
documents and SLA acceptances in one query) and saved by difference: what the
unit of work loaded for a change is remembered (`session.info`), and saving
writes only the rows that differ from it.  Loading for a change locks the
provider's row (FOR UPDATE on PostgreSQL) so two requests on one provider run
one after the other; every writer of a provider's rows takes that lock first,
so what was loaded under it is what is stored until the unit of work ends.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from uuid import UUID
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.provider_registry import models
from services.provider_registry.domain import (
    DPS,
    Application,
    ApplicationForm,
    ApplicationStatus,
    ComplianceDocument,
    Decision,
    DecisionDeadline,
    DocumentKind,
    DPSStatus,
    Lot,
    LotApplication,
    Membership,
    MembershipStatus,
    OfstedGrade,
    Organisation,
    PassFailQuestion,
    PricingLine,
    PricingSchedule,
    Provider,
    Question,
    Reason,
    Registration,
    RegistrationStatus,
    SafeguardingLead,
    ScheduleStatus,
    ScoredQuestion,
    SlaAcceptance,
    Unit,
)
from shared.db import read_children
from shared.errors import NotFound

DPS_ID = 1


class _Remembered:
    """What one unit of work read and wrote, kept on its session: the DPS
    revision it last saw, and each provider's rows as it last loaded them for
    a change or saved them.  The rows are forgotten when the transaction ends
    (a later one loads again, or compares with what is stored); the revision
    when it rolls back (it may be one that was never committed)."""

    def __init__(self) -> None:
        self.dps_revision: UUID | None = None
        self.provider_rows: dict[UUID, Rows] = {}

    @classmethod
    def of(cls, session: Session) -> _Remembered:
        remembered = session.info.get(cls)
        if remembered is None:
            remembered = session.info[cls] = cls()
            sa.event.listen(session, "after_commit", lambda _session: remembered.provider_rows.clear())
            sa.event.listen(session, "after_soft_rollback", lambda _session, _transaction: remembered.forget())
        return remembered

    def forget(self) -> None:
        self.dps_revision = None
        self.provider_rows.clear()


# ------------------------------------------------------------------ values


def question_to_json(question: Question) -> dict:
    if isinstance(question, PassFailQuestion):
        return {"kind": "pass_fail", "id": question.id, "text": question.text, "pass_answer": question.pass_answer}
    return {"kind": "scored", "id": question.id, "text": question.text, "pass_mark": question.pass_mark,
            "min_score": question.min_score, "max_score": question.max_score}


def question_from_json(data: dict) -> Question:
    if data["kind"] == "pass_fail":
        return PassFailQuestion(data["id"], data["text"], data.get("pass_answer", True))
    return ScoredQuestion(data["id"], data["text"], data["pass_mark"], data.get("min_score", 0),
                          data.get("max_score", 5))


def line_to_json(line: PricingLine) -> dict:
    return {"description": line.description, "unit": Unit(line.unit).value, "staffing_ratio": line.staffing_ratio,
            "maximum_price_pence": line.maximum_price_pence}


def line_from_json(data: dict) -> PricingLine:
    return PricingLine(data["description"], Unit(data["unit"]), data["staffing_ratio"],
                       data["maximum_price_pence"])


def _organisation_to_json(org: Organisation) -> dict:
    return {"name": org.name, "address": org.address, "postcode": org.postcode,
            "companies_house_number": org.companies_house_number, "charity_number": org.charity_number}


def _registration_to_json(reg: Registration) -> dict:
    return {"status": RegistrationStatus(reg.status).value, "urn": reg.urn,
            "ofsted_grade": OfstedGrade(reg.ofsted_grade).value if reg.ofsted_grade else None}


def _registration_from_json(data: dict) -> Registration:
    grade = data.get("ofsted_grade")
    return Registration(RegistrationStatus(data["status"]), data.get("urn"), OfstedGrade(grade) if grade else None)


def _lead_to_json(lead: SafeguardingLead) -> dict:
    return {"name": lead.name, "email": lead.email, "phone": lead.phone}


def _document_to_json(document: ComplianceDocument) -> dict:
    return {"kind": DocumentKind(document.kind).value, "reference": document.reference,
            "expires_on": document.expires_on.isoformat()}


def _document_from_json(data: dict) -> ComplianceDocument:
    return ComplianceDocument(DocumentKind(data["kind"]), data["reference"], date.fromisoformat(data["expires_on"]))


def form_to_json(form: ApplicationForm) -> dict:
    return {
        "organisation": _organisation_to_json(form.organisation),
        "registration": _registration_to_json(form.registration),
        "safeguarding_lead": _lead_to_json(form.safeguarding_lead),
        "enhanced_dbs_confirmed": form.enhanced_dbs_confirmed,
        "documents": [_document_to_json(d) for d in form.documents],
        "lots": [{"lot": e.lot, "answers": dict(e.answers), "pricing_lines": [line_to_json(x) for x in e.pricing_lines],
                  "capacity": e.capacity} for e in form.lots],
        "sla_version": form.sla_version,
    }


def form_from_json(data: dict) -> ApplicationForm:
    return ApplicationForm(
        organisation=Organisation(**data["organisation"]),
        registration=_registration_from_json(data["registration"]),
        safeguarding_lead=SafeguardingLead(**data["safeguarding_lead"]),
        enhanced_dbs_confirmed=data["enhanced_dbs_confirmed"],
        documents=tuple(_document_from_json(d) for d in data["documents"]),
        lots=tuple(LotApplication(e["lot"], dict(e["answers"]), tuple(line_from_json(x) for x in e["pricing_lines"]),
                                  e["capacity"]) for e in data["lots"]),
        sla_version=data["sla_version"],
    )


# ------------------------------------------------------------------ the DPS


class _DpsCopies:
    """Per database (engine), the DPS and its lots as this process last read
    them, with the revision they were read at."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copies: WeakKeyDictionary = WeakKeyDictionary()

    def get(self, bind, revision: UUID) -> DPS | None:
        with self._lock:
            kept = self._copies.get(bind)
        return kept[1] if kept is not None and kept[0] == revision else None

    def keep(self, bind, revision: UUID, dps: DPS) -> None:
        with self._lock:
            self._copies[bind] = (revision, dps)


# One per process (each gunicorn worker its own); safe to share, as a copy is
# only ever used for the revision it was read at, and a revision is never reused.
_dps_copies = _DpsCopies()


@functools.cache
def _dps_revision_column() -> sa.Label:
    """The DPS's revision, as a column of another query (no extra round trip)."""
    return sa.select(models.dps.c.revision).where(models.dps.c.id == DPS_ID).scalar_subquery().label("dps_revision")


def get_dps(session: Session, *, for_update: bool = False) -> DPS:
    """The DPS and its lots.  For a change (`for_update`): read and locked.
    Otherwise this process's copy when the revision stored is the copy's (the
    one read with a provider in this unit of work, else read now: one small
    statement), or read again and kept."""
    if for_update:
        return _read_dps(session, for_update=True)
    revision = _Remembered.of(session).dps_revision
    if revision is None:
        revision = session.execute(sa.select(models.dps.c.revision).where(models.dps.c.id == DPS_ID)).scalar()
    bind = session.get_bind()
    dps = _dps_copies.get(bind, revision) if revision is not None else None
    if dps is None:
        dps = _read_dps(session)
        _dps_copies.keep(bind, _Remembered.of(session).dps_revision, dps)
    # a copy to change, so the one kept is never changed in place
    return replace(dps, lots=dict(dps.lots))


def _read_dps(session: Session, *, for_update: bool = False) -> DPS:
    query = sa.select(models.dps).where(models.dps.c.id == DPS_ID)
    row = session.execute(query.with_for_update() if for_update else query).one_or_none()
    if row is None:
        raise NotFound("the DPS has not been set up: run the migrations")
    _Remembered.of(session).dps_revision = row.revision
    lots = {r.number: Lot(r.number, r.name, tuple(question_from_json(q) for q in r.questions))
            for r in session.execute(sa.select(models.lots).order_by(models.lots.c.number))}
    return DPS(name=row.name, start=row.start, term_years=row.term_years, status=DPSStatus(row.status), lots=lots,
               sla_version=row.sla_version, decision_working_days=row.decision_working_days,
               extended_decision_working_days=row.extended_decision_working_days, closed_at=row.closed_at)


def save_dps(session: Session, dps: DPS) -> None:
    """Store the DPS and its lots under a new revision: every process's copy
    of the old one is then out of date.  (Change the DPS or a lot only through
    here, or give the row a new revision with the change.)"""
    revision = uuid.uuid4()
    session.execute(models.dps.update().where(models.dps.c.id == DPS_ID).values(
        name=dps.name, start=dps.start, term_years=dps.term_years, status=dps.status.value,
        sla_version=dps.sla_version, decision_working_days=dps.decision_working_days,
        extended_decision_working_days=dps.extended_decision_working_days, closed_at=dps.closed_at,
        revision=revision))
    _Remembered.of(session).dps_revision = revision
    for lot in dps.lots.values():
        session.execute(models.lots.update().where(models.lots.c.number == lot.number).values(
            name=lot.name, questions=[question_to_json(q) for q in lot.questions]))


def any_members(session: Session) -> bool:
    return session.execute(sa.select(models.memberships.c.provider_id).limit(1)).first() is not None


# ------------------------------------------------------------- applications


def _application_from_row(row) -> Application:
    deadline = DecisionDeadline(row.submitted_on, row.working_days, row.extended_working_days,
                                row.extension_reason, row.extended_at)
    decision = None
    if row.decision:
        d = row.decision
        decision = Decision(tuple(d["admitted_lots"]),
                            tuple(Reason(r["lot"], r["question_id"], r["text"]) for r in d["reasons"]),
                            datetime.fromisoformat(d["decided_at"]), date.fromisoformat(d["decided_on"]),
                            d["on_time"])
    return Application(
        id=row.id, provider_id=row.provider_id, form=form_from_json(row.form),
        questions={int(lot): tuple(question_from_json(q) for q in qs) for lot, qs in row.questions.items()},
        submitted_at=row.submitted_at, deadline=deadline, status=ApplicationStatus(row.status),
        marks={(m["lot"], m["question_id"]): m["score"] for m in row.marks}, decision=decision)


def _application_values(application: Application) -> dict:
    decision = application.decision
    return dict(
        provider_id=application.provider_id,
        organisation_name=application.form.organisation.name,
        status=application.status.value,
        form=form_to_json(application.form),
        questions={str(lot): [question_to_json(q) for q in qs] for lot, qs in application.questions.items()},
        marks=[{"lot": lot, "question_id": qid, "score": score} for (lot, qid), score in application.marks.items()],
        submitted_at=application.submitted_at,
        submitted_on=application.deadline.submitted_on,
        working_days=application.deadline.working_days,
        extended_working_days=application.deadline.extended_working_days,
        extension_reason=application.deadline.extension_reason,
        extended_at=application.deadline.extended_at,
        due_on=application.deadline.due_on,
        decision=None if decision is None else {
            "admitted_lots": list(decision.admitted_lots),
            "reasons": [{"lot": r.lot, "question_id": r.question_id, "text": r.text} for r in decision.reasons],
            "decided_at": decision.decided_at.isoformat(), "decided_on": decision.decided_on.isoformat(),
            "on_time": decision.on_time},
        decided_at=decision.decided_at if decision else None,
    )


def add_application(session: Session, application: Application) -> None:
    session.execute(models.applications.insert().values(id=application.id, **_application_values(application)))


def save_application(session: Session, application: Application) -> None:
    session.execute(models.applications.update().where(models.applications.c.id == application.id)
                    .values(**_application_values(application)))


def get_application(session: Session, application_id: UUID, *, for_update: bool = False) -> Application:
    query = sa.select(models.applications).where(models.applications.c.id == application_id)
    row = session.execute(query.with_for_update() if for_update else query).one_or_none()
    if row is None:
        raise NotFound(f"no application {application_id}")
    return _application_from_row(row)


def has_pending_application(session: Session, provider_id: UUID) -> bool:
    t = models.applications
    query = sa.select(t.c.id).where(t.c.provider_id == provider_id, t.c.status == ApplicationStatus.PENDING.value)
    return session.execute(query.limit(1)).first() is not None


def list_applications(session: Session, *, provider_id: UUID | None = None, status: str | None = None,
                      overdue_on: date | None = None, limit: int = 100, offset: int = 0) -> list[Application]:
    t = models.applications
    query = sa.select(t).order_by(t.c.submitted_at.desc(), t.c.id)
    if provider_id is not None:
        query = query.where(t.c.provider_id == provider_id)
    if status is not None:
        query = query.where(t.c.status == status)
    if overdue_on is not None:
        query = query.where(t.c.status == ApplicationStatus.PENDING.value, t.c.due_on < overdue_on) \
                     .order_by(None).order_by(t.c.due_on, t.c.id)
    return [_application_from_row(r) for r in session.execute(query.limit(limit).offset(offset))]


# ------------------------------------------------------------------ providers

# A provider's child tables, with the columns that tell its rows apart.
_CHILDREN: dict[sa.Table, tuple[str, ...]] = {
    models.memberships: ("lot",),
    models.pricing_schedules: ("lot", "version"),
    models.compliance_documents: ("kind",),
    models.sla_acceptances: ("version",),
}

# A provider as rows: table -> the row's key (() for the provider's own row) -> its other values.
Rows = dict[sa.Table, dict[tuple, dict]]


def find_provider(session: Session, provider_id: UUID, *, for_update: bool = False) -> Provider | None:
    """The provider, or None.  `for_update` locks its row and remembers what was
    loaded, so that saving writes only what changed."""
    p = models.providers
    query = sa.select(p, _dps_revision_column()).where(p.c.id == provider_id)
    row = session.execute(query.with_for_update(of=p) if for_update else query).one_or_none()
    if row is None:
        return None
    provider, = _load_providers(session, [row])
    if for_update:
        _Remembered.of(session).provider_rows[provider.id] = _rows_of(provider)
    return provider


def get_provider(session: Session, provider_id: UUID, *, for_update: bool = False) -> Provider:
    provider = find_provider(session, provider_id, for_update=for_update)
    if provider is None:
        raise NotFound(f"no provider {provider_id} on the DPS")
    return provider


def _load_providers(session: Session, rows: list) -> list[Provider]:
    """Providers from their rows (read with the DPS revision), with every
    child row of all of them read in one query."""
    if not rows:
        return []
    _Remembered.of(session).dps_revision = rows[0].dps_revision
    providers = {row.id: _provider_from_row(row) for row in rows}
    children = _child_rows(session, list(providers))
    for d in sorted(children[models.compliance_documents], key=lambda d: d["kind"]):
        providers[d["provider_id"]].documents[DocumentKind(d["kind"])] = ComplianceDocument(
            DocumentKind(d["kind"]), d["reference"], d["expires_on"])
    for m in sorted(children[models.memberships], key=lambda m: m["lot"]):
        provider = providers[m["provider_id"]]
        provider.memberships[m["lot"]] = Membership(m["lot"], m["admitted_on"], m["ends_on"],
                                                    MembershipStatus(m["status"]), m["since"], m["reason"],
                                                    m["automatic"])
        provider.capacity[m["lot"]] = m["capacity"]
    for s in sorted(children[models.pricing_schedules], key=lambda s: (s["lot"], s["version"])):
        providers[s["provider_id"]].schedules.setdefault(s["lot"], []).append(_schedule_from_values(s))
    for a in sorted(children[models.sla_acceptances], key=lambda a: a["position"]):
        providers[a["provider_id"]].sla_acceptances.append(SlaAcceptance(a["version"], a["accepted_on"]))
    return list(providers.values())


def _provider_from_row(row) -> Provider:
    organisation = Organisation(row.name, row.address, row.postcode, row.companies_house_number, row.charity_number)
    registration = Registration(RegistrationStatus(row.registration_status), row.urn,
                                OfstedGrade(row.ofsted_grade) if row.ofsted_grade else None)
    return Provider(row.id, organisation, registration, SafeguardingLead(**row.safeguarding_lead), ())


def _child_rows(session: Session, provider_ids: list[UUID]) -> dict[sa.Table, list[dict]]:
    """Table -> its rows of these providers, as dicts of its own columns, all
    read in one round trip."""
    return read_children(session, "provider_id", {table: provider_ids for table in _CHILDREN})


def _rows_of(provider: Provider) -> Rows:
    """The rows that store the provider, as save_provider writes them."""
    org, reg = provider.organisation, provider.registration
    return {
        models.providers: {(): dict(
            name=org.name, address=org.address, postcode=org.postcode,
            companies_house_number=org.companies_house_number, charity_number=org.charity_number,
            registration_status=RegistrationStatus(reg.status).value, urn=reg.urn,
            ofsted_grade=OfstedGrade(reg.ofsted_grade).value if reg.ofsted_grade else None,
            safeguarding_lead=_lead_to_json(provider.safeguarding_lead))},
        models.memberships: {(m.lot,): dict(
            status=MembershipStatus(m.status).value, admitted_on=m.admitted_on, ends_on=m.ends_on, since=m.since,
            reason=m.reason, automatic=m.automatic, capacity=provider.capacity.get(m.lot, 0))
            for m in provider.memberships.values()},
        models.pricing_schedules: {(s.lot, s.version): dict(
            lines=[line_to_json(x) for x in s.lines], effective_from=s.effective_from,
            status=ScheduleStatus(s.status).value, proposed_at=s.proposed_at, decided_at=s.decided_at,
            reason=s.reason, announced=s.announced)
            for versions in provider.schedules.values() for s in versions},
        models.compliance_documents: {(DocumentKind(d.kind).value,): dict(
            reference=d.reference, expires_on=d.expires_on) for d in provider.documents.values()},
        models.sla_acceptances: {(a.version,): dict(accepted_on=a.accepted_on, position=i)
                                 for i, a in enumerate(provider.sla_acceptances)},
    }


def save_provider(session: Session, provider: Provider, now: datetime) -> None:
    """Insert a new provider; for one stored, write only the rows that differ
    from what this unit of work loaded for a change (or last saved), or else
    from what is stored now.  Its updated_at moves with any change."""
    remembered = _Remembered.of(session).provider_rows
    before = remembered.get(provider.id)
    if before is None:
        stored = find_provider(session, provider.id)
        before = None if stored is None else _rows_of(stored)
    after = _rows_of(provider)
    p = models.providers
    if before is None:
        session.execute(p.insert().values(id=provider.id, created_at=now, updated_at=now, **after[p][()]))
        before = {p: after[p], **{table: {} for table in _CHILDREN}}
    changed = [_write_changes(session, table, provider.id, before[table], after[table]) for table in _CHILDREN]
    old, new = before[p][()], after[p][()]
    if any(changed) or old != new:
        session.execute(p.update().where(p.c.id == provider.id).values(
            updated_at=now, **{column: value for column, value in new.items() if old.get(column) != value}))
    remembered[provider.id] = after


def _write_changes(session: Session, table: sa.Table, provider_id: UUID, before: dict[tuple, dict],
                   after: dict[tuple, dict]) -> bool:
    """Delete, insert and update the provider's rows of `table` that differ;
    an update sets only the columns that changed.  True if any did."""
    keys = _CHILDREN[table]

    def row(key: tuple):
        return sa.and_(table.c.provider_id == provider_id, *(table.c[k] == v for k, v in zip(keys, key, strict=True)))

    gone = [key for key in before if key not in after]
    for key in gone:
        session.execute(table.delete().where(row(key)))
    added = [dict(provider_id=provider_id, **dict(zip(keys, key, strict=True)), **values)
             for key, values in after.items() if key not in before]
    if added:
        session.execute(table.insert(), added)
    updated = 0
    for key, values in after.items():
        old = before.get(key)
        if old is not None and old != values:
            session.execute(table.update().where(row(key)).values(
                {column: value for column, value in values.items() if old.get(column) != value}))
            updated += 1
    return bool(gone or added or updated)


def list_providers(session: Session, *, ids: Iterable[UUID] | None = None, lot: int | None = None,
                   status: str | None = None, name: str | None = None, limit: int = 100,
                   offset: int = 0) -> list[Provider]:
    p, m = models.providers, models.memberships
    query = sa.select(p, _dps_revision_column()).order_by(p.c.name, p.c.id)
    if ids is not None:
        query = query.where(p.c.id.in_(list(ids)))
    if lot is not None or status is not None:
        members = sa.select(m.c.provider_id)
        if lot is not None:
            members = members.where(m.c.lot == lot)
        if status is not None:
            members = members.where(m.c.status == status)
        query = query.where(p.c.id.in_(members))
    if name:
        query = query.where(p.c.name.ilike(f"%{name}%"))
    return _load_providers(session, session.execute(query.limit(limit).offset(offset)).all())


def providers_to_check(session: Session) -> list[UUID]:
    """Providers the daily job looks at: any with a current membership, or an
    approved pricing schedule not yet announced."""
    m, s = models.memberships, models.pricing_schedules
    members = sa.select(m.c.provider_id).where(
        m.c.status.in_([MembershipStatus.ADMITTED.value, MembershipStatus.SUSPENDED.value]))
    waiting = sa.select(s.c.provider_id).where(s.c.status == ScheduleStatus.APPROVED.value, s.c.announced.is_(False))
    return sorted(session.execute(sa.union(members, waiting)).scalars())


def list_schedules(session: Session, *, status: str | None = None, lot: int | None = None,
                   provider_id: UUID | None = None, limit: int = 100,
                   offset: int = 0) -> list[tuple[UUID, str, PricingSchedule]]:
    """(provider id, provider name, schedule) across providers, for the manager's approvals."""
    s, p = models.pricing_schedules, models.providers
    query = sa.select(s, p.c.name.label("provider_name")).join(p, p.c.id == s.c.provider_id) \
        .order_by(s.c.proposed_at, s.c.provider_id, s.c.lot, s.c.version)
    if status is not None:
        query = query.where(s.c.status == status)
    if lot is not None:
        query = query.where(s.c.lot == lot)
    if provider_id is not None:
        query = query.where(s.c.provider_id == provider_id)
    rows = session.execute(query.limit(limit).offset(offset))
    return [(r.provider_id, r.provider_name, _schedule_from_values(r._mapping)) for r in rows]


def _schedule_from_values(r) -> PricingSchedule:
    return PricingSchedule(r["lot"], r["version"], tuple(line_from_json(x) for x in r["lines"]), r["effective_from"],
                           ScheduleStatus(r["status"]), r["proposed_at"], r["decided_at"], r["reason"],
                           r["announced"])

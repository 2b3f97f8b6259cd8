"""Rows <-> the registry's domain objects: the DPS, applications and providers.

A provider is loaded whole (its memberships, schedules, documents and SLA
acceptances) and saved whole: its child rows are replaced in the same
transaction.  Loading for a change locks the provider's row (FOR UPDATE on
PostgreSQL) so two requests on one provider run one after the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

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
from shared.errors import NotFound

DPS_ID = 1

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


def get_dps(session: Session, *, for_update: bool = False) -> DPS:
    query = sa.select(models.dps).where(models.dps.c.id == DPS_ID)
    row = session.execute(query.with_for_update() if for_update else query).one_or_none()
    if row is None:
        raise NotFound("the DPS has not been set up: run the migrations")
    lots = {r.number: Lot(r.number, r.name, tuple(question_from_json(q) for q in r.questions))
            for r in session.execute(sa.select(models.lots).order_by(models.lots.c.number))}
    return DPS(name=row.name, start=row.start, term_years=row.term_years, status=DPSStatus(row.status), lots=lots,
               sla_version=row.sla_version, decision_working_days=row.decision_working_days,
               extended_decision_working_days=row.extended_decision_working_days, closed_at=row.closed_at)


def save_dps(session: Session, dps: DPS) -> None:
    session.execute(models.dps.update().where(models.dps.c.id == DPS_ID).values(
        name=dps.name, start=dps.start, term_years=dps.term_years, status=dps.status.value,
        sla_version=dps.sla_version, decision_working_days=dps.decision_working_days,
        extended_decision_working_days=dps.extended_decision_working_days, closed_at=dps.closed_at))
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


def provider_exists(session: Session, provider_id: UUID) -> bool:
    return session.execute(sa.select(models.providers.c.id).where(models.providers.c.id == provider_id)).first() \
        is not None


def find_provider(session: Session, provider_id: UUID, *, for_update: bool = False) -> Provider | None:
    query = sa.select(models.providers).where(models.providers.c.id == provider_id)
    row = session.execute(query.with_for_update() if for_update else query).one_or_none()
    return None if row is None else _load_provider(session, row)


def get_provider(session: Session, provider_id: UUID, *, for_update: bool = False) -> Provider:
    provider = find_provider(session, provider_id, for_update=for_update)
    if provider is None:
        raise NotFound(f"no provider {provider_id} on the DPS")
    return provider


def _children(session: Session, table: sa.Table, provider_id: UUID, *order: sa.Column):
    return session.execute(sa.select(table).where(table.c.provider_id == provider_id).order_by(*order)).all()


def _load_provider(session: Session, row) -> Provider:
    organisation = Organisation(row.name, row.address, row.postcode, row.companies_house_number, row.charity_number)
    registration = Registration(RegistrationStatus(row.registration_status), row.urn,
                                OfstedGrade(row.ofsted_grade) if row.ofsted_grade else None)
    documents = [ComplianceDocument(DocumentKind(d.kind), d.reference, d.expires_on)
                 for d in _children(session, models.compliance_documents, row.id, models.compliance_documents.c.kind)]
    provider = Provider(row.id, organisation, registration, SafeguardingLead(**row.safeguarding_lead), documents)
    for m in _children(session, models.memberships, row.id, models.memberships.c.lot):
        provider.memberships[m.lot] = Membership(m.lot, m.admitted_on, m.ends_on, MembershipStatus(m.status),
                                                 m.since, m.reason, m.automatic)
        provider.capacity[m.lot] = m.capacity
    t = models.pricing_schedules
    for s in _children(session, t, row.id, t.c.lot, t.c.version):
        provider.schedules.setdefault(s.lot, []).append(_schedule_from_row(s))
    provider.sla_acceptances = [
        SlaAcceptance(a.version, a.accepted_on)
        for a in _children(session, models.sla_acceptances, row.id, models.sla_acceptances.c.position)]
    return provider


def save_provider(session: Session, provider: Provider, now: datetime) -> None:
    """Insert or update the provider, replacing its child rows."""
    org, reg = provider.organisation, provider.registration
    values = dict(
        name=org.name, address=org.address, postcode=org.postcode, companies_house_number=org.companies_house_number,
        charity_number=org.charity_number, registration_status=RegistrationStatus(reg.status).value, urn=reg.urn,
        ofsted_grade=OfstedGrade(reg.ofsted_grade).value if reg.ofsted_grade else None,
        safeguarding_lead=_lead_to_json(provider.safeguarding_lead), updated_at=now)
    if provider_exists(session, provider.id):
        session.execute(models.providers.update().where(models.providers.c.id == provider.id).values(**values))
    else:
        session.execute(models.providers.insert().values(id=provider.id, created_at=now, **values))
    for table in (models.memberships, models.pricing_schedules, models.compliance_documents, models.sla_acceptances):
        session.execute(table.delete().where(table.c.provider_id == provider.id))
    _insert(session, models.memberships, [
        dict(provider_id=provider.id, lot=m.lot, status=m.status.value, admitted_on=m.admitted_on, ends_on=m.ends_on,
             since=m.since, reason=m.reason, automatic=m.automatic, capacity=provider.capacity.get(m.lot, 0))
        for m in provider.memberships.values()])
    _insert(session, models.pricing_schedules, [
        dict(provider_id=provider.id, lot=s.lot, version=s.version, lines=[line_to_json(x) for x in s.lines],
             effective_from=s.effective_from, status=s.status.value, proposed_at=s.proposed_at,
             decided_at=s.decided_at, reason=s.reason, announced=s.announced)
        for versions in provider.schedules.values() for s in versions])
    _insert(session, models.compliance_documents, [
        dict(provider_id=provider.id, kind=DocumentKind(d.kind).value, reference=d.reference, expires_on=d.expires_on)
        for d in provider.documents.values()])
    _insert(session, models.sla_acceptances, [
        dict(provider_id=provider.id, version=a.version, accepted_on=a.accepted_on, position=i)
        for i, a in enumerate(provider.sla_acceptances)])


def _insert(session: Session, table: sa.Table, rows: list[dict]) -> None:
    if rows:
        session.execute(table.insert(), rows)


def list_providers(session: Session, *, ids: Iterable[UUID] | None = None, lot: int | None = None,
                   status: str | None = None, name: str | None = None, limit: int = 100,
                   offset: int = 0) -> list[Provider]:
    p, m = models.providers, models.memberships
    query = sa.select(p).order_by(p.c.name, p.c.id)
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
    return [_load_provider(session, row) for row in session.execute(query.limit(limit).offset(offset))]


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
    return [(r.provider_id, r.provider_name, _schedule_from_row(r)) for r in rows]


def _schedule_from_row(r) -> PricingSchedule:
    return PricingSchedule(r.lot, r.version, tuple(line_from_json(x) for x in r.lines), r.effective_from,
                           ScheduleStatus(r.status), r.proposed_at, r.decided_at, r.reason, r.announced)

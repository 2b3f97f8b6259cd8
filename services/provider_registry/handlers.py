"""The registry's use cases: one function each, taking a unit of work and
plain arguments.  Each loads what it needs, asks the domain, saves, writes the
events to the outbox and an audit row, then commits; a refusal raises before
the commit, so nothing stored changes.

Who may do what beyond the role on the endpoint: a provider user acts only on
its own organisation (`_check_own`), and changes its record only while it is
a member of some lot (`_check_member`: removal from every lot ends that);
officers and the manager see all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime
from uuid import UUID

import sqlalchemy as sa

from services.provider_registry import models
from services.provider_registry import repository as repo
from services.provider_registry.domain import (
    COMPLIANCE_RESTORED,
    DPS,
    Application,
    ApplicationForm,
    ComplianceDocument,
    MembershipStatus,
    Organisation,
    PricingLine,
    PricingSchedule,
    Provider,
    Question,
    Reason,
    Registration,
    SafeguardingLead,
    london_date,
)
from services.provider_registry.domain import submit_application as submit
from services.provider_registry.events import message_for
from shared import audit
from shared.auth import Principal
from shared.errors import Conflict, Forbidden
from shared.unit_of_work import UnitOfWork

COUNCIL_ROLES = ("officer", "manager")
COMPLIANCE_JOB = Principal("system:compliance_and_pricing")

# ------------------------------------------------------------------ helpers


def _check_own(actor: Principal, provider_id: UUID) -> None:
    """Officers and the manager see every provider; a provider user only its own."""
    if actor.has(*COUNCIL_ROLES):
        return
    if actor.provider_id != provider_id:
        raise Forbidden("a provider may only see and change its own organisation's record")


def _check_is(actor: Principal, provider_id: UUID) -> None:
    """Only the provider itself (accepting the SLA, proposing prices)."""
    if actor.provider_id != provider_id:
        raise Forbidden("only the provider itself may do this")


def _check_member(actor: Principal, provider: Provider, now: datetime) -> None:
    """A provider user changes its record only while a member of some lot; the council's staff always may."""
    if not actor.has(*COUNCIL_ROLES):
        provider.require_member(london_date(now))


def _jsonable(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _audit(uow: UnitOfWork, actor: Principal, action: str, subject_type: str, subject_id, *,
           reason: str | None = None, details: dict | None = None) -> None:
    audit.record(uow.session, models.audit_log, actor=actor.sub, roles=actor.roles, action=action,
                 subject_type=subject_type, subject_id=subject_id, reason=reason,
                 details=_jsonable(details) if details else None, at=uow.now())


def _save_and_publish(uow: UnitOfWork, provider: Provider) -> list[tuple[str, dict]]:
    repo.save_provider(uow.session, provider, uow.now())
    published = [message_for(event) for event in provider.events]
    for type_, data in published:
        uow.publish(type_, data)
    provider.events.clear()
    return published


def _lines(lines: Iterable[PricingLine]) -> list[dict]:
    return [repo.line_to_json(line) for line in lines]


# ------------------------------------------------------------ the DPS, lots


def dps_record(uow: UnitOfWork) -> DPS:
    """The DPS and its lots: the process's copy while the stored revision is its own."""
    return repo.get_dps(uow.session)


def configure_dps(uow: UnitOfWork, actor: Principal, **changes) -> DPS:
    """Name, start, term_years, decision_working_days, extended_decision_working_days."""
    dps = repo.get_dps(uow.session, for_update=True)
    before = _settings(dps)
    dps.reconfigure(has_members=repo.any_members(uow.session), **changes)
    repo.save_dps(uow.session, dps)
    _audit(uow, actor, "dps.configured", "dps", repo.DPS_ID, details={"before": before, "after": _settings(dps)})
    uow.commit()
    return dps


def _settings(dps: DPS) -> dict:
    return {"name": dps.name, "start": dps.start, "term_years": dps.term_years,
            "decision_working_days": dps.decision_working_days,
            "extended_decision_working_days": dps.extended_decision_working_days}


def close_dps(uow: UnitOfWork, actor: Principal, reason: str) -> DPS:
    dps = repo.get_dps(uow.session, for_update=True)
    dps.close(uow.now())
    repo.save_dps(uow.session, dps)
    _audit(uow, actor, "dps.closed", "dps", repo.DPS_ID, reason=reason)
    uow.commit()
    return dps


def issue_sla(uow: UnitOfWork, actor: Principal, version: str, reason: str | None = None) -> DPS:
    dps = repo.get_dps(uow.session, for_update=True)
    previous = dps.sla_version
    dps.issue_sla(version.strip())
    repo.save_dps(uow.session, dps)
    _audit(uow, actor, "sla.issued", "dps", repo.DPS_ID, reason=reason,
           details={"previous_version": previous, "version": dps.sla_version})
    uow.commit()
    return dps


def set_questions(uow: UnitOfWork, actor: Principal, lot: int, questions: list[Question]) -> DPS:
    dps = repo.get_dps(uow.session, for_update=True)
    before = [repo.question_to_json(q) for q in dps.questions_for(lot)]
    dps.set_questions(lot, questions)
    repo.save_dps(uow.session, dps)
    _audit(uow, actor, "lot.questions_set", "lot", lot, details={
        "before": before, "after": [repo.question_to_json(q) for q in dps.questions_for(lot)]})
    uow.commit()
    return dps


# ------------------------------------------------------------- applications


def submit_application(uow: UnitOfWork, actor: Principal, form: ApplicationForm) -> Application:
    """A provider's request to participate; its id comes from its token."""
    if actor.provider_id is None:
        raise Forbidden("only a provider user may apply")
    now, session = uow.now(), uow.session
    provider = repo.find_provider(session, actor.provider_id, for_update=True)
    application = submit(
        repo.get_dps(session), form, application_id=uuid.uuid4(), provider_id=actor.provider_id, now=now,
        pending_application_exists=repo.has_pending_application(session, actor.provider_id),
        member_lots=provider.member_lots(london_date(now)) if provider else ())
    try:
        with session.begin_nested():
            repo.add_application(session, application)
    except sa.exc.IntegrityError:  # another request of the same provider won the race
        raise Conflict("this provider already has an application awaiting a decision") from None
    _audit(uow, actor, "application.submitted", "application", application.id, details={
        "provider_id": application.provider_id, "lots": application.lots_applied_for,
        "due_on": application.deadline.due_on})
    uow.commit()
    return application


def application_for(uow: UnitOfWork, actor: Principal, application_id: UUID) -> Application:
    application = repo.get_application(uow.session, application_id)
    _check_own(actor, application.provider_id)
    return application


def applications(uow: UnitOfWork, actor: Principal, *, status: str | None = None, overdue: bool = False,
                 provider_id: UUID | None = None, limit: int = 100, offset: int = 0) -> list[Application]:
    """The manager's list (pending, overdue...); a provider sees only its own."""
    if not actor.has(*COUNCIL_ROLES):
        if provider_id is not None:
            _check_own(actor, provider_id)
        provider_id = actor.provider_id
    today = london_date(uow.now())
    return repo.list_applications(uow.session, provider_id=provider_id, status=status,
                                  overdue_on=today if overdue else None, limit=limit, offset=offset)


def mark_answer(uow: UnitOfWork, actor: Principal, application_id: UUID, lot: int, question_id: str,
                score: int) -> Application:
    application = repo.get_application(uow.session, application_id, for_update=True)
    previous = application.marks.get((lot, question_id))
    application.mark(lot, question_id, score)
    repo.save_application(uow.session, application)
    _audit(uow, actor, "application.marked", "application", application.id, details={
        "lot": lot, "question_id": question_id, "score": score, "previous_mark": previous})
    uow.commit()
    return application


def extend_deadline(uow: UnitOfWork, actor: Principal, application_id: UUID, reason: str) -> Application:
    application = repo.get_application(uow.session, application_id, for_update=True)
    was_due = application.deadline.due_on
    application.extend_deadline(reason, uow.now())
    repo.save_application(uow.session, application)
    _audit(uow, actor, "application.deadline_extended", "application", application.id,
           reason=application.deadline.extension_reason,
           details={"was_due_on": was_due, "due_on": application.deadline.due_on})
    uow.commit()
    return application


def decide(uow: UnitOfWork, actor: Principal, application_id: UUID, *, admit: bool, lots: Iterable[int] = (),
           reasons: Iterable[Reason] = ()) -> Application:
    """Admit to some or all of the lots applied for, or reject with reasons.
    Admission makes the provider a member of each lot and tells the others."""
    session, now = uow.session, uow.now()
    application = repo.get_application(session, application_id, for_update=True)
    if admit:
        application.admit(lots, now, reasons)
    else:
        application.reject(reasons, now)
    repo.save_application(session, application)
    decision = application.decision
    published = []
    if admit:
        provider = repo.find_provider(session, application.provider_id, for_update=True) \
            or Provider.from_application(application)
        provider.admit(application, repo.get_dps(session), now)
        published = _save_and_publish(uow, provider)
    _audit(uow, actor, "application.admitted" if admit else "application.rejected", "application", application.id,
           reason="; ".join(f"lot {r.lot}{f' {r.question_id}' if r.question_id else ''}: {r.text}"
                            for r in decision.reasons) or None,
           details={"provider_id": application.provider_id, "admitted_lots": decision.admitted_lots,
                    "reasons": [asdict(r) for r in decision.reasons], "on_time": decision.on_time,
                    "events": [t for t, _ in published]})
    uow.commit()
    return application


# ------------------------------------------------------------------ providers


def provider_for(uow: UnitOfWork, actor: Principal, provider_id: UUID) -> Provider:
    _check_own(actor, provider_id)
    return repo.get_provider(uow.session, provider_id)


def providers(uow: UnitOfWork, actor: Principal, *, lot: int | None = None, status: str | None = None,
              name: str | None = None, limit: int = 100, offset: int = 0) -> list[Provider]:
    ids = None if actor.has(*COUNCIL_ROLES) else [actor.provider_id]
    return repo.list_providers(uow.session, ids=ids, lot=lot, status=status, name=name, limit=limit,
                               offset=offset)


def directory(uow: UnitOfWork, lot: int | None = None) -> tuple[date, list[Provider]]:
    """Providers admitted and not suspended today, on `lot` or any lot."""
    today = london_date(uow.now())
    found = repo.list_providers(uow.session, lot=lot, status=MembershipStatus.ADMITTED.value, limit=10_000)
    return today, [p for p in found if p.active_lots(today)]


def change_details(uow: UnitOfWork, actor: Principal, provider_id: UUID, *,
                   organisation: Organisation | None = None, registration: Registration | None = None,
                   safeguarding_lead: SafeguardingLead | None = None) -> Provider:
    _check_own(actor, provider_id)
    provider = repo.get_provider(uow.session, provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    if organisation is not None or registration is not None:
        provider.change_details(uow.now(), organisation=organisation, registration=registration)
    if safeguarding_lead is not None:
        provider.change_safeguarding_lead(safeguarding_lead)
    changed = [name for name, value in (("organisation", organisation), ("registration", registration),
                                         ("safeguarding_lead", safeguarding_lead)) if value is not None]
    published = _save_and_publish(uow, provider)
    _audit(uow, actor, "provider.details_changed", "provider", provider_id,
           details={"changed": changed, "events": [t for t, _ in published]})
    uow.commit()
    return provider


def upload_document(uow: UnitOfWork, actor: Principal, provider_id: UUID, document: ComplianceDocument) -> Provider:
    """A new document replaces the one of its kind; the compliance check runs
    at once, so valid evidence lifts the automatic suspensions straight away."""
    _check_own(actor, provider_id)
    provider = repo.get_provider(uow.session, provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    provider.upload_document(document, uow.now())
    actions = provider.check_compliance(uow.now())
    published = _save_and_publish(uow, provider)
    _audit(uow, actor, "provider.document_uploaded", "provider", provider_id, details={
        "kind": document.kind, "reference": document.reference, "expires_on": document.expires_on,
        "reinstated_lots": actions.reinstate, "suspended_lots": [lot for lot, _ in actions.suspend],
        "events": [t for t, _ in published]})
    uow.commit()
    return provider


def accept_sla(uow: UnitOfWork, actor: Principal, provider_id: UUID, version: str) -> Provider:
    _check_is(actor, provider_id)
    provider = repo.get_provider(uow.session, provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    acceptance = provider.accept_sla(repo.get_dps(uow.session), version, uow.now())
    repo.save_provider(uow.session, provider, uow.now())
    _audit(uow, actor, "provider.sla_accepted", "provider", provider_id,
           details={"version": acceptance.version, "accepted_on": acceptance.accepted_on})
    uow.commit()
    return provider


# ------------------------------------------------------------ memberships


def _membership_action(uow: UnitOfWork, actor: Principal, provider_id: UUID, lot: int, reason: str,
                       action: str) -> Provider:
    provider = repo.get_provider(uow.session, provider_id, for_update=True)
    getattr(provider, action)(lot, reason, uow.now())
    membership = provider.membership(lot)
    published = _save_and_publish(uow, provider)
    _audit(uow, actor, f"membership.{action}", "membership", f"{provider_id}:{lot}", reason=reason.strip(),
           details={"provider_id": provider_id, "lot": lot, "status": membership.status.value,
                    "events": [t for t, _ in published]})
    uow.commit()
    return provider


def suspend(uow: UnitOfWork, actor: Principal, provider_id: UUID, lot: int, reason: str) -> Provider:
    return _membership_action(uow, actor, provider_id, lot, reason, "suspend")


def reinstate(uow: UnitOfWork, actor: Principal, provider_id: UUID, lot: int, reason: str) -> Provider:
    return _membership_action(uow, actor, provider_id, lot, reason, "reinstate")


def remove(uow: UnitOfWork, actor: Principal, provider_id: UUID, lot: int, reason: str) -> Provider:
    return _membership_action(uow, actor, provider_id, lot, reason, "remove")


def change_capacity(uow: UnitOfWork, actor: Principal, provider_id: UUID, lot: int, capacity: int) -> Provider:
    """Takes effect at once."""
    _check_own(actor, provider_id)
    provider = repo.get_provider(uow.session, provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    before = provider.capacity.get(lot)
    provider.change_capacity(lot, capacity, uow.now())
    published = _save_and_publish(uow, provider)
    _audit(uow, actor, "membership.capacity_changed", "membership", f"{provider_id}:{lot}", details={
        "provider_id": provider_id, "lot": lot, "before": before, "capacity": capacity,
        "events": [t for t, _ in published]})
    uow.commit()
    return provider


# ------------------------------------------------------- pricing schedules


def provider_with_lot(uow: UnitOfWork, actor: Principal, provider_id: UUID, lot: int) -> Provider:
    """The provider, which must hold (or have held) a membership of the lot."""
    provider = provider_for(uow, actor, provider_id)
    provider.membership(lot)
    return provider


def schedules_awaiting(uow: UnitOfWork, *, status: str | None = None, lot: int | None = None, limit: int = 100,
                       offset: int = 0) -> list[tuple[UUID, str, PricingSchedule]]:
    return repo.list_schedules(uow.session, status=status, lot=lot, limit=limit, offset=offset)


def propose_pricing(uow: UnitOfWork, actor: Principal, provider_id: UUID, lot: int, lines: list[PricingLine],
                    effective_from: date) -> tuple[Provider, PricingSchedule]:
    _check_is(actor, provider_id)
    provider = repo.get_provider(uow.session, provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    schedule = provider.propose_pricing(lot, lines, effective_from, uow.now())
    repo.save_provider(uow.session, provider, uow.now())
    _audit(uow, actor, "pricing_schedule.proposed", "pricing_schedule", f"{provider_id}:{lot}:{schedule.version}",
           details={"provider_id": provider_id, "lot": lot, "version": schedule.version,
                    "effective_from": schedule.effective_from, "lines": _lines(schedule.lines)})
    uow.commit()
    return provider, schedule


def approve_pricing(uow: UnitOfWork, actor: Principal, provider_id: UUID, lot: int,
                    version: int) -> tuple[Provider, PricingSchedule]:
    provider = repo.get_provider(uow.session, provider_id, for_update=True)
    schedule = provider.approve_pricing(lot, version, uow.now())
    published = _save_and_publish(uow, provider)
    _audit(uow, actor, "pricing_schedule.approved", "pricing_schedule", f"{provider_id}:{lot}:{version}",
           details={"provider_id": provider_id, "lot": lot, "version": version,
                    "effective_from": schedule.effective_from, "events": [t for t, _ in published]})
    uow.commit()
    return provider, schedule


def reject_pricing(uow: UnitOfWork, actor: Principal, provider_id: UUID, lot: int, version: int,
                   reason: str) -> tuple[Provider, PricingSchedule]:
    provider = repo.get_provider(uow.session, provider_id, for_update=True)
    schedule = provider.reject_pricing(lot, version, reason, uow.now())
    repo.save_provider(uow.session, provider, uow.now())
    _audit(uow, actor, "pricing_schedule.rejected", "pricing_schedule", f"{provider_id}:{lot}:{version}",
           reason=schedule.reason, details={"provider_id": provider_id, "lot": lot, "version": version})
    uow.commit()
    return provider, schedule


def withdraw_pricing(uow: UnitOfWork, actor: Principal, provider_id: UUID, lot: int,
                     version: int) -> tuple[Provider, PricingSchedule]:
    _check_is(actor, provider_id)
    provider = repo.get_provider(uow.session, provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    schedule = provider.withdraw_pricing(lot, version, uow.now())
    repo.save_provider(uow.session, provider, uow.now())
    _audit(uow, actor, "pricing_schedule.withdrawn", "pricing_schedule", f"{provider_id}:{lot}:{version}",
           details={"provider_id": provider_id, "lot": lot, "version": version})
    uow.commit()
    return provider, schedule


# ------------------------------------------------------- the daily job


def run_daily_checks(uow: UnitOfWork, now: datetime) -> None:
    """Suspend memberships whose provider has an expired compliance document,
    lift the check's own suspensions once all are valid again, and announce
    approved pricing schedules whose date has come.  The runner commits."""
    for provider_id in repo.providers_to_check(uow.session):
        provider = repo.get_provider(uow.session, provider_id, for_update=True)
        actions = provider.check_compliance(now)
        due = provider.bring_pricing_into_effect(now)
        if not provider.events:
            continue
        published = _save_and_publish(uow, provider)
        for lot, reason in actions.suspend:
            _audit(uow, COMPLIANCE_JOB, "membership.suspend", "membership", f"{provider_id}:{lot}", reason=reason,
                   details={"provider_id": provider_id, "lot": lot, "automatic": True})
        for lot in actions.reinstate:
            _audit(uow, COMPLIANCE_JOB, "membership.reinstate", "membership", f"{provider_id}:{lot}",
                   reason=COMPLIANCE_RESTORED,
                   details={"provider_id": provider_id, "lot": lot, "automatic": True})
        for schedule in due:
            _audit(uow, COMPLIANCE_JOB, "pricing_schedule.effective", "pricing_schedule",
                   f"{provider_id}:{schedule.lot}:{schedule.version}",
                   details={"provider_id": provider_id, "lot": schedule.lot, "version": schedule.version,
                            "effective_from": schedule.effective_from, "events": [t for t, _ in published]})


# ------------------------------------------------------------------ audit

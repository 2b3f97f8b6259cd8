"""The registry's use cases: one function each, taking the unit of work, who
is acting and plain arguments.  Each loads what it needs through the unit of
work's repositories, lets the domain decide, and commits: the aggregates'
events become the outbox messages and the audit trail on commit
(messages.translate).  A refusal raises before the commit, so nothing stored
changes.

Who may do what beyond the role on the endpoint: a provider user acts only on
its own organisation (`_check_own`), and changes its record only while it is
a member of some lot (`_check_member`: removal from every lot ends that);
officers and the manager see all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

import sqlalchemy as sa

from services.provider_registry import domain
from services.provider_registry.domain import (
    DPS,
    AdmissionRound,
    Application,
    ApplicationForm,
    AwardCriterion,
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
)
from services.provider_registry.domain import submit_application as submit
from services.provider_registry.messages import COMPLIANCE_CHECK
from services.provider_registry.unit_of_work import RegistryUnitOfWork
from shared.actor import Actor
from shared.calendar import council_date
from shared.catalogue import FIRST_DPS_ID
from shared.config import load_settings
from shared.errors import Forbidden
from shared.reminders import publish_once
from shared.schemas import cached

COUNCIL_ROLES = ("officer", "manager")

# ------------------------------------------------------------------ who may


def _check_own(actor: Actor, provider_id: UUID) -> None:
    """Officers and the manager see every provider; a provider user only its own."""
    if actor.has(*COUNCIL_ROLES):
        return
    if actor.provider_id != provider_id:
        raise Forbidden("a provider may only see and change its own organisation's record")


def _check_is(actor: Actor, provider_id: UUID) -> None:
    """Only the provider itself (accepting the SLA, proposing prices)."""
    if actor.provider_id != provider_id:
        raise Forbidden("only the provider itself may do this")


def _check_member(actor: Actor, provider: Provider, now: datetime) -> None:
    """A provider user changes its record only while a member of some lot; the council's staff always may."""
    if not actor.has(*COUNCIL_ROLES):
        provider.require_member(council_date(now))


# ------------------------------------------------------------ the DPS, lots


def dps_record(uow: RegistryUnitOfWork, dps_id: UUID = FIRST_DPS_ID) -> DPS:
    return uow.dps.get(dps_id)


def dps_records(uow: RegistryUnitOfWork) -> list[DPS]:
    """The first DPS and any successor arrangement beside it."""
    return uow.dps.list()


def current_sla(uow: RegistryUnitOfWork, dps_id: UUID = FIRST_DPS_ID) -> str:
    """The version of the service level agreement providers accept now."""
    return uow.dps.sla_version(dps_id)


def set_up_dps(uow: RegistryUnitOfWork, actor: Actor, *, name: str, regime: str, lots: list[int], start: date,
               term_years: int, statutory_end: date, award_criteria: list[AwardCriterion] | None = None) -> DPS:
    """The manager sets up a DPS record beside the first (a successor arrangement);
    `statutory_end` is the configured one, applying only to a 2015-rules DPS."""
    dps = DPS.set_up(id=uuid.uuid4(), name=name, regime=regime, lots=lots, start=start, term_years=term_years,
                     statutory_end=statutory_end, award_criteria=award_criteria)
    uow.dps.add(dps)
    uow.commit()
    return dps


def _change_dps(uow: RegistryUnitOfWork, dps_id: UUID, change: str, *args, **kwargs) -> DPS:
    """One change of a DPS record, as the record says it may be made."""
    dps = uow.dps.get(dps_id, for_update=True)
    getattr(dps, change)(*args, **kwargs)
    uow.commit()
    return dps


def configure_dps(uow: RegistryUnitOfWork, actor: Actor, dps_id: UUID = FIRST_DPS_ID, **changes) -> DPS:
    """Name, start, term_years, decision_working_days, extended_decision_working_days."""
    return _change_dps(uow, dps_id, "reconfigure", has_members=uow.dps.any_members(dps_id), **changes)


def close_dps(uow: RegistryUnitOfWork, actor: Actor, reason: str, dps_id: UUID = FIRST_DPS_ID) -> DPS:
    return _change_dps(uow, dps_id, "close", uow.now(), reason)


def issue_sla(uow: RegistryUnitOfWork, actor: Actor, version: str, reason: str | None = None,
              dps_id: UUID = FIRST_DPS_ID, **agreed_window) -> DPS:
    """A new SLA version; with `agreed_minimum_window_days` it carries (or clears) an agreed minimum window."""
    return _change_dps(uow, dps_id, "issue_sla", version.strip(), reason, **agreed_window)


def set_questions(uow: RegistryUnitOfWork, actor: Actor, lot: int, questions: list[Question],
                  dps_id: UUID = FIRST_DPS_ID) -> DPS:
    return _change_dps(uow, dps_id, "set_questions", lot, questions)


def set_award_criteria(uow: RegistryUnitOfWork, actor: Actor, criteria: list[AwardCriterion],
                       dps_id: UUID = FIRST_DPS_ID) -> DPS:
    return _change_dps(uow, dps_id, "set_award_criteria", criteria)


def open_round(uow: RegistryUnitOfWork, actor: Actor, opens_on: date, closes_on: date,
               dps_id: UUID = FIRST_DPS_ID) -> tuple[DPS, AdmissionRound]:
    """An open framework reopened to new members from `opens_on` to `closes_on`."""
    dps = uow.dps.get(dps_id, for_update=True)
    round_ = dps.open_round(opens_on, closes_on, council_date(uow.now()))
    uow.commit()
    return dps, round_


# ------------------------------------------------------------- applications


def submit_application(uow: RegistryUnitOfWork, actor: Actor, form: ApplicationForm) -> Application:
    """A provider's request to participate; its id comes from its token."""
    if actor.provider_id is None:
        raise Forbidden("only a provider user may apply")
    now = uow.now()
    provider = uow.providers.find(actor.provider_id, for_update=True)
    dps = uow.dps.get(form.dps_id)
    application = submit(
        dps, form, application_id=uuid.uuid4(), provider_id=actor.provider_id, now=now,
        pending_application_exists=uow.applications.has_pending(actor.provider_id),
        member_lots=provider.member_lots(council_date(now), dps.id) if provider else ())
    uow.applications.add(application)
    uow.commit()
    return application


def application_for(uow: RegistryUnitOfWork, actor: Actor, application_id: UUID) -> Application:
    application = uow.applications.get(application_id)
    _check_own(actor, application.provider_id)
    return application


def applications(uow: RegistryUnitOfWork, actor: Actor, *, status: str | None = None, overdue: bool = False,
                 provider_id: UUID | None = None, limit: int = 100, offset: int = 0) -> list[Application]:
    """The manager's list (pending, overdue...); a provider sees only its own."""
    if not actor.has(*COUNCIL_ROLES):
        if provider_id is not None:
            _check_own(actor, provider_id)
        provider_id = actor.provider_id
    today = council_date(uow.now())
    return uow.applications.list(provider_id=provider_id, status=status, overdue_on=today if overdue else None,
                                 limit=limit, offset=offset)


def mark_answer(uow: RegistryUnitOfWork, actor: Actor, application_id: UUID, lot: int, question_id: str,
                score: int) -> Application:
    application = uow.applications.get(application_id, for_update=True)
    application.mark(lot, question_id, score)
    uow.commit()
    return application


def extend_deadline(uow: RegistryUnitOfWork, actor: Actor, application_id: UUID, reason: str) -> Application:
    application = uow.applications.get(application_id, for_update=True)
    application.extend_deadline(reason, uow.now())
    uow.commit()
    return application


def decide(uow: RegistryUnitOfWork, actor: Actor, application_id: UUID, *, admit: bool, lots: Iterable[int] = (),
           reasons: Iterable[Reason] = ()) -> Application:
    """Admit to some or all of the lots applied for, or reject with reasons.
    Admission makes the provider a member of each lot and tells the others."""
    now = uow.now()
    application = uow.applications.get(application_id, for_update=True)
    if admit:
        application.admit(lots, now, reasons)
        provider = uow.providers.find(application.provider_id, for_update=True)
        if provider is None:
            provider = Provider.from_application(application)
            uow.providers.add(provider)
        provider.admit(application, uow.dps.get(application.dps_id), now)
    else:
        application.reject(reasons, now)
    uow.commit()
    return application


# ------------------------------------------------------------------ providers


def provider_for(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID) -> Provider:
    _check_own(actor, provider_id)
    return uow.providers.get(provider_id)


def providers(uow: RegistryUnitOfWork, actor: Actor, *, lot: int | None = None, status: str | None = None,
              name: str | None = None, limit: int = 100, offset: int = 0) -> list[Provider]:
    ids = None if actor.has(*COUNCIL_ROLES) else [actor.provider_id]
    return uow.providers.list(ids=ids, lot=lot, status=status, name=name, limit=limit, offset=offset)


def directory(uow: RegistryUnitOfWork, lot: int | None = None,
              dps_id: UUID = FIRST_DPS_ID) -> tuple[date, list[Provider]]:
    """Providers admitted to a DPS and not suspended today, on `lot` or any lot."""
    today = council_date(uow.now())
    found = uow.providers.list(lot=lot, status=MembershipStatus.ADMITTED.value, limit=10_000)
    return today, [p for p in found if p.active_lots(today, dps_id)]


def change_details(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, *,
                   organisation: Organisation | None = None, registration: Registration | None = None,
                   safeguarding_lead: SafeguardingLead | None = None) -> Provider:
    _check_own(actor, provider_id)
    provider = uow.providers.get(provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    provider.update_details(uow.now(), organisation=organisation, registration=registration,
                            safeguarding_lead=safeguarding_lead)
    uow.commit()
    return provider


def declare_roll(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, **roll) -> Provider:
    """An unregistered setting declares its whole roll (its own users, or the manager), dated now."""
    _check_own(actor, provider_id)
    provider = uow.providers.get(provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    provider.declare_roll(uow.now(), **roll)
    uow.commit()
    return provider


def upload_document(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID,
                    document: ComplianceDocument) -> Provider:
    """A new document replaces the one of its kind; the compliance check runs
    at once, so valid evidence lifts the automatic suspensions straight away."""
    _check_own(actor, provider_id)
    provider = uow.providers.get(provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    provider.upload_document(document, uow.now())
    provider.check_compliance(uow.now())
    uow.commit()
    return provider


def accept_sla(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, version: str,
               dps_id: UUID = FIRST_DPS_ID) -> Provider:
    _check_is(actor, provider_id)
    provider = uow.providers.get(provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    provider.accept_sla(uow.dps.get(dps_id), version, uow.now())
    uow.commit()
    return provider


# ------------------------------------------------- renewed self-declarations


def request_declarations(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID | None = None) -> list[Provider]:
    """The manager asks one provider, or every member not already asked, for a
    renewed self-declaration due in 5 working days."""
    now = uow.now()
    if provider_id is not None:
        provider = uow.providers.get(provider_id, for_update=True)
        provider.request_declaration(now)
        asked = [provider]
    else:
        today = council_date(now)
        members = (uow.providers.get(found, for_update=True) for found in uow.providers.members())
        asked = [p for p in members if p.member_lots(today) and not p.is_asked_for_declaration(today)]
        for provider in asked:
            provider.request_declaration(now)
    uow.commit()
    return asked


def answer_declaration(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, *, exclusion_grounds_apply: bool,
                       selection_criteria_met: bool, changes: str | None = None) -> Provider:
    _check_is(actor, provider_id)
    provider = uow.providers.get(provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    provider.answer_declaration(exclusion_grounds_apply, selection_criteria_met, changes, uow.now())
    uow.commit()
    return provider


# ------------------------------------------------------------ memberships


def _change_membership(uow: RegistryUnitOfWork, provider_id: UUID, change: str, lot: int, reason: str,
                       dps_id: UUID) -> Provider:
    """Suspend, reinstate or remove one membership (the provider says whether it may)."""
    provider = uow.providers.get(provider_id, for_update=True)
    getattr(provider, change)(lot, reason, uow.now(), dps_id)
    uow.commit()
    return provider


def suspend(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, lot: int, reason: str,
            dps_id: UUID = FIRST_DPS_ID) -> Provider:
    return _change_membership(uow, provider_id, "suspend", lot, reason, dps_id)


def reinstate(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, lot: int, reason: str,
              dps_id: UUID = FIRST_DPS_ID) -> Provider:
    return _change_membership(uow, provider_id, "reinstate", lot, reason, dps_id)


def remove(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, lot: int, reason: str,
           dps_id: UUID = FIRST_DPS_ID) -> Provider:
    return _change_membership(uow, provider_id, "remove", lot, reason, dps_id)


def change_capacity(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, lot: int,
                    capacity: int, dps_id: UUID = FIRST_DPS_ID) -> Provider:
    """Takes effect at once."""
    _check_own(actor, provider_id)
    provider = uow.providers.get(provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    provider.change_capacity(lot, capacity, uow.now(), dps_id)
    uow.commit()
    return provider


def change_notification_addresses(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID,
                                  addresses: list[str]) -> Provider:
    """The provider (or the manager) says where the DPS writes to it; audited, and published."""
    _check_own(actor, provider_id)
    provider = uow.providers.get(provider_id, for_update=True)
    provider.change_notification_addresses(addresses, uow.now())
    uow.commit()
    return provider


# ------------------------------------------------------- pricing schedules


def provider_with_lot(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, lot: int) -> Provider:
    """The provider, which must hold (or have held) a membership of the lot."""
    provider = provider_for(uow, actor, provider_id)
    provider.membership(lot)
    return provider


def schedules_awaiting(uow: RegistryUnitOfWork, *, status: str | None = None, lot: int | None = None,
                       limit: int = 100, offset: int = 0) -> list[tuple[UUID, str, PricingSchedule]]:
    return uow.providers.schedules(status=status, lot=lot, limit=limit, offset=offset)


def propose_pricing(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, lot: int, lines: list[PricingLine],
                    effective_from: date) -> tuple[Provider, PricingSchedule]:
    _check_is(actor, provider_id)
    provider = uow.providers.get(provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    schedule = provider.propose_pricing(lot, lines, effective_from, uow.now())
    uow.commit()
    return provider, schedule


def approve_pricing(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, lot: int,
                    version: int) -> tuple[Provider, PricingSchedule]:
    provider = uow.providers.get(provider_id, for_update=True)
    schedule = provider.approve_pricing(lot, version, uow.now())
    uow.commit()
    return provider, schedule


def reject_pricing(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, lot: int, version: int,
                   reason: str) -> tuple[Provider, PricingSchedule]:
    provider = uow.providers.get(provider_id, for_update=True)
    schedule = provider.reject_pricing(lot, version, reason, uow.now())
    uow.commit()
    return provider, schedule


def withdraw_pricing(uow: RegistryUnitOfWork, actor: Actor, provider_id: UUID, lot: int,
                     version: int) -> tuple[Provider, PricingSchedule]:
    _check_is(actor, provider_id)
    provider = uow.providers.get(provider_id, for_update=True)
    _check_member(actor, provider, uow.now())
    schedule = provider.withdraw_pricing(lot, version, uow.now())
    uow.commit()
    return provider, schedule


# ------------------------------------------------------- the daily job


def run_daily_checks(uow: RegistryUnitOfWork, now: datetime) -> None:
    """Announce a provider's notification addresses if they never were (once),
    warn providers of compliance documents expiring in 30, 14 and 7 days or expired (once each),
    suspend memberships whose provider has an expired compliance document,
    lift the check's own suspensions once all are valid again, suspend those
    of a provider whose renewed self-declaration is past its last day without
    an answer, and announce approved pricing schedules whose date has come.
    The runner commits."""
    uow.actor = COMPLIANCE_CHECK
    for provider_id in uow.providers.to_check():
        provider = uow.providers.get(provider_id, for_update=True)
        provider.announce_contacts(now)  # once, for a provider admitted before notifications existed
        provider.warn_of_expiry(now)  # before the suspension it may bring: the provider hears why first
        provider.check_compliance(now)
        provider.lapse_declarations(now)
        provider.bring_pricing_into_effect(now)


def run_dps_checks(uow: RegistryUnitOfWork, now: datetime, statutory_end: date | None = None) -> None:
    """Daily, for every DPS record: apply the configured statutory end of a
    2015-rules DPS (DPS_PCR2015_STATUTORY_END, SI 2024/716 regulation 5(4)),
    and warn the manager 12, 6 and 3 months before it (each warning once per
    DPS: the record keeps the warnings given).  The runner commits."""
    if statutory_end is None:
        statutory_end = load_settings("provider_registry").pcr2015_statutory_end
    today = council_date(now)
    for record in uow.dps.list():
        dps = uow.dps.get(record.id, for_update=True)
        if dps.apply_statutory_end(statutory_end):
            for provider_id in uow.providers.to_check():  # memberships end with the DPS
                uow.providers.get(provider_id, for_update=True).end_with(dps)
        dps.warn_of_statutory_end(today)


# -- reminders: the daily job (issue #18) ----------------------------------------------------

def publish_decision_reminders(uow: RegistryUnitOfWork, now: datetime) -> int:
    """Publish, once each, an application due for decision in 2 working days or overdue (for notifications to
    tell the manager).  The runner commits.  Returns how many it published."""
    from services.provider_registry import messages, models

    today, published, t = council_date(now), 0, models.applications.c
    pending = uow.session.execute(sa.select(t.id, t.provider_id, t.organisation_name, t.submitted_on, t.due_on)
                                  .where(t.status == domain.ApplicationStatus.PENDING))
    for row in pending:
        kind = domain.decision_reminder(row.due_on, today)
        if kind:
            data = cached(messages.DATA_SCHEMAS[kind]).dump({
                "application_id": row.id, "provider_id": row.provider_id, "provider_name": row.organisation_name,
                "received_on": row.submitted_on, "due_on": row.due_on, "at": now})
            published += publish_once(uow, models.reminders_published, kind, subject_id=row.id, due_on=row.due_on,
                                      data=data)
    return published

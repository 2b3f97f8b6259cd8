"""Every use case of the registry (handlers.py) on the fake unit of work: what
it decides, what it publishes and what it writes to the audit trail on
commit, and that a refusal commits nothing.  No database, no broker."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.provider_registry import handlers
from services.provider_registry.domain import (
    DPS,
    ApplicationForm,
    ApplicationStatus,
    ComplianceDocument,
    DocumentKind,
    Inspectorate,
    LotApplication,
    MembershipStatus,
    Organisation,
    PassFailQuestion,
    PricingLine,
    Reason,
    Registration,
    SafeguardingLead,
    ScheduleStatus,
    ScoredQuestion,
    SettingKind,
    Unit,
)
from shared.actor import Actor
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.unit.provider_registry.fakes import NOW, FakeUnitOfWork

MANAGER = Actor("vls-manager", frozenset({"manager"}))
OFFICER = Actor("officer-1", frozenset({"officer"}), team="exclusions")
GROUP_WEEK = PricingLine("Group place per week", Unit.WEEK, "1:4", 45_000)


def provider_user(provider_id) -> Actor:
    return Actor(f"user-of-{provider_id}", frozenset({"provider"}), provider_id=provider_id)


def documents(insurance_expires_on=date(2026, 1, 31)):
    return tuple(ComplianceDocument(kind, f"{kind.value}.pdf",
                                    insurance_expires_on if kind is DocumentKind.INSURANCE else date(2026, 1, 31))
                 for kind in DocumentKind)


def form(lots=(1,), name="Bridges Learning Ltd", docs=None) -> ApplicationForm:
    return ApplicationForm(
        Organisation(name, "1 High Street, Newtown", "NT1 2AB"),
        Registration(SettingKind.REGISTERED_SCHOOL, "123456", inspectorate=Inspectorate.OFSTED,
                     last_inspection_outcome="Good"),
        SafeguardingLead("Sam Okafor", "sam@bridges.example"), True, docs or documents(),
        tuple(LotApplication(n, {"insured": True} if n == 1 else {}, (GROUP_WEEK,), 6) for n in lots), "1")


@pytest.fixture
def uow():
    dps = DPS("Alternative Provision DPS")
    dps.set_questions(1, [PassFailQuestion("insured", "Insured?")])
    dps.events.clear()
    return FakeUnitOfWork(dps)


def apply(uow, provider_id=None, **kwargs):
    provider_id = provider_id or uuid.uuid4()
    return handlers.submit_application(uow.acting_as(provider_user(provider_id)), provider_user(provider_id),
                                       form(**kwargs))


def admitted(uow, lots=(1,), **kwargs) -> uuid.UUID:
    application = apply(uow, lots=lots, **kwargs)
    handlers.decide(uow.acting_as(MANAGER), MANAGER, application.id, admit=True, lots=lots)
    uow.messages.clear()
    uow.audit.clear()
    return application.provider_id


# ------------------------------------------------------------ the DPS, lots


def test_manager_renames_the_dps_and_the_trail_has_before_and_after(uow):
    dps = handlers.configure_dps(uow.acting_as(MANAGER), MANAGER, name="AP DPS (Newtown)")
    assert dps.name == "AP DPS (Newtown)" and uow.committed
    (who, entry), = uow.audit
    assert (who, entry.action, entry.subject_type, entry.subject_id) == (
        "vls-manager", "dps.configured", "dps", FIRST_DPS_ID)
    assert (entry.details["before"]["name"], entry.details["after"]["name"]) == (
        "Alternative Provision DPS", "AP DPS (Newtown)")
    (type_, data), = uow.messages  # every change publishes the whole record
    assert (type_, data["name"], data["dps_id"]) == ("dps.configured", "AP DPS (Newtown)", str(FIRST_DPS_ID))


def test_the_term_is_fixed_once_a_provider_is_admitted(uow):
    admitted(uow)
    with pytest.raises(Conflict):
        handlers.configure_dps(uow.acting_as(MANAGER), MANAGER, term_years=5)
    assert not uow.committed and uow.audit == []


def test_closed_dps_takes_no_application(uow):
    handlers.close_dps(uow.acting_as(MANAGER), MANAGER, "re-procuring")
    assert [(e.action, e.reason) for _, e in uow.audit] == [("dps.closed", "re-procuring")]
    with pytest.raises(Conflict):
        apply(uow)
    assert not uow.committed and uow.applications.stored == {}


def test_new_sla_version_is_issued_and_audited(uow):
    dps = handlers.issue_sla(uow.acting_as(MANAGER), MANAGER, " 2 ", "annual review")
    assert dps.sla_version == "2"
    (_, entry), = uow.audit
    assert (entry.action, entry.reason, entry.details) == ("sla.issued", "annual review",
                                                           {"previous_version": "1", "version": "2"})


def test_questions_set_on_a_lot_are_audited_with_what_they_replaced(uow):
    question = PassFailQuestion("ofsted", "Registered with Ofsted?")
    dps = handlers.set_questions(uow.acting_as(MANAGER), MANAGER, 2, [question])
    assert dps.questions_for(2) == (question,)
    (_, entry), = uow.audit
    assert (entry.action, entry.subject_id, entry.details["before"]) == ("lot.questions_set", f"{FIRST_DPS_ID}:2", [])
    assert [q["id"] for q in entry.details["after"]] == ["ofsted"]


# ------------------------------------------------------------- applications


def test_provider_applies_and_the_decision_falls_due_ten_working_days_later(uow):
    provider_id = uuid.uuid4()
    application = apply(uow, provider_id, lots=(1, 2))
    assert uow.committed and application.status is ApplicationStatus.PENDING
    assert application.deadline.due_on == date(2025, 1, 29)
    (who, entry), = uow.audit
    assert (who, entry.action, entry.details) == (f"user-of-{provider_id}", "application.submitted", {
        "provider_id": str(provider_id), "lots": [1, 2], "due_on": "2025-01-29"})
    (type_, data), = uow.messages  # the applicant is told it was received, at the address it gave
    assert (type_, data["lots"], data["due_on"], data["contact_address"]) == (
        "application.submitted", [1, 2], "2025-01-29", application.form.safeguarding_lead.email)


def test_only_a_provider_user_may_apply(uow):
    with pytest.raises(Forbidden):
        handlers.submit_application(uow.acting_as(MANAGER), MANAGER, form())
    assert not uow.committed


def test_a_second_application_while_one_is_pending_is_refused(uow):
    provider_id = uuid.uuid4()
    apply(uow, provider_id)
    with pytest.raises(Conflict):
        apply(uow, provider_id)
    assert not uow.committed and len(uow.applications.stored) == 1


def test_a_member_may_not_apply_again_for_its_lot(uow):
    provider_id = admitted(uow)
    with pytest.raises(Conflict):
        apply(uow, provider_id)


def test_provider_sees_its_own_applications_only(uow):
    mine, theirs = apply(uow), apply(uow)
    me = provider_user(mine.provider_id)
    assert handlers.application_for(uow, me, mine.id) is mine
    with pytest.raises(Forbidden):
        handlers.application_for(uow, me, theirs.id)
    assert handlers.applications(uow, me) == [mine]
    with pytest.raises(Forbidden):
        handlers.applications(uow, me, provider_id=theirs.provider_id)
    assert len(handlers.applications(uow, OFFICER)) == 2
    with pytest.raises(NotFound):
        handlers.application_for(uow, MANAGER, uuid.uuid4())


def test_overdue_lists_pending_applications_past_their_date(uow):
    application = apply(uow)
    assert handlers.applications(uow, MANAGER, overdue=True) == []
    uow.time = NOW + timedelta(days=15)
    assert handlers.applications(uow, MANAGER, overdue=True) == [application]


def test_manager_marks_a_scored_answer(uow):
    handlers.set_questions(uow.acting_as(MANAGER), MANAGER, 2, [ScoredQuestion("plan", "Plan?", pass_mark=3)])
    provider_id = uuid.uuid4()
    application = handlers.submit_application(
        uow.acting_as(provider_user(provider_id)), provider_user(provider_id),
        replace(form(), lots=(LotApplication(2, {"plan": 2}, (GROUP_WEEK,), 6),)))
    uow.audit.clear()
    handlers.mark_answer(uow.acting_as(MANAGER), MANAGER, application.id, 2, "plan", 4)
    assert application.marks == {(2, "plan"): 4} and application.assessment(2).passed
    (_, entry), = uow.audit
    assert (entry.action, entry.details["score"], entry.details["previous_mark"]) == ("application.marked", 4, None)


def test_deadline_is_extended_once_with_a_reason(uow):
    application = apply(uow)
    handlers.extend_deadline(uow.acting_as(MANAGER), MANAGER, application.id, "references awaited")
    assert application.deadline.due_on == date(2025, 2, 5)
    (_, entry), = uow.audit[-1:]
    assert (entry.action, entry.reason, entry.details) == ("application.deadline_extended", "references awaited",
                                                           {"was_due_on": "2025-01-29", "due_on": "2025-02-05"})
    with pytest.raises(Conflict):
        handlers.extend_deadline(uow.acting_as(MANAGER), MANAGER, application.id, "again")
    assert not uow.committed


def test_admission_makes_a_provider_and_announces_each_lot(uow):
    application = apply(uow, lots=(1, 2))
    handlers.decide(uow.acting_as(MANAGER), MANAGER, application.id, admit=True, lots=(1, 2))
    provider = uow.providers.stored[application.provider_id]
    assert sorted(lot for _, lot in provider.memberships) == [1, 2] and set(provider.capacity.values()) == {6}
    assert [(d["lot"], d["status"], d["capacity"]) for d in uow.published("membership.admitted")] == [
        (1, "admitted", 6), (2, "admitted", 6)]
    assert uow.actions()[-1] == "application.admitted"


def test_admission_with_a_document_expired_since_suspends_at_once(uow):
    application = apply(uow, docs=documents(insurance_expires_on=date(2025, 1, 20)))
    uow.time = NOW + timedelta(days=7)
    handlers.decide(uow.acting_as(MANAGER), MANAGER, application.id, admit=True, lots=(1,))
    assert [t for t, _ in uow.messages if not t.startswith("application.")] == [
        "membership.admitted", "provider.contacts_changed", "membership.suspended"]
    suspended = [(who, e.action) for who, e in uow.audit if e.action == "membership.suspend"]
    assert suspended == [("system:compliance_and_pricing", "membership.suspend")]


def test_rejection_needs_reasons_and_makes_no_provider(uow):
    application = apply(uow)
    with pytest.raises(InvalidInput):
        handlers.decide(uow.acting_as(MANAGER), MANAGER, application.id, admit=False)
    assert not uow.committed
    handlers.decide(uow.acting_as(MANAGER), MANAGER, application.id, admit=False,
                    reasons=[Reason(1, None, "no capacity in the area")])
    assert application.status is ApplicationStatus.REJECTED and uow.providers.stored == {}
    (_, entry), = uow.audit[-1:]
    assert (entry.action, entry.reason) == ("application.rejected", "lot 1: no capacity in the area")
    (decided,) = uow.published("application.decided")  # the applicant is told, with the reasons
    assert (decided["outcome"], decided["reasons"]) == (
        "rejected", [{"lot": 1, "question_id": None, "text": "no capacity in the area"}])


# ------------------------------------------------------------------ providers


def test_who_sees_which_provider(uow):
    mine, theirs = admitted(uow), admitted(uow, name="Other Ltd")
    me = provider_user(mine)
    assert handlers.provider_for(uow, me, mine).id == mine
    with pytest.raises(Forbidden):
        handlers.provider_for(uow, me, theirs)
    assert [p.id for p in handlers.providers(uow, me)] == [mine]
    assert len(handlers.providers(uow, OFFICER)) == 2
    assert [p.id for p in handlers.providers(uow, MANAGER, name="other")] == [theirs]


def test_the_directory_leaves_out_suspended_providers(uow):
    provider_id = admitted(uow)
    today, found = handlers.directory(uow, lot=1)
    assert today == date(2025, 1, 15) and [p.id for p in found] == [provider_id]
    handlers.suspend(uow.acting_as(MANAGER), MANAGER, provider_id, 1, "concern")
    assert handlers.directory(uow, lot=1)[1] == []


def test_registration_change_is_announced_and_audited(uow):
    provider_id = admitted(uow)
    me = provider_user(provider_id)
    handlers.change_details(uow.acting_as(me), me, provider_id,
                            registration=Registration(SettingKind.REGISTERED_SCHOOL, "654321",
                                                      inspectorate=Inspectorate.OFSTED,
                                                      last_inspection_outcome="Outstanding"),
                            safeguarding_lead=SafeguardingLead("Ada Lee", "ada@bridges.example"))
    (data,) = uow.published("provider.registration_changed")
    assert (data["urn"], data["inspectorate"], data["last_inspection_outcome"]) == ("654321", "ofsted", "Outstanding")
    (who, entry), = uow.audit
    assert (who, entry.action, entry.details) == (f"user-of-{provider_id}", "provider.details_changed",
                                                 {"changed": ["registration", "safeguarding_lead"]})


def test_a_provider_removed_from_every_lot_may_read_but_not_change_its_record(uow):
    provider_id = admitted(uow)
    handlers.remove(uow.acting_as(MANAGER), MANAGER, provider_id, 1, "left the area")
    me = provider_user(provider_id)
    assert handlers.provider_for(uow, me, provider_id).id == provider_id
    with pytest.raises(Forbidden):
        handlers.change_capacity(uow.acting_as(me), me, provider_id, 1, 3)
    assert not uow.committed


def test_valid_document_uploaded_lifts_the_checks_suspension(uow):
    provider_id = admitted(uow, docs=documents(insurance_expires_on=date(2025, 6, 30)))
    handlers.run_daily_checks(uow, datetime(2025, 7, 1, 2, tzinfo=UTC))
    uow.commit()
    uow.messages.clear(), uow.audit.clear()
    me = provider_user(provider_id)
    uow.time = datetime(2025, 7, 3, 10, tzinfo=UTC)
    provider = handlers.upload_document(uow.acting_as(me), me, provider_id,
                                        ComplianceDocument(DocumentKind.INSURANCE, "new.pdf", date(2026, 6, 30)))
    assert provider.membership(1).status is MembershipStatus.ADMITTED
    assert [t for t, _ in uow.messages] == ["membership.reinstated"]
    assert [(who, e.action) for who, e in uow.audit] == [
        (f"user-of-{provider_id}", "provider.document_uploaded"),
        ("system:compliance_and_pricing", "membership.reinstate")]


def test_provider_accepts_the_current_sla_only(uow):
    provider_id = admitted(uow)
    me = provider_user(provider_id)
    handlers.issue_sla(uow.acting_as(MANAGER), MANAGER, "2")
    with pytest.raises(InvalidInput):
        handlers.accept_sla(uow.acting_as(me), me, provider_id, "3")
    with pytest.raises(Forbidden):
        handlers.accept_sla(uow.acting_as(MANAGER), MANAGER, provider_id, "2")
    provider = handlers.accept_sla(uow.acting_as(me), me, provider_id, "2")
    assert [a.version for a in provider.sla_acceptances] == ["1", "2"]
    assert uow.actions()[-1] == "provider.sla_accepted"


# ------------------------------------------------------------ memberships


@pytest.mark.parametrize("use_case, event, status", [
    (handlers.suspend, "membership.suspended", "suspended"),
    (handlers.remove, "membership.removed", "removed"),
])
def test_manager_suspends_or_removes_with_a_reason(uow, use_case, event, status):
    provider_id = admitted(uow)
    use_case(uow.acting_as(MANAGER), MANAGER, provider_id, 1, " safeguarding concern ")
    (data,) = uow.published(event)
    assert (data["lot"], data["status"], data["reason"], data["automatic"]) == (
        1, status, "safeguarding concern", False)
    (who, entry), = uow.audit
    assert (who, entry.subject_type, entry.subject_id, entry.reason) == (
        "vls-manager", "membership", f"{provider_id}:1", "safeguarding concern")


def test_manager_reinstates_a_suspension(uow):
    provider_id = admitted(uow)
    handlers.suspend(uow.acting_as(MANAGER), MANAGER, provider_id, 1, "concern")
    handlers.reinstate(uow.acting_as(MANAGER), MANAGER, provider_id, 1, "resolved")
    assert [t for t, _ in uow.messages] == ["membership.suspended", "membership.reinstated"]
    assert uow.actions() == ["membership.suspend", "membership.reinstate"]
    with pytest.raises(Conflict):
        handlers.reinstate(uow.acting_as(MANAGER), MANAGER, provider_id, 1, "again")


def test_capacity_change_is_announced_and_a_change_to_nothing_is_not(uow):
    provider_id = admitted(uow)
    me = provider_user(provider_id)
    handlers.change_capacity(uow.acting_as(me), me, provider_id, 1, 9)
    assert [(d["lot"], d["capacity"]) for d in uow.published("capacity.changed")] == [(1, 9)]
    assert uow.audit[0][1].details == {"provider_id": str(provider_id), "lot": 1, "before": 6, "capacity": 9}
    handlers.change_capacity(uow.acting_as(me), me, provider_id, 1, 9)
    assert len(uow.messages) == 1 and len(uow.audit) == 1
    with pytest.raises(Forbidden):
        handlers.change_capacity(uow.acting_as(me), provider_user(uuid.uuid4()), provider_id, 1, 3)


# ------------------------------------------------------- pricing schedules


def test_pricing_proposed_approved_and_announced_on_its_date(uow):
    provider_id = admitted(uow)
    me = provider_user(provider_id)
    raised = [PricingLine("Group place per week", Unit.WEEK, "1:4", 47_500)]
    _, proposal = handlers.propose_pricing(uow.acting_as(me), me, provider_id, 1, raised, date(2025, 2, 3))
    assert (proposal.version, proposal.status) == (2, ScheduleStatus.PROPOSED)
    assert [(p, s.version) for p, _, s in handlers.schedules_awaiting(uow, status="proposed")] == [(provider_id, 2)]
    handlers.approve_pricing(uow.acting_as(MANAGER), MANAGER, provider_id, 1, 2)
    assert uow.published("pricing_schedule.effective") == []  # not before 3 February
    assert uow.actions() == ["pricing_schedule.proposed", "pricing_schedule.approved"]

    handlers.run_daily_checks(uow, datetime(2025, 2, 3, 2, tzinfo=UTC))
    uow.commit()
    (data,) = uow.published("pricing_schedule.effective")
    assert (data["version"], data["effective_from"]) == (2, "2025-02-03")
    assert uow.audit[-1][0] == "system:compliance_and_pricing"
    assert [s.version for s in handlers.provider_with_lot(uow, OFFICER, provider_id, 1).schedules[1]] == [1, 2]
    with pytest.raises(NotFound):
        handlers.provider_with_lot(uow, OFFICER, provider_id, 3)


def test_pricing_rejected_with_a_reason_or_withdrawn_by_the_provider(uow):
    provider_id = admitted(uow)
    me = provider_user(provider_id)
    handlers.propose_pricing(uow.acting_as(me), me, provider_id, 1, [GROUP_WEEK], date(2025, 2, 3))
    with pytest.raises(Forbidden):
        handlers.withdraw_pricing(uow.acting_as(MANAGER), MANAGER, provider_id, 1, 2)
    _, rejected = handlers.reject_pricing(uow.acting_as(MANAGER), MANAGER, provider_id, 1, 2, "too dear")
    assert (rejected.status, rejected.reason) == (ScheduleStatus.REJECTED, "too dear")
    handlers.propose_pricing(uow.acting_as(me), me, provider_id, 1, [GROUP_WEEK], date(2025, 2, 3))
    _, withdrawn = handlers.withdraw_pricing(uow.acting_as(me), me, provider_id, 1, 3)
    assert withdrawn.status is ScheduleStatus.WITHDRAWN
    assert uow.actions() == ["pricing_schedule.proposed", "pricing_schedule.rejected", "pricing_schedule.proposed",
                             "pricing_schedule.withdrawn"]
    assert uow.messages == []


# ------------------------------------------------------- the daily job


def test_daily_check_suspends_the_day_after_a_document_expires(uow):
    provider_id = admitted(uow, lots=(1, 2), docs=documents(insurance_expires_on=date(2025, 6, 30)))
    handlers.run_daily_checks(uow, datetime(2025, 6, 30, 2, tzinfo=UTC))
    uow.commit()
    assert [t for t, _ in uow.messages] == ["compliance_document.expiring"]  # the 7-day warning, nothing else
    handlers.run_daily_checks(uow, datetime(2025, 7, 1, 2, tzinfo=UTC))
    uow.commit()
    assert [(d["lot"], d["automatic"]) for d in uow.published("membership.suspended")] == [(1, True), (2, True)]
    assert [d["kind"] for d in uow.published("compliance_document.expired")] == ["insurance"]
    assert {(who, e.action, e.subject_id) for who, e in uow.audit} == {
        ("system:compliance_and_pricing", "membership.suspend", f"{provider_id}:1"),
        ("system:compliance_and_pricing", "membership.suspend", f"{provider_id}:2")}


# ------------------------------------------- a removed provider (issue 13, defect 10)
# Removed from every lot (or past the end of the DPS term), a provider user may
# still read its own record but no longer change it; a member of some lot
# (admitted or suspended) keeps changing it; the council's staff are not affected.


def _changes(uow, provider_id, lot=1):
    me = provider_user(provider_id)
    uow.acting_as(me)
    return {
        "details": lambda: handlers.change_details(uow, me, provider_id, registration=Registration(
            SettingKind.REGISTERED_SCHOOL, "654321", inspectorate=Inspectorate.OFSTED)),
        "document": lambda: handlers.upload_document(uow, me, provider_id, ComplianceDocument(
            DocumentKind.INSURANCE, "insurance-2026.pdf", date(2027, 1, 31))),
        "sla": lambda: handlers.accept_sla(uow, me, provider_id, "2"),
        "capacity": lambda: handlers.change_capacity(uow, me, provider_id, lot, 9),
        "pricing": lambda: handlers.propose_pricing(uow, me, provider_id, lot, [GROUP_WEEK], date(2025, 3, 3)),
    }


def _outcomes(changes) -> dict[str, str]:
    found = {}
    for name, change in changes.items():
        try:
            change()
            found[name] = "changed"
        except Forbidden as refused:
            found[name] = "refused: removed" if "removed" in refused.message else "refused"
    return found


def test_a_provider_removed_from_every_lot_may_change_nothing_of_its_record(uow):
    provider_id = admitted(uow, lots=(1, 3))
    handlers.issue_sla(uow.acting_as(MANAGER), MANAGER, "2")
    for lot in (1, 3):
        handlers.remove(uow.acting_as(MANAGER), MANAGER, provider_id, lot, "persistent poor performance")
    uow.messages.clear(), uow.audit.clear()
    assert set(_outcomes(_changes(uow, provider_id)).values()) == {"refused: removed"}
    assert uow.messages == [] and uow.audit == []
    me = provider_user(provider_id)
    assert [m.status for m in handlers.provider_for(uow, me, provider_id).memberships.values()] == [
        MembershipStatus.REMOVED, MembershipStatus.REMOVED]
    assert [p.id for p in handlers.providers(uow, me)] == [provider_id]


def test_a_provider_still_a_member_of_another_lot_keeps_changing_its_record(uow):
    provider_id = admitted(uow, lots=(1, 3))
    handlers.issue_sla(uow.acting_as(MANAGER), MANAGER, "2")
    handlers.remove(uow.acting_as(MANAGER), MANAGER, provider_id, 1, "left the area")
    assert set(_outcomes(_changes(uow, provider_id, lot=3)).values()) == {"changed"}


def test_a_suspended_provider_keeps_changing_its_record(uow):
    provider_id = admitted(uow)
    handlers.issue_sla(uow.acting_as(MANAGER), MANAGER, "2")
    handlers.suspend(uow.acting_as(MANAGER), MANAGER, provider_id, 1, "insurance lapsed")
    assert set(_outcomes(_changes(uow, provider_id)).values()) == {"changed"}


def test_past_the_end_of_the_dps_term_counts_as_removed(uow):
    provider_id = admitted(uow)
    uow.time = NOW.replace(year=NOW.year + 10)  # long after the last day of the term
    assert _outcomes({"details": _changes(uow, provider_id)["details"]}) == {"details": "refused: removed"}
    assert handlers.provider_for(uow, provider_user(provider_id), provider_id).id == provider_id


def test_the_council_still_changes_a_removed_providers_record(uow):
    provider_id = admitted(uow)
    handlers.remove(uow.acting_as(MANAGER), MANAGER, provider_id, 1, "left the area")
    handlers.change_details(uow.acting_as(MANAGER), MANAGER, provider_id, registration=Registration(
        SettingKind.REGISTERED_SCHOOL, "654321", inspectorate=Inspectorate.OFSTED))
    assert uow.committed
    assert handlers.provider_for(uow, OFFICER, provider_id).registration.urn == "654321"


# ------------------------------------------------------------ the mapping


def test_the_mappers_start_once_however_many_times_the_service_is_built():
    from services.provider_registry import orm, service

    service.definition()
    service.definition()  # a second runtime in the same process: no second mapping
    orm.start_mappers()
    assert orm.mapper_registry.mappers


def test_a_provider_never_announced_is_announced_once_by_the_daily_job(uow):
    # a provider admitted before the notifications service existed: its addresses were never published
    provider_id = admitted(uow)
    uow.commit()
    uow.providers.stored[provider_id].contacts_announced = False
    uow.messages.clear()
    handlers.run_daily_checks(uow, datetime(2025, 2, 3, 2, tzinfo=UTC))
    uow.commit()
    assert [t for t, _ in uow.messages] == ["provider.contacts_changed"]
    handlers.run_daily_checks(uow, datetime(2025, 2, 4, 2, tzinfo=UTC))
    uow.commit()
    assert [t for t, _ in uow.messages] == ["provider.contacts_changed"]  # once

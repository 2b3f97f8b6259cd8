"""An admitted provider: admission, memberships and their transitions,
compliance, the SLA, registration details, pricing schedules and capacity."""

import re
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from services.provider_registry.domain import (
    COMPLIANCE_RESTORED,
    DPS,
    EVENTS,
    ApplicationForm,
    CapacityChanged,
    ComplianceDocument,
    ContactsChanged,
    DocumentKind,
    Identifier,
    Inspectorate,
    LotApplication,
    Membership,
    MembershipAdmitted,
    MembershipReinstated,
    MembershipRemoved,
    MembershipStatus,
    MembershipSuspended,
    Organisation,
    PassFailQuestion,
    PricingChanged,
    PricingLine,
    PricingScheduleEffective,
    Provider,
    Reason,
    Registration,
    RegistrationChanged,
    SafeguardingLead,
    ScheduleStatus,
    SettingKind,
    SlaAcceptance,
    Unit,
    compliance_actions,
    submit_application,
)
from shared.catalogue import CATALOGUE, FIRST_DPS_ID
from shared.errors import Conflict, InvalidInput, NotFound

UTC = UTC


def at(year, month, day, hour=12):
    return datetime(year, month, day, hour, tzinfo=UTC)


SUBMITTED = at(2025, 1, 6)  # Mon
ADMITTED = at(2025, 1, 15)  # Wed
GROUP_WEEK = PricingLine("Group place per week", Unit.WEEK, "1:4", 45_000)
TUITION_HOUR = PricingLine("1:1 tuition per hour", Unit.HOUR, "1:1", 5_500)


def make_dps():
    dps = DPS("Alternative Provision DPS")
    dps.set_questions(1, [PassFailQuestion("insured", "Insured?")])
    return dps


def documents(insurance=date(2025, 3, 31), dbs=date(2026, 1, 31), policy=date(2026, 1, 31)):
    return (ComplianceDocument(DocumentKind.INSURANCE, "insurance-2024.pdf", insurance),
            ComplianceDocument(DocumentKind.DBS_CONFIRMATION, "scr-2024.pdf", dbs),
            ComplianceDocument(DocumentKind.SAFEGUARDING_POLICY, "policy-2024.pdf", policy))


def form(lots=(1, 2), registration=None, name="Bridges Learning Ltd", docs=None, sla="1"):
    entries = tuple(LotApplication(n, {"insured": True} if n == 1 else {}, (GROUP_WEEK, TUITION_HOUR), 4 + n)
                    for n in lots)
    return ApplicationForm(
        Organisation(name, "1 High Street, Newtown", "NT1 2AB"),
        registration or Registration(SettingKind.UNREGISTERED),
        SafeguardingLead("Sam Okafor", "sam@bridges.example"),
        True, docs or documents(), entries, sla)


def admitted_provider(dps=None, lots=(1, 2), docs=None) -> Provider:
    dps = dps or make_dps()
    application = submit_application(dps, form(lots, docs=docs), application_id=uuid4(), provider_id=uuid4(),
                                     now=SUBMITTED)
    application.admit(lots, ADMITTED)
    provider = Provider.from_application(application)
    provider.admit(application, dps, ADMITTED)
    return provider


def events_of(provider, kind):
    return [e for e in provider.events if isinstance(e, kind)]


def published(provider):
    """The events other services read (the rest are for the audit trail)."""
    return [e for e in provider.events if type(e) in EVENTS]


# ---------------------------------------------------------------- events


def test_every_event_is_in_the_catalogue_under_its_own_name():
    for event in EVENTS:
        assert event.type in CATALOGUE
        assert CATALOGUE[event.type].producer == "provider_registry"
        last_part = event.type.split(".")[-1] if event.type.startswith("provider.") else event.type
        assert event.__name__ == "".join(w.capitalize() for w in re.split(r"[._]", last_part))


# ------------------------------------------------------------- admission


def test_admission_creates_a_membership_per_lot_until_the_end_of_the_term():
    provider = admitted_provider()
    assert sorted(lot for _, lot in provider.memberships) == [1, 2]
    membership = provider.membership(1)
    assert (membership.status, membership.admitted_on, membership.ends_on) == (
        MembershipStatus.ADMITTED, date(2025, 1, 15), date(2029, 2, 23))
    assert provider.active_lots(date(2025, 1, 15)) == (1, 2)


def test_admission_announces_what_other_services_need():
    provider = admitted_provider(lots=(2,))
    assert provider.events == [MembershipAdmitted(
        provider_id=provider.id, provider_name="Bridges Learning Ltd", lot=2,
        setting_kind="unregistered", pricing_version=1,
        pricing_lines=(GROUP_WEEK, TUITION_HOUR), capacity=6, admitted_on=date(2025, 1, 15),
        ends_on=date(2029, 2, 23), at=ADMITTED),
        ContactsChanged(provider.id, "Bridges Learning Ltd", (provider.safeguarding_lead.email,), ADMITTED)]


def test_admission_records_the_sla_accepted_on_applying_and_puts_pricing_in_force():
    provider = admitted_provider()
    assert provider.current_sla == SlaAcceptance("1", date(2025, 1, 6))
    schedule = provider.schedule_in_force(1, date(2025, 1, 15))
    assert (schedule.version, schedule.status, schedule.lines) == (1, ScheduleStatus.APPROVED,
                                                                   (GROUP_WEEK, TUITION_HOUR))
    assert provider.schedule_in_force(1, date(2025, 1, 14)) is None
    assert provider.capacity == {(FIRST_DPS_ID, 1): 5, (FIRST_DPS_ID, 2): 6}


def test_only_lots_admitted_become_memberships():
    dps = make_dps()
    application = submit_application(dps, form((1, 2)), application_id=uuid4(), provider_id=uuid4(),
                                     now=SUBMITTED)
    application.admit([1], ADMITTED, reasons=[Reason(2, None, "no evidence of part-time timetable")])
    provider = Provider.from_application(application)
    provider.admit(application, dps, ADMITTED)
    assert [lot for _, lot in provider.memberships] == [1]


def test_rejected_or_pending_application_admits_nobody():
    dps = make_dps()
    application = submit_application(dps, form((1,)), application_id=uuid4(), provider_id=uuid4(),
                                     now=SUBMITTED)
    provider = Provider.from_application(application)
    with pytest.raises(Conflict):
        provider.admit(application, dps, ADMITTED)
    application.reject([Reason(1, None, "references failed")], ADMITTED)
    with pytest.raises(Conflict):
        provider.admit(application, dps, ADMITTED)
    assert provider.memberships == {} and provider.events == []


def test_document_expired_since_submission_suspends_the_new_membership_at_once():
    # Insurance valid on 6 January when the provider applied, expired on the 10th.
    provider = admitted_provider(lots=(1,), docs=documents(insurance=date(2025, 1, 10)))
    assert provider.membership(1).status is MembershipStatus.SUSPENDED
    assert [type(e) for e in provider.events] == [MembershipAdmitted, ContactsChanged, MembershipSuspended]


def test_later_application_adds_lots_and_announces_changed_registration():
    dps = make_dps()
    provider = admitted_provider(dps, lots=(1,))
    provider.events.clear()
    school = Registration(SettingKind.REGISTERED_SCHOOL, "145678", inspectorate=Inspectorate.OFSTED,
                          last_inspection_outcome="Good")
    renewed = documents(insurance=date(2026, 3, 31))
    second = submit_application(dps, form((3,), registration=school, docs=renewed), application_id=uuid4(),
                                provider_id=provider.id, now=at(2025, 9, 1),
                                member_lots=provider.member_lots(date(2025, 9, 1)))
    second.admit([3], at(2025, 9, 2))
    provider.admit(second, dps, at(2025, 9, 2))
    assert sorted(lot for _, lot in provider.memberships) == [1, 3]
    changed, admitted = provider.events
    assert changed == RegistrationChanged(provider.id, "Bridges Learning Ltd", school,
                                          (Identifier("GB-URN", "145678"),), at(2025, 9, 2))
    assert (admitted.setting_kind, admitted.identifiers) == ("registered_school", (Identifier("GB-URN", "145678"),))


def test_provider_removed_from_a_lot_may_be_admitted_to_it_again():
    dps = make_dps()
    provider = admitted_provider(dps, lots=(1,))
    assert provider.member_lots(date(2025, 2, 1)) == (1,)
    provider.remove(1, "repeated safeguarding failures", at(2025, 2, 1))
    assert provider.member_lots(date(2025, 2, 1)) == ()
    again = submit_application(dps, form((1,)), application_id=uuid4(), provider_id=provider.id,
                               now=at(2025, 3, 3), member_lots=provider.member_lots(date(2025, 3, 3)))
    again.admit([1], at(2025, 3, 4))
    provider.admit(again, dps, at(2025, 3, 4))
    assert provider.membership(1).status is MembershipStatus.ADMITTED
    assert provider.schedule_in_force(1, date(2025, 3, 4)).version == 2


def test_admitting_again_to_a_current_membership_is_a_conflict():
    dps = make_dps()
    application = submit_application(dps, form((1,)), application_id=uuid4(), provider_id=uuid4(),
                                     now=SUBMITTED)
    application.admit([1], ADMITTED)
    provider = Provider.from_application(application)
    provider.admit(application, dps, ADMITTED)
    with pytest.raises(Conflict):
        provider.admit(application, dps, ADMITTED)


# ---------------------------------------------------------- transitions

TRANSITIONS = {
    "suspend": lambda p, reason: p.suspend(1, reason, at(2025, 2, 3)),
    "reinstate": lambda p, reason: p.reinstate(1, reason, at(2025, 2, 3)),
    "remove": lambda p, reason: p.remove(1, reason, at(2025, 2, 3)),
}


def provider_in(status: MembershipStatus) -> Provider:
    provider = admitted_provider(lots=(1,))
    if status is MembershipStatus.SUSPENDED:
        provider.suspend(1, "safeguarding concern under investigation", at(2025, 2, 1))
    if status is MembershipStatus.REMOVED:
        provider.remove(1, "left the market", at(2025, 2, 1))
    provider.events.clear()
    return provider


@pytest.mark.parametrize("start, action, end, event", [
    (MembershipStatus.ADMITTED, "suspend", MembershipStatus.SUSPENDED, MembershipSuspended),
    (MembershipStatus.SUSPENDED, "reinstate", MembershipStatus.ADMITTED, MembershipReinstated),
    (MembershipStatus.ADMITTED, "remove", MembershipStatus.REMOVED, MembershipRemoved),
    (MembershipStatus.SUSPENDED, "remove", MembershipStatus.REMOVED, MembershipRemoved),
])
def test_allowed_transitions_record_their_event(start, action, end, event):
    provider = provider_in(start)
    TRANSITIONS[action](provider, "the manager's reason")
    membership = provider.membership(1)
    assert membership.status is end
    assert membership.since == date(2025, 2, 3)
    recorded, = provider.events
    assert isinstance(recorded, event)
    assert (recorded.lot, recorded.reason, recorded.status) == (1, "the manager's reason", end.value)


@pytest.mark.parametrize("start, action", [
    (MembershipStatus.SUSPENDED, "suspend"),
    (MembershipStatus.REMOVED, "suspend"),
    (MembershipStatus.ADMITTED, "reinstate"),
    (MembershipStatus.REMOVED, "reinstate"),
    (MembershipStatus.REMOVED, "remove"),
])
def test_wrong_transitions_are_conflicts_and_change_nothing(start, action):
    provider = provider_in(start)
    before = vars(provider.membership(1)).copy()
    with pytest.raises(Conflict):
        TRANSITIONS[action](provider, "a reason")
    assert vars(provider.membership(1)) == before
    assert provider.events == []


@pytest.mark.parametrize("action, start", [("suspend", MembershipStatus.ADMITTED),
                                           ("reinstate", MembershipStatus.SUSPENDED),
                                           ("remove", MembershipStatus.ADMITTED)])
@pytest.mark.parametrize("reason", ["", "  ", None])
def test_transition_without_a_reason_is_refused(action, start, reason):
    provider = provider_in(start)
    with pytest.raises(InvalidInput) as refused:
        TRANSITIONS[action](provider, reason)
    assert refused.value.field == "reason"
    assert provider.membership(1).status is start


def test_suspended_membership_gets_no_referrals():
    provider = provider_in(MembershipStatus.SUSPENDED)
    assert provider.active_lots(date(2025, 2, 3)) == ()
    assert provider.membership(1).reason == "safeguarding concern under investigation"


def test_action_on_a_lot_without_membership_is_not_found_and_unknown_lot_is_refused():
    provider = admitted_provider(lots=(1,))
    with pytest.raises(NotFound):
        provider.suspend(2, "reason", ADMITTED)
    with pytest.raises(InvalidInput):
        provider.suspend(9, "reason", ADMITTED)


def test_membership_ends_with_the_dps_term():
    provider = admitted_provider(lots=(1,))
    membership = provider.membership(1)
    assert membership.is_active(date(2029, 2, 23))  # the statutory end, before the term's end
    assert membership.status_on(date(2029, 2, 24)) is MembershipStatus.ENDED
    assert provider.active_lots(date(2029, 2, 24)) == ()
    with pytest.raises(Conflict, match="ended with the DPS on 2029-02-23"):
        provider.suspend(1, "too late", at(2029, 2, 25))


def test_removed_membership_stays_removed_after_the_term():
    membership = Membership(1, date(2025, 1, 1), date(2031, 3, 31), MembershipStatus.REMOVED)
    assert membership.status_on(date(2032, 1, 1)) is MembershipStatus.REMOVED


# ------------------------------------------------------------ compliance


def test_expired_insurance_suspends_every_admitted_membership_the_day_after_expiry():
    provider = admitted_provider()  # insurance expires on 31 March 2025
    provider.events.clear()
    assert not provider.check_compliance(at(2025, 3, 31))
    actions = provider.check_compliance(at(2025, 4, 1))
    reason = "compliance document insurance expired on 2025-03-31"
    assert actions.suspend == (((FIRST_DPS_ID, 1), reason), ((FIRST_DPS_ID, 2), reason))
    for lot in (1, 2):
        membership = provider.membership(lot)
        assert (membership.status, membership.reason, membership.automatic) == (
            MembershipStatus.SUSPENDED, reason, True)
    assert provider.events == [MembershipSuspended(provider.id, "Bridges Learning Ltd", lot, reason, True,
                                                   at(2025, 4, 1)) for lot in (1, 2)]


def test_compliance_check_is_idempotent():
    provider = admitted_provider()
    provider.check_compliance(at(2025, 4, 1))
    provider.events.clear()
    assert not provider.check_compliance(at(2025, 4, 2))
    assert provider.events == []


def test_valid_document_uploaded_lifts_the_automatic_suspensions():
    provider = admitted_provider()
    provider.check_compliance(at(2025, 4, 1))
    provider.events.clear()
    provider.upload_document(ComplianceDocument(DocumentKind.INSURANCE, "insurance-2025.pdf", date(2026, 3, 31)),
                             at(2025, 4, 3))
    assert provider.membership(1).status is MembershipStatus.SUSPENDED  # until the check runs
    provider.check_compliance(at(2025, 4, 3))
    assert provider.active_lots(date(2025, 4, 3)) == (1, 2)
    assert published(provider) == [MembershipReinstated(provider.id, "Bridges Learning Ltd", lot, COMPLIANCE_RESTORED,
                                                    True, at(2025, 4, 3)) for lot in (1, 2)]


def test_manual_suspension_is_never_lifted_by_the_compliance_check():
    provider = admitted_provider()
    provider.suspend(2, "safeguarding concern", at(2025, 3, 1))
    provider.check_compliance(at(2025, 4, 1))
    assert provider.membership(2).reason == "safeguarding concern"  # not overwritten either
    provider.upload_document(ComplianceDocument(DocumentKind.INSURANCE, "new.pdf", date(2026, 3, 31)), at(2025, 4, 2))
    provider.check_compliance(at(2025, 4, 2))
    assert provider.membership(1).status is MembershipStatus.ADMITTED
    assert provider.membership(2).status is MembershipStatus.SUSPENDED


def test_manager_suspending_an_automatically_suspended_membership_makes_it_manual():
    provider = admitted_provider()
    provider.check_compliance(at(2025, 4, 1))
    provider.suspend(1, "safeguarding concern", at(2025, 4, 2))
    assert (provider.membership(1).reason, provider.membership(1).automatic) == ("safeguarding concern", False)
    provider.upload_document(ComplianceDocument(DocumentKind.INSURANCE, "new.pdf", date(2026, 3, 31)), at(2025, 4, 3))
    provider.check_compliance(at(2025, 4, 3))
    assert provider.membership(1).status is MembershipStatus.SUSPENDED
    assert provider.membership(2).status is MembershipStatus.ADMITTED


def test_manager_cannot_reinstate_while_a_document_is_expired():
    provider = admitted_provider()
    provider.check_compliance(at(2025, 4, 1))
    with pytest.raises(Conflict, match="insurance expired on 2025-03-31"):
        provider.reinstate(1, "spoke to the provider", at(2025, 4, 2))
    assert provider.membership(1).status is MembershipStatus.SUSPENDED


def test_removed_and_ended_memberships_are_left_alone_by_the_check():
    provider = admitted_provider()
    provider.remove(2, "closed down", at(2025, 3, 1))
    actions = provider.check_compliance(at(2025, 4, 1))
    assert [lot for (_, lot), _ in actions.suspend] == [1]
    ended = Membership(1, date(2024, 4, 1), date(2031, 3, 31))
    assert not compliance_actions(documents(), [ended], date(2031, 4, 1))


def test_every_expired_or_missing_document_is_named_in_the_reason():
    membership = Membership(1, date(2025, 1, 1), date(2031, 3, 31))
    docs = documents(insurance=date(2025, 3, 31), dbs=date(2025, 2, 28))[:2]
    actions = compliance_actions(docs, [membership], date(2025, 4, 1))
    assert actions.suspend == (((FIRST_DPS_ID, 1), "compliance document insurance expired on 2025-03-31; "
                                   "compliance document dbs_confirmation expired on 2025-02-28; "
                                   "compliance document safeguarding_policy is missing"),)


def test_uploading_an_expired_document_is_refused():
    provider = admitted_provider()
    with pytest.raises(InvalidInput) as refused:
        provider.upload_document(ComplianceDocument(DocumentKind.INSURANCE, "old.pdf", date(2025, 1, 31)),
                                 at(2025, 2, 1))
    assert refused.value.field == "documents.insurance.expires_on"
    assert provider.documents[DocumentKind.INSURANCE].reference == "insurance-2024.pdf"


# ------------------------------------------------------------------- SLA


def test_new_sla_version_is_accepted_the_same_way():
    dps = make_dps()
    provider = admitted_provider(dps)
    dps.issue_sla("2")
    assert not provider.has_accepted("2")
    assert provider.accept_sla(dps, "2", at(2025, 6, 2)) == SlaAcceptance("2", date(2025, 6, 2))
    assert provider.current_sla.version == "2"
    with pytest.raises(Conflict):
        provider.accept_sla(dps, "2", at(2025, 6, 3))


def test_accepting_an_sla_version_that_is_not_current_is_refused():
    dps = make_dps()
    provider = admitted_provider(dps)
    with pytest.raises(InvalidInput) as refused:
        provider.accept_sla(dps, "3", at(2025, 6, 2))
    assert refused.value.field == "sla_version"


# ---------------------------------------------------- registration details


def test_name_or_registration_change_is_announced():
    provider = admitted_provider()
    provider.events.clear()
    renamed = Organisation("Bridges Learning Trust", "1 High Street, Newtown", "NT1 2AB")
    provider.change_details(at(2025, 5, 1), organisation=renamed)
    event, = provider.events
    assert (event.provider_name, event.registration.setting_kind, event.identifiers) == (
        "Bridges Learning Trust", "unregistered", ())


def test_address_change_alone_is_not_announced():
    provider = admitted_provider()
    provider.events.clear()
    provider.change_details(at(2025, 5, 1), organisation=Organisation("Bridges Learning Ltd", "9 New Road", "NT1 9ZZ"))
    assert provider.events == []
    assert provider.organisation.postcode == "NT1 9ZZ"


def test_invalid_registration_change_is_refused_and_changes_nothing():
    provider = admitted_provider()
    provider.events.clear()
    with pytest.raises(InvalidInput) as refused:
        provider.change_details(at(2025, 5, 1), registration=Registration(SettingKind.REGISTERED_SCHOOL,
                                                                          "12345", inspectorate=Inspectorate.OFSTED))
    assert refused.value.field == "registration.urn"
    assert provider.registration.setting_kind is SettingKind.UNREGISTERED
    assert provider.events == []


# ------------------------------------------------------- pricing schedules

RAISED = (PricingLine("Group place per week", Unit.WEEK, "1:4", 47_500),
          PricingLine("1:1 tuition per hour", Unit.HOUR, "1:1", 5_800))


def test_proposed_schedule_takes_effect_only_after_approval_and_from_its_date():
    provider = admitted_provider()
    provider.events.clear()
    proposal = provider.propose_pricing(1, RAISED, date(2025, 9, 1), at(2025, 7, 1))
    assert (proposal.version, proposal.status) == (2, ScheduleStatus.PROPOSED)
    assert provider.maximum_price(1, "Group place per week", date(2025, 9, 1)) == 45_000  # not approved yet

    provider.approve_pricing(1, 2, at(2025, 7, 10))
    assert published(provider) == []  # approved, not yet in force
    assert [(e.action, e.version) for e in events_of(provider, PricingChanged)] == [("proposed", 2), ("approved", 2)]
    assert provider.maximum_price(1, "group place per week", date(2025, 8, 31)) == 45_000
    assert provider.maximum_price(1, "group place per week", date(2025, 9, 1)) == 47_500

    assert provider.bring_pricing_into_effect(at(2025, 8, 31)) == []
    assert provider.bring_pricing_into_effect(at(2025, 9, 1)) == [proposal]
    assert published(provider) == [PricingScheduleEffective(provider.id, "Bridges Learning Ltd", 1, 2, date(2025, 9, 1),
                                                        RAISED, at(2025, 9, 1))]
    assert provider.bring_pricing_into_effect(at(2025, 9, 2)) == []  # announced once


def test_schedule_approved_after_its_date_takes_effect_from_the_approval():
    provider = admitted_provider()
    provider.events.clear()
    provider.propose_pricing(1, RAISED, date(2025, 9, 1), at(2025, 7, 1))
    schedule = provider.approve_pricing(1, 2, at(2025, 9, 5))
    assert schedule.effective_from == date(2025, 9, 5)
    assert provider.maximum_price(1, "Group place per week", date(2025, 9, 4)) == 45_000
    assert [e.effective_from for e in published(provider)] == [date(2025, 9, 5)]


def test_other_lots_keep_their_schedule():
    provider = admitted_provider()
    provider.propose_pricing(1, RAISED, date(2025, 7, 1), at(2025, 7, 1))
    provider.approve_pricing(1, 2, at(2025, 7, 1))
    assert provider.schedule_in_force(2, date(2025, 8, 1)).version == 1
    assert provider.maximum_price(1, "no such line", date(2025, 8, 1)) is None


@pytest.mark.parametrize("lines, field", [
    ((PricingLine("Group place per week", Unit.WEEK, "1:4", 0),), "pricing_lines.0.maximum_price_pence"),
    ((PricingLine("Group place per week", Unit.WEEK, "1:4", -5),), "pricing_lines.0.maximum_price_pence"),
    ((PricingLine("Group place per week", Unit.WEEK, "1:4", 99.99),), "pricing_lines.0.maximum_price_pence"),
    ((PricingLine("", Unit.WEEK, "1:4", 100),), "pricing_lines.0.description"),
    ((PricingLine("Place", "month", "1:4", 100),), "pricing_lines.0.unit"),
    ((), "pricing_lines"),
])
def test_invalid_pricing_proposal_is_refused_naming_the_field(lines, field):
    provider = admitted_provider()
    with pytest.raises(InvalidInput) as refused:
        provider.propose_pricing(1, lines, date(2025, 9, 1), at(2025, 7, 1))
    assert field in refused.value.field_errors
    assert len(provider.schedules[1]) == 1


def test_schedule_cannot_take_effect_in_the_past():
    provider = admitted_provider()
    with pytest.raises(InvalidInput) as refused:
        provider.propose_pricing(1, RAISED, date(2025, 6, 30), at(2025, 7, 1))
    assert refused.value.field == "effective_from"


def test_one_proposal_per_lot_awaits_approval_at_a_time():
    provider = admitted_provider()
    provider.propose_pricing(1, RAISED, date(2025, 9, 1), at(2025, 7, 1))
    with pytest.raises(Conflict):
        provider.propose_pricing(1, RAISED, date(2025, 10, 1), at(2025, 7, 2))
    provider.withdraw_pricing(1, 2, at(2025, 7, 3))
    assert provider.propose_pricing(1, RAISED, date(2025, 10, 1), at(2025, 7, 3)).version == 3


def test_rejected_proposal_never_takes_effect_and_needs_a_reason():
    provider = admitted_provider()
    provider.propose_pricing(1, RAISED, date(2025, 9, 1), at(2025, 7, 1))
    with pytest.raises(InvalidInput):
        provider.reject_pricing(1, 2, "", at(2025, 7, 2))
    rejected = provider.reject_pricing(1, 2, "a 5.5% rise is not justified", at(2025, 7, 2))
    assert (rejected.status, rejected.reason) == (ScheduleStatus.REJECTED, "a 5.5% rise is not justified")
    assert provider.schedule_in_force(1, date(2025, 10, 1)).version == 1


def test_only_a_proposal_awaiting_approval_can_be_decided():
    provider = admitted_provider()
    with pytest.raises(Conflict):
        provider.approve_pricing(1, 1, at(2025, 7, 1))  # version 1 is in force already
    with pytest.raises(NotFound):
        provider.approve_pricing(1, 7, at(2025, 7, 1))


def test_removed_membership_takes_no_pricing_or_capacity_changes():
    provider = admitted_provider()
    provider.remove(1, "left the market", at(2025, 6, 1))
    with pytest.raises(Conflict):
        provider.propose_pricing(1, RAISED, date(2025, 9, 1), at(2025, 7, 1))
    with pytest.raises(Conflict):
        provider.change_capacity(1, 3, at(2025, 7, 1))


# -------------------------------------------------------------- capacity


def test_capacity_change_takes_effect_at_once_and_is_announced():
    provider = admitted_provider()
    provider.events.clear()
    provider.change_capacity(1, 0, at(2025, 3, 3))
    assert provider.membership(1).capacity == 0
    assert provider.events == [CapacityChanged(provider.id, "Bridges Learning Ltd", 1, 0, at(2025, 3, 3), previous=5)]
    provider.change_capacity(1, 0, at(2025, 3, 4))
    assert len(provider.events) == 1  # nothing changed, nothing announced


@pytest.mark.parametrize("capacity", [-1, 2.5, None, False])
def test_capacity_below_zero_or_not_whole_is_refused(capacity):
    provider = admitted_provider()
    with pytest.raises(InvalidInput) as refused:
        provider.change_capacity(1, capacity, at(2025, 3, 3))
    assert refused.value.field == "capacity"
    assert provider.membership(1).capacity == 5


def test_suspended_member_may_still_change_capacity():
    provider = provider_in(MembershipStatus.SUSPENDED)
    provider.change_capacity(1, 2, at(2025, 3, 3))
    assert provider.membership(1).capacity == 2


def test_admission_announces_one_membership_per_lot_at_the_moment_of_admission():
    provider = admitted_provider()
    assert [(e.lot, e.capacity, e.at) for e in events_of(provider, MembershipAdmitted)] == [
        (1, 5, ADMITTED), (2, 6, ADMITTED)]


def test_admission_announces_the_contacts_and_a_later_announcement_says_nothing_again():
    provider = admitted_provider(lots=(2,))
    assert provider.contacts_announced
    provider.events.clear()
    assert provider.announce_contacts(ADMITTED) is False and provider.events == []
    provider.contacts_announced = False  # as a provider admitted before the notifications service existed
    assert provider.announce_contacts(ADMITTED) is True
    assert [type(e) for e in provider.events] == [ContactsChanged]

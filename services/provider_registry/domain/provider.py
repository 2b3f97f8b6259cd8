"""The Provider aggregate: an admitted provider's record on the DPS, its
memberships of lots (with the places declared on each), pricing schedules,
compliance documents and service level agreement.  What happened is recorded
in `self.events`.

Methods take `now` (an aware UTC datetime) and count dates in England's days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from shared.calendar import council_date
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

from . import compliance, events
from .application import (
    Application,
    ApplicationStatus,
    Organisation,
    SafeguardingLead,
    check_document,
    check_notification_addresses,
    check_organisation,
    check_safeguarding_lead,
)
from .common import Refusals, as_member, is_blank, is_whole_number, require_reason
from .compliance import ComplianceActions, ComplianceDocument, DocumentKind, compliance_actions, compliance_problems
from .declarations import DeclarationRequest
from .dps import DPS, check_lot
from .membership import Membership, MembershipStatus
from .pricing import PricingLine, PricingSchedule, ScheduleStatus, check_pricing_lines
from .setting import DeclaredRoll, Identifier, Registration, SettingKind, check_registration, check_roll, identifiers

COMPLIANCE_RESTORED = "all compliance documents are valid again"


@dataclass(unsafe_hash=True)  # a value, never changed; not frozen so the ORM can store it
class SlaAcceptance:
    version: str
    accepted_on: date
    dps_id: UUID = FIRST_DPS_ID  # each DPS record has its own SLA versions


class Provider:
    def __init__(self, id: UUID, organisation: Organisation, registration: Registration,
                 safeguarding_lead: SafeguardingLead, documents: Iterable[ComplianceDocument]) -> None:
        self.id = id
        self.organisation = organisation
        self.registration = registration
        self.safeguarding_lead = safeguarding_lead
        self.documents: dict[DocumentKind, ComplianceDocument] = {}
        for document in documents:
            self.documents[DocumentKind(document.kind)] = document
        self.memberships: dict[tuple[UUID, int], Membership] = {}  # by (DPS, lot): Membership.key
        self.pricing_schedules: list[PricingSchedule] = []  # every version of every lot, in order proposed
        self.sla_acceptances: list[SlaAcceptance] = []
        self.declaration_requests: list[DeclarationRequest] = []  # in the order asked
        # where the DPS sends the provider's notifications (the safeguarding lead's, until it says otherwise)
        self.notification_addresses: list[str] = [safeguarding_lead.email] if safeguarding_lead.email else []
        self.contacts_announced = False  # whether the notifications service has been told them
        self.declared_roll: DeclaredRoll | None = None  # an unregistered setting's (the registration rule)
        self.events: list[events.Event] = []

    @classmethod
    def from_application(cls, application: Application) -> Provider:
        form = application.form
        return cls(application.provider_id, form.organisation, form.registration,
                   form.safeguarding_lead, form.documents)

    @property
    def name(self) -> str:
        return self.organisation.name

    @property
    def identifiers(self) -> tuple[Identifier, ...]:
        """The organisation's identifiers in org-id.guide's schemes (setting.identifiers)."""
        return identifiers(self.organisation, self.registration)

    @property
    def capacity(self) -> dict[tuple[UUID, int], int]:
        """Places declared, by (DPS, lot)."""
        return {key: m.capacity for key, m in self.memberships.items()}

    @property
    def schedules(self) -> dict[int, list[PricingSchedule]]:
        """Every version of each lot's pricing schedule, oldest first."""
        by_lot: dict[int, list[PricingSchedule]] = {}
        for schedule in sorted(self.pricing_schedules, key=lambda s: (s.lot, s.version)):
            by_lot.setdefault(schedule.lot, []).append(schedule)
        return by_lot

    # ------------------------------------------------------------ admission

    def admit(self, application: Application, dps: DPS, now: datetime) -> None:
        """Make the manager's admission real: a membership of each admitted
        lot until the end of the DPS term, its pricing schedule (version 1 of
        the lot, or the next) in force from today, its capacity, and the SLA
        the provider accepted when it applied.  A document that expired since
        the application was submitted suspends the new memberships at once."""
        if application.provider_id != self.id:
            raise ValueError("the application is another provider's")
        if application.status is not ApplicationStatus.ADMITTED:
            raise Conflict(f"the application is {application.status.value}, not admitted")
        today = council_date(now)
        dps.require_in_force(today)  # no admission after the DPS ends (by its term or by law)
        for lot in application.admitted_lots:
            held = self.memberships.get((dps.id, lot))
            if held and held.status_on(today) in (MembershipStatus.ADMITTED, MembershipStatus.SUSPENDED):
                raise Conflict(f"the provider is already a member of lot {lot}")

        first_admission = not self.memberships
        form = application.form
        self._take_details(form.organisation, form.registration, now)
        self.safeguarding_lead = form.safeguarding_lead
        for document in form.documents:
            self.documents[DocumentKind(document.kind)] = document
        if not self.has_accepted(form.sla_version, dps.id):
            self.sla_acceptances.append(SlaAcceptance(form.sla_version, application.deadline.submitted_on, dps.id))

        for lot in application.admitted_lots:
            entry = application.lot(lot)
            membership = Membership(lot, admitted_on=today, ends_on=dps.ends_on, capacity=entry.capacity, dps_id=dps.id)
            self.memberships[membership.key] = membership
            schedule = self._add_schedule(lot, tuple(entry.pricing_lines), today, now)
            schedule.status, schedule.decided_at = ScheduleStatus.APPROVED, now
            schedule.announced = True  # events.MembershipAdmitted carries the lines
            self.events.append(events.MembershipAdmitted(
                self.id, self.name, lot, _value(self.registration.setting_kind),
                schedule.version, schedule.lines, entry.capacity, today, dps.ends_on, now,
                urn=self.registration.urn, identifiers=self.identifiers, dps_id=dps.id,
                establishment_type=_value(self.registration.establishment_type),
                declared_roll=self.declared_roll))
        if first_admission:  # the notifications service learns where to write
            self.notification_addresses = list(self.notification_addresses) or [self.safeguarding_lead.email]
            self._contacts_changed(now)
        self.check_compliance(now)

    # ------------------------------------------------- registration details

    def update_details(self, now: datetime, *, organisation: Organisation | None = None,
                       registration: Registration | None = None,
                       safeguarding_lead: SafeguardingLead | None = None) -> None:
        """What the provider or the manager changes of the record at once: the
        organisation, the registration, the safeguarding lead."""
        if organisation is not None or registration is not None:
            self.change_details(now, organisation=organisation, registration=registration)
        if safeguarding_lead is not None:
            self.change_safeguarding_lead(safeguarding_lead)
        changed = tuple(name for name, value in (("organisation", organisation), ("registration", registration),
                                                  ("safeguarding_lead", safeguarding_lead)) if value is not None)
        self.events.append(events.DetailsChanged(self.id, changed))

    def change_details(self, now: datetime, organisation: Organisation | None = None,
                       registration: Registration | None = None) -> None:
        """The provider's name, address or registration changed."""
        refusals = Refusals()
        if organisation is not None:
            check_organisation(organisation, refusals)
        if registration is not None:
            check_registration(registration, refusals, council_date(now))
        refusals.raise_if_any("details refused")
        self._take_details(organisation or self.organisation, registration or self.registration, now)

    def _take_details(self, organisation: Organisation, registration: Registration, now: datetime) -> None:
        published_before = (self.organisation.name, self.registration, self.identifiers)
        if as_member(SettingKind, registration.setting_kind) is not as_member(SettingKind,
                                                                             self.registration.setting_kind):
            self.declared_roll = None  # a roll is an unregistered setting's: one that becomes one declares afresh
        self.organisation, self.registration = organisation, registration
        if (self.organisation.name, self.registration, self.identifiers) != published_before:
            self._registration_changed(now)

    def _registration_changed(self, now: datetime) -> None:
        self.events.append(events.RegistrationChanged(self.id, self.name, self.registration, self.identifiers, now,
                                                      declared_roll=self.declared_roll))

    def declare_roll(self, now: datetime, *, full_time_pupils: object, any_ehcp: object = False,
                     any_looked_after: object = False, any_sen: object = False) -> DeclaredRoll:
        """An unregistered setting declares its whole roll (every commissioner's pupils), dated now, for
        the registration rule; a registered school or an FE college / training provider is not caught."""
        if as_member(SettingKind, self.registration.setting_kind) is not SettingKind.UNREGISTERED:
            raise Conflict("only an unregistered setting declares its roll: a registered school or a further "
                           "education college / training provider is not caught by the registration rule "
                           "(Education Act 1996 s.463; Education and Skills Act 2008 s.92: law)",
                           field="setting_kind")
        refusals = Refusals()
        flags = {"any_ehcp": any_ehcp, "any_looked_after": any_looked_after, "any_sen": any_sen}
        check_roll(full_time_pupils, flags, refusals)
        refusals.raise_if_any("declared roll refused")
        self.declared_roll = DeclaredRoll(full_time_pupils, any_ehcp, any_looked_after, any_sen, now)
        self.events.append(events.RollDeclared(self.id, self.declared_roll))
        self._registration_changed(now)
        return self.declared_roll

    def change_notification_addresses(self, addresses: Iterable[str], now: datetime) -> None:
        """Where the DPS sends the provider's notifications: one to five email addresses."""
        addresses = [a.strip() for a in addresses]
        refusals = Refusals()
        check_notification_addresses(addresses, refusals)
        refusals.raise_if_any("notification addresses refused")
        if addresses != list(self.notification_addresses):
            self.notification_addresses = addresses
            self._contacts_changed(now)

    def announce_contacts(self, now: datetime) -> bool:
        """Tell the notifications service where to write, once, if it has never been told (a provider
        admitted before that service existed); whether it was told now."""
        if self.contacts_announced or not self.notification_addresses:
            return False
        self._contacts_changed(now)
        return True

    def _contacts_changed(self, now: datetime) -> None:
        self.contacts_announced = True
        self.events.append(events.ContactsChanged(self.id, self.name, tuple(self.notification_addresses), now))

    def change_safeguarding_lead(self, lead: SafeguardingLead) -> None:
        refusals = Refusals()
        check_safeguarding_lead(lead, refusals)
        refusals.raise_if_any("safeguarding lead refused")
        self.safeguarding_lead = lead

    # ------------------------------------------------- service level agreement

    def has_accepted(self, version: str, dps_id: UUID = FIRST_DPS_ID) -> bool:
        return any(a.version == version and a.dps_id == dps_id for a in self.sla_acceptances)

    @property
    def current_sla(self) -> SlaAcceptance | None:
        """The latest SLA accepted of the first DPS."""
        return next((a for a in reversed(self.sla_acceptances) if a.dps_id == FIRST_DPS_ID), None)

    def accept_sla(self, dps: DPS, version: str, now: datetime) -> SlaAcceptance:
        """The provider accepts the council's current SLA version."""
        if version != dps.sla_version:
            raise InvalidInput(f"the current service level agreement is version {dps.sla_version}",
                               field="sla_version")
        if self.has_accepted(version, dps.id):
            raise Conflict(f"SLA version {version} is already accepted")
        acceptance = SlaAcceptance(version, council_date(now), dps.id)
        self.sla_acceptances.append(acceptance)
        self.events.append(events.SlaAccepted(self.id, acceptance.version, acceptance.accepted_on, now, dps.id))
        return acceptance

    # ------------------------------------------------------------ memberships

    def membership(self, lot: int, dps_id: UUID = FIRST_DPS_ID) -> Membership:
        lot = check_lot(lot)
        if (dps_id, lot) not in self.memberships:
            raise NotFound(f"the provider has no membership of lot {lot}"
                           + ("" if dps_id == FIRST_DPS_ID else f" of DPS {dps_id}"))
        return self.memberships[(dps_id, lot)]

    def member_lots(self, today: date, dps_id: UUID | None = FIRST_DPS_ID) -> tuple[int, ...]:
        """Lots of a DPS (of any, with None) the provider is a member of
        (admitted or suspended): it may not apply for them again; a lot it
        was removed from it may."""
        current = (MembershipStatus.ADMITTED, MembershipStatus.SUSPENDED)
        return tuple(sorted({m.lot for m in self.memberships.values()
                             if (dps_id is None or m.dps_id == dps_id) and m.status_on(today) in current}))

    def end_with(self, dps: DPS) -> None:
        """Every membership of the DPS ends when it does (its statutory end moved by configuration)."""
        for membership in self.memberships.values():
            if membership.dps_id == dps.id:
                membership.ends_on = dps.ends_on

    def require_member(self, today: date) -> None:
        """The provider's own users change its record only while it is a member of some lot (admitted or
        suspended): removed from every lot, or past the end of the DPS term, it may still read its record
        (and its placements) but no longer change it."""
        if not self.member_lots(today, None):
            raise Forbidden("your organisation's membership of every lot has been removed or has ended: "
                            "you may read your record but no longer change it")

    def active_lots(self, today: date, dps_id: UUID = FIRST_DPS_ID) -> tuple[int, ...]:
        """Lots of a DPS on which the provider is admitted and not suspended:
        it is invited to their referrals and may be awarded."""
        return tuple(sorted(m.lot for m in self.memberships.values() if m.dps_id == dps_id and m.is_active(today)))

    def suspend(self, lot: int, reason: str, now: datetime, dps_id: UUID = FIRST_DPS_ID) -> None:
        """The manager suspends a membership (e.g. a safeguarding concern)."""
        membership = self.membership(lot, dps_id)
        membership.suspend(reason, council_date(now))
        self.events.append(events.MembershipSuspended(self.id, self.name, membership.lot, membership.reason,
                                               False, now, dps_id=dps_id))

    def reinstate(self, lot: int, reason: str, now: datetime, dps_id: UUID = FIRST_DPS_ID) -> None:
        """The manager lifts a suspension; not while a compliance document is
        expired (the check would only suspend it again)."""
        membership = self.membership(lot, dps_id)
        reason = require_reason(reason)
        problems = compliance_problems(self.documents.values(), council_date(now))
        if problems and membership.status is MembershipStatus.SUSPENDED:
            raise Conflict(f"cannot reinstate while {'; '.join(problems)}")
        membership.reinstate(reason, council_date(now))
        self.events.append(events.MembershipReinstated(self.id, self.name, membership.lot, reason, False, now,
                                                       dps_id=dps_id))

    def remove(self, lot: int, reason: str, now: datetime, dps_id: UUID = FIRST_DPS_ID) -> None:
        membership = self.membership(lot, dps_id)
        membership.remove(reason, council_date(now))
        self.events.append(events.MembershipRemoved(self.id, self.name, membership.lot, membership.reason, now,
                                                    dps_id=dps_id))

    # ------------------------------------------------------------ compliance

    def upload_document(self, document: ComplianceDocument, now: datetime) -> None:
        """A new insurance certificate, DBS confirmation or safeguarding
        policy replaces the one of its kind.  The compliance check (scheduled,
        or run straight after) lifts the suspensions it made."""
        refusals = Refusals()
        kind = as_member(DocumentKind, document.kind)
        if kind is None:
            refusals.add("kind", "insurance, dbs_confirmation or safeguarding_policy")
        else:
            check_document(document, council_date(now), refusals, f"documents.{kind.value}")
        refusals.raise_if_any("document refused")
        self.documents[kind] = document  # type: ignore[index]
        self.events.append(events.DocumentUploaded(self.id, kind.value, document.reference,  # type: ignore[union-attr]
                                            document.expires_on))

    def check_compliance(self, now: datetime) -> ComplianceActions:
        """Suspend every admitted membership while a document is expired; lift
        the check's own suspensions once all are valid again."""
        today = council_date(now)
        actions = compliance_actions(self.documents.values(), self.memberships.values(), today)
        for (dps_id, lot), reason in actions.suspend:
            self.memberships[(dps_id, lot)].suspend(reason, today, automatic=True)
            self.events.append(events.MembershipSuspended(self.id, self.name, lot, reason, True, now, dps_id=dps_id))
        for dps_id, lot in actions.reinstate:
            self.memberships[(dps_id, lot)].reinstate(COMPLIANCE_RESTORED, today)
            self.events.append(events.MembershipReinstated(self.id, self.name, lot, COMPLIANCE_RESTORED, True, now,
                                                           dps_id=dps_id))
        return actions

    def warn_of_expiry(self, now: datetime) -> list[int]:
        """Warn the provider of each compliance document 30, 14 and 7 days before it expires, and once it has
        expired, once per threshold (compliance.expiry_warning); run by the daily job.  Returns the warnings."""
        today, given = council_date(now), []
        for kind, document in sorted(self.documents.items()):
            due = compliance.expiry_warning(document, today)
            if due is None:
                continue
            document.warned_days = due
            given.append(due)
            if due == 0:
                self.events.append(events.ComplianceDocumentExpired(self.id, self.name, DocumentKind(kind).value,
                                                                    document.expires_on, now))
            else:
                self.events.append(events.ComplianceDocumentExpiring(
                    self.id, self.name, DocumentKind(kind).value, document.expires_on, now,
                    days_left=(document.expires_on - today).days))
        return given

    # ------------------------------------------------- renewed self-declarations

    @property
    def latest_declaration_request(self) -> DeclarationRequest | None:
        return self.declaration_requests[-1] if self.declaration_requests else None

    def is_asked_for_declaration(self, today: date) -> bool:
        latest = self.latest_declaration_request
        return latest is not None and latest.is_awaited(today)

    def request_declaration(self, now: datetime) -> DeclarationRequest:
        """The manager asks for a renewed self-declaration, due in 5 working days."""
        today = council_date(now)
        if not self.member_lots(today):
            raise Conflict("the provider is no longer a member of any lot: there is nothing to declare for")
        if self.is_asked_for_declaration(today):
            raise Conflict(f"a renewed self-declaration is already asked for, due on "
                           f"{self.latest_declaration_request.due_on.isoformat()}")  # type: ignore[union-attr]
        request = DeclarationRequest.made(now)
        self.declaration_requests.append(request)
        self.events.append(events.DeclarationRequested(self.id, request.requested_on, request.due_on, self.name, now))
        return request

    def answer_declaration(self, exclusion_grounds_apply: bool, selection_criteria_met: bool,
                           changes: str | None, now: datetime) -> DeclarationRequest:
        """The provider gives its renewed self-declaration.  Given late, it is
        kept, but a suspension for want of it stays until the manager reinstates."""
        request = self.latest_declaration_request
        if request is None or request.answered_at is not None:
            raise Conflict("no renewed self-declaration is asked for")
        refusals = Refusals()
        if not isinstance(exclusion_grounds_apply, bool):
            refusals.add("exclusion_grounds_apply", "true or false: whether any ground for exclusion applies")
        if not isinstance(selection_criteria_met, bool):
            refusals.add("selection_criteria_met", "true or false: whether the selection criteria are still met")
        changes = None if is_blank(changes) else changes.strip()  # type: ignore[union-attr]
        if (exclusion_grounds_apply is True or selection_criteria_met is False) and changes is None:
            refusals.add("changes", "say what has changed: a ground for exclusion, or a criterion no longer met")
        refusals.raise_if_any("declaration refused")
        request.answered_at, request.changes = now, changes
        request.exclusion_grounds_apply = exclusion_grounds_apply
        request.selection_criteria_met = selection_criteria_met
        self.events.append(events.DeclarationAnswered(
            self.id, request.requested_on, request.due_on, council_date(now), request.answered_on_time,
            exclusion_grounds_apply, selection_criteria_met, changes))
        return request

    def lapse_declarations(self, now: datetime) -> bool:
        """Suspend every current membership (those the compliance check
        suspended become the council's) once a renewed self-declaration's
        last day has passed without it; run by the daily job."""
        today = council_date(now)
        lapsed = [r for r in self.declaration_requests if r.lapses(today)]
        for request in lapsed:
            request.lapsed_on = today
            reason = request.lapse_reason()
            self.events.append(events.DeclarationLapsed(self.id, request.requested_on, request.due_on, reason))
            for (dps_id, lot), membership in self.memberships.items():
                if membership.status_on(today) is MembershipStatus.ADMITTED or (
                        membership.status_on(today) is MembershipStatus.SUSPENDED and membership.automatic):
                    self.suspend(lot, reason, now, dps_id)
        return bool(lapsed)

    # ------------------------------------------------------------ capacity

    def change_capacity(self, lot: int, capacity: int, now: datetime, dps_id: UUID = FIRST_DPS_ID) -> None:
        """Capacity changes take effect at once."""
        membership = self._current_membership(lot, council_date(now), dps_id)
        if not is_whole_number(capacity) or capacity < 0:
            raise InvalidInput("capacity is a whole number of places, zero or more", field="capacity")
        if membership.capacity == capacity:
            return
        previous, membership.capacity = membership.capacity, capacity
        self.events.append(events.CapacityChanged(self.id, self.name, lot, capacity, now, previous))

    def _current_membership(self, lot: int, today: date, dps_id: UUID | None = None) -> Membership:
        """The membership of the lot of a DPS (of any DPS, with None: a pricing
        schedule is the provider's for the lot) that has not been removed or ended."""
        if dps_id is None:
            held = [m for m in self.memberships.values() if m.lot == lot]
            dps_id = next((m.dps_id for m in held if m.status_on(today) not in (
                MembershipStatus.REMOVED, MembershipStatus.ENDED)), held[0].dps_id if held else FIRST_DPS_ID)
        membership = self.membership(lot, dps_id)
        status = membership.status_on(today)
        if status in (MembershipStatus.REMOVED, MembershipStatus.ENDED):
            raise Conflict(f"the membership of lot {lot} is {status.value}")
        return membership

    # ------------------------------------------------------- pricing schedules

    def propose_pricing(self, lot: int, lines: Iterable[PricingLine], effective_from: date,
                        now: datetime) -> PricingSchedule:
        """The provider proposes a new version of its schedule for a lot,
        effective from a date; it awaits the manager's approval."""
        today = council_date(now)
        self._current_membership(lot, today)
        lines = tuple(lines)
        refusals = Refusals()
        check_pricing_lines(lines, "pricing_lines", refusals)
        if not isinstance(effective_from, date):
            refusals.add("effective_from", "the date the schedule takes effect is required")
        elif effective_from < today:
            refusals.add("effective_from", "cannot take effect in the past")
        refusals.raise_if_any("pricing schedule refused")
        if any(s.status is ScheduleStatus.PROPOSED for s in self.schedules.get(lot, ())):
            raise Conflict(f"a change to the pricing schedule of lot {lot} is already awaiting approval")
        schedule = self._add_schedule(lot, lines, effective_from, now)
        self._pricing_changed(schedule, "proposed", lines=schedule.lines)
        return schedule

    def _pricing_changed(self, schedule: PricingSchedule, action: str, **details) -> None:
        self.events.append(events.PricingChanged(self.id, schedule.lot, schedule.version, action,
                                          schedule.effective_from, **details))

    def approve_pricing(self, lot: int, version: int, now: datetime) -> PricingSchedule:
        """The manager approves a proposed version.  Approved late, it takes
        effect from the day of approval rather than from a day gone by."""
        schedule = self._proposed(lot, version)
        today = council_date(now)
        schedule.status, schedule.decided_at = ScheduleStatus.APPROVED, now
        schedule.effective_from = max(schedule.effective_from, today)
        self._pricing_changed(schedule, "approved")
        self.bring_pricing_into_effect(now)
        return schedule

    def reject_pricing(self, lot: int, version: int, reason: str, now: datetime) -> PricingSchedule:
        reason = require_reason(reason)
        schedule = self._proposed(lot, version)
        schedule.status, schedule.decided_at, schedule.reason = ScheduleStatus.REJECTED, now, reason
        self._pricing_changed(schedule, "rejected", reason=reason)
        return schedule

    def withdraw_pricing(self, lot: int, version: int, now: datetime) -> PricingSchedule:
        """The provider withdraws a proposal the manager has not decided."""
        schedule = self._proposed(lot, version)
        schedule.status, schedule.decided_at = ScheduleStatus.WITHDRAWN, now
        self._pricing_changed(schedule, "withdrawn")
        return schedule

    def bring_pricing_into_effect(self, now: datetime) -> list[PricingSchedule]:
        """Announce each approved version whose date has come (run daily by
        the scheduled job, and at approval)."""
        today = council_date(now)
        due = [s for versions in self.schedules.values() for s in versions
               if s.in_force_on(today) and not s.announced]
        for schedule in due:
            schedule.announced = True
            self.events.append(events.PricingScheduleEffective(self.id, self.name, schedule.lot, schedule.version,
                                                        schedule.effective_from, schedule.lines, now))
        return due

    def schedule_in_force(self, lot: int, on: date) -> PricingSchedule | None:
        """The approved version with the latest effective date on or before `on`."""
        in_force = [s for s in self.schedules.get(lot, ()) if s.in_force_on(on)]
        return max(in_force, key=lambda s: (s.effective_from, s.version), default=None)

    def maximum_price(self, lot: int, description: str, on: date) -> int | None:
        schedule = self.schedule_in_force(lot, on)
        line = schedule.line(description) if schedule else None
        return line.maximum_price_pence if line else None

    def _add_schedule(self, lot: int, lines: tuple[PricingLine, ...], effective_from: date,
                      now: datetime) -> PricingSchedule:
        version = len(self.schedules.get(lot, ())) + 1
        schedule = PricingSchedule(lot, version, lines, effective_from, ScheduleStatus.PROPOSED, now)
        self.pricing_schedules.append(schedule)
        return schedule

    def _proposed(self, lot: int, version: int) -> PricingSchedule:
        lot = check_lot(lot)
        schedule = next((s for s in self.schedules.get(lot, ()) if s.version == version), None)
        if schedule is None:
            raise NotFound(f"lot {lot} has no pricing schedule version {version!r}")
        if schedule.status is not ScheduleStatus.PROPOSED:
            raise Conflict(f"version {version} of the pricing schedule of lot {lot} is "
                           f"{schedule.status.value}, not awaiting approval")
        return schedule


def _value(member: object) -> str | None:
    return getattr(member, "value", member)  # type: ignore[return-value]

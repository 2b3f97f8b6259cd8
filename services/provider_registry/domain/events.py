"""What happened, recorded by the aggregates in their `events`: the DPS
(its record, lots and SLA), an Application (submission, marks, deadline,
decision) and a Provider (memberships, pricing, capacity, details).

The unit of work turns each into what it becomes on commit (messages.py):
an outbox message for the events other services read (those whose `type` is
in shared/catalogue.py), and a line of the audit trail for every change.

Each published event carries what other services need to keep their own copy
of the provider (name, lot, status, registration status, pricing lines,
capacity), so nobody has to call this service to do their work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from shared.catalogue import FIRST_DPS_ID

from .pricing import PricingLine
from .questions import Question
from .setting import DeclaredRoll, Identifier, Registration


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]


@dataclass(frozen=True)
class MembershipAdmitted(Event):
    type: ClassVar[str] = "membership.admitted"
    provider_id: UUID
    provider_name: str
    lot: int
    setting_kind: str  # setting.SettingKind's value
    pricing_version: int
    pricing_lines: tuple[PricingLine, ...]
    capacity: int
    admitted_on: date
    ends_on: date  # the end of the DPS term
    at: datetime
    status: str = "admitted"
    urn: str | None = None  # the DfE URN of a registered school
    identifiers: tuple[Identifier, ...] = ()
    dps_id: UUID = FIRST_DPS_ID
    establishment_type: str | None = None  # a registered school's setting.EstablishmentType value
    declared_roll: DeclaredRoll | None = None  # an unregistered setting's, the registration rule's count


@dataclass(frozen=True)
class ContactsChanged(Event):
    """Where the DPS sends the provider's notifications (its admission sets the first)."""

    type: ClassVar[str] = "provider.contacts_changed"
    provider_id: UUID
    provider_name: str
    notification_addresses: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class MembershipSuspended(Event):
    type: ClassVar[str] = "membership.suspended"
    provider_id: UUID
    provider_name: str
    lot: int
    reason: str
    automatic: bool  # True when the compliance check suspended it
    at: datetime
    status: str = "suspended"
    dps_id: UUID = FIRST_DPS_ID


@dataclass(frozen=True)
class MembershipReinstated(Event):
    type: ClassVar[str] = "membership.reinstated"
    provider_id: UUID
    provider_name: str
    lot: int
    reason: str
    automatic: bool
    at: datetime
    status: str = "admitted"
    dps_id: UUID = FIRST_DPS_ID


@dataclass(frozen=True)
class MembershipRemoved(Event):
    type: ClassVar[str] = "membership.removed"
    provider_id: UUID
    provider_name: str
    lot: int
    reason: str
    at: datetime
    status: str = "removed"
    dps_id: UUID = FIRST_DPS_ID


@dataclass(frozen=True)
class PricingScheduleEffective(Event):
    type: ClassVar[str] = "pricing_schedule.effective"
    provider_id: UUID
    provider_name: str
    lot: int
    version: int
    effective_from: date
    lines: tuple[PricingLine, ...]
    at: datetime


@dataclass(frozen=True)
class CapacityChanged(Event):
    type: ClassVar[str] = "capacity.changed"
    provider_id: UUID
    provider_name: str
    lot: int
    capacity: int
    at: datetime
    previous: int | None = None  # the places declared before (audit only)


@dataclass(frozen=True)
class RegistrationChanged(Event):
    type: ClassVar[str] = "provider.registration_changed"
    provider_id: UUID
    provider_name: str
    registration: Registration
    identifiers: tuple[Identifier, ...]
    at: datetime
    declared_roll: DeclaredRoll | None = None  # an unregistered setting's, the registration rule's count


@dataclass(frozen=True)
class DpsConfigured(Event):
    """A DPS record set up or changed: `record` is the whole record as it now
    is (DPS.published); `before`/`after` the settings changed, for the audit
    trail (None when the change has its own line: closing, a new SLA...)."""

    type: ClassVar[str] = "dps.configured"
    before: dict | None
    after: dict | None
    dps_id: UUID = FIRST_DPS_ID
    record: dict | None = None


@dataclass(frozen=True)
class DpsStatutoryEndApproaching(Event):
    type: ClassVar[str] = "dps.statutory_end_approaching"
    dps_id: UUID
    statutory_end: date
    months_before: int
    regulation: str


@dataclass(frozen=True)
class SlaAccepted(Event):
    type: ClassVar[str] = "provider.sla_accepted"
    provider_id: UUID
    version: str
    accepted_on: date
    accepted_at: datetime | None = None
    dps_id: UUID = FIRST_DPS_ID


# ------------------------------------------------ told to the applicant and the provider (#18)
# The applicant is not yet a provider the other services know: an application's events carry the address
# it gave (its safeguarding lead's email), which its messages go to.


@dataclass(frozen=True)
class ApplicationSubmitted(Event):
    type: ClassVar[str] = "application.submitted"
    application_id: UUID
    provider_id: UUID
    lots: tuple[int, ...]
    due_on: date
    provider_name: str
    contact_address: str
    at: datetime
    dps_id: UUID = FIRST_DPS_ID


@dataclass(frozen=True)
class ApplicationDecided(Event):
    """Admitted to some or all of the lots applied for, or rejected; with the reasons for each lot left out
    (the audit trail's line says application.admitted or application.rejected)."""

    type: ClassVar[str] = "application.decided"
    application_id: UUID
    provider_id: UUID
    admitted_lots: tuple[int, ...]
    reasons: tuple  # of application.Reason
    on_time: bool
    provider_name: str
    contact_address: str
    lots_applied_for: tuple[int, ...]
    at: datetime
    dps_id: UUID = FIRST_DPS_ID


@dataclass(frozen=True)
class _DocumentEvent(Event):
    provider_id: UUID
    provider_name: str
    kind: str  # compliance.DocumentKind's value
    expires_on: date  # its last valid day
    at: datetime


@dataclass(frozen=True)
class ComplianceDocumentExpiring(_DocumentEvent):
    """A compliance document expires in 30, 14 or 7 days (once per threshold per document: compliance.py)."""

    type: ClassVar[str] = "compliance_document.expiring"
    days_left: int


@dataclass(frozen=True)
class ComplianceDocumentExpired(_DocumentEvent):
    """A compliance document has expired (once; the suspension of its memberships follows)."""

    type: ClassVar[str] = "compliance_document.expired"


# ------------------------------------------------ recorded for the audit trail only


@dataclass(frozen=True)
class DpsClosed(Event):
    type: ClassVar[str] = "dps.closed"
    reason: str | None
    dps_id: UUID = FIRST_DPS_ID


@dataclass(frozen=True)
class SlaIssued(Event):
    type: ClassVar[str] = "sla.issued"
    previous_version: str
    version: str
    reason: str | None
    dps_id: UUID = FIRST_DPS_ID


@dataclass(frozen=True)
class LotQuestionsSet(Event):
    type: ClassVar[str] = "lot.questions_set"
    lot: int
    before: tuple[Question, ...]
    after: tuple[Question, ...]
    dps_id: UUID = FIRST_DPS_ID



@dataclass(frozen=True)
class AnswerMarked(Event):
    type: ClassVar[str] = "application.marked"
    application_id: UUID
    lot: int
    question_id: str
    score: int
    previous_mark: int | None


@dataclass(frozen=True)
class DeadlineExtended(Event):
    type: ClassVar[str] = "application.deadline_extended"
    application_id: UUID
    reason: str
    was_due_on: date
    due_on: date



@dataclass(frozen=True)
class DetailsChanged(Event):
    type: ClassVar[str] = "provider.details_changed"
    provider_id: UUID
    changed: tuple[str, ...]  # organisation, registration, safeguarding_lead


@dataclass(frozen=True)
class RollDeclared(Event):
    """An unregistered setting declared its whole roll (the registration rule)."""

    type: ClassVar[str] = "provider.roll_declared"
    provider_id: UUID
    roll: DeclaredRoll


@dataclass(frozen=True)
class DocumentUploaded(Event):
    type: ClassVar[str] = "provider.document_uploaded"
    provider_id: UUID
    kind: str
    reference: str
    expires_on: date


@dataclass(frozen=True)
class PricingChanged(Event):
    """A version of a pricing schedule proposed, approved, rejected or withdrawn."""

    type: ClassVar[str] = "pricing_schedule.changed"
    provider_id: UUID
    lot: int
    version: int
    action: str  # proposed | approved | rejected | withdrawn
    effective_from: date
    lines: tuple[PricingLine, ...] = ()  # with a proposal
    reason: str | None = None  # with a rejection


@dataclass(frozen=True)
class _DeclarationEvent(Event):
    """Of a request for a renewed self-declaration (declarations.py)."""

    provider_id: UUID
    requested_on: date
    due_on: date


@dataclass(frozen=True)
class DeclarationRequested(_DeclarationEvent):
    """Published: the provider is told what is asked and by when (#18)."""

    type: ClassVar[str] = "provider.declaration_requested"
    provider_name: str
    at: datetime


@dataclass(frozen=True)
class DeclarationAnswered(_DeclarationEvent):
    type: ClassVar[str] = "provider.declaration_answered"
    answered_on: date
    on_time: bool
    exclusion_grounds_apply: bool
    selection_criteria_met: bool
    changes: str | None


@dataclass(frozen=True)
class DeclarationLapsed(_DeclarationEvent):
    """No answer by the last day: the memberships are suspended (membership.suspended follows)."""

    type: ClassVar[str] = "provider.declaration_lapsed"
    reason: str


# ------------------------------------------------ published (the catalogue's)

EVENTS: tuple[type[Event], ...] = (
    MembershipAdmitted, MembershipSuspended, MembershipReinstated, MembershipRemoved,
    PricingScheduleEffective, CapacityChanged, RegistrationChanged,
    DpsConfigured, DpsStatutoryEndApproaching, SlaAccepted, ContactsChanged,
    ApplicationSubmitted, ApplicationDecided, ComplianceDocumentExpiring, ComplianceDocumentExpired,
    DeclarationRequested,
)

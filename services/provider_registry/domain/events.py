"""What happened to a provider, recorded by the Provider aggregate in
`provider.events`.  The service layer turns each into an outbox message whose
type is the event's `type` (see shared/catalogue.py).

Each event carries what other services need to keep their own copy of the
provider (name, lot, status, registration status, pricing lines, capacity), so
nobody has to call this service to do their work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from .pricing import PricingLine


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]


@dataclass(frozen=True)
class MembershipAdmitted(Event):
    type: ClassVar[str] = "membership.admitted"
    provider_id: UUID
    provider_name: str
    lot: int
    registration_status: str
    pricing_version: int
    pricing_lines: tuple[PricingLine, ...]
    capacity: int
    admitted_on: date
    ends_on: date  # the end of the DPS term
    at: datetime
    status: str = "admitted"
    urn: str | None = None  # the DfE URN of a registered school


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


@dataclass(frozen=True)
class MembershipRemoved(Event):
    type: ClassVar[str] = "membership.removed"
    provider_id: UUID
    provider_name: str
    lot: int
    reason: str
    at: datetime
    status: str = "removed"


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


@dataclass(frozen=True)
class RegistrationChanged(Event):
    type: ClassVar[str] = "provider.registration_changed"
    provider_id: UUID
    provider_name: str
    registration_status: str
    urn: str | None
    ofsted_grade: str | None
    at: datetime


EVENTS: tuple[type[Event], ...] = (
    MembershipAdmitted, MembershipSuspended, MembershipReinstated, MembershipRemoved,
    PricingScheduleEffective, CapacityChanged, RegistrationChanged,
)

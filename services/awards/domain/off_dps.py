"""Off-DPS placements under the same oversight (issue #16 item 5, DOMAIN.md
*Referrals and offers*, *Who may do what*).

Where no DPS provider can meet a child's needs, an officer records an off-DPS
exception in referrals, naming the provider, the placement's terms and the
minimum checks (off_dps_exception.recorded).  Awards keeps a copy of it here
for the manager:

    pending --approve--> approved (the registration rule holds: the placement is tracked)
    pending --refuse (with a reason)--> refused

- Only the manager approves or refuses, once.  Approving applies the
  registration rule (registration.py, asked from ONE place here:
  `registration_refusals`) as it is applied to every child placed however
  placed: call-offs, block places, and these.  A refusal under it names the
  rule as law (409).
- An approved exception becomes a placement (`OffDpsPlacementApproved`,
  published as off_dps_placement.approved), which tracking follows like any
  other: attendance, concerns, reviews, outcomes, committed spend, the census.
  Nothing becomes a placement without approval: a refused exception is never
  approved (409).
- The provider is not on the DPS: it has no registry record, so it is given an
  id of its own (`off_dps_provider_id`), the same for the same setting across
  exceptions (by its URN, else its UKPRN, else its name).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, InvalidInput

from .common import breach
from .events import OffDpsPlacementApproved, OffDpsPlacementRefused
from .registration import (
    DEFAULT_RULES,
    DeclaredRoll,
    Pupil,
    RegistrationRules,
    Setting,
    SettingKind,
    registration_breaches,
)

OFF_DPS_PROVIDERS = uuid.UUID("0f0d9b7e-5c1a-4f7e-9a51-6f2d0c3b8e44")
"""The namespace of off-DPS providers' ids (uuid5): never a registry provider's id."""


def off_dps_provider_id(name: str, urn: str | None = None, ukprn: str | None = None) -> UUID:
    """The same setting, the same id, whichever exception names it."""
    key = f"urn:{urn}" if urn else f"ukprn:{ukprn}" if ukprn else f"name:{' '.join(name.casefold().split())}"
    return uuid.uuid5(OFF_DPS_PROVIDERS, key)


class OffDpsStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


@dataclass
class OffDpsPlacement:
    """An off-DPS exception as the manager weighs it, and the placement it becomes once approved."""

    referral_id: UUID
    lot: int
    team: str
    reason: str  # the officer's: why no DPS provider can meet the needs
    recorded_by: str
    recorded_at: datetime
    # the provider
    provider_name: str
    setting_kind: str  # registered_school | fe_or_training_provider | unregistered
    urn: str | None
    ukprn: str | None
    declared_full_time_pupils: int  # the setting's whole roll, full-time, from every commissioner
    # the placement's terms
    hours_per_week: Decimal
    start_date: date
    weekly_cost_pence: int
    weeks: int
    # the minimum checks, as referrals recorded them: name -> {"confirmed", "by", "on" (ISO date)}
    checks: dict = field(default_factory=dict)
    # the child, opaquely, as referrals described it
    child_ref: UUID | None = None
    reason_for_ap: str = ""
    ehcp: bool = False
    looked_after: bool = False
    full_time: bool = False  # decided by referrals at these hours; trusted here
    # the registration rule's facts of the child; an exception that does not say is judged as of compulsory
    # school age (the rule applies: the cautious reading)
    compulsory_school_age: bool = True
    has_sen: bool = False
    dps_id: UUID = FIRST_DPS_ID
    provider_id: UUID | None = None  # off_dps_provider_id: set when recorded
    placement_id: UUID = field(default_factory=uuid.uuid4)  # the placement tracking will follow
    status: OffDpsStatus = OffDpsStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    refusal_reason: str | None = None
    events: list = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.provider_id is None:
            self.provider_id = off_dps_provider_id(self.provider_name, self.urn, self.ukprn)

    @classmethod
    def from_exception(cls, data: Mapping) -> OffDpsPlacement:
        """Awards' copy of an off_dps_exception.recorded (its data, as the consumer read it)."""
        provider, terms = data["provider"], data["terms"]
        return cls(
            referral_id=data["referral_id"], lot=data["lot"], team=data["team"], reason=data["reason"],
            recorded_by=data["recorded_by"], recorded_at=data["at"], provider_name=provider["name"],
            setting_kind=provider["setting_kind"], urn=provider.get("urn"), ukprn=provider.get("ukprn"),
            declared_full_time_pupils=provider["full_time_pupils"], hours_per_week=terms["hours_per_week"],
            start_date=terms["start_date"], weekly_cost_pence=terms["weekly_cost_pence"], weeks=terms["weeks"],
            checks={name: {"confirmed": c["confirmed"], "by": c["by"], "on": c["on"].isoformat()}
                    for name, c in data["checks"].items()},
            child_ref=data.get("child_ref"), reason_for_ap=data.get("reason_for_ap") or "",
            ehcp=bool(data.get("ehcp")), looked_after=bool(data.get("looked_after")),
            full_time=bool(data.get("full_time")), dps_id=data.get("dps_id") or FIRST_DPS_ID,
            compulsory_school_age=data.get("compulsory_school_age", True), has_sen=bool(data.get("has_sen")))

    @property
    def total_pence(self) -> int:
        """What the placement commits: its weekly cost for its weeks."""
        return self.weekly_cost_pence * self.weeks

    def registration_refusals(self, rules: RegistrationRules = DEFAULT_RULES) -> list:
        """Every way this placement would break the registration rule (law) or the council's stricter
        policy: the setting's full-time roll as the exception declared it (the ONE call of
        registration_breaches for off-DPS placements; no DPS placement is with this setting)."""
        try:
            kind = SettingKind(self.setting_kind)
        except ValueError:
            kind = SettingKind.UNREGISTERED
        roll = DeclaredRoll(full_time_pupils=self.declared_full_time_pupils, any_ehcp=False, any_looked_after=False,
                            any_sen=False, declared_at=self.recorded_at)
        child = Pupil(hours_per_week=Decimal(self.hours_per_week), compulsory_school_age=self.compulsory_school_age,
                      has_ehcp=self.ehcp, looked_after=self.looked_after, has_sen=self.has_sen)
        return registration_breaches(child, Setting(kind, roll), (), rules, on=self.start_date)

    def approve(self, *, by: str, now: datetime, rules: RegistrationRules = DEFAULT_RULES) -> None:
        """The manager approves: the registration rule must hold; then the placement is tracked."""
        self._require_pending("approve")
        breaches = self.registration_refusals(rules)
        if breaches:
            raise breach(f"this off-DPS placement cannot be approved: {'; '.join(b.reason for b in breaches)}",
                         *dict.fromkeys(b.authority for b in breaches), field="referral_id")
        self.status, self.decided_by, self.decided_at = OffDpsStatus.APPROVED, by, now
        self.events.append(OffDpsPlacementApproved(
            placement_id=self.placement_id, referral_id=self.referral_id, dps_id=self.dps_id,
            provider_id=self.provider_id, provider_name=self.provider_name, setting_kind=self.setting_kind,
            urn=self.urn, ukprn=self.ukprn, lot=self.lot, team=self.team, child_ref=self.child_ref,
            reason_for_ap=self.reason_for_ap, hours_per_week=self.hours_per_week, full_time=self.full_time,
            start_date=self.start_date, weeks=self.weeks, weekly_cost_pence=self.weekly_cost_pence,
            total_pence=self.total_pence, approved_by=by, at=now))

    def refuse(self, reason: str, *, by: str, now: datetime) -> None:
        """The manager refuses, with a reason: no placement follows."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("the reason for refusing the off-DPS exception is required", field="reason")
        self._require_pending("refuse")
        self.status, self.decided_by, self.decided_at = OffDpsStatus.REFUSED, by, now
        self.refusal_reason = reason.strip()
        self.events.append(OffDpsPlacementRefused(referral_id=self.referral_id, reason=self.refusal_reason,
                                                  refused_by=by, at=now))

    def _require_pending(self, action: str) -> None:
        if self.status is OffDpsStatus.APPROVED:
            raise Conflict(f"cannot {action}: this off-DPS exception is already approved (its placement is "
                           f"tracked)")
        if self.status is OffDpsStatus.REFUSED:
            raise Conflict(f"cannot {action}: this off-DPS exception was refused ({self.refusal_reason}); "
                           f"no placement is made without the manager's approval")

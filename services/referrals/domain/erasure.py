"""Erasure of a child's data (UK GDPR Article 17), where the law allows it.

A request to erase what the council holds about a child is recorded, then
decided by the manager with a reason.  It may not be granted while a
statutory record must be kept (Article 17(3)(b): processing needed for a
legal obligation or a public task): `erasure_holds` names every hold, each
with its rule and whether it is law or the council's own policy.  Granted,
the child's identity and referrals go in every service (`child.erased`);
refused, nothing is deleted.  The audit trail keeps that it happened (the
decision, its reason and counts of what went), never what was erased.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from shared.errors import Conflict, InvalidInput

from .common import council_date, required_text
from .referral import ReferralStatus

PROCUREMENT_MINIMUM_YEARS = 3  # PCR 2015 regulation 84: the record of a call-off, 3 years after the award
EDUCATION_RECORD_YEARS = 6  # the placement's record (the AP census, the education record): tracking's default
OPEN = frozenset({ReferralStatus.DRAFT, ReferralStatus.PUBLISHED, ReferralStatus.CLOSED})


@dataclass(frozen=True)
class Hold:
    """Why a child's record must be kept: its name, the rule, law or policy, and what holds it."""

    name: str
    rule: str
    law: bool
    until: str  # in words: until when, or what ends it

    def __str__(self) -> str:
        authority = "law" if self.law else "the council's policy"
        return f"{self.name}: {self.rule} ({authority}); {self.until}"


@dataclass(frozen=True)
class ReferralFacts:
    """What erasure needs of one of the child's referrals."""

    referral_id: UUID
    status: ReferralStatus
    awarded_at: datetime | None


@dataclass(frozen=True)
class PlacementFacts:
    """A placement of the child, as tracking's events told referrals."""

    placement_id: UUID
    referral_id: UUID
    started_on: date | None
    ended_on: date | None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def erasure_holds(referrals: Iterable[ReferralFacts], placements: Iterable[PlacementFacts],
                  now: datetime) -> list[Hold]:
    """Every statutory hold on erasing the child's record now; empty when it may go."""
    today = council_date(now)
    holds: list[Hold] = []
    referrals, placements = list(referrals), list(placements)
    if any(r.status in OPEN for r in referrals):
        holds.append(Hold("open_referral", "Education Act 1996 s.19: the council must arrange the child's "
                          "education; UK GDPR Art. 17(3)(b)", True, "until the referral is awarded or cancelled"))
    if any(p.ended_on is None for p in placements):
        holds.append(Hold("live_placement", "Education Act 1996 s.19: the council's record of the child's "
                          "placement; UK GDPR Art. 17(3)(b)", True, "until the placement ends"))
    cutoff = _years_before(today, EDUCATION_RECORD_YEARS)
    ended = [p.ended_on for p in placements if p.ended_on is not None and p.ended_on > cutoff]
    if ended:
        last = max(ended)
        holds.append(Hold("education_record", f"the placement's education record and the AP census (Education "
                          f"Act 1996 s.537A) kept {EDUCATION_RECORD_YEARS} years after it ends", False,
                          f"until {last.replace(year=last.year + EDUCATION_RECORD_YEARS).isoformat()}"))
    awarded = [council_date(r.awarded_at) for r in referrals if r.awarded_at is not None]
    recent = [day for day in awarded if day > _years_before(today, PROCUREMENT_MINIMUM_YEARS)]
    if recent:
        last = max(recent)
        holds.append(Hold("procurement_record", f"PCR 2015 regulation 84: the call-off's record kept "
                          f"{PROCUREMENT_MINIMUM_YEARS} years after the award", True,
                          f"until {last.replace(year=last.year + PROCUREMENT_MINIMUM_YEARS).isoformat()}"))
    return holds


def refusal(holds: list[Hold]) -> Conflict:
    """The 409 for an erasure under a hold, naming each."""
    return Conflict("the child's record must be kept: " + "; ".join(h.name for h in holds),
                    errors={"holds": [str(h) for h in holds]})


# --- the request --------------------------------------------------------------------------------


class ErasureStatus(enum.Enum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"


@dataclass(frozen=True)
class ErasureRequested:
    request_id: UUID
    child_ref: UUID
    at: datetime


@dataclass(frozen=True)
class ErasureDecided:
    request_id: UUID
    child_ref: UUID
    granted: bool
    reason: str
    holds: tuple[str, ...]  # the holds' names, when refused under them
    at: datetime


@dataclass(frozen=True)
class ChildErased:
    request_id: UUID
    child_ref: UUID
    removed: dict[str, int]  # counts by kind of record, never contents
    at: datetime


@dataclass(eq=False)
class ErasureRequest:
    """A request to erase a child's data, and the manager's decision."""

    id: UUID
    child_ref: UUID
    grounds: str = field(repr=False)
    requested_by: str
    requested_at: datetime
    status: ErasureStatus = ErasureStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = field(default=None, repr=False)
    removed: dict | None = None
    events: list = field(default_factory=list, repr=False)

    @classmethod
    def make(cls, id: UUID, child_ref: UUID, grounds: str, by: str, now: datetime) -> ErasureRequest:
        request = cls(id, child_ref, required_text(grounds, "grounds", "the grounds for the request"), by, now)
        request.events.append(ErasureRequested(id, child_ref, now))
        return request

    def decide(self, *, grant: bool, reason: str, by: str, now: datetime, holds: list[Hold]) -> None:
        """The manager's decision.  Granting under a hold is refused (409 naming it) and changes nothing;
        the caller erases, then says so (`erased`)."""
        if self.status is not ErasureStatus.PENDING:
            raise Conflict(f"this erasure request was {self.status.value} already")
        if not isinstance(grant, bool):
            raise InvalidInput("say whether the erasure is granted", field="grant")
        reason = required_text(reason, "reason", "the reason for the decision")
        if grant and holds:
            raise refusal(holds)
        self.status = ErasureStatus.GRANTED if grant else ErasureStatus.REFUSED
        self.decided_by, self.decided_at, self.decision_reason = by, now, reason
        self.events.append(ErasureDecided(self.id, self.child_ref, grant, reason,
                                          tuple(h.name for h in holds), now))

    def erased(self, removed: dict[str, int], now: datetime) -> None:
        if self.status is not ErasureStatus.GRANTED:
            raise ValueError("only a granted request is carried out")
        self.removed = dict(removed)
        self.events.append(ChildErased(self.id, self.child_ref, dict(removed), now))

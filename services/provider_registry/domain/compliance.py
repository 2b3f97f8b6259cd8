"""Compliance evidence and the automatic suspension it drives.

A provider keeps three documents, each with an expiry date: insurance,
confirmation of enhanced DBS checks on a single central record, and its
safeguarding policy.  A document is valid up to and including its expiry
date.  When one expires, every admitted membership is suspended with that
reason; when all are valid again, the suspensions the check made are lifted.
Suspensions made by the manager are never lifted automatically.

The provider is warned 30, 14 and 7 days before a document expires, and when
it has expired: once per threshold per document (`expiry_warning`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from .common import as_member
from .membership import Membership, MembershipStatus


class DocumentKind(StrEnum):
    INSURANCE = "insurance"
    DBS_CONFIRMATION = "dbs_confirmation"
    SAFEGUARDING_POLICY = "safeguarding_policy"


REQUIRED_DOCUMENTS = tuple(DocumentKind)


@dataclass(unsafe_hash=True)  # a value, replaced never changed; not frozen so the ORM can store it
class ComplianceDocument:
    kind: DocumentKind
    reference: str  # the stored file or the certificate's number
    expires_on: date
    # the last expiry warning given for this document: 30, 14, 7 days before, 0 once expired (None: none yet)
    warned_days: int | None = field(default=None, compare=False)

    def has_expired(self, today: date) -> bool:
        return today > self.expires_on


EXPIRY_WARNING_DAYS = (30, 14, 7)
"""A provider is warned this many days before a compliance document expires (council policy: time to renew
it before the compliance check suspends its memberships)."""


def expiry_warning(document: ComplianceDocument, today: date) -> int | None:
    """The warning due today for the document and not yet given: the nearest of 30, 14 and 7 days reached
    (a threshold passed while no warning went out is not given late: only the nearest), or 0 once it has
    expired.  None when none is due."""
    days_left = (document.expires_on - today).days
    if document.has_expired(today):
        due = 0
    else:
        reached = [days for days in EXPIRY_WARNING_DAYS if days_left <= days]
        if not reached:
            return None
        due = min(reached)
    if document.warned_days is not None and document.warned_days <= due:
        return None
    return due


def compliance_problems(documents: Iterable[ComplianceDocument], today: date) -> list[str]:
    """Why the provider is not compliant today, one reason per document."""
    latest = {as_member(DocumentKind, d.kind): d for d in documents}
    problems = []
    for kind in REQUIRED_DOCUMENTS:
        document = latest.get(kind)
        if document is None:
            problems.append(f"compliance document {kind.value} is missing")
        elif document.has_expired(today):
            problems.append(f"compliance document {kind.value} expired on {document.expires_on.isoformat()}")
    return problems


@dataclass(frozen=True)
class ComplianceActions:
    suspend: tuple[tuple[tuple, str], ...]  # (membership key (dps, lot), reason)
    reinstate: tuple[tuple, ...]  # membership keys

    def __bool__(self) -> bool:
        return bool(self.suspend or self.reinstate)


def compliance_actions(documents: Iterable[ComplianceDocument], memberships: Iterable[Membership],
                       today: date) -> ComplianceActions:
    """Which memberships the compliance check suspends, and which of its own
    suspensions it lifts.  Memberships past the DPS term are left alone."""
    problems = compliance_problems(documents, today)
    current = [m for m in memberships if m.status_on(today) is not MembershipStatus.ENDED]
    if problems:
        reason = "; ".join(problems)
        return ComplianceActions(
            suspend=tuple((m.key, reason) for m in current if m.status is MembershipStatus.ADMITTED),
            reinstate=(),
        )
    return ComplianceActions(
        suspend=(),
        reinstate=tuple(m.key for m in current if m.status is MembershipStatus.SUSPENDED and m.automatic),
    )

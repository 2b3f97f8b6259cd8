"""The referrals service's unit of work: its repositories in one transaction,
and its one mapping of domain events (`messages.translate`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from services.referrals import messages
from services.referrals.domain import Event, ReferralClosed
from services.referrals.repository import ReferralRepository, RegistryCopy
from shared.unit_of_work import AuditEntry, Message, UnitOfWork


class ReferralsUnitOfWork(UnitOfWork):
    referrals: ReferralRepository
    registry: RegistryCopy

    def open_repositories(self, session: Session) -> None:
        self.referrals = ReferralRepository(session)
        self.registry = RegistryCopy(session)

    def translate(self, event: Event) -> Iterable[Message | AuditEntry]:
        child_ref = self.referrals.child_ref(event.referral_id) if isinstance(event, ReferralClosed) else None
        return messages.translate(event, child_ref=child_ref)

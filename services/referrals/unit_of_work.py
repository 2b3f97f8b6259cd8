"""The referrals service's unit of work: its repositories in one transaction,
and its one mapping of domain events (`messages.translate`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services.referrals import messages
from services.referrals.domain import Event
from services.referrals.erasure import ChildRecords, ErasureRequests
from services.referrals.repository import ReferralRepository, RegistryCopy
from shared.errors import Conflict
from shared.unit_of_work import AuditEntry, Message, UnitOfWork


class ReferralsUnitOfWork(UnitOfWork):
    referrals: ReferralRepository
    registry: RegistryCopy
    children: ChildRecords
    erasures: ErasureRequests

    def open_repositories(self, session: Session) -> None:
        if self.read_only:
            # A read may show a referral closed by its deadline (in memory): nothing of it is ever written.
            session.autoflush = False
        self.referrals = ReferralRepository(session)
        self.registry = RegistryCopy(session)
        self.children = ChildRecords(session, self.referrals)
        self.erasures = ErasureRequests(session)

    def translate(self, event: Event) -> Iterable[Message | AuditEntry]:
        child_ref = self.referrals.child_ref(event.referral_id) if isinstance(event, messages.NAMES_THE_CHILD) else None
        return messages.translate(event, child_ref=child_ref)

    def __exit__(self, *exc_info) -> None:
        # What a handler returns stays readable as it was committed (the rollback would expire it).
        self.session.expunge_all()
        super().__exit__(*exc_info)

    def collect(self) -> None:
        try:
            super().collect()
            self.session.flush()
        except StaleDataError:
            raise Conflict("the referral was changed by someone else at the same time: try again") from None

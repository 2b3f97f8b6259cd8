"""Tracking's unit of work: its repositories, and its one mapping from a
domain event to the outbox and the audit trail (messages.translate)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from services.tracking import messages
from services.tracking.repository import (
    BlockContractReplica,
    ConcernRepository,
    PlacementRepository,
    RegistryReplica,
    SixthDayDuties,
)
from shared.unit_of_work import AuditEntry, Message, UnitOfWork


class TrackingUnitOfWork(UnitOfWork):
    def open_repositories(self, session: Session) -> None:
        self.placements = PlacementRepository(session, self.now)
        self.concerns = ConcernRepository(session)
        self.registry = RegistryReplica(session)
        self.block_contracts = BlockContractReplica(session)
        self.sixth_day = SixthDayDuties(session)

    def translate(self, event) -> Iterable[Message | AuditEntry]:
        placement = next(p for p in self.placements.seen if p.placement_id == event.placement_id)
        return messages.translate(event, placement)

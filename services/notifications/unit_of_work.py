"""Notifications' unit of work: its repositories.  It publishes no events;
what it records for the audit trail (a changed preference) it records by hand."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.notifications.repository import Copies, DeliveryRepository
from shared.unit_of_work import UnitOfWork


class NotificationsUnitOfWork(UnitOfWork):
    def open_repositories(self, session: Session) -> None:
        self.deliveries = DeliveryRepository(session)
        self.copies = Copies(session)

    def translate(self, event):
        return ()  # no aggregate here raises events

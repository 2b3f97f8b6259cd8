"""The registry's unit of work: its repositories, and what its aggregates'
events become on commit (messages.translate: the outbox and the audit trail)."""

from __future__ import annotations

from services.provider_registry import messages
from services.provider_registry.repository import ApplicationRepository, DpsRepository, ProviderRepository
from shared.unit_of_work import UnitOfWork


class RegistryUnitOfWork(UnitOfWork):
    dps: DpsRepository
    applications: ApplicationRepository
    providers: ProviderRepository

    def open_repositories(self, session) -> None:
        self.dps = DpsRepository(session)
        self.applications = ApplicationRepository(session)
        self.providers = ProviderRepository(session, self.now)

    def translate(self, event):
        return messages.translate(event)

    def collect(self) -> None:
        self.providers.stamp()  # a provider's updated_at moves with any change of its record
        super().collect()

"""The registry's unit of work without a database (cosmicpython's
FakeUnitOfWork): repositories keeping aggregates in dicts, and the real
unit of work's collection of events through the service's one mapping
(messages.translate), so a handler test sees the messages and the audit
lines a commit would write."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from services.provider_registry.domain import (
    DPS,
    Application,
    ApplicationStatus,
    MembershipStatus,
    Provider,
    ScheduleStatus,
)
from services.provider_registry.unit_of_work import RegistryUnitOfWork
from shared.actor import Actor
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, NotFound
from shared.unit_of_work import AuditEntry, Repository

NOW = datetime(2025, 1, 15, 10, tzinfo=UTC)  # a Wednesday in term


class FakeProviders(Repository):
    def __init__(self) -> None:
        super().__init__(None)
        self.stored: dict[UUID, Provider] = {}

    def find(self, provider_id: UUID, *, for_update: bool = False) -> Provider | None:
        return self._seen(self.stored.get(provider_id))

    def get(self, provider_id: UUID, *, for_update: bool = False) -> Provider:
        provider = self.find(provider_id)
        if provider is None:
            raise NotFound(f"no provider {provider_id} on the DPS")
        return provider

    def add(self, provider: Provider) -> None:
        self.stored[provider.id] = provider
        self._seen(provider)

    def stamp(self) -> None:
        pass

    def list(self, *, ids=None, lot=None, status=None, name=None, limit=100, offset=0) -> list[Provider]:
        found = [p for p in self.stored.values()
                 if (ids is None or p.id in ids) and (not name or name.casefold() in p.name.casefold())
                 and (lot is None and status is None or any(
                     (lot is None or m.lot == lot) and (status is None or m.status == status)
                     for m in p.memberships.values()))]
        return sorted(found, key=lambda p: (p.name, p.id))[offset:offset + limit]

    def to_check(self) -> list[UUID]:
        current = (MembershipStatus.ADMITTED, MembershipStatus.SUSPENDED)
        return sorted(p.id for p in self.stored.values()
                      if any(m.status in current for m in p.memberships.values())
                      or any(s.status is ScheduleStatus.APPROVED and not s.announced for s in p.pricing_schedules))

    def members(self) -> list[UUID]:
        current = (MembershipStatus.ADMITTED, MembershipStatus.SUSPENDED)
        return sorted(p.id for p in self.stored.values() if any(m.status in current for m in p.memberships.values()))

    def schedules(self, *, status=None, lot=None, limit=100, offset=0):
        found = [(p.id, p.name, s) for p in self.stored.values() for s in p.pricing_schedules
                 if (status is None or s.status == status) and (lot is None or s.lot == lot)]
        return sorted(found, key=lambda row: (row[2].proposed_at, row[0], row[2].lot, row[2].version))[
            offset:offset + limit]


class FakeApplications(Repository):
    def __init__(self) -> None:
        super().__init__(None)
        self.stored: dict[UUID, Application] = {}

    def get(self, application_id: UUID, *, for_update: bool = False) -> Application:
        if application_id not in self.stored:
            raise NotFound(f"no application {application_id}")
        return self._seen(self.stored[application_id])

    def add(self, application: Application) -> None:
        if self.has_pending(application.provider_id):  # the unique index of the real table
            raise Conflict("this provider already has an application awaiting a decision")
        self.stored[application.id] = application
        self._seen(application)

    def has_pending(self, provider_id: UUID) -> bool:
        return any(a.provider_id == provider_id and a.status is ApplicationStatus.PENDING
                   for a in self.stored.values())

    def list(self, *, provider_id=None, status=None, overdue_on=None, limit=100, offset=0) -> list[Application]:
        found = [a for a in self.stored.values()
                 if (provider_id is None or a.provider_id == provider_id) and (status is None or a.status == status)
                 and (overdue_on is None or a.is_overdue(overdue_on))]
        return sorted(found, key=lambda a: a.submitted_at, reverse=True)[offset:offset + limit]


class FakeDps(Repository):
    def __init__(self, dps: DPS, providers: FakeProviders) -> None:
        super().__init__(None)
        self.dps, self.providers = dps, providers  # the first DPS record
        self.stored: dict[UUID, DPS] = {dps.id: dps}

    def get(self, dps_id: UUID = FIRST_DPS_ID, *, for_update: bool = False) -> DPS:
        if dps_id not in self.stored:
            raise NotFound(f"no DPS record {dps_id}")
        return self._seen(self.stored[dps_id])

    def list(self) -> list[DPS]:
        return sorted(self.stored.values(), key=lambda d: (d.id != FIRST_DPS_ID, d.start))

    def add(self, dps: DPS) -> None:
        self.stored[dps.id] = dps
        self._seen(dps)

    def sla_version(self, dps_id: UUID = FIRST_DPS_ID) -> str:
        return self.stored[dps_id].sla_version

    def any_members(self, dps_id: UUID = FIRST_DPS_ID) -> bool:
        return any(m.dps_id == dps_id for p in self.providers.stored.values() for m in p.memberships.values())


class FakeUnitOfWork(RegistryUnitOfWork):
    """One per test, reused by every use case it runs (as the database would be)."""

    def __init__(self, dps: DPS | None = None, now: datetime = NOW) -> None:
        self.time = now
        self.clock = lambda: self.time
        self.actor = Actor.system("provider_registry")
        self.providers = FakeProviders()
        self.applications = FakeApplications()
        self.dps = FakeDps(dps or DPS("Alternative Provision DPS"), self.providers)
        self._audit: list[AuditEntry] = []
        self.messages: list[tuple[str, dict]] = []
        self.audit: list[tuple[str, AuditEntry]] = []  # (who, entry)
        self.committed = False

    def acting_as(self, actor: Actor) -> FakeUnitOfWork:
        """The next use case runs for `actor` (the API builds each unit of work with the request's person)."""
        self.actor, self.committed = actor, False
        return self

    def commit(self) -> None:
        self.collect()
        self.committed = True

    def rollback(self) -> None:
        pass

    def publish(self, type_: str, data: dict) -> None:
        self.messages.append((type_, data))

    def _write_audit(self, entry: AuditEntry) -> None:
        self.audit.append(((entry.actor or self.actor).id, entry))

    def published(self, type_: str | None = None) -> list[dict]:
        return [data for t, data in self.messages if type_ is None or t == type_]

    def actions(self) -> list[str]:
        return [entry.action for _, entry in self.audit]

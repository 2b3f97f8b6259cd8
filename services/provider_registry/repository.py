"""The registry's repositories: the DPS, applications and providers, loaded
whole through the ORM (orm.py), each change tracked by the Session.

Loading for a change (`for_update`) locks the aggregate's row (FOR UPDATE on
PostgreSQL; on SQLite the unit of work holds the write lock already), so two
requests on one provider, one application or the DPS run one after the
other and neither loses the other's change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from uuid import UUID

import sqlalchemy as sa

from services.provider_registry import models
from services.provider_registry.domain import (
    DPS,
    Application,
    ApplicationStatus,
    Lot,
    MembershipStatus,
    PricingSchedule,
    Provider,
    ScheduleStatus,
)
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, NotFound
from shared.unit_of_work import Repository


def _locked(query, for_update: bool, of):
    return query.with_for_update(of=of).execution_options(populate_existing=True) if for_update else query


class DpsRepository(Repository):
    def get(self, dps_id: UUID = FIRST_DPS_ID, *, for_update: bool = False) -> DPS:
        """A DPS record and its lots (small: read per unit of work)."""
        query = _locked(sa.select(DPS).where(models.dps.c.id == dps_id), for_update, models.dps)
        dps = self.session.scalars(query).one_or_none()
        if dps is None:
            if dps_id == FIRST_DPS_ID:
                raise NotFound("the DPS has not been set up: run the migrations")
            raise NotFound(f"no DPS record {dps_id}")
        return self._seen(self._with_lots(dps))

    def _with_lots(self, dps: DPS) -> DPS:
        lots = models.lots
        dps.lots = {lot.number: lot for lot in self.session.scalars(
            sa.select(Lot).where(lots.c.dps_id == dps.id).order_by(lots.c.number))}
        return dps

    def list(self) -> list[DPS]:
        """Every DPS record, the first first (then by start)."""
        found = self.session.scalars(sa.select(DPS).order_by(models.dps.c.start, models.dps.c.id))
        return sorted((self._with_lots(d) for d in found), key=lambda d: (d.id != FIRST_DPS_ID, d.start))

    def add(self, dps: DPS) -> None:
        self.session.add(dps)
        self.session.add_all(dps.lots.values())
        self._seen(dps)

    def sla_version(self, dps_id: UUID = FIRST_DPS_ID) -> str:
        return self.session.execute(sa.select(models.dps.c.sla_version).where(models.dps.c.id == dps_id)).scalar_one()

    def any_members(self, dps_id: UUID = FIRST_DPS_ID) -> bool:
        m = models.memberships
        return self.session.execute(sa.select(m.c.provider_id).where(m.c.dps_id == dps_id).limit(1)).first() is not None


class ApplicationRepository(Repository):
    def get(self, application_id: UUID, *, for_update: bool = False) -> Application:
        t = models.applications
        query = _locked(sa.select(Application).where(t.c.id == application_id), for_update, t)
        application = self.session.scalars(query).one_or_none()
        if application is None:
            raise NotFound(f"no application {application_id}")
        return self._seen(application)

    def add(self, application: Application) -> None:
        """Store a new application; a second pending one of the same provider,
        submitted by a request that raced this one, is refused (a unique index)."""
        try:
            with self.session.begin_nested():
                self.session.add(application)
        except sa.exc.IntegrityError:
            raise Conflict("this provider already has an application awaiting a decision") from None
        self._seen(application)

    def has_pending(self, provider_id: UUID) -> bool:
        t = models.applications
        query = sa.select(t.c.id).where(t.c.provider_id == provider_id, t.c.status == ApplicationStatus.PENDING)
        return self.session.execute(query.limit(1)).first() is not None

    def list(self, *, provider_id: UUID | None = None, status: str | None = None, overdue_on: date | None = None,
             limit: int = 100, offset: int = 0) -> list[Application]:
        t = models.applications
        query = sa.select(Application).order_by(t.c.submitted_at.desc(), t.c.id)
        if provider_id is not None:
            query = query.where(t.c.provider_id == provider_id)
        if status is not None:
            query = query.where(t.c.status == status)
        if overdue_on is not None:
            query = query.where(t.c.status == ApplicationStatus.PENDING, t.c.due_on < overdue_on) \
                         .order_by(None).order_by(t.c.due_on, t.c.id)
        return list(self.session.scalars(query.limit(limit).offset(offset)))


class ProviderRepository(Repository):
    def __init__(self, session, clock: Callable[[], datetime]) -> None:
        super().__init__(session)
        self.clock = clock  # the unit of work's: created_at, updated_at

    def find(self, provider_id: UUID, *, for_update: bool = False) -> Provider | None:
        p = models.providers
        query = _locked(sa.select(Provider).where(p.c.id == provider_id), for_update, p)
        return self._seen(self.session.scalars(query).one_or_none())

    def get(self, provider_id: UUID, *, for_update: bool = False) -> Provider:
        provider = self.find(provider_id, for_update=for_update)
        if provider is None:
            raise NotFound(f"no provider {provider_id} on the DPS")
        return provider

    def add(self, provider: Provider) -> None:
        provider._created_at = provider._updated_at = self.clock()
        self.session.add(provider)
        self._seen(provider)

    def stamp(self) -> None:
        """Move updated_at of every provider seen whose record changed (its row or any row of it)."""
        session = self.session
        for provider in self.seen:
            if provider not in session.new and any(
                    part in session.new or session.is_modified(part) for part in _parts(provider)):
                provider._updated_at = self.clock()

    def list(self, *, ids: Iterable[UUID] | None = None, lot: int | None = None, status: str | None = None,
             name: str | None = None, limit: int = 100, offset: int = 0) -> list[Provider]:
        p, m = models.providers, models.memberships
        query = sa.select(Provider).order_by(p.c.name, p.c.id)
        if ids is not None:
            query = query.where(p.c.id.in_(list(ids)))
        if lot is not None or status is not None:
            members = sa.select(m.c.provider_id)
            if lot is not None:
                members = members.where(m.c.lot == lot)
            if status is not None:
                members = members.where(m.c.status == status)
            query = query.where(p.c.id.in_(members))
        if name:
            query = query.where(p.c.name.ilike(f"%{name}%"))
        return list(self.session.scalars(query.limit(limit).offset(offset)))

    def to_check(self) -> list[UUID]:
        """Providers the daily job looks at: any with a current membership, or an
        approved pricing schedule not yet announced."""
        m, s = models.memberships, models.pricing_schedules
        members = sa.select(m.c.provider_id).where(m.c.status.in_([MembershipStatus.ADMITTED,
                                                                   MembershipStatus.SUSPENDED]))
        waiting = sa.select(s.c.provider_id).where(s.c.status == ScheduleStatus.APPROVED, s.c.announced.is_(False))
        return sorted(self.session.execute(sa.union(members, waiting)).scalars())

    def members(self) -> list[UUID]:
        """Providers with a membership admitted or suspended (the domain says whether it has ended)."""
        m = models.memberships
        current = m.c.status.in_([MembershipStatus.ADMITTED, MembershipStatus.SUSPENDED])
        return sorted(self.session.execute(sa.select(m.c.provider_id).where(current).distinct()).scalars())

    def schedules(self, *, status: str | None = None, lot: int | None = None, limit: int = 100,
                  offset: int = 0) -> list[tuple[UUID, str, PricingSchedule]]:
        """(provider id, provider name, schedule) across providers, for the manager's approvals."""
        s, p = models.pricing_schedules, models.providers
        query = sa.select(PricingSchedule, p.c.id, p.c.name).join(p, p.c.id == s.c.provider_id) \
            .order_by(s.c.proposed_at, s.c.provider_id, s.c.lot, s.c.version)
        if status is not None:
            query = query.where(s.c.status == status)
        if lot is not None:
            query = query.where(s.c.lot == lot)
        return [(provider_id, name, schedule)
                for schedule, provider_id, name in self.session.execute(query.limit(limit).offset(offset))]


def _parts(provider: Provider) -> list:
    return [provider, *provider.memberships.values(), *provider.pricing_schedules, *provider.documents.values(),
            *provider.sla_acceptances, *provider.declaration_requests]

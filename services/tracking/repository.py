"""Placements in and out of the database (the ORM does the writing: see
orm.py), and the registry's facts tracking keeps (Core upserts).

`get` loads a placement with everything that happened to it (a placement has
at most a year or so of weekly returns, a handful of reviews).  Before each
flush the placement's stored copies are brought up to date: the review
columns the reports filter on, the provider, lot and team repeated on its
weeks and concerns, and (after the flush) its committed spend when its
period or price moved, judged by the Session's own change history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, selectinload

from services.tracking import domain, models
from services.tracking.domain import Concern, Placement, PlacementStatus
from shared.db import upsert_if_newer
from shared.errors import NotFound
from shared.unit_of_work import Repository

# The first of the two keys of tracking's advisory locks on a child (the
# second is from the child_ref): a key space of their own.
_CHILD_LOCKS = 0x6368  # "ch"

# what moves the committed spend
_SPEND_ATTRIBUTES = ("status", "started_on", "start_date", "expected_end_date", "end_date",
                     "agreed_cost_pence")


def _lock_key(child_ref: UUID) -> int:
    """A signed 32-bit key from the child's reference (two children sharing
    one only wait for each other)."""
    return int.from_bytes(child_ref.bytes[:4], "big", signed=True)


class PlacementRepository(Repository):
    def __init__(self, session: Session, clock: Callable[[], datetime]) -> None:
        super().__init__(session)
        self.clock = clock
        if not session.info.get("tracking.placements"):
            session.info["tracking.placements"] = True
            event.listen(session, "before_flush", _before_flush)
            event.listen(session, "after_flush", _after_flush)
        session.info["tracking.clock"] = clock

    def get(self, placement_id: UUID, *, for_update: bool = False) -> Placement:
        """The whole aggregate; `for_update` locks its row (PostgreSQL; on
        SQLite the unit of work holds the write lock already) so two returns
        for one placement are taken one after the other."""
        query = sa.select(Placement).where(models.placements.c.placement_id == placement_id).options(
            selectinload(Placement.attendance), selectinload(Placement.concerns),
            selectinload(Placement.reviews), selectinload(Placement.outcomes))
        if for_update:
            query = query.with_for_update(of=models.placements)
        placement = self.session.scalars(query).first()
        if placement is None:
            raise NotFound(f"no placement {placement_id}", field="placement_id", location="path")
        return self._seen(placement)

    def exists(self, placement_id: UUID) -> bool:
        return self.session.get(Placement, placement_id) is not None

    def add(self, placement: Placement, **award) -> None:
        """A new placement from an award: `award` has the award's own ids and prices."""
        now = self.clock()
        for name, value in award.items():
            setattr(placement, name, value)
        placement.created_at = now
        self.session.add(placement)
        self._seen(placement)

    def lock_child(self, child_ref: UUID) -> None:
        """Hold the child until the end of the transaction, so two of its
        placements are started (or rearranged) one after the other and the
        second sees the first among the child's placements.  On PostgreSQL a
        transaction-level advisory lock keyed on the child (row locks on the
        placement being started would let two placements of one child start
        at once); on SQLite the unit of work already holds the write lock."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHILD_LOCKS, _lock_key(child_ref))))

    def of_child(self, child_ref: UUID) -> list[Placement]:
        """The child's placements (for the one-provider-at-a-time rule)."""
        return list(self.session.scalars(sa.select(Placement).where(models.placements.c.child_ref == child_ref)))

    def open_for_provider_lot(self, provider_id: UUID, lot: int) -> list[Placement]:
        """Placements of a provider on a lot that are awarded or running, locked."""
        table = models.placements
        query = sa.select(Placement).where(
            table.c.provider_id == provider_id, table.c.lot == lot,
            table.c.status.in_([PlacementStatus.AWARDED, PlacementStatus.STARTED])).with_for_update()
        return [self._seen(placement) for placement in self.session.scalars(query)]


class ConcernRepository(Repository):
    def get(self, concern_id: UUID, *, for_update: bool = False) -> Concern:
        query = sa.select(Concern).where(models.concerns.c.concern_id == concern_id)
        if for_update:
            query = query.with_for_update()
        concern = self.session.scalars(query).first()
        if concern is None:
            raise NotFound(f"no concern {concern_id}", field="concern_id", location="path")
        return self._seen(concern)


class RegistryReplica:
    """What the registry told tracking: providers' names and each lot
    membership's latest status (the newest news wins; a late copy of an
    older event changes nothing)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def note_name(self, provider_id: UUID, name: str, at: datetime) -> None:
        upsert_if_newer(self.session, models.providers, {"provider_id": provider_id}, "as_of", at, name=name)

    def name_of(self, provider_id: UUID) -> str:
        table = models.providers
        name = self.session.execute(sa.select(table.c.name).where(table.c.provider_id == provider_id)).scalar()
        return name or f"provider {provider_id}"

    def membership(self, provider_id: UUID, lot: int):
        table = models.memberships
        return self.session.execute(sa.select(table).where(
            table.c.provider_id == provider_id, table.c.lot == lot)).mappings().first()

    def note_membership(self, provider_id: UUID, lot: int, status: str, reason: str | None, at: datetime) -> bool:
        """Whether the news was the newest (and so was kept)."""
        current = self.membership(provider_id, lot)
        if current is not None and current["as_of"] > at:
            return False
        upsert_if_newer(self.session, models.memberships, {"provider_id": provider_id, "lot": lot}, "as_of", at,
                        status=status, reason=reason)
        return True


class BlockContractReplica:
    """Awards' confirmed block contracts, as awards told them (a contract is
    confirmed once; a second copy of the event changes nothing)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def note(self, contract_id: UUID, **terms) -> bool:
        """Whether it was new (and so was kept)."""
        table = models.block_contracts
        if self.session.execute(sa.select(table.c.contract_id).where(table.c.contract_id == contract_id)).first():
            return False
        self.session.execute(table.insert().values(contract_id=contract_id, **terms))
        return True


class SixthDayDuties:
    """Each child's sixth-day deadlines (Core: a fact from referrals, kept as it came)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def note(self, duty: domain.SixthDayDuty) -> None:
        """Keep the deadline; a later referral for the same duty (re-published) replaces the earlier's."""
        upsert_if_newer(self.session, models.sixth_day_duties,
                        {"child_ref": duty.child_ref, "full_time_provision_by": duty.full_time_provision_by},
                        "noted_at", duty.noted_at, referral_id=duty.referral_id, team=duty.team, lot=duty.lot,
                        reason_for_ap=duty.reason_for_ap, looked_after=duty.looked_after,
                        first_school_day=duty.first_school_day)


# -- keeping the stored copies up to date ------------------------------------------

def _changed_placements(session: Session) -> list[Placement]:
    return [obj for obj in (*session.new, *session.dirty) if isinstance(obj, Placement)]


def _before_flush(session: Session, _context, _instances) -> None:
    now = session.info["tracking.clock"]()
    for placement in _changed_placements(session):
        placement._last_review_on = placement.last_review_on
        placement.review_due_on = placement.review_due_date
        placement._flagged_for_review = placement.flagged_for_review
        placement.updated_at = now
        for child in (*placement.attendance.values(), *placement.concerns):
            if child.provider_id is None:
                child.provider_id, child.lot, child.team = (placement.provider_id, placement.lot,
                                                            placement.commissioning_team)


def _after_flush(session: Session, _context) -> None:
    for placement in _changed_placements(session):
        state = sa.inspect(placement)
        if placement in session.new or any(state.attrs[name].history.has_changes() for name in _SPEND_ATTRIBUTES):
            _write_spend(session, placement)


def _write_spend(session: Session, placement: Placement) -> None:
    """The agreed cost spread over its months, cut short when it ended early;
    a cancelled award or a block place commits nothing (domain.commitment_by_month)."""
    table = models.committed_spend
    connection = session.connection()
    connection.execute(table.delete().where(table.c.placement_id == placement.placement_id))
    months = domain.commitment_by_month(placement.agreed_cost_pence, placement.started_on or placement.start_date,
                                        placement.expected_end_date, status=placement.status,
                                        end_date=placement.end_date, source=placement.source)
    rows = [dict(placement_id=placement.placement_id, month=month, provider_id=placement.provider_id,
                 lot=placement.lot, team=placement.commissioning_team, pence=pence)
            for month, pence in months.items()]
    if rows:
        connection.execute(table.insert(), rows)

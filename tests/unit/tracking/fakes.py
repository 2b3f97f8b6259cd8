"""A unit of work without a database, for the handler tests (cosmicpython's
FakeUnitOfWork): placements kept in a dict, the registry's facts in dicts,
what would have gone to the outbox and the audit trail kept in lists."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from services.tracking.domain import Placement, PlacementStatus
from services.tracking.unit_of_work import TrackingUnitOfWork
from shared.actor import Actor
from shared.errors import NotFound
from shared.unit_of_work import AuditEntry, Message, Repository

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)


class FakePlacements(Repository):
    def __init__(self, placements=()) -> None:
        super().__init__(None)
        self.stored: dict[UUID, Placement] = {p.placement_id: p for p in placements}
        self.award_terms: dict[UUID, dict] = {}
        self.children_locked: list[UUID] = []

    def get(self, placement_id: UUID, *, for_update: bool = False) -> Placement:
        if placement_id not in self.stored:
            raise NotFound(f"no placement {placement_id}", field="placement_id", location="path")
        return self._seen(self.stored[placement_id])

    def exists(self, placement_id: UUID) -> bool:
        return placement_id in self.stored

    def add(self, placement: Placement, **award) -> None:
        self.stored[placement.placement_id] = placement
        self.award_terms[placement.placement_id] = award
        self._seen(placement)

    def lock_child(self, child_ref: UUID) -> None:
        self.children_locked.append(child_ref)

    def of_child(self, child_ref: UUID) -> list[Placement]:
        return [p for p in self.stored.values() if p.child_ref == child_ref]

    def open_for_provider_lot(self, provider_id: UUID, lot: int) -> list[Placement]:
        return [self._seen(p) for p in self.stored.values() if p.provider_id == provider_id and p.lot == lot
                and p.status in (PlacementStatus.AWARDED, PlacementStatus.STARTED)]


class FakeConcerns(Repository):
    def __init__(self, placements: FakePlacements) -> None:
        super().__init__(None)
        self.placements = placements

    def get(self, concern_id: UUID, *, for_update: bool = False):
        for placement in self.placements.stored.values():
            for concern in placement.concerns:
                if concern.concern_id == concern_id:
                    # the columns the database repeats from the placement
                    concern.provider_id, concern.team = placement.provider_id, placement.commissioning_team
                    return self._seen(concern)
        raise NotFound(f"no concern {concern_id}", field="concern_id", location="path")


class FakeRegistry:
    def __init__(self) -> None:
        self.names: dict[UUID, tuple[str, datetime]] = {}
        self.memberships: dict[tuple[UUID, int], dict] = {}

    def note_name(self, provider_id: UUID, name: str, at: datetime) -> None:
        if provider_id not in self.names or self.names[provider_id][1] <= at:
            self.names[provider_id] = (name, at)

    def name_of(self, provider_id: UUID) -> str:
        return self.names[provider_id][0] if provider_id in self.names else f"provider {provider_id}"

    def membership(self, provider_id: UUID, lot: int):
        return self.memberships.get((provider_id, lot))

    def note_membership(self, provider_id: UUID, lot: int, status: str, reason: str | None, at: datetime) -> bool:
        current = self.memberships.get((provider_id, lot))
        if current is not None and current["as_of"] > at:
            return False
        self.memberships[(provider_id, lot)] = {"status": status, "reason": reason, "as_of": at}
        return True


class FakeSixthDay:
    """Each child's sixth-day deadlines, by (child_ref, deadline); a later referral for one replaces it."""

    def __init__(self) -> None:
        self.duties: dict[tuple, object] = {}

    def note(self, duty) -> None:
        key = (duty.child_ref, duty.full_time_provision_by)
        if key not in self.duties or self.duties[key].noted_at <= duty.noted_at:
            self.duties[key] = duty


class FakeUnitOfWork(TrackingUnitOfWork):
    """Tracking's own unit of work (its `translate`, its `collect`) on fakes."""

    def __init__(self, placements=(), *, actor: Actor | None = None, now: datetime = NOW) -> None:
        self.clock = lambda: now
        self.actor = actor or Actor.system("tracking")
        self._audit: list[AuditEntry] = []
        self.placements = FakePlacements(placements)
        self.concerns = FakeConcerns(self.placements)
        self.registry = FakeRegistry()
        self.sixth_day = FakeSixthDay()
        self.messages: list[Message] = []
        self.audit: list[AuditEntry] = []
        self.committed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def publish(self, type_: str, data: dict) -> None:
        self.messages.append(Message(type_, data))

    def _write_audit(self, entry: AuditEntry) -> None:
        self.audit.append(entry)

    def commit(self) -> None:
        self.collect()
        self.committed = True

    def rollback(self) -> None:
        pass

    # what the tests read
    def types(self) -> list[str]:
        return [m.type for m in self.messages]

    def actions(self) -> list[str]:
        return [entry.action for entry in self.audit]

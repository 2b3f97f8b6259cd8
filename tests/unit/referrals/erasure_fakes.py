"""Fakes of the rectification and erasure repositories (services/referrals/erasure.py), on top of the
referrals' fake unit of work: children found through the fake referrals, erasure requests in a dict,
and the placements tracking told of."""

from __future__ import annotations

from uuid import UUID

from services.referrals import messages
from services.referrals.domain.erasure import PlacementFacts, ReferralFacts
from services.referrals.domain.rectification import ChildRecord
from shared.errors import Conflict, NotFound
from shared.unit_of_work import AuditEntry, Message
from tests.unit.referrals.fakes import FakeReferralRepository, FakeUnitOfWork


class FakeChildRecords:
    def __init__(self, referrals: FakeReferralRepository) -> None:
        self.referrals = referrals
        self.seen: list[ChildRecord] = []
        self.placements: dict[UUID, PlacementFacts] = {}

    def _of(self, child_ref: UUID) -> list[UUID]:
        return [i for i in list(self.referrals.referrals) if self.referrals.child_ref(i) == child_ref]

    def known(self, child_ref: UUID) -> bool:
        return bool(self._of(child_ref))

    def get(self, child_ref: UUID) -> ChildRecord:
        ids = self._of(child_ref)
        if not ids:
            raise NotFound("no such child")
        record = ChildRecord(child_ref, [self.referrals.get(i, for_update=True) for i in ids])
        self.seen.append(record)
        return record

    def move_upn(self, child_ref: UUID, upn: str) -> None:
        if self.referrals.child_refs.get(upn, child_ref) != child_ref:
            raise Conflict("another child's UPN", field="upn")
        self.referrals.child_refs[upn] = child_ref

    def facts(self, child_ref: UUID):
        ids = self._of(child_ref)
        referrals = [ReferralFacts(i, self.referrals.referrals[i].status, self.referrals.referrals[i].awarded_at)
                     for i in ids]
        return referrals, [p for p in self.placements.values() if p.referral_id in ids]

    def erase(self, child_ref: UUID) -> dict[str, int]:
        ids = self._of(child_ref)
        for i in ids:
            del self.referrals.referrals[i]
        return {"referrals": len(ids)} if ids else {}

    def note_placement(self, placement_id, referral_id, *, started_on=None, ended_on=None, **census) -> None:
        known = self.placements.get(placement_id)
        self.placements[placement_id] = PlacementFacts(
            placement_id, referral_id, started_on or (known and known.started_on),
            ended_on or (known and known.ended_on))


class FakeErasureRequests:
    def __init__(self) -> None:
        self.requests: dict[UUID, object] = {}
        self.seen: list = []

    def add(self, request) -> None:
        self.requests[request.id] = request
        self.seen.append(request)

    def get(self, request_id: UUID, *, for_update: bool = False):
        if request_id not in self.requests:
            raise NotFound("no such erasure request")
        self.seen.append(self.requests[request_id])
        return self.requests[request_id]

    def of_child(self, child_ref: UUID) -> list:
        return [r for r in self.requests.values() if r.child_ref == child_ref]


class ErasureUnitOfWork(FakeUnitOfWork):
    """The referrals' fake unit of work with the children and erasure requests."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.children = FakeChildRecords(self.referrals)
        self.erasures = FakeErasureRequests()

    def collect(self) -> None:
        super().collect()
        for aggregate in (*self.children.seen, *self.erasures.seen):
            while aggregate.events:
                for item in messages.translate(aggregate.events.pop(0)):
                    (self.messages if isinstance(item, Message) else self.audit).append(item)

    def audit_of(self, action: str) -> AuditEntry:
        return next(entry for entry in self.audit if entry.action == action)

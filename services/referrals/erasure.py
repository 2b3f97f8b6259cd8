"""Rectification and erasure of a child's data: the use cases and their repositories.

- `correct_child`: the manager or an officer of the child's team corrects who
  the child is, and the profile facts other services copy, on every referral
  of the child (`domain.rectification`); `child.corrected` reaches the copies.
- `request_erasure` and `decide_erasure`: a request is recorded, and the
  manager decides it with a reason.  Granting it under a statutory hold is
  refused, naming the hold (`domain.erasure.erasure_holds`), and deletes
  nothing; granted, the child's referrals and identity go as the retention
  rule ends them (`retention.delete_referrals`), and `child.erased` tells
  awards and tracking to delete theirs.
- `placement_started` / `placement_ended`: tracking's events, kept as the
  holds need them (no commit: the consumer commits with its inbox row).

The child is known by its opaque `child_ref` (`children`); an unknown one is a 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.referrals import models
from services.referrals.domain.erasure import (
    ErasureRequest,
    PlacementFacts,
    ReferralFacts,
    erasure_holds,
)
from services.referrals.domain.rectification import ChildRecord
from services.referrals.domain.visibility import MANAGER
from services.referrals.repository import ReferralRepository
from services.referrals.retention import REFERRAL_PARTS, delete_referrals
from shared.actor import Actor
from shared.db import insert_for
from shared.errors import Conflict, Forbidden, NotFound
from shared.retention import BATCH
from shared.unit_of_work import Repository

# --- repositories ---------------------------------------------------------------------------------


class ChildRecords(Repository):
    """One child's referrals and what holds them, by `child_ref`."""

    def __init__(self, session: Session, referrals: ReferralRepository) -> None:
        super().__init__(session)
        self.referrals = referrals

    def known(self, child_ref: UUID) -> bool:
        t = models.children
        return self.session.execute(sa.select(t.c.child_ref).where(t.c.child_ref == child_ref)).first() is not None

    def _referral_ids(self, child_ref: UUID) -> list[UUID]:
        c = models.referral_children
        return list(self.session.execute(sa.select(c.c.referral_id).where(c.c.child_ref == child_ref)
                                         .order_by(c.c.referral_id)).scalars())

    def get(self, child_ref: UUID) -> ChildRecord:
        """The child's referrals, each locked for the change."""
        ids = self._referral_ids(child_ref)
        if not ids:
            raise NotFound(f"no child {child_ref} is known here")
        return self._seen(ChildRecord(child_ref, [self.referrals.get(i, for_update=True) for i in ids]))

    def move_upn(self, child_ref: UUID, upn: str) -> None:
        """The child's index entry takes a corrected UPN (so the child keeps its child_ref);
        a UPN that is another child's is refused."""
        t = models.children
        other = self.session.execute(sa.select(t.c.child_ref).where(t.c.upn == upn, t.c.child_ref != child_ref)).first()
        if other is not None:
            raise Conflict("this UPN is another child's: merging two children's records is not a correction",
                           field="upn")
        self.session.execute(t.update().where(t.c.child_ref == child_ref).values(upn=upn))

    def facts(self, child_ref: UUID) -> tuple[list[ReferralFacts], list[PlacementFacts]]:
        """What the holds on erasure are decided from."""
        r, c, p = models.referrals, models.referral_children, models.child_placements
        ids = sa.select(c.c.referral_id).where(c.c.child_ref == child_ref)
        referrals = [ReferralFacts(row.id, row.status, row.awarded_at) for row in self.session.execute(
            sa.select(r.c.id, r.c.status, r.c.awarded_at).where(r.c.id.in_(ids)).with_for_update())]
        placements = [PlacementFacts(row.placement_id, row.referral_id, row.started_on, row.ended_on)
                      for row in self.session.execute(sa.select(p).where(p.c.referral_id.in_(ids)))]
        return referrals, placements

    def erase(self, child_ref: UUID) -> dict[str, int]:
        """Delete the child's referrals with everything of them and its identity; counts by kind."""
        tables = models.metadata.tables
        ids = sa.select(models.referral_children.c.referral_id).where(
            models.referral_children.c.child_ref == child_ref)
        parts = {name: self.session.execute(sa.select(sa.func.count()).select_from(tables[name])
                                            .where(tables[name].c.referral_id.in_(ids))).scalar_one()
                 for name in REFERRAL_PARTS}
        removed = {"referrals": 0, **parts, "children": int(self.known(child_ref))}
        while done := delete_referrals(self.session, tables, models.referrals.c.id.in_(ids), BATCH):
            removed["referrals"] += done
        index = models.children  # gone with its last referral; a child without one goes too
        self.session.execute(index.delete().where(index.c.child_ref == child_ref))
        return {kind: count for kind, count in removed.items() if count}

    def note_placement(self, placement_id: UUID, referral_id: UUID, *, started_on: date | None = None,
                       ended_on: date | None = None, provider_id: UUID | None = None,
                       hours_per_week: Decimal | None = None, full_time: bool | None = None) -> None:
        """A placement's start (with where, and its hours) or end, whichever comes first (out of order is fine)."""
        t = models.child_placements
        facts = {"started_on": started_on, "ended_on": ended_on, "provider_id": provider_id,
                 "hours_per_week": hours_per_week, "full_time": full_time}
        insert = insert_for(self.session, t).values(placement_id=placement_id, referral_id=referral_id, **facts)
        self.session.execute(insert.on_conflict_do_update(index_elements=["placement_id"], set_={
            name: sa.func.coalesce(insert.excluded[name], t.c[name]) for name in facts}))


class ErasureRequests(Repository):
    def add(self, request: ErasureRequest) -> None:
        self.session.add(request)
        self._seen(request)

    def get(self, request_id: UUID, *, for_update: bool = False) -> ErasureRequest:
        query = sa.select(ErasureRequest).where(models.erasure_requests.c.id == request_id)
        found = self.session.execute(query.with_for_update() if for_update else query).scalar_one_or_none()
        if found is None:
            raise NotFound("no such erasure request")
        return self._seen(found)

    def of_child(self, child_ref: UUID) -> list[ErasureRequest]:
        t = models.erasure_requests
        return list(self.session.execute(sa.select(ErasureRequest).where(t.c.child_ref == child_ref)
                                         .order_by(t.c.requested_at)).scalars())


# --- use cases ------------------------------------------------------------------------------------


def _require_manager(actor: Actor, what: str) -> None:
    if MANAGER not in actor.roles:
        raise Forbidden(f"only the manager {what}")


def correct_child(uow, actor: Actor, child_ref: UUID, changes: Mapping[str, object]) -> tuple[str, ...]:
    """Correct the child's details on every referral of it; the fields that changed."""
    record = uow.children.get(child_ref)
    upn = record.corrected_details(changes, by=actor).upn  # a correction that is none is refused here
    if upn != record.child.upn:
        uow.children.move_upn(child_ref, upn)  # before the referrals change: the child keeps its child_ref
    changed = record.correct(changes, by=actor, now=uow.now())
    uow.commit()
    return changed


def request_erasure(uow, actor: Actor, child_ref: UUID, grounds: str) -> ErasureRequest:
    """Record a request to erase the child's data (the manager decides it)."""
    if not uow.children.known(child_ref):
        raise NotFound(f"no child {child_ref} is known here")
    request = ErasureRequest.make(uuid.uuid4(), child_ref, grounds, actor.id, uow.now())
    uow.erasures.add(request)
    uow.commit()
    return request


def decide_erasure(uow, actor: Actor, child_ref: UUID, request_id: UUID, *, grant: bool,
                   reason: str) -> ErasureRequest:
    """The manager grants or refuses; granting under a hold is refused (409 naming it), deleting nothing."""
    _require_manager(actor, "decides an erasure request")
    request = uow.erasures.get(request_id, for_update=True)
    if request.child_ref != child_ref:
        raise NotFound("no such erasure request for this child")
    now = uow.now()
    holds = erasure_holds(*uow.children.facts(child_ref), now)
    request.decide(grant=grant, reason=reason, by=actor.id, now=now, holds=holds)
    if grant:
        request.erased(uow.children.erase(child_ref), now)
    uow.commit()
    return request


def erasure_requests(uow, actor: Actor, child_ref: UUID) -> list[ErasureRequest]:
    _require_manager(actor, "reads erasure requests")
    return uow.erasures.of_child(child_ref)


# --- from tracking's events (no commit) -----------------------------------------------------------


def placement_started(uow, data: Mapping) -> None:
    uow.children.note_placement(data["placement_id"], data["referral_id"], started_on=data["started_on"],
                                provider_id=data.get("provider_id"), hours_per_week=data.get("hours_per_week"),
                                full_time=data.get("full_time"))


def placement_ended(uow, data: Mapping) -> None:
    uow.children.note_placement(data["placement_id"], data["referral_id"], ended_on=data["ended_on"])

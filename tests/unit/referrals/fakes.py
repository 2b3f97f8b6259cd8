"""A unit of work of the referrals service without a database (after
cosmicpython's `tests/unit/test_handlers.py`): repositories keep aggregates in
dicts; committing turns the seen referrals' events into messages and audit
entries through the service's one mapping (`messages.translate`), as the real
unit of work does, and keeps them here to look at."""

from __future__ import annotations

import copy
import uuid
from collections import namedtuple
from datetime import UTC, date, datetime
from uuid import UUID

from services.referrals import messages
from services.referrals.domain import (
    DpsRecord,
    Membership,
    MembershipStatus,
    Referral,
    ReferralStatus,
)
from services.referrals.domain.visibility import closed_to
from shared.actor import Actor
from shared.catalogue import FIRST_DPS_ID
from shared.errors import NotFound
from shared.unit_of_work import AuditEntry, Message

Prior = namedtuple("Prior", "id referral_id request_fingerprint")


def _as_of(referral: Referral, now: datetime) -> Referral:
    """The referral as the domain sees it now (closed past its deadline), without changing the stored one."""
    if referral.status is ReferralStatus.PUBLISHED and now >= referral.deadline:
        referral = copy.deepcopy(referral)
        referral.close_if_due(now)
    return referral


def _status_as_of(referral: Referral, now: datetime) -> str:
    if referral.status is ReferralStatus.PUBLISHED and now >= referral.deadline:
        return ReferralStatus.CLOSED.value
    return referral.status.value


class FakeReferralRepository:
    def __init__(self) -> None:
        self.seen: list[Referral] = []
        self.referrals: dict[UUID, Referral] = {}
        self.child_refs: dict[str, UUID] = {}
        self.keys: dict[tuple[UUID, str], Prior] = {}
        self.locks: list[tuple[str, UUID]] = []  # what a real repository would lock, in order

    def _seen(self, referral: Referral) -> Referral:
        if not any(referral is known for known in self.seen):
            self.seen.append(referral)
        return referral

    def add(self, referral: Referral) -> None:
        self.referrals[referral.id] = referral
        self._seen(referral)

    def get(self, referral_id: UUID, *, for_update: bool = False, answering: UUID | None = None,
            assessments: bool = True) -> Referral:
        if referral_id not in self.referrals:
            raise NotFound("no such referral")
        if for_update:
            self.locks.append(("update", referral_id))
        if answering is not None:
            self.locks.append(("share", referral_id))
        return self._seen(self.referrals[referral_id])

    def get_by_offer(self, offer_id: UUID, provider_id: UUID, *, answering: bool = False) -> Referral:
        for referral in self.referrals.values():
            if any(o.id == offer_id and o.provider_id == provider_id for o in referral.offers):
                return self.get(referral.id, answering=provider_id if answering else None)
        raise NotFound("no such offer from your organisation")

    def get_many(self, ids, *, seen_by: UUID | None = None, assessments: bool = True) -> dict[UUID, Referral]:
        # the whole referral whatever the view (the real one reads only what the view shows)
        return {i: self._seen(self.referrals[i]) for i in ids if i in self.referrals}

    def child_ref(self, referral_id: UUID) -> UUID:
        upn = self.referrals[referral_id].child.upn
        return self.child_refs.setdefault(upn, uuid.uuid4())

    def due_to_close(self, now: datetime, limit: int = 500) -> list[UUID]:
        return [r.id for r in self.referrals.values()
                if r.status is ReferralStatus.PUBLISHED and r.deadline <= now][:limit]

    def find(self, *, now, team=None, status=None, lot=None, upn=None, child_ref=None, limit=100, offset=0):
        found = [r for r in sorted(self.referrals.values(), key=lambda r: r.created_at, reverse=True)
                 if (team is None or r.team == team) and (lot is None or r.lot == lot)
                 and (status is None or _status_as_of(r, now) == status)
                 and (upn is None or r.child.upn == upn)
                 and (child_ref is None or self.child_ref(r.id) == child_ref)]
        return [r.id for r in found][offset:offset + limit]

    def invited_to(self, provider_id, *, now, statuses=None, lot=None, all_on=None, own_live_offers_on=(),
                   access_open=False, limit=100, offset=0):
        def open_to_it(r: Referral) -> bool:
            if all_on is None or r.lot in all_on:
                return True
            awarded = any(o.id == r.awarded_offer_id and o.provider_id == provider_id for o in r.offers)
            return awarded or (r.lot in own_live_offers_on and r.live_offer_of(provider_id) is not None)

        found = [r for r in sorted(self.referrals.values(), key=lambda r: r.deadline)
                 if provider_id in r.invited and open_to_it(r) and (lot is None or r.lot == lot)
                 and not (access_open and closed_to(_as_of(r, now), provider_id))
                 and (statuses is None or _status_as_of(r, now) in statuses)]
        return [r.id for r in found][offset:offset + limit]

    def offer_ids_of(self, provider_id, *, referral_id=None, live=None, limit=100, offset=0):
        pairs = [(r.id, o) for r in self.referrals.values() for o in r.offers if o.provider_id == provider_id
                 and (referral_id is None or r.id == referral_id) and (live is None or o.live is live)]
        pairs.sort(key=lambda pair: pair[1].submitted_at, reverse=True)
        return [(rid, o.id) for rid, o in pairs][offset:offset + limit]

    def offer_by_idempotency_key(self, provider_id: UUID, key: str):
        return self.keys.get((provider_id, key))

    def remember_idempotency_key(self, offer, key: str, fingerprint: str) -> None:
        referral = next(r for r in self.referrals.values() if any(o is offer for o in r.offers))
        self.keys[(offer.provider_id, key)] = Prior(offer.id, referral.id, fingerprint)

    def off_dps_exceptions(self, *, team=None, lot=None, since=None, limit=100, offset=0) -> list[dict]:
        return [{"referral_id": r.id, "team": r.team, "lot": r.lot, "reason": r.off_dps_exception.reason}
                for r in self.referrals.values() if r.off_dps_exception is not None
                and (team is None or r.team == team) and (lot is None or r.lot == lot)][offset:offset + limit]


class FakeRegistry:
    """The registry copy: DPS records, SLA acceptances, memberships as the rules see them, and what the
    registry's events told it."""

    def __init__(self) -> None:
        self.memberships: dict[tuple[UUID, UUID, int], Membership] = {}
        self.records: dict[UUID, DpsRecord] = {}
        self.acceptances: set[tuple[UUID, UUID, str]] = set()
        self.told: list[tuple] = []

    def admit(self, membership: Membership) -> None:
        self.memberships[(membership.dps_id, membership.provider_id, membership.lot)] = membership

    def configure(self, record: DpsRecord) -> None:
        self.records[record.id] = record

    def accept(self, provider_id: UUID, dps_id: UUID, version: str) -> None:
        self.acceptances.add((dps_id, provider_id, version))

    def note_dps(self, record: dict, at) -> None:
        self.told.append(("dps", record["dps_id"]))
        self.configure(DpsRecord(id=record["dps_id"], **{k: v for k, v in record.items() if k != "dps_id"}))

    def note_sla_accepted(self, provider_id, dps_id, sla_version, at) -> None:
        self.accept(provider_id, dps_id, sla_version)

    def dps(self, dps_id: UUID) -> DpsRecord | None:
        return self.records.get(dps_id)

    def dps_records(self) -> list[DpsRecord]:
        return list(self.records.values())

    def sla_accepted(self, dps_id: UUID, provider_ids) -> dict[UUID, set[str]]:
        wanted, accepted = set(provider_ids), {}
        for d, p, version in self.acceptances:
            if d == dps_id and p in wanted:
                accepted.setdefault(p, set()).add(version)
        return accepted

    def membership(self, provider_id: UUID, lot: int, today: date, dps_id: UUID = FIRST_DPS_ID
                   ) -> Membership | None:
        return self.memberships.get((dps_id, provider_id, lot))

    def memberships_on(self, lot: int, today: date, dps_id: UUID = FIRST_DPS_ID) -> list[Membership]:
        return [m for (d, _, m_lot), m in self.memberships.items() if m_lot == lot and d == dps_id]

    def memberships_of(self, provider_id: UUID, today: date) -> list[Membership]:
        return [m for (_, p, _), m in self.memberships.items() if p == provider_id]

    def note_provider(self, provider_id, name, at, *, registration=None) -> None:
        self.told.append(("provider", provider_id, name, registration))

    def set_status(self, provider_id, lot, status: MembershipStatus, at, *, reason=None, capacity=None,
                   ends_on=None, dps_id=FIRST_DPS_ID) -> bool:
        self.told.append(("status", provider_id, lot, status))
        known = self.memberships.get((dps_id, provider_id, lot))
        self.memberships[(dps_id, provider_id, lot)] = Membership(
            provider_id, lot, status, known.pricing_lines if known else (), capacity or 0, dps_id=dps_id)
        return True

    def set_capacity(self, provider_id, lot, capacity, at, *, dps_id=FIRST_DPS_ID) -> None:
        self.told.append(("capacity", provider_id, lot, capacity))

    def add_schedule(self, provider_id, lot, *, version, effective_from, lines, at) -> None:
        self.told.append(("schedule", provider_id, lot, version, effective_from))


class FakeUnitOfWork:
    """Mimics services.referrals.unit_of_work.ReferralsUnitOfWork."""

    def __init__(self, now: datetime = datetime(2025, 1, 15, 10, 0, tzinfo=UTC), actor: Actor | None = None):
        self.referrals = FakeReferralRepository()
        self.registry = FakeRegistry()
        self.actor = actor or Actor.system("referrals")
        self.clock = now
        self.session = None
        self.committed = False
        self.messages: list[Message] = []
        self.audit: list[AuditEntry] = []

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc_info) -> None:
        self.rollback()

    def now(self) -> datetime:
        return self.clock

    def collect(self) -> None:
        for referral in self.referrals.seen:
            while referral.events:
                event = referral.events.pop(0)
                names_child = isinstance(event, messages.NAMES_THE_CHILD)
                child_ref = self.referrals.child_ref(event.referral_id) if names_child else None
                for item in messages.translate(event, child_ref=child_ref):
                    (self.messages if isinstance(item, Message) else self.audit).append(item)

    def commit(self) -> None:
        self.collect()
        self.committed = True

    def rollback(self) -> None:
        pass

    def record(self, entry: AuditEntry) -> None:
        self.audit.append(entry)

    def publish(self, type_: str, data: dict) -> None:
        self.messages.append(Message(type_, data))

    # what tests look at
    def published(self, type_: str | None = None) -> list[dict]:
        return [m.data for m in self.messages if type_ is None or m.type == type_]

    def audited(self) -> list[str]:
        return [entry.action for entry in self.audit]

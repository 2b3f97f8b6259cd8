"""The awards unit of work and repositories in memory (cosmicpython's
FakeUnitOfWork): the handlers run against them in milliseconds, with no
database; what a use case publishes and audits is what the real unit of work
would write, through the same mapping (messages.translate)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa

from services.awards.domain import (
    AwardCriterion,
    BlockContract,
    CallOff,
    DeclaredRoll,
    DpsRecord,
    MembershipStatus,
    MiniCompetition,
    OffDpsPlacement,
    Offer,
    PlacesInUse,
    ProviderOnLot,
    Pupil,
    Referral,
    ReferralState,
    Regime,
    Registry,
    SettingKind,
)
from services.awards.unit_of_work import AwardsUnitOfWork
from shared.actor import Actor
from shared.catalogue import FIRST_DPS_ID
from shared.config import Settings
from shared.unit_of_work import AuditEntry, Repository

STATUTORY_END = Settings.pcr2015_statutory_end  # the default, as the real repository reads it


@dataclass
class Store:
    """Everything the fake repositories hold, shared between them (one database)."""

    registration: dict[UUID, str] = field(default_factory=dict)  # provider -> setting kind
    rolls: dict[UUID, DeclaredRoll] = field(default_factory=dict)  # provider -> its declared roll
    names: dict[UUID, str] = field(default_factory=dict)
    lots: dict[tuple[UUID, int, UUID], dict] = field(default_factory=dict)  # (provider, lot, dps): membership...
    dps_records: dict[UUID, DpsRecord] = field(default_factory=dict)
    referrals: dict[UUID, Referral | None] = field(default_factory=dict)  # None: cancelled before closed
    offers: dict[UUID, list[Offer]] = field(default_factory=dict)
    call_offs: dict[UUID, CallOff] = field(default_factory=dict)
    placements: list[tuple[UUID, UUID, int, Pupil]] = field(default_factory=list)  # placement, provider, lot, child
    ended: set[UUID] = field(default_factory=set)
    identifiers: dict[UUID, list[dict]] = field(default_factory=dict)  # provider -> org-id.guide identifiers
    competitions: dict[UUID, MiniCompetition] = field(default_factory=dict)
    contracts: dict[UUID, BlockContract] = field(default_factory=dict)
    block_places: dict[UUID, UUID] = field(default_factory=dict)  # referral -> contract
    off_dps: dict[UUID, OffDpsPlacement] = field(default_factory=dict)  # referral -> exception


class FakeRegistry(Repository):
    def __init__(self, store: Store) -> None:
        super().__init__(None)
        self.store = store
        self.locked: list[tuple[UUID, int]] = []

    def _lot(self, provider_id: UUID, lot: int, dps_id: UUID) -> dict:
        return self.store.lots.setdefault((provider_id, lot, dps_id), {"membership": None, "capacity": 0,
                                                                       "prices": {}})

    def note_provider_name(self, provider_id, name, at) -> None:
        self.store.names[provider_id] = name

    def set_registration(self, provider_id, status, urn, at, ofsted_grade=None, keep_grade=False,
                         setting_kind=None, roll=None) -> None:
        self.store.registration[provider_id] = setting_kind or status
        self.store.rolls.pop(provider_id, None)
        if roll:
            self.store.rolls[provider_id] = DeclaredRoll(roll["full_time_pupils"], roll["any_ehcp"],
                                                         roll["any_looked_after"], roll["any_sen"],
                                                         roll["declared_at"])

    def set_identifiers(self, provider_id, identifiers, at) -> None:
        self.store.identifiers[provider_id] = [dict(i) for i in identifiers]

    def set_membership(self, provider_id, lot, status, at, reason=None, ends_on=None, dps_id=FIRST_DPS_ID) -> None:
        self._lot(provider_id, lot, dps_id)["membership"] = status

    def set_capacity(self, provider_id, lot, capacity, at, dps_id=FIRST_DPS_ID) -> None:
        self._lot(provider_id, lot, dps_id)["capacity"] = capacity

    def set_pricing(self, provider_id, lot, lines, at, version=None, effective_from=None,
                    dps_id=FIRST_DPS_ID) -> None:
        self._lot(provider_id, lot, dps_id)["prices"] = {line["pricing_line_id"]: line["maximum_price_pence"]
                                                         for line in lines}
        self._lot(provider_id, lot, dps_id)["units"] = {line["pricing_line_id"]: line["unit"] for line in lines}

    def registry_for(self, lot: int, provider_ids: Iterable[UUID] | None = None,
                     dps_id: UUID = FIRST_DPS_ID) -> Registry:
        wanted = None if provider_ids is None else set(provider_ids)
        return Registry.of(
            ProviderOnLot(pid, lot, MembershipStatus(facts["membership"]),
                          SettingKind(self.store.registration.get(pid, "unregistered")),
                          dict(facts["prices"]), facts["capacity"], dict(facts.get("units", {})),
                          self.store.rolls.get(pid))
            for (pid, on, dps), facts in self.store.lots.items()
            if on == lot and dps == dps_id and facts["membership"] is not None and (wanted is None or pid in wanted))

    def lock_provider(self, provider_id: UUID, lot: int) -> None:
        self.locked.append((provider_id, lot))

    def places_in_use(self, provider_ids: Iterable[UUID]) -> PlacesInUse:
        ids = set(provider_ids)
        active: Counter = Counter()
        pupils: dict[UUID, tuple[Pupil, ...]] = {}
        for placement_id, provider_id, lot, child in self.store.placements:
            if provider_id in ids and placement_id not in self.store.ended:
                active[(provider_id, lot)] += 1
                pupils[provider_id] = (*pupils.get(provider_id, ()), child)
        return PlacesInUse(dict(active), pupils)

    def record_ended_placement(self, data: Mapping) -> None:
        self.store.ended.add(data["placement_id"])
        for contract in self.store.contracts.values():
            for referral_id, allocation in list(contract.allocations.items()):
                if allocation.placement_id == data["placement_id"]:
                    del contract.allocations[referral_id]


class FakeDpsRecords(Repository):
    def __init__(self, store: Store) -> None:
        super().__init__(None)
        self.store = store

    def get(self, dps_id: UUID) -> DpsRecord | None:
        if dps_id == FIRST_DPS_ID and dps_id not in self.store.dps_records:
            return DpsRecord.first(STATUTORY_END)
        return self.store.dps_records.get(dps_id)

    def all(self) -> list[DpsRecord]:
        return [self.get(FIRST_DPS_ID)] + [r for r in self.store.dps_records.values() if r.dps_id != FIRST_DPS_ID]

    def record(self, data: Mapping) -> None:
        self.store.dps_records[data["dps_id"]] = DpsRecord(
            data["dps_id"], data["name"], Regime(data["regime"]), data["start"], data["term_ends_on"],
            data["statutory_end"], data["ends_on"], data["status"], tuple(data["lots"]),
            tuple(AwardCriterion(c["code"], c["name"], c.get("description", "")) for c in data["award_criteria"]),
            data.get("agreed_minimum_window_days"))


class FakeCallOffs(Repository):
    def __init__(self, store: Store) -> None:
        super().__init__(None)
        self.store = store

    def get(self, referral_id: UUID, *, for_update: bool = False) -> CallOff | None:
        referral = self.store.referrals.get(referral_id)
        if referral is None:
            return None
        if referral_id not in self.store.call_offs:
            self.store.call_offs[referral_id] = CallOff(referral, self.store.offers.get(referral_id, []))
        return self._seen(self.store.call_offs[referral_id])

    def known(self, referral_id: UUID) -> bool:
        return referral_id in self.store.referrals

    def has_block_place(self, referral_id: UUID) -> bool:
        return referral_id in self.store.block_places

    def has_placement(self, referral_id: UUID) -> bool:
        call_off = self.store.call_offs.get(referral_id)
        return self.has_block_place(referral_id) or (call_off is not None and call_off.award_made is not None)

    def record_closed(self, data: Mapping) -> None:
        call_off = self.store.call_offs.get(data["referral_id"])
        if call_off is not None and call_off.award_made is not None or data["referral_id"] in self.store.block_places:
            return
        self.store.call_offs.pop(data["referral_id"], None)
        known = data["referral_id"] in self.store.referrals
        cancelled = known and (self.store.referrals[data["referral_id"]] is None
                               or self.store.referrals[data["referral_id"]].state is ReferralState.CANCELLED)
        self.store.referrals[data["referral_id"]] = Referral(
            data["referral_id"], data["lot"], Decimal(data["hours_per_week"]), data["ehcp"], data["looked_after"],
            data["full_time"], ReferralState.CANCELLED if cancelled else ReferralState.CLOSED, team=data["team"],
            child_ref=data["child_ref"], reason_for_ap=data["reason_for_ap"],
            start_date=data["start_date"], expected_weeks=data["expected_weeks"],
            dps_id=data.get("dps_id", FIRST_DPS_ID),
            compulsory_school_age=data.get("compulsory_school_age") is not False, has_sen=bool(data.get("has_sen")))
        self.store.offers[data["referral_id"]] = [
            Offer(o["offer_id"], o["provider_id"], o["pricing_line_id"], o["unit_price_pence"],
                  Decimal(o["units_per_week"]), o["weeks"], o["total_pence"], o["proposed_start"],
                  o["submitted_at"], o["meets_needs"], o.get("assessment_reason") or "") for o in data["offers"]]

    def record_cancelled(self, referral_id: UUID, reason: str, at: datetime) -> None:
        referral = self.store.referrals.get(referral_id)
        self.store.call_offs.pop(referral_id, None)
        self.store.referrals[referral_id] = None if referral is None else \
            replace(referral, state=ReferralState.CANCELLED)

    def save(self, call_off: CallOff) -> None:
        award = call_off.award_made
        if award is not None and all(p[0] != award.placement_id for p in self.store.placements):
            self.store.placements.append((award.placement_id, award.offer.provider_id, call_off.referral.lot,
                                          replace(call_off.referral.pupil(), placed_at=award.at)))


class FakeCompetitions(Repository):
    def __init__(self, store: Store) -> None:
        super().__init__(None)
        self.store = store
        self.extras: dict[UUID, dict] = {}

    def get(self, opportunity_id: UUID, *, for_update: bool = False) -> MiniCompetition | None:
        return self._seen(self.store.competitions.get(opportunity_id))

    def add(self, comp: MiniCompetition, *, title: str, description: str | None, created_by: str) -> None:
        self.store.competitions[comp.opportunity_id] = comp
        self.extras[comp.opportunity_id] = {"title": title, "description": description, "created_by": created_by}
        self._seen(comp)


class FakeContracts(Repository):
    def __init__(self, store: Store) -> None:
        super().__init__(None)
        self.store = store

    def get(self, contract_id: UUID, *, for_update: bool = False) -> BlockContract | None:
        return self._seen(self.store.contracts.get(contract_id))

    def add(self, contract: BlockContract) -> None:
        if any(c.opportunity_id == contract.opportunity_id for c in self.store.contracts.values()):
            raise sa.exc.IntegrityError("insert", {}, Exception("uq_block_contracts_opportunity_id"))
        self.store.contracts[contract.contract_id] = contract
        self._seen(contract)

    def save(self, contract: BlockContract) -> None:
        """As the unique constraints would: one place per referral, of any block."""
        for referral_id, allocation in contract.allocations.items():
            holder = self.store.block_places.get(referral_id)
            if holder is not None and holder != contract.contract_id:
                raise sa.exc.IntegrityError("insert", {}, Exception("uq_block_allocations_referral_id"))
            if holder is None:
                self.store.block_places[referral_id] = contract.contract_id
                child = self.store.referrals[referral_id].pupil()
                self.store.placements.append((allocation.placement_id, contract.provider_id, contract.lot,
                                              replace(child, placed_at=allocation.at)))
        self._seen(contract)


class FakeOffDps(Repository):
    def __init__(self, store: Store) -> None:
        super().__init__(None)
        self.store = store

    def get(self, referral_id: UUID, *, for_update: bool = False) -> OffDpsPlacement | None:
        return self._seen(self.store.off_dps.get(referral_id))

    def record(self, data: Mapping) -> bool:
        if data["referral_id"] in self.store.off_dps:
            return False
        self.store.off_dps[data["referral_id"]] = OffDpsPlacement.from_exception(data)
        return True

    def approved(self, referral_id: UUID) -> bool:
        found = self.store.off_dps.get(referral_id)
        return found is not None and found.status.value == "approved"

    def save(self, placement: OffDpsPlacement) -> None:
        self._seen(placement)


class FakeUnitOfWork(AwardsUnitOfWork):
    """The awards unit of work on a Store: `messages` and `audit` are what a
    commit would have written; `committed` says whether the use case committed."""

    def __init__(self, store: Store | None = None, *, now: datetime, actor: Actor | None = None) -> None:
        self.store = store or Store()
        self.clock = lambda: now
        self.actor = actor or Actor.system("awards")
        self.read_only = False
        self.session = None
        self._audit: list[AuditEntry] = []
        self.messages: list[tuple[str, dict]] = []
        self.audit: list[AuditEntry] = []
        self.committed = False
        self.open_repositories(None)

    def open_repositories(self, session) -> None:
        self.dps_records = FakeDpsRecords(self.store)
        self.registry = FakeRegistry(self.store)
        self.call_offs = FakeCallOffs(self.store)
        self.competitions = FakeCompetitions(self.store)
        self.contracts = FakeContracts(self.store)
        self.off_dps = FakeOffDps(self.store)

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def commit(self) -> None:
        self.collect()
        self.committed = True

    def rollback(self) -> None:
        pass

    def publish(self, type_: str, data: dict):
        self.messages.append((type_, data))

    def _write_audit(self, entry: AuditEntry) -> None:
        self.audit.append(entry)

    def published(self, type_: str) -> list[dict]:
        return [data for t, data in self.messages if t == type_]

    def audited(self) -> list[str]:
        return [entry.action for entry in self.audit]

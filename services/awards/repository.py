"""The awards service's repositories: each aggregate loaded whole, locked
when it is to change, and saved; the unit of work (unit_of_work.py) owns
them and collects the events of every aggregate they hand out or are given.

- RegistryCopy: awards' copy of the provider registry (Core upserts guarded
  by each event's `at`, shared.db.upsert_if_newer), the standing a ranking or
  an invitation is judged on, and the places in use;
- CallOffs: a closed referral's call-off (its offers and its award);
- Competitions: a mini-competition with its bids and scores;
- BlockContracts: a confirmed block contract with its places in use;
- OffDpsPlacements: an off-DPS exception for the manager's approval.

Locks: `for_update=True` reads the aggregate's row FOR UPDATE, so two people
acting on the same referral, opportunity, contract or provider's places wait
for each other instead of both winning.  That is PostgreSQL; on SQLite, where
FOR UPDATE does nothing, the unit of work holds the database's write lock
from its first read (shared.db), which serialises them the same way.

Lists and read-only views are views.py's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa

from services.awards import models as m
from services.awards.domain import (
    AwardCriterion,
    BlockContract,
    CallOff,
    DeclaredRoll,
    DpsRecord,
    MembershipStatus,
    MiniCompetition,
    OffDpsPlacement,
    OffDpsStatus,
    PlacesInUse,
    ProviderOnLot,
    Pupil,
    Regime,
    Registry,
    SettingKind,
)
from shared.catalogue import FIRST_DPS_ID
from shared.config import load_settings
from shared.db import upsert_if_newer
from shared.unit_of_work import Repository


def _locked(query, for_update: bool):
    return query.with_for_update() if for_update else query


def _live(table: sa.Table):
    """Placements awarded or allocated here that tracking has not said have ended."""
    return table.c.placement_id.not_in(sa.select(m.ended_placements.c.placement_id))


class RegistryCopy(Repository):
    """What the registry told awards.  Each fact is only overwritten by an event
    at least as recent as the one that set it."""

    def note_provider_name(self, provider_id: UUID, name: str, at: datetime) -> None:
        upsert_if_newer(self.session, m.providers, {"provider_id": provider_id}, "name_at", at, provider_name=name)

    def set_registration(self, provider_id: UUID, status: str, urn: str | None, at: datetime,
                         ofsted_grade: str | None = None, keep_grade: bool = False,
                         setting_kind: str | None = None, roll: Mapping | None = None) -> None:
        """The provider's registration: its status, its kind of setting (an older event without one: the
        status), and an unregistered setting's declared roll (None: none declared)."""
        roll = roll or {}
        values = {"registration_status": status, "urn": urn, "setting_kind": setting_kind or status,
                  "declared_full_time_pupils": roll.get("full_time_pupils"),
                  "declared_any_ehcp": roll.get("any_ehcp"), "declared_any_looked_after": roll.get("any_looked_after"),
                  "declared_any_sen": roll.get("any_sen"), "roll_declared_at": roll.get("declared_at")}
        if not keep_grade:
            values["ofsted_grade"] = ofsted_grade
        upsert_if_newer(self.session, m.providers, {"provider_id": provider_id}, "registration_at", at, **values)

    def set_identifiers(self, provider_id: UUID, identifiers: list[Mapping], at: datetime) -> None:
        upsert_if_newer(self.session, m.providers, {"provider_id": provider_id}, "identifiers_at", at,
                        identifiers=[{"scheme": i["scheme"], "id": i["id"]} for i in identifiers])

    def set_membership(self, provider_id: UUID, lot: int, status: str, at: datetime, reason: str | None = None,
                       ends_on: date | None = None, dps_id: UUID = FIRST_DPS_ID) -> None:
        values = {"membership_status": status, "status_reason": reason}
        if ends_on is not None:
            values["ends_on"] = ends_on
        upsert_if_newer(self.session, m.provider_lots, {"dps_id": dps_id, "provider_id": provider_id, "lot": lot},
                        "status_at", at, **values)

    def set_capacity(self, provider_id: UUID, lot: int, capacity: int, at: datetime,
                     dps_id: UUID = FIRST_DPS_ID) -> None:
        upsert_if_newer(self.session, m.provider_lots, {"dps_id": dps_id, "provider_id": provider_id, "lot": lot},
                        "capacity_at", at, capacity=capacity)

    def set_pricing(self, provider_id: UUID, lot: int, lines: list[Mapping], at: datetime,
                    version: int | None = None, effective_from: date | None = None,
                    dps_id: UUID = FIRST_DPS_ID) -> None:
        """The whole schedule of a lot at once: lines not in it are no longer offered."""
        pl, pricing = m.provider_lots, m.pricing_lines
        key = (pl.c.dps_id == dps_id, pl.c.provider_id == provider_id, pl.c.lot == lot)
        if self.session.execute(sa.select(pl.c.provider_id).where(*key)).first() is None:
            self.session.execute(pl.insert().values(dps_id=dps_id, provider_id=provider_id, lot=lot))
        current = self.session.execute(sa.select(pl.c.pricing_at).where(*key)).scalar_one()
        if current is not None and current > at:
            return  # a newer schedule is already in place
        self.session.execute(pl.update().where(*key).values(
            pricing_at=at, pricing_version=version, pricing_effective_from=effective_from))
        self.session.execute(pricing.delete().where(
            pricing.c.dps_id == dps_id, pricing.c.provider_id == provider_id, pricing.c.lot == lot))
        if lines:
            self.session.execute(pricing.insert(), [
                {"dps_id": dps_id, "provider_id": provider_id, "lot": lot, "pricing_line_id": line["pricing_line_id"],
                 "description": line["description"], "unit": line["unit"],
                 "staffing_ratio": line.get("staffing_ratio"), "maximum_price_pence": line["maximum_price_pence"]}
                for line in lines])

    def registry_for(self, lot: int, provider_ids: Iterable[UUID] | None = None,
                     dps_id: UUID = FIRST_DPS_ID) -> Registry:
        """The standing on `lot` of the DPS `dps_id` of the given providers (all of the lot's when None)."""
        pl, p = m.provider_lots, m.providers
        query = (sa.select(pl, p.c.registration_status, p.c.setting_kind, p.c.declared_full_time_pupils,
                           p.c.declared_any_ehcp, p.c.declared_any_looked_after, p.c.declared_any_sen,
                           p.c.roll_declared_at).join(p, p.c.provider_id == pl.c.provider_id)
                 .where(pl.c.dps_id == dps_id, pl.c.lot == lot, pl.c.membership_status.is_not(None)))
        if provider_ids is not None:
            query = query.where(pl.c.provider_id.in_(list(provider_ids)))
        rows = self.session.execute(query).all()
        prices: dict[UUID, dict[UUID, int]] = {}
        units: dict[UUID, dict[UUID, str]] = {}
        if rows:
            for line in self.session.execute(sa.select(m.pricing_lines).where(
                    m.pricing_lines.c.dps_id == dps_id, m.pricing_lines.c.lot == lot,
                    m.pricing_lines.c.provider_id.in_([r.provider_id for r in rows]))):
                prices.setdefault(line.provider_id, {})[line.pricing_line_id] = line.maximum_price_pence
                units.setdefault(line.provider_id, {})[line.pricing_line_id] = line.unit
        # A provider whose registration we have not heard of is judged as unregistered: the stricter rule.
        return Registry.of(
            ProviderOnLot(r.provider_id, lot, MembershipStatus(r.membership_status),
                          SettingKind(r.setting_kind or r.registration_status or "unregistered"),
                          prices.get(r.provider_id, {}), r.capacity or 0, units.get(r.provider_id, {}), _roll(r))
            for r in rows)

    def lock_provider(self, provider_id: UUID, lot: int) -> None:
        """Hold the provider's places while they are counted and one is taken."""
        self.session.execute(sa.select(m.providers.c.provider_id)
                             .where(m.providers.c.provider_id == provider_id).with_for_update())
        self.session.execute(sa.select(m.provider_lots.c.provider_id)
                             .where(m.provider_lots.c.provider_id == provider_id, m.provider_lots.c.lot == lot)
                             .with_for_update())

    def places_in_use(self, provider_ids: Iterable[UUID]) -> PlacesInUse:
        """Placements awarded or allocated here and not yet ended (tracking tells us when), and
        each one's child as the registration rule sees it."""
        ids = list(provider_ids)
        active: Counter = Counter()
        pupils: dict[UUID, list[Pupil]] = {}
        r = m.referrals
        for table, placed_at in ((m.awards, m.awards.c.awarded_at),
                                 (m.block_allocations, m.block_allocations.c.allocated_at)):
            rows = self.session.execute(
                sa.select(table.c.provider_id, table.c.lot, table.c.hours_per_week, placed_at.label("placed_at"),
                          r.c.compulsory_school_age, r.c.ehcp, r.c.looked_after, r.c.has_sen)
                .join(r, r.c.referral_id == table.c.referral_id)
                .where(table.c.provider_id.in_(ids), _live(table)))
            for row in rows:
                active[(row.provider_id, row.lot)] += 1
                pupils.setdefault(row.provider_id, []).append(Pupil(
                    Decimal(row.hours_per_week), row.compulsory_school_age is not False, bool(row.ehcp),
                    bool(row.looked_after), bool(row.has_sen), row.placed_at))
        return PlacesInUse(dict(active), {p: tuple(children) for p, children in pupils.items()})

    def record_ended_placement(self, data: Mapping) -> None:
        """placement.ended: the place is free again (for capacity, and for the block it came from)."""
        ended = m.ended_placements
        if self.session.execute(sa.select(ended.c.placement_id)
                                .where(ended.c.placement_id == data["placement_id"])).first() is None:
            self.session.execute(ended.insert().values(
                placement_id=data["placement_id"], provider_id=data["provider_id"], lot=data["lot"],
                ended_on=data["ended_on"], end_reason=data.get("end_reason"), at=data["at"]))


class DpsRecords(Repository):
    """Awards' copy of each DPS record (dps.configured), newest event wins."""

    def get(self, dps_id: UUID) -> DpsRecord | None:
        """The record; the first DPS before its record has been heard of is a
        PCR 2015 DPS with the configured statutory end (as before there were records)."""
        row = self.session.execute(sa.select(m.dps_records).where(m.dps_records.c.dps_id == dps_id)).first()
        if row is not None:
            return _dps_record(row)
        if dps_id == FIRST_DPS_ID:
            return DpsRecord.first(load_settings("awards").pcr2015_statutory_end)
        return None

    def all(self) -> list[DpsRecord]:
        rows = self.session.execute(sa.select(m.dps_records).order_by(m.dps_records.c.start, m.dps_records.c.dps_id))
        records = [_dps_record(row) for row in rows]
        if all(r.dps_id != FIRST_DPS_ID for r in records):
            records.insert(0, self.get(FIRST_DPS_ID))
        return records

    def record(self, data: Mapping) -> None:
        """dps.configured: the record as the registry now describes it, unless a newer one is stored."""
        values = {name: data.get(name) for name in (
            "name", "regime", "start", "term_ends_on", "statutory_end", "ends_on", "status",
            "agreed_minimum_window_days", "agreed_in_sla_version", "sla_version")}
        values["lots"] = list(data["lots"])
        values["award_criteria"] = [dict(c) for c in data["award_criteria"]]
        upsert_if_newer(self.session, m.dps_records, {"dps_id": data["dps_id"]}, "at", data["at"], **values)


def _roll(row) -> DeclaredRoll | None:
    """The provider's declared roll, when it has declared one."""
    if row.roll_declared_at is None:
        return None
    return DeclaredRoll(row.declared_full_time_pupils or 0, bool(row.declared_any_ehcp),
                        bool(row.declared_any_looked_after), bool(row.declared_any_sen), row.roll_declared_at)


def _dps_record(row) -> DpsRecord:
    return DpsRecord(row.dps_id, row.name, Regime(row.regime), row.start, row.term_ends_on, row.statutory_end,
                     row.ends_on, row.status, tuple(row.lots),
                     tuple(AwardCriterion(c["code"], c["name"], c.get("description") or "")
                           for c in row.award_criteria),
                     row.agreed_minimum_window_days)


class CallOffs(Repository):
    """A closed referral's call-off: the referral as referrals closed it, its offers, its award."""

    def get(self, referral_id: UUID, *, for_update: bool = False) -> CallOff | None:
        """None when awards knows no closed referral by that id (a cancellation
        heard before the closing is no call-off)."""
        query = sa.select(CallOff).where(m.referrals.c.referral_id == referral_id)
        call_off = self.session.scalars(_locked(query, for_update)).first()
        return None if call_off is None or call_off.lot is None else self._seen(call_off)

    def known(self, referral_id: UUID) -> bool:
        """Whether awards has heard of the referral at all (closed or cancelled)."""
        return self._row(referral_id, False) is not None

    def _row(self, referral_id: UUID, for_update: bool):
        query = sa.select(m.referrals).where(m.referrals.c.referral_id == referral_id)
        return self.session.execute(_locked(query, for_update)).first()

    def has_placement(self, referral_id: UUID) -> bool:
        """An award or a block place: one placement per referral."""
        return self.has_block_place(referral_id) or self._exists(m.awards, referral_id)

    def has_block_place(self, referral_id: UUID) -> bool:
        return self._exists(m.block_allocations, referral_id)

    def _exists(self, table: sa.Table, referral_id: UUID) -> bool:
        return self.session.execute(sa.select(table.c.referral_id).where(table.c.referral_id == referral_id)) \
            .first() is not None

    def record_closed(self, data: Mapping) -> None:
        """A referral closed, with its offers.  Later copies of the same closing
        replace the offers until an award is made from them; a cancellation
        that arrived first stands."""
        referral_id = data["referral_id"]
        existing = self._row(referral_id, True)
        if existing is not None and self.has_placement(referral_id):
            return
        if existing is not None and existing.closed_at is not None and existing.closed_at > data["at"]:
            return
        values = {
            "lot": data["lot"], "team": data["team"], "child_ref": data["child_ref"],
            "reason_for_ap": data["reason_for_ap"], "hours_per_week": data["hours_per_week"],
            "full_time": data["full_time"], "ehcp": data["ehcp"], "looked_after": data["looked_after"],
            "compulsory_school_age": data.get("compulsory_school_age"), "has_sen": data.get("has_sen"),
            "start_date": data["start_date"], "expected_weeks": data["expected_weeks"], "closed_at": data["at"],
            "dps_id": data.get("dps_id", FIRST_DPS_ID), "window_basis": data.get("window_basis")}
        if existing is None:
            self.session.execute(m.referrals.insert().values(referral_id=referral_id, state="closed", **values))
        else:
            self.session.execute(m.referrals.update().where(m.referrals.c.referral_id == referral_id)
                                 .values(**values))
            self.session.execute(m.offers.delete().where(m.offers.c.referral_id == referral_id))
        if data["offers"]:
            self.session.execute(m.offers.insert(), [{
                "offer_id": o["offer_id"], "referral_id": referral_id, "provider_id": o["provider_id"],
                "pricing_line_id": o["pricing_line_id"], "unit_price_pence": o["unit_price_pence"],
                "units_per_week": o["units_per_week"], "weeks": o["weeks"], "total_pence": o["total_pence"],
                "proposed_start": o["proposed_start"], "staffing_ratio": o.get("staffing_ratio"),
                "submitted_at": o["submitted_at"], "meets_needs": o["meets_needs"],
                "assessment_reason": o.get("assessment_reason")} for o in data["offers"]])

    def record_cancelled(self, referral_id: UUID, reason: str, at: datetime) -> None:
        if self._row(referral_id, True) is None:
            self.session.execute(m.referrals.insert().values(referral_id=referral_id, state="cancelled",
                                                             cancelled_at=at, cancel_reason=reason))
        else:
            self.session.execute(m.referrals.update().where(m.referrals.c.referral_id == referral_id)
                                 .values(state="cancelled", cancelled_at=at, cancel_reason=reason))

    def save(self, call_off: CallOff) -> None:
        """Write the award now (the Session holds it): the unique referral_id of
        the awards table speaks inside the use case."""
        self._seen(call_off)
        self.session.flush()


class Competitions(Repository):
    """A mini-competition with its invitations, bids, scores, award and contract (mapped in orm.py)."""

    def get(self, opportunity_id: UUID, *, for_update: bool = False) -> MiniCompetition | None:
        query = sa.select(MiniCompetition).where(m.opportunities.c.opportunity_id == opportunity_id)
        return self._seen(self.session.scalars(_locked(query, for_update)).first())

    def add(self, comp: MiniCompetition, *, title: str, description: str | None, created_by: str) -> None:
        comp.title, comp.description, comp.created_by = title, description, created_by
        self.session.add(comp)
        self._seen(comp)


class BlockContracts(Repository):
    """A confirmed block contract with its places in use (mapped in orm.py)."""

    def get(self, contract_id: UUID, *, for_update: bool = False) -> BlockContract | None:
        query = sa.select(BlockContract).where(m.block_contracts.c.contract_id == contract_id)
        return self._seen(self.session.scalars(_locked(query, for_update)).first())

    def add(self, contract: BlockContract) -> None:
        self.session.add(contract)
        self.save(contract)

    def save(self, contract: BlockContract) -> None:
        """Write what changed now, so the unique constraints speak inside the use case
        (one contract per competition, one place per referral)."""
        self._seen(contract)
        self.session.flush()


class OffDpsPlacements(Repository):
    """Off-DPS exceptions as referrals recorded them (off_dps_exception.recorded), for the manager (orm.py)."""

    def get(self, referral_id: UUID, *, for_update: bool = False) -> OffDpsPlacement | None:
        query = sa.select(OffDpsPlacement).where(m.off_dps_placements.c.referral_id == referral_id)
        return self._seen(self.session.scalars(_locked(query, for_update)).first())

    def record(self, data: Mapping) -> bool:
        """Keep a copy of the exception; a second copy of the event changes nothing (returns False)."""
        t = m.off_dps_placements
        if self.session.execute(sa.select(t.c.referral_id).where(t.c.referral_id == data["referral_id"])).first():
            return False
        self.session.add(OffDpsPlacement.from_exception(data))
        return True

    def approved(self, referral_id: UUID) -> bool:
        """Whether the referral's child is placed off the DPS (one placement per referral, however placed)."""
        t = m.off_dps_placements
        return self.session.execute(sa.select(t.c.referral_id).where(
            t.c.referral_id == referral_id, t.c.status == OffDpsStatus.APPROVED)).first() is not None

    def save(self, placement: OffDpsPlacement) -> None:
        self._seen(placement)
        self.session.flush()

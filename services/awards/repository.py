"""Rows <-> domain objects.  Every query of the awards database is here.

Locks: `lock=True` reads a row FOR UPDATE, so two people acting on the same
referral, opportunity, contract or provider's places wait for each other
instead of both winning.  That is PostgreSQL; on SQLite, where FOR UPDATE
does nothing, the unit of work holds the database's write lock from its
first read (shared.db), which serialises them the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.awards import models as m
from services.awards.domain import (
    Award,
    Bid,
    BlockContract,
    CallOff,
    Criterion,
    EvaluatorScore,
    MembershipStatus,
    MiniCompetition,
    ModeratedScore,
    Offer,
    OpportunityTerms,
    PlaceAllocation,
    PlacesInUse,
    ProviderOnLot,
    RankedOffer,
    Ranking,
    Reason,
    Referral,
    ReferralState,
    RegistrationStatus,
    Registry,
    Rule,
    ScoringScale,
    Split,
    TieBreak,
    evaluate_bids,
)
from shared.db import upsert_if_newer

# --- snapshots kept as JSON: the ranking an award was made from, the evaluation of a competition


def ranking_to_json(ranking: Ranking) -> dict:
    return {
        "referral_id": str(ranking.referral_id), "lot": ranking.lot, "made_at": ranking.made_at.isoformat(),
        "entries": [{
            "offer_id": str(e.offer.offer_id), "provider_id": str(e.offer.provider_id),
            "pricing_line_id": str(e.offer.pricing_line_id), "unit_price_pence": e.offer.unit_price_pence,
            "units_per_week": str(e.offer.units_per_week), "weeks": e.offer.weeks,
            "total_pence": e.offer.total_pence, "start_date": e.offer.start_date.isoformat(),
            "submitted_at": e.offer.submitted_at.isoformat(), "meets_needs": e.offer.meets_needs,
            "assessment_reason": e.offer.needs_reason, "rank": e.rank, "eligible": e.eligible,
            "reasons": [{"rule": r.rule.value, "message": r.message} for r in e.reasons],
        } for e in ranking.entries],
    }


def ranking_from_json(data: dict) -> Ranking:
    entries = []
    for e in data["entries"]:
        offer = Offer(UUID(e["offer_id"]), UUID(e["provider_id"]), UUID(e["pricing_line_id"]),
                      e["unit_price_pence"], Decimal(e["units_per_week"]), e["weeks"], e["total_pence"],
                      date.fromisoformat(e["start_date"]), datetime.fromisoformat(e["submitted_at"]),
                      e["meets_needs"], e["assessment_reason"] or "")
        reasons = tuple(Reason(Rule(r["rule"]), r["message"]) for r in e["reasons"])
        entries.append(RankedOffer(offer, reasons, e["rank"]))
    return Ranking(UUID(data["referral_id"]), data["lot"], datetime.fromisoformat(data["made_at"]), tuple(entries))


def evaluation_to_json(comp: MiniCompetition) -> dict:
    evaluation = comp.evaluation
    return {
        "lowest_price_pence": evaluation.lowest_price_pence,
        "results": [{
            "bid_id": str(r.bid.bid_id), "provider_id": str(r.bid.provider_id), "price_pence": r.bid.price_pence,
            "rank": r.rank, "excluded": list(r.excluded),
            "quality": None if r.quality is None else str(r.quality),
            "price": None if r.price is None else str(r.price),
            "total": None if r.total is None else str(r.total),
            "scores": {name: {"score": s.score, "reason": s.reason} for name, s in r.scores.items()},
        } for r in evaluation.results],
    }


def terms_to_row(terms: OpportunityTerms) -> dict:
    return {
        "lot": terms.lot, "places": terms.places, "contract_start": terms.contract_start,
        "contract_end": terms.contract_end, "opens_at": terms.opens_at, "deadline": terms.deadline,
        "criteria": [{"name": c.name, "weight": str(c.weight), "minimum_score": c.minimum_score,
                      "question": c.question} for c in terms.criteria],
        "scale": {"maximum": terms.scale.maximum,
                  "descriptors": None if terms.scale.descriptors is None
                  else {str(k): v for k, v in terms.scale.descriptors.items()}},
        "split": {"quality": str(terms.split.quality), "price": str(terms.split.price)},
        "tie_break": [rule.value for rule in terms.tie_break],
        "standstill_working_days": terms.standstill_working_days,
    }


def terms_from_row(row) -> OpportunityTerms:
    descriptors = row.scale.get("descriptors")
    return OpportunityTerms(
        lot=row.lot, places=row.places, contract_start=row.contract_start, contract_end=row.contract_end,
        criteria=tuple(Criterion(c["name"], Decimal(c["weight"]), c["minimum_score"], c.get("question") or "")
                       for c in row.criteria),
        opens_at=row.opens_at, deadline=row.deadline,
        scale=ScoringScale(row.scale["maximum"],
                           None if descriptors is None else {int(k): v for k, v in descriptors.items()}),
        split=Split(Decimal(row.split["quality"]), Decimal(row.split["price"])),
        tie_break=tuple(TieBreak(v) for v in row.tie_break),
        standstill_working_days=row.standstill_working_days)


def _number(value) -> Decimal:
    """A stored Numeric as people write it: 25, not 25.00; 17.5, not 17.50."""
    value = Decimal(value)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _for_update(query, lock: bool):
    return query.with_for_update() if lock else query


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _one(self, query):
        return self.session.execute(query).first()

    def _all(self, query, limit: int | None = None, offset: int = 0) -> list:
        if limit is not None:  # a page of a list (shared.paging)
            query = query.limit(limit).offset(offset)
        return list(self.session.execute(query))

    # ------------------------------------------------------------------ registry copy
    # Each fact is only overwritten by an event at least as recent as the one that set it.

    def _ensure(self, table: sa.Table, **key) -> None:
        where = [table.c[name] == value for name, value in key.items()]
        if self._one(sa.select(*table.primary_key.columns).where(*where)) is None:
            self.session.execute(table.insert().values(**key))

    def _update_if_newer(self, table: sa.Table, key: dict, stamp: str, at: datetime, **values) -> None:
        upsert_if_newer(self.session, table, key, stamp, at, **values)

    def note_provider_name(self, provider_id: UUID, name: str, at: datetime) -> None:
        self._update_if_newer(m.providers, {"provider_id": provider_id}, "name_at", at, provider_name=name)

    def set_registration(self, provider_id: UUID, status: str, urn: str | None, at: datetime,
                         ofsted_grade: str | None = None, keep_grade: bool = False) -> None:
        values = {"registration_status": status, "urn": urn}
        if not keep_grade:
            values["ofsted_grade"] = ofsted_grade
        self._update_if_newer(m.providers, {"provider_id": provider_id}, "registration_at", at, **values)

    def set_membership(self, provider_id: UUID, lot: int, status: str, at: datetime, reason: str | None = None,
                       ends_on: date | None = None) -> None:
        values = {"membership_status": status, "status_reason": reason}
        if ends_on is not None:
            values["ends_on"] = ends_on
        self._update_if_newer(m.provider_lots, {"provider_id": provider_id, "lot": lot}, "status_at", at, **values)

    def set_capacity(self, provider_id: UUID, lot: int, capacity: int, at: datetime) -> None:
        self._update_if_newer(m.provider_lots, {"provider_id": provider_id, "lot": lot}, "capacity_at", at,
                              capacity=capacity)

    def set_pricing(self, provider_id: UUID, lot: int, lines: list[dict], at: datetime, version: int | None = None,
                    effective_from: date | None = None) -> None:
        """The whole schedule of a lot at once: lines not in it are no longer offered."""
        self._ensure(m.provider_lots, provider_id=provider_id, lot=lot)
        current = self._one(sa.select(m.provider_lots.c.pricing_at).where(
            m.provider_lots.c.provider_id == provider_id, m.provider_lots.c.lot == lot))
        if current.pricing_at is not None and current.pricing_at > at:
            return  # a newer schedule is already in place
        self.session.execute(m.provider_lots.update().where(
            m.provider_lots.c.provider_id == provider_id, m.provider_lots.c.lot == lot).values(
            pricing_at=at, pricing_version=version, pricing_effective_from=effective_from))
        self.session.execute(m.pricing_lines.delete().where(
            m.pricing_lines.c.provider_id == provider_id, m.pricing_lines.c.lot == lot))
        if lines:
            self.session.execute(m.pricing_lines.insert(), [
                {"provider_id": provider_id, "lot": lot, "pricing_line_id": line["pricing_line_id"],
                 "description": line["description"], "unit": line["unit"],
                 "staffing_ratio": line.get("staffing_ratio"), "maximum_price_pence": line["maximum_price_pence"]}
                for line in lines])

    def registry_for(self, lot: int, provider_ids: Iterable[UUID] | None = None) -> Registry:
        """The standing on `lot` of the given providers (all of the lot's when None)."""
        pl, p = m.provider_lots, m.providers
        query = (sa.select(pl, p.c.registration_status).join(p, p.c.provider_id == pl.c.provider_id)
                 .where(pl.c.lot == lot, pl.c.membership_status.is_not(None)))
        if provider_ids is not None:
            query = query.where(pl.c.provider_id.in_(list(provider_ids)))
        rows = self._all(query)
        prices: dict[UUID, dict[UUID, int]] = {}
        if rows:
            for line in self._all(sa.select(m.pricing_lines).where(
                    m.pricing_lines.c.lot == lot, m.pricing_lines.c.provider_id.in_([r.provider_id for r in rows]))):
                prices.setdefault(line.provider_id, {})[line.pricing_line_id] = line.maximum_price_pence
        # A provider whose registration we have not heard of is judged as unregistered: the stricter rule.
        return Registry.of(
            ProviderOnLot(r.provider_id, lot, MembershipStatus(r.membership_status),
                          RegistrationStatus(r.registration_status or "unregistered"),
                          prices.get(r.provider_id, {}), r.capacity or 0)
            for r in rows)

    def lock_provider(self, provider_id: UUID, lot: int) -> None:
        """Hold the provider's places while they are counted and one is taken."""
        self.session.execute(sa.select(m.providers.c.provider_id)
                             .where(m.providers.c.provider_id == provider_id).with_for_update())
        self.session.execute(sa.select(m.provider_lots.c.provider_id)
                             .where(m.provider_lots.c.provider_id == provider_id, m.provider_lots.c.lot == lot)
                             .with_for_update())

    def places_in_use(self, provider_ids: Iterable[UUID]) -> PlacesInUse:
        """Placements awarded or allocated here and not yet ended (tracking tells us when)."""
        ids = list(provider_ids)
        ended = sa.select(m.ended_placements.c.placement_id)
        active: Counter = Counter()
        full_time: Counter = Counter()
        for table in (m.awards, m.block_allocations):
            rows = self._all(sa.select(table.c.provider_id, table.c.lot, table.c.full_time)
                             .where(table.c.provider_id.in_(ids), table.c.placement_id.not_in(ended)))
            for row in rows:
                active[(row.provider_id, row.lot)] += 1
                full_time[row.provider_id] += 1 if row.full_time else 0
        return PlacesInUse(dict(active), dict(full_time))

    def providers(self, lot: int | None = None, *, limit: int | None = None, offset: int = 0) -> list:
        pl, p = m.provider_lots, m.providers
        query = sa.select(pl, p.c.provider_name, p.c.registration_status, p.c.urn).join(
            p, p.c.provider_id == pl.c.provider_id).order_by(p.c.provider_name, pl.c.provider_id, pl.c.lot)
        if lot is not None:
            query = query.where(pl.c.lot == lot)
        return self._all(query, limit, offset)

    def provider_names(self, provider_ids: Iterable[UUID]) -> dict[UUID, str]:
        ids = list(provider_ids)
        if not ids:
            return {}
        rows = self._all(sa.select(m.providers.c.provider_id, m.providers.c.provider_name)
                         .where(m.providers.c.provider_id.in_(ids)))
        return {r.provider_id: r.provider_name for r in rows}

    def pricing_line_descriptions(self, provider_id: UUID, lot: int) -> dict[UUID, str]:
        rows = self._all(sa.select(m.pricing_lines).where(m.pricing_lines.c.provider_id == provider_id,
                                                          m.pricing_lines.c.lot == lot))
        return {r.pricing_line_id: r.description for r in rows}

    # ------------------------------------------------------------------ referrals copy

    def referral_row(self, referral_id: UUID, lock: bool = False):
        return self._one(_for_update(sa.select(m.referrals).where(m.referrals.c.referral_id == referral_id), lock))

    def record_closed_referral(self, data: dict) -> None:
        """A referral closed, with its offers.  Later copies of the same closing
        replace the offers until an award is made from them; a cancellation
        that arrived first stands."""
        existing = self.referral_row(data["referral_id"], lock=True)
        if existing is not None and (self.award_for_referral(data["referral_id"]) is not None
                                     or self.allocation_for_referral(data["referral_id"]) is not None):
            return
        if existing is not None and existing.closed_at is not None and existing.closed_at > data["at"]:
            return
        values = {
            "lot": data["lot"], "team": data["team"], "child_ref": data["child_ref"],
            "reason_for_ap": data["reason_for_ap"], "hours_per_week": data["hours_per_week"],
            "full_time": data["full_time"], "ehcp": data["ehcp"], "looked_after": data["looked_after"],
            "start_date": data["start_date"], "expected_weeks": data["expected_weeks"], "closed_at": data["at"]}
        if existing is None:
            self.session.execute(m.referrals.insert().values(referral_id=data["referral_id"], state="closed",
                                                             **values))
        else:
            self.session.execute(m.referrals.update().where(m.referrals.c.referral_id == data["referral_id"])
                                 .values(**values))
            self.session.execute(m.offers.delete().where(m.offers.c.referral_id == data["referral_id"]))
        if data["offers"]:
            self.session.execute(m.offers.insert(), [{
                "offer_id": o["offer_id"], "referral_id": data["referral_id"], "provider_id": o["provider_id"],
                "pricing_line_id": o["pricing_line_id"], "unit_price_pence": o["unit_price_pence"],
                "units_per_week": o["units_per_week"], "weeks": o["weeks"], "total_pence": o["total_pence"],
                "proposed_start": o["proposed_start"], "staffing_ratio": o.get("staffing_ratio"),
                "submitted_at": o["submitted_at"], "meets_needs": o["meets_needs"],
                "assessment_reason": o.get("assessment_reason")} for o in data["offers"]])

    def record_cancelled_referral(self, referral_id: UUID, reason: str, at: datetime) -> None:
        if self.referral_row(referral_id, lock=True) is None:
            self.session.execute(m.referrals.insert().values(referral_id=referral_id, state="cancelled",
                                                             cancelled_at=at, cancel_reason=reason))
        else:
            self.session.execute(m.referrals.update().where(m.referrals.c.referral_id == referral_id)
                                 .values(state="cancelled", cancelled_at=at, cancel_reason=reason))

    def referrals(self, *, team: str | None = None, lot: int | None = None, state: str | None = None,
                  limit: int | None = None, offset: int = 0) -> list:
        query = sa.select(m.referrals, m.awards.c.award_id, m.block_allocations.c.allocation_id).outerjoin(
            m.awards, m.awards.c.referral_id == m.referrals.c.referral_id).outerjoin(
            m.block_allocations, m.block_allocations.c.referral_id == m.referrals.c.referral_id).order_by(
            m.referrals.c.closed_at.desc(), m.referrals.c.referral_id)
        if team:
            query = query.where(m.referrals.c.team == team)
        if lot:
            query = query.where(m.referrals.c.lot == lot)
        if state:
            query = query.where(m.referrals.c.state == state)
        return self._all(query, limit, offset)

    @staticmethod
    def referral_from_row(row) -> Referral:
        return Referral(row.referral_id, row.lot, _number(row.hours_per_week), bool(row.ehcp),
                        bool(row.looked_after), bool(row.full_time), ReferralState(row.state), team=row.team,
                        child_ref=row.child_ref, reason_for_ap=row.reason_for_ap or "", start_date=row.start_date,
                        expected_weeks=row.expected_weeks)

    def offers_of(self, referral_id: UUID) -> list[Offer]:
        rows = self._all(sa.select(m.offers).where(m.offers.c.referral_id == referral_id))
        return [Offer(r.offer_id, r.provider_id, r.pricing_line_id, r.unit_price_pence, _number(r.units_per_week),
                      r.weeks, r.total_pence, r.proposed_start, r.submitted_at, r.meets_needs,
                      r.assessment_reason or "") for r in rows]

    def record_ended_placement(self, data: dict) -> None:
        if self._one(sa.select(m.ended_placements.c.placement_id)
                     .where(m.ended_placements.c.placement_id == data["placement_id"])) is None:
            self.session.execute(m.ended_placements.insert().values(
                placement_id=data["placement_id"], provider_id=data["provider_id"], lot=data["lot"],
                ended_on=data["ended_on"], end_reason=data.get("end_reason"), at=data["at"]))

    # ------------------------------------------------------------------ call-offs

    def call_off(self, referral_id: UUID, lock: bool = False) -> CallOff | None:
        """The referral's call-off, or None when awards knows no closed referral by that id."""
        row = self.referral_row(referral_id, lock=lock)
        if row is None or row.lot is None:
            return None
        return self.call_off_of(row)

    def call_off_of(self, row) -> CallOff:
        """The call-off of a closed referral's row."""
        award_row = self.award_for_referral(row.referral_id)
        return CallOff(self.referral_from_row(row), self.offers_of(row.referral_id),
                       self.award_from_row(award_row) if award_row else None)

    def award_for_referral(self, referral_id: UUID):
        return self._one(sa.select(m.awards).where(m.awards.c.referral_id == referral_id))

    def award_row(self, award_id: UUID):
        return self._one(sa.select(m.awards).where(m.awards.c.award_id == award_id))

    @staticmethod
    def award_from_row(row) -> Award:
        ranking = ranking_from_json(row.ranking)
        return Award(row.award_id, row.referral_id, ranking.entry(row.offer_id).offer, ranking,
                     row.override_reason, row.awarded_by, row.awarded_at, row.placement_id)

    def add_award(self, award: Award, referral: Referral) -> None:
        offer = award.offer
        self.session.execute(m.awards.insert().values(
            award_id=award.award_id, placement_id=award.placement_id, referral_id=award.referral_id,
            offer_id=offer.offer_id, provider_id=offer.provider_id, lot=referral.lot, team=referral.team,
            pricing_line_id=offer.pricing_line_id, unit_price_pence=offer.unit_price_pence,
            units_per_week=offer.units_per_week, hours_per_week=referral.hours_per_week, weeks=offer.weeks,
            total_pence=offer.total_pence, start_date=offer.start_date, full_time=referral.full_time,
            override_reason=award.override_reason, awarded_by=award.awarded_by, awarded_at=award.at,
            ranking=ranking_to_json(award.ranking)))
        self.session.flush()  # the unique constraint speaks now, inside the caller's transaction

    def awards(self, *, provider_id: UUID | None = None, lot: int | None = None, team: str | None = None,
               referral_id: UUID | None = None, award_id: UUID | None = None, awarded_from: datetime | None = None,
               awarded_before: datetime | None = None, limit: int | None = None, offset: int = 0) -> list:
        a = m.awards
        query = sa.select(a, m.providers.c.provider_name).outerjoin(
            m.providers, m.providers.c.provider_id == a.c.provider_id).order_by(a.c.awarded_at, a.c.award_id)
        for column, value in ((a.c.provider_id, provider_id), (a.c.lot, lot), (a.c.team, team),
                              (a.c.referral_id, referral_id), (a.c.award_id, award_id)):
            if value is not None:
                query = query.where(column == value)
        if awarded_from is not None:
            query = query.where(a.c.awarded_at >= awarded_from)
        if awarded_before is not None:
            query = query.where(a.c.awarded_at < awarded_before)
        return self._all(query, limit, offset)

    def offer_counts(self, referral_ids: Iterable[UUID]) -> dict[UUID, int]:
        ids = list(referral_ids)
        if not ids:
            return {}
        rows = self._all(sa.select(m.offers.c.referral_id, sa.func.count()).where(
            m.offers.c.referral_id.in_(ids)).group_by(m.offers.c.referral_id))
        return {r[0]: r[1] for r in rows}

    # ------------------------------------------------------------------ mini-competitions

    def add_opportunity(self, comp: MiniCompetition, *, title: str, description: str | None, team: str | None,
                        created_by: str) -> None:
        self.session.execute(m.opportunities.insert().values(
            opportunity_id=comp.opportunity_id, title=title, description=description, team=team,
            created_by=created_by, created_at=comp.created_at, **terms_to_row(comp.terms)))
        self.session.execute(m.invitations.insert(), [
            {"opportunity_id": comp.opportunity_id, "provider_id": p} for p in sorted(comp.invited)])

    def opportunity_row(self, opportunity_id: UUID, lock: bool = False):
        return self._one(_for_update(
            sa.select(m.opportunities).where(m.opportunities.c.opportunity_id == opportunity_id), lock))

    def opportunities(self, *, lot: int | None = None, team: str | None = None,
                      invited: UUID | None = None, limit: int | None = None, offset: int = 0) -> list:
        o = m.opportunities
        query = sa.select(o).order_by(o.c.created_at.desc(), o.c.opportunity_id)
        if lot is not None:
            query = query.where(o.c.lot == lot)
        if team is not None:
            query = query.where(o.c.team == team)
        if invited is not None:
            query = query.where(o.c.opportunity_id.in_(
                sa.select(m.invitations.c.opportunity_id).where(m.invitations.c.provider_id == invited)))
        return self._all(query, limit, offset)

    def invited_to(self, opportunity_id: UUID) -> frozenset[UUID]:
        rows = self._all(sa.select(m.invitations.c.provider_id)
                         .where(m.invitations.c.opportunity_id == opportunity_id))
        return frozenset(r.provider_id for r in rows)

    def mini_competition(self, opportunity_id: UUID, lock: bool = False) -> MiniCompetition | None:
        row = self.opportunity_row(opportunity_id, lock=lock)
        if row is None:
            return None
        comp = MiniCompetition(row.opportunity_id, terms_from_row(row), self.invited_to(opportunity_id),
                               row.created_at)
        for b in self._all(sa.select(m.bids).where(m.bids.c.opportunity_id == opportunity_id)):
            comp.bids[b.provider_id] = Bid(b.bid_id, b.provider_id, b.price_pence, dict(b.answers), b.submitted_at)
        bid_ids = [b.bid_id for b in comp.bids.values()]
        if bid_ids:
            for s in self._all(sa.select(m.evaluator_scores).where(m.evaluator_scores.c.bid_id.in_(bid_ids))):
                comp.evaluator_scores[(s.bid_id, s.criterion, s.evaluator_id)] = EvaluatorScore(
                    s.bid_id, s.criterion, s.evaluator_id, s.score, s.reason, s.at)
            for s in self._all(sa.select(m.moderated_scores).where(m.moderated_scores.c.bid_id.in_(bid_ids))):
                comp.moderated[(s.bid_id, s.criterion)] = ModeratedScore(
                    s.bid_id, s.criterion, s.score, s.reason, s.moderated_by, s.at)
        if row.awarded_at is not None:
            # Scores are final once awarded, so the evaluation recomputes to the snapshot.
            comp.evaluation = evaluate_bids(comp.terms, comp.bids.values(), comp.moderated)
            comp.awarded_by, comp.awarded_at = row.awarded_by, row.awarded_at
            comp.standstill_ends_on = row.standstill_ends_on
            contract_row = self.contract_for_opportunity(opportunity_id)
            if contract_row is not None:
                comp.contract = self._contract_from_row(contract_row)
        return comp

    def save_bid(self, opportunity_id: UUID, bid: Bid) -> None:
        existing = self._one(sa.select(m.bids.c.bid_id).where(m.bids.c.bid_id == bid.bid_id))
        values = {"price_pence": bid.price_pence, "answers": dict(bid.answers), "submitted_at": bid.submitted_at}
        if existing is None:
            self.session.execute(m.bids.insert().values(bid_id=bid.bid_id, opportunity_id=opportunity_id,
                                                        provider_id=bid.provider_id, **values))
        else:
            self.session.execute(m.bids.update().where(m.bids.c.bid_id == bid.bid_id).values(**values))

    def delete_bid(self, bid_id: UUID) -> None:
        self.session.execute(m.bids.delete().where(m.bids.c.bid_id == bid_id))

    def bids_of(self, opportunity_id: UUID, provider_id: UUID | None = None) -> list:
        query = sa.select(m.bids).where(m.bids.c.opportunity_id == opportunity_id).order_by(
            m.bids.c.submitted_at, m.bids.c.bid_id)
        if provider_id is not None:
            query = query.where(m.bids.c.provider_id == provider_id)
        return self._all(query)

    def save_evaluator_score(self, entry: EvaluatorScore) -> None:
        t = m.evaluator_scores
        key = (t.c.bid_id == entry.bid_id, t.c.criterion == entry.criterion, t.c.evaluator_id == entry.evaluator_id)
        values = {"score": entry.score, "reason": entry.reason, "at": entry.at}
        if self._one(sa.select(t.c.bid_id).where(*key)) is None:
            self.session.execute(t.insert().values(bid_id=entry.bid_id, criterion=entry.criterion,
                                                   evaluator_id=entry.evaluator_id, **values))
        else:
            self.session.execute(t.update().where(*key).values(**values))

    def save_moderated_score(self, entry: ModeratedScore) -> None:
        t = m.moderated_scores
        key = (t.c.bid_id == entry.bid_id, t.c.criterion == entry.criterion)
        values = {"score": entry.score, "reason": entry.reason, "moderated_by": entry.moderated_by, "at": entry.at}
        if self._one(sa.select(t.c.bid_id).where(*key)) is None:
            self.session.execute(t.insert().values(bid_id=entry.bid_id, criterion=entry.criterion, **values))
        else:
            self.session.execute(t.update().where(*key).values(**values))

    def save_competition_award(self, comp: MiniCompetition) -> None:
        self.session.execute(m.opportunities.update().where(
            m.opportunities.c.opportunity_id == comp.opportunity_id).values(
            awarded_by=comp.awarded_by, awarded_at=comp.awarded_at, standstill_ends_on=comp.standstill_ends_on,
            evaluation=evaluation_to_json(comp)))

    # ------------------------------------------------------------------ block contracts

    def add_contract(self, contract: BlockContract, *, confirmed_by: str, at: datetime) -> None:
        self.session.execute(m.block_contracts.insert().values(
            contract_id=contract.contract_id, opportunity_id=contract.opportunity_id,
            provider_id=contract.provider_id, lot=contract.lot, places=contract.places,
            price_pence=contract.price_pence, contract_start=contract.contract_start,
            contract_end=contract.contract_end, confirmed_by=confirmed_by, confirmed_at=at))
        self.session.flush()

    def contract_row(self, contract_id: UUID, lock: bool = False):
        return self._one(_for_update(
            sa.select(m.block_contracts).where(m.block_contracts.c.contract_id == contract_id), lock))

    def block_contract(self, contract_id: UUID, lock: bool = False) -> BlockContract | None:
        row = self.contract_row(contract_id, lock=lock)
        return None if row is None else self._contract_from_row(row)

    def _contract_from_row(self, row) -> BlockContract:
        """The contract with its places in use: allocations whose placement has not ended."""
        a = m.block_allocations
        ended = sa.select(m.ended_placements.c.placement_id)
        allocations = {
            r.referral_id: PlaceAllocation(r.referral_id, r.allocated_by, r.allocated_at, r.allocation_id,
                                           r.placement_id, r.start_date, r.weeks, r.cost_pence)
            for r in self._all(sa.select(a).where(a.c.contract_id == row.contract_id,
                                                  a.c.placement_id.not_in(ended)))}
        return BlockContract(row.contract_id, row.opportunity_id, row.provider_id, row.lot, row.places,
                             row.price_pence, row.contract_start, row.contract_end, allocations)

    def contract_for_opportunity(self, opportunity_id: UUID):
        return self._one(sa.select(m.block_contracts).where(m.block_contracts.c.opportunity_id == opportunity_id))

    def contracts(self, *, provider_id: UUID | None = None, lot: int | None = None, limit: int | None = None,
                  offset: int = 0) -> list:
        query = sa.select(m.block_contracts).order_by(m.block_contracts.c.confirmed_at.desc(),
                                                      m.block_contracts.c.contract_id)
        if provider_id is not None:
            query = query.where(m.block_contracts.c.provider_id == provider_id)
        if lot is not None:
            query = query.where(m.block_contracts.c.lot == lot)
        return self._all(query, limit, offset)

    def add_allocation(self, contract: BlockContract, allocation: PlaceAllocation, referral: Referral) -> None:
        self.session.execute(m.block_allocations.insert().values(
            allocation_id=allocation.allocation_id, contract_id=contract.contract_id,
            placement_id=allocation.placement_id, referral_id=referral.referral_id,
            provider_id=contract.provider_id, lot=contract.lot, team=referral.team,
            hours_per_week=referral.hours_per_week, start_date=allocation.start_date, weeks=allocation.weeks,
            cost_pence=allocation.cost_pence, full_time=referral.full_time,
            allocated_by=allocation.allocated_by, allocated_at=allocation.at))
        self.session.flush()

    def allocation_for_referral(self, referral_id: UUID):
        return self._one(sa.select(m.block_allocations).where(m.block_allocations.c.referral_id == referral_id))

    def allocations(self, contract_id: UUID, *, team: str | None = None, limit: int | None = None,
                    offset: int = 0) -> list:
        a = m.block_allocations
        ended = m.ended_placements
        query = (sa.select(a, ended.c.ended_on).outerjoin(ended, ended.c.placement_id == a.c.placement_id)
                 .where(a.c.contract_id == contract_id).order_by(a.c.allocated_at, a.c.allocation_id))
        if team is not None:
            query = query.where(a.c.team == team)
        return self._all(query, limit, offset)

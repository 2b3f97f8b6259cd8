"""The read side: the lists the API pages through (SQLAlchemy Core, no
aggregate loaded) and the builders that turn domain objects and rows into
response dicts.  Nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.awards import models as m
from services.awards.domain import (
    AssessmentSummary,
    OffDpsPlacement,
    OffDpsStatus,
    Ranking,
    ScoringScale,
    Volume,
    competition_status,
)
from services.awards.orm import ranking_from_json
from services.awards.schemas import AwardOut, OpportunityOut, SummaryOut
from shared.actor import Actor
from shared.schemas import cached


class Reads:
    """The queries behind the lists, the OCDS package and the CSV."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _all(self, query, limit: int | None = None, offset: int = 0) -> list:
        if limit is not None:  # a page of a list (shared.paging)
            query = query.limit(limit).offset(offset)
        return list(self.session.execute(query))

    def referrals(self, *, team: str | None = None, lot: int | None = None, state: str | None = None,
                  limit: int | None = None, offset: int = 0) -> list:
        r = m.referrals
        query = sa.select(r, m.awards.c.award_id, m.block_allocations.c.allocation_id).outerjoin(
            m.awards, m.awards.c.referral_id == r.c.referral_id).outerjoin(
            m.block_allocations, m.block_allocations.c.referral_id == r.c.referral_id).order_by(
            r.c.closed_at.desc(), r.c.referral_id)
        for column, value in ((r.c.team, team), (r.c.lot, lot), (r.c.state, state)):
            if value:
                query = query.where(column == value)
        return self._all(query, limit, offset)

    def awards(self, *, provider_id: UUID | None = None, lot: int | None = None, team: str | None = None,
               referral_id: UUID | None = None, award_id: UUID | None = None, awarded_from: datetime | None = None,
               awarded_before: datetime | None = None, limit: int | None = None, offset: int = 0) -> list:
        a = m.awards
        query = sa.select(a, m.providers.c.provider_name, m.referrals.c.window_basis, m.referrals.c.dps_id).outerjoin(
            m.providers, m.providers.c.provider_id == a.c.provider_id).outerjoin(
            m.referrals, m.referrals.c.referral_id == a.c.referral_id).order_by(a.c.awarded_at, a.c.award_id)
        for column, value in ((a.c.provider_id, provider_id), (a.c.lot, lot), (a.c.team, team),
                              (a.c.referral_id, referral_id), (a.c.award_id, award_id)):
            if value is not None:
                query = query.where(column == value)
        if awarded_from is not None:
            query = query.where(a.c.awarded_at >= awarded_from)
        if awarded_before is not None:
            query = query.where(a.c.awarded_at < awarded_before)
        return self._all(query, limit, offset)

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

    def organisations(self, provider_ids: Iterable[UUID]) -> dict[UUID, object]:
        """What the open data says of each provider: its name and identifiers, and when they last changed."""
        ids = list(provider_ids)
        if not ids:
            return {}
        p = m.providers
        rows = self._all(sa.select(p.c.provider_id, p.c.provider_name, p.c.name_at, p.c.identifiers,
                                   p.c.identifiers_at).where(p.c.provider_id.in_(ids)))
        return {r.provider_id: r for r in rows}

    def memberships(self) -> list:
        """Every provider's standing on every lot, with when it last changed (the DPS's open data)."""
        pl = m.provider_lots
        return self._all(sa.select(pl.c.dps_id, pl.c.provider_id, pl.c.lot, pl.c.membership_status, pl.c.status_at)
                         .order_by(pl.c.dps_id, pl.c.provider_id, pl.c.lot))

    def dps_record_times(self) -> dict[UUID, datetime]:
        """When each DPS record awards holds last changed (its dps.configured's `at`)."""
        return {r.dps_id: r.at for r in self._all(sa.select(m.dps_records.c.dps_id, m.dps_records.c.at))}

    def ended_on(self, placement_ids: Iterable[UUID]) -> dict[UUID, date]:
        """The day each of these placements ended, for those tracking has said have ended."""
        ids = list(placement_ids)
        if not ids:
            return {}
        ended = m.ended_placements
        rows = self._all(sa.select(ended.c.placement_id, ended.c.ended_on).where(ended.c.placement_id.in_(ids)))
        return {r.placement_id: r.ended_on for r in rows}

    def pricing_line_descriptions(self, provider_id: UUID, lot: int) -> dict[UUID, str]:
        rows = self._all(sa.select(m.pricing_lines).where(m.pricing_lines.c.provider_id == provider_id,
                                                          m.pricing_lines.c.lot == lot))
        return {r.pricing_line_id: r.description for r in rows}

    def offer_counts(self, referral_ids: Iterable[UUID]) -> dict[UUID, int]:
        ids = list(referral_ids)
        if not ids:
            return {}
        rows = self._all(sa.select(m.offers.c.referral_id, sa.func.count()).where(
            m.offers.c.referral_id.in_(ids)).group_by(m.offers.c.referral_id))
        return {r[0]: r[1] for r in rows}

    def opportunities(self, *, lot: int | None = None, team: str | None = None, invited: UUID | None = None,
                      opportunity_id: UUID | None = None, limit: int | None = None, offset: int = 0) -> list:
        o = m.opportunities
        query = sa.select(o, m.block_contracts.c.contract_id).outerjoin(
            m.block_contracts, m.block_contracts.c.opportunity_id == o.c.opportunity_id).order_by(
            o.c.created_at.desc(), o.c.opportunity_id)
        for column, value in ((o.c.lot, lot), (o.c.team, team), (o.c.opportunity_id, opportunity_id)):
            if value is not None:
                query = query.where(column == value)
        if invited is not None:
            query = query.where(o.c.opportunity_id.in_(
                sa.select(m.invitations.c.opportunity_id).where(m.invitations.c.provider_id == invited)))
        return self._all(query, limit, offset)

    def invited_to(self, opportunity_id: UUID) -> frozenset[UUID]:
        rows = self._all(sa.select(m.invitations.c.provider_id)
                         .where(m.invitations.c.opportunity_id == opportunity_id))
        return frozenset(r.provider_id for r in rows)

    def bids_of(self, opportunity_id: UUID) -> list:
        return self._all(sa.select(m.bids).where(m.bids.c.opportunity_id == opportunity_id).order_by(
            m.bids.c.submitted_at, m.bids.c.bid_id))

    def contracts(self, *, provider_id: UUID | None = None, lot: int | None = None, contract_id: UUID | None = None,
                  limit: int | None = None, offset: int = 0) -> list:
        """Block contracts with the places in use now (allocations whose placement has not ended)."""
        c, a = m.block_contracts, m.block_allocations
        in_use = (sa.select(sa.func.count()).where(
            a.c.contract_id == c.c.contract_id,
            a.c.placement_id.not_in(sa.select(m.ended_placements.c.placement_id)))
            .correlate(c).scalar_subquery())
        query = sa.select(c, in_use.label("places_in_use")).order_by(c.c.confirmed_at.desc(), c.c.contract_id)
        for column, value in ((c.c.provider_id, provider_id), (c.c.lot, lot), (c.c.contract_id, contract_id)):
            if value is not None:
                query = query.where(column == value)
        return self._all(query, limit, offset)

    def allocations(self, contract_id: UUID, *, team: str | None = None, allocation_id: UUID | None = None,
                    limit: int | None = None, offset: int = 0) -> list:
        a, ended = m.block_allocations, m.ended_placements
        query = (sa.select(a, ended.c.ended_on).outerjoin(ended, ended.c.placement_id == a.c.placement_id)
                 .where(a.c.contract_id == contract_id).order_by(a.c.allocated_at, a.c.allocation_id))
        if team is not None:
            query = query.where(a.c.team == team)
        if allocation_id is not None:
            query = query.where(a.c.allocation_id == allocation_id)
        return self._all(query, limit, offset)

    def off_dps_placements(self, *, team: str | None = None, status: str | None = None,
                           limit: int | None = None, offset: int = 0) -> list[OffDpsPlacement]:
        """Off-DPS exceptions, newest first, as the domain sees them (for the registration rule's view)."""
        t = m.off_dps_placements
        query = sa.select(t).order_by(t.c.recorded_at.desc(), t.c.referral_id)
        for column, value in ((t.c.team, team), (t.c.status, status)):
            if value is not None:
                query = query.where(column == value)
        return [OffDpsPlacement(**{k: v for k, v in row._mapping.items() if k != "version"})
                for row in self._all(query, limit, offset)]


# --- response builders


def off_dps_view(placement: OffDpsPlacement) -> dict:
    """An off-DPS exception for the manager; while pending, what the registration rule says of it now."""
    pending = placement.status is OffDpsStatus.PENDING
    return {**{f.name: getattr(placement, f.name) for f in dataclass_fields(placement) if f.name != "events"},
            "status": placement.status.value, "total_pence": placement.total_pence,
            "registration_refusals": [str(b) for b in placement.registration_refusals()] if pending else []}


def volume_view(volume: Volume | None) -> dict | None:
    if volume is None:
        return None
    return {"hours_per_week": volume.hours_per_week, "weeks": volume.weeks, "description": volume.describe()}


def ranking_view(ranking: Ranking, names: dict, award_id: UUID | None = None) -> dict:
    return {
        "referral_id": ranking.referral_id, "lot": ranking.lot, "made_at": ranking.made_at, "award_id": award_id,
        "volume": volume_view(ranking.volume),
        "entries": [{
            "rank": e.rank, "eligible": e.eligible, "cost_at_volume_pence": e.cost_pence,
            "reasons": [{"rule": r.rule.value, "message": r.message} for r in e.reasons],
            "offer_id": e.offer.offer_id, "provider_id": e.offer.provider_id,
            "provider_name": names.get(e.offer.provider_id), "pricing_line_id": e.offer.pricing_line_id,
            "unit_price_pence": e.offer.unit_price_pence, "units_per_week": e.offer.units_per_week,
            "weeks": e.offer.weeks, "total_pence": e.offer.total_pence, "start_date": e.offer.start_date,
            "submitted_at": e.offer.submitted_at, "meets_needs": e.offer.meets_needs,
            "assessment_reason": e.offer.needs_reason} for e in ranking.entries],
    }


def award_view(reads: Reads, row, actor: Actor) -> dict:
    return award_views(reads, [row], actor)[0]


def award_views(reads: Reads, rows, actor: Actor) -> list[dict]:
    """The awards as `actor` may see them; the providers' names of all their rankings in one query."""
    fields = [name for name in cached(AwardOut).fields if name != "ranking"]
    views = [{name: getattr(row, name) for name in fields if hasattr(row, name)} for row in rows]
    if actor.is_provider_only:
        # The provider learns it won; never the other offers, who pressed award, or why.
        for view in views:
            for private in ("override_reason", "override_reason_code", "awarded_by", "team", "window_basis"):
                view.pop(private, None)
        return views
    rankings = [ranking_from_json(row.ranking) for row in rows]
    names = reads.provider_names({e.offer.provider_id for ranking in rankings for e in ranking.entries})
    for view, ranking, row in zip(views, rankings, rows, strict=True):
        view["ranking"] = ranking_view(ranking, names, row.award_id)
    return views


def result_view(result, names: dict) -> dict:
    """One provider's result on a call-off (handlers.OfferResult)."""
    entry, award = result.entry, result.award
    return {"referral_id": award.referral_id, "offer_id": entry.offer.offer_id,
            "provider_id": entry.offer.provider_id, "outcome": result.outcome, "rank": entry.rank,
            "eligible_offers": len(award.ranking.eligible), "reasons": [r.message for r in entry.reasons],
            "reason": result.reason, "cost_at_volume_pence": entry.cost_pence,
            "volume": volume_view(award.ranking.volume), "winner_provider_id": award.offer.provider_id,
            "winner_provider_name": names.get(award.offer.provider_id), "decided_at": award.at,
            "standstill_ends_on": award.standstill_ends_on}


def opportunity_view(reads: Reads, row, actor: Actor, now: datetime) -> dict:
    view = {name: getattr(row, name) for name in cached(OpportunityOut).fields if hasattr(row, name)}
    view["scale"] = {"maximum": row.scale["maximum"], "descriptors": _descriptors(row.scale)}
    view["status"] = competition_status(
        opens_at=row.opens_at, deadline=row.deadline, standstill_working_days=row.standstill_working_days,
        standstill_ends_on=row.standstill_ends_on, awarded=row.awarded_at is not None,
        confirmed=row.contract_id is not None, now=now)
    view["contract_id"] = row.contract_id
    if not actor.is_provider_only:
        view["invited"] = sorted(reads.invited_to(row.opportunity_id))
    return view


def _descriptors(scale: dict) -> dict:
    shown = ScoringScale(scale["maximum"], None if scale.get("descriptors") is None
                         else {int(k): v for k, v in scale["descriptors"].items()})
    return {str(point): shown.descriptor(point) for point in range(shown.maximum + 1)}


def bid_view(opportunity_id: UUID, bid) -> dict:
    return {"bid_id": bid.bid_id, "opportunity_id": opportunity_id, "provider_id": bid.provider_id,
            "price_pence": bid.price_pence, "answers": dict(bid.answers), "submitted_at": bid.submitted_at}


def evaluation_view(comp, evaluation) -> dict:
    return {
        "opportunity_id": comp.opportunity_id, "awarded": comp.evaluation is not None,
        "standstill_ends_on": comp.standstill_ends_on, "lowest_price_pence": evaluation.lowest_price_pence,
        "results": [{"bid_id": r.bid.bid_id, "provider_id": r.bid.provider_id, "price_pence": r.bid.price_pence,
                     "rank": r.rank, "excluded": list(r.excluded), "quality": r.quality, "price": r.price,
                     "total": r.total,
                     "scores": {name: {"score": x.score, "reason": x.reason} for name, x in r.scores.items()}}
                    for r in evaluation.results],
    }


def summary_view(reads: Reads, summary: AssessmentSummary) -> dict:
    """A bidder's summary, naming the winner (PCR 2015 regulation 86; Procurement Act 2023 section 50)."""
    view = {name: getattr(summary, name) for name in cached(SummaryOut).fields if name != "winner_name"}
    view["winner_name"] = reads.provider_names([summary.winner_provider_id]).get(summary.winner_provider_id)
    return view


def contract_view(row) -> dict:
    """A contract row of Reads.contracts (with its places in use)."""
    return {"contract_id": row.contract_id, "opportunity_id": row.opportunity_id, "provider_id": row.provider_id,
            "lot": row.lot, "places": row.places, "places_left": row.places - row.places_in_use,
            "price_pence": row.price_pence, "contract_start": row.contract_start,
            "contract_end": row.contract_end, "confirmed_by": row.confirmed_by, "confirmed_at": row.confirmed_at}

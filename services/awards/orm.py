"""The aggregates mapped onto the awards tables (SQLAlchemy's imperative
mapping, as cosmicpython's adapters/orm.py): the domain stays plain Python and
the Session tracks what changes.

- a mini-competition: its terms (a composite of the opportunity's columns),
  invitations, bids (by provider), evaluator and moderated scores (by key),
  evaluators' declarations of interests (by evaluator), its contract, and
  the bids found ineligible at the award (JSON); the opportunity row carries
  `version` (optimistic concurrency);
- a block contract with its places in use;
- an off-DPS exception for the manager's approval (flat columns; its checks JSON);
- a call-off: the referral as referrals closed it (a composite of the copied
  columns, written only by the consumer, CallOffs.record_closed), its offers,
  and its award (the ranking it was made from kept as JSON).

A value object with no table of its own is a composite (the opportunity's
terms, the referral copy, a ranking) or JSON (the evaluation snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.associationproxy import association_proxy
from sqlalchemy.orm import attribute_keyed_dict, composite, foreign, keyfunc_mapping, registry, relationship
from sqlalchemy.orm.attributes import set_committed_value

from services.awards import domain
from services.awards import models as m
from services.awards.domain.mini_competition import Bid
from shared.catalogue import FIRST_DPS_ID

mapper_registry = registry(metadata=m.metadata)


@dataclass(eq=False)
class Invitation:
    """A provider invited to a mini-competition (the competition's `invited` proxies them)."""

    provider_id: UUID
    opportunity_id: UUID | None = None


def start_mappers() -> None:
    """Map once per process (the web app, the consumer and every test runtime
    call it; mapping a class twice raises)."""
    if getattr(domain.BlockContract, "__mapper__", None) is not None:
        return
    _map_block_contract()
    _map_competition()
    _map_call_off()
    t = m.off_dps_placements
    mapper_registry.map_imperatively(domain.OffDpsPlacement, t, version_id_col=t.c.version,
                                     properties={"_version": t.c.version})
    event.listen(domain.OffDpsPlacement, "load", _no_events_yet)


def _map_block_contract() -> None:
    a = m.block_allocations
    mapper_registry.map_imperatively(domain.PlaceAllocation, a, properties={"at": a.c.allocated_at})
    mapper_registry.map_imperatively(domain.BlockContract, m.block_contracts, properties={
        # places in use: the allocations whose placement tracking has not said ended
        "allocations": relationship(
            domain.PlaceAllocation, collection_class=attribute_keyed_dict("referral_id"),
            primaryjoin=sa.and_(m.block_contracts.c.contract_id == foreign(a.c.contract_id),
                                a.c.placement_id.not_in(sa.select(m.ended_placements.c.placement_id))),
            lazy="selectin"),
    })
    event.listen(domain.BlockContract, "load", _loaded)


def _map_competition() -> None:
    o = m.opportunities
    mapper_registry.map_imperatively(Invitation, m.invitations)
    mapper_registry.map_imperatively(Bid, m.bids)
    mapper_registry.map_imperatively(domain.EvaluatorScore, m.evaluator_scores)
    mapper_registry.map_imperatively(domain.ModeratedScore, m.moderated_scores)
    mapper_registry.map_imperatively(domain.InterestDeclaration, m.interest_declarations)
    children = {"lazy": "selectin", "cascade": "all, delete-orphan"}
    domain.OpportunityTerms.__composite_values__ = _terms_columns
    mapper_registry.map_imperatively(domain.MiniCompetition, o, version_id_col=o.c.version, properties={
        "_version": o.c.version,
        "evaluation_snapshot": o.c.evaluation,
        "terms": composite(_terms, o.c.lot, o.c.places, o.c.contract_start, o.c.contract_end, o.c.opens_at,
                           o.c.deadline, o.c.criteria, o.c.scale, o.c.split, o.c.tie_break,
                           o.c.standstill_working_days),
        "_invitations": relationship(Invitation, collection_class=set, **children),
        "bids": relationship(Bid, collection_class=attribute_keyed_dict("provider_id"), **children),
        "evaluator_scores": relationship(
            domain.EvaluatorScore, collection_class=keyfunc_mapping(lambda s: (s.bid_id, s.criterion, s.evaluator_id)),
            primaryjoin=o.c.opportunity_id == foreign(m.evaluator_scores.c.opportunity_id), **children),
        "moderated": relationship(
            domain.ModeratedScore, collection_class=keyfunc_mapping(lambda s: (s.bid_id, s.criterion)),
            primaryjoin=o.c.opportunity_id == foreign(m.moderated_scores.c.opportunity_id), **children),
        "declarations": relationship(domain.InterestDeclaration, collection_class=attribute_keyed_dict("evaluator_id"),
                                     **children),
        "contract": relationship(domain.BlockContract, uselist=False, lazy="selectin"),
    })
    domain.MiniCompetition.invited = association_proxy("_invitations", "provider_id", creator=Invitation)
    event.listen(domain.MiniCompetition, "load", _loaded)
    event.listen(domain.MiniCompetition, "before_update", _snapshot_evaluation)


def _map_call_off() -> None:
    r, a, o = m.referrals, m.awards, m.offers
    mapper_registry.map_imperatively(domain.Offer, o, properties={
        "start_date": o.c.proposed_start, "needs_reason": o.c.assessment_reason})
    mapper_registry.map_imperatively(domain.Award, a, properties={
        "at": a.c.awarded_at, "_ranking_json": a.c.ranking, "ranking": composite(ranking_from_json, a.c.ranking),
        "_offer_id": a.c.offer_id, "_lot": a.c.lot, "_team": a.c.team, "_hours": a.c.hours_per_week,
        "_full_time": a.c.full_time})
    domain.Referral.__composite_values__ = _referral_columns
    domain.Ranking.__composite_values__ = lambda ranking: (ranking_to_json(ranking),)
    mapper_registry.map_imperatively(domain.CallOff, r, properties={
        "referral": composite(_referral, r.c.referral_id, r.c.lot, r.c.hours_per_week, r.c.ehcp, r.c.looked_after,
                              r.c.full_time, r.c.state, r.c.team, r.c.child_ref, r.c.reason_for_ap,
                              r.c.start_date, r.c.expected_weeks, r.c.dps_id, r.c.compulsory_school_age,
                              r.c.has_sen),
        "offers": relationship(domain.Offer, lazy="selectin", order_by=o.c.submitted_at),
        "award_made": relationship(domain.Award, uselist=False, lazy="selectin", backref="call_off"),
    })
    event.listen(domain.CallOff, "load", _loaded)
    event.listen(domain.Offer, "load", _offer_loaded)
    event.listen(domain.Award, "load", _award_loaded)
    event.listen(domain.Award, "before_insert", _award_columns)


def _referral_columns(ref: domain.Referral) -> tuple:
    return (ref.referral_id, ref.lot, ref.hours_per_week, ref.has_ehcp, ref.looked_after, ref.full_time,
            ref.state.value, ref.team, ref.child_ref, ref.reason_for_ap, ref.start_date, ref.expected_weeks,
            ref.dps_id, ref.compulsory_school_age, ref.has_sen)


def _referral(referral_id, lot, hours, ehcp, looked_after, full_time, state, team, child_ref, reason_for_ap,
              start_date, expected_weeks, dps_id, compulsory_school_age, has_sen) -> domain.Referral:
    return domain.Referral(referral_id, lot, _number(hours), bool(ehcp), bool(looked_after), bool(full_time),
                    domain.ReferralState(state), team=team, child_ref=child_ref, reason_for_ap=reason_for_ap or "",
                    start_date=start_date, expected_weeks=expected_weeks, dps_id=dps_id or FIRST_DPS_ID,
                    compulsory_school_age=compulsory_school_age is not False, has_sen=bool(has_sen))


def _offer_loaded(offer: domain.Offer, _context) -> None:
    set_committed_value(offer, "units_per_week", _number(offer.units_per_week))
    set_committed_value(offer, "needs_reason", offer.needs_reason or "")


def _award_loaded(award: domain.Award, _context) -> None:
    award.offer = award.ranking.entry(award._offer_id).offer


def _award_columns(_mapper, _connection, award: domain.Award) -> None:
    """The award's row repeats what it was made of (the read side and the open data read it)."""
    referral, offer = award.call_off.referral, award.offer
    columns = {"_offer_id": offer.offer_id, "_lot": referral.lot, "_team": referral.team,
               "_hours": referral.hours_per_week, "_full_time": referral.full_time, "dps_id": referral.dps_id}
    columns.update((name, getattr(offer, name)) for name in (
        "provider_id", "pricing_line_id", "unit_price_pence", "units_per_week", "weeks", "total_pence", "start_date"))
    for name, value in columns.items():
        setattr(award, name, value)


def _number(value) -> Decimal:
    """A stored Numeric as people write it: 25, not 25.00; 17.5, not 17.50."""
    value = Decimal(value)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def ranking_to_json(ranking: domain.Ranking) -> dict:
    volume = ranking.volume
    return {
        "referral_id": str(ranking.referral_id), "lot": ranking.lot, "made_at": ranking.made_at.isoformat(),
        "volume": None if volume is None else {"hours_per_week": str(volume.hours_per_week), "weeks": volume.weeks},
        "entries": [{
            "offer_id": str(e.offer.offer_id), "provider_id": str(e.offer.provider_id),
            "pricing_line_id": str(e.offer.pricing_line_id), "unit_price_pence": e.offer.unit_price_pence,
            "units_per_week": str(e.offer.units_per_week), "weeks": e.offer.weeks,
            "total_pence": e.offer.total_pence, "start_date": e.offer.start_date.isoformat(),
            "submitted_at": e.offer.submitted_at.isoformat(), "meets_needs": e.offer.meets_needs,
            "assessment_reason": e.offer.needs_reason, "rank": e.rank, "eligible": e.eligible,
            "cost_pence": e.cost_pence,
            "reasons": [{"rule": r.rule.value, "message": r.message} for r in e.reasons],
        } for e in ranking.entries],
    }


def ranking_from_json(data: dict) -> domain.Ranking:
    entries = []
    for e in data["entries"]:
        offer = domain.Offer(UUID(e["offer_id"]), UUID(e["provider_id"]), UUID(e["pricing_line_id"]),
                      e["unit_price_pence"], Decimal(e["units_per_week"]), e["weeks"], e["total_pence"],
                      date.fromisoformat(e["start_date"]), datetime.fromisoformat(e["submitted_at"]),
                      e["meets_needs"], e["assessment_reason"] or "")
        reasons = tuple(domain.Reason(domain.Rule(r["rule"]), r["message"]) for r in e["reasons"])
        entries.append(domain.RankedOffer(offer, reasons, e["rank"], e.get("cost_pence")))
    volume = data.get("volume")  # none in rankings made before offers were costed at the volume asked for
    return domain.Ranking(UUID(data["referral_id"]), data["lot"], datetime.fromisoformat(data["made_at"]),
                          tuple(entries), None if volume is None else
                          domain.Volume(_number(volume["hours_per_week"]), volume["weeks"]))


def _no_events_yet(aggregate, _context) -> None:
    aggregate.events = []


def _loaded(aggregate, _context) -> None:
    aggregate.events = []
    aggregate.version = 0
    if isinstance(aggregate, domain.MiniCompetition):
        aggregate._evaluation = None


def _snapshot_evaluation(_mapper, _connection, comp: domain.MiniCompetition) -> None:
    """Awarded: the opportunity keeps the evaluation the award was made from, as JSON."""
    if comp.awarded_at is not None and comp.evaluation_snapshot is None:
        comp.evaluation_snapshot = evaluation_to_json(comp.evaluation)


# --- the terms of an opportunity as its columns (JSON for the criteria, scale, split, tie-break)


def _terms_columns(terms: domain.OpportunityTerms) -> tuple:
    return (terms.lot, terms.places, terms.contract_start, terms.contract_end, terms.opens_at, terms.deadline,
            [{"name": c.name, "weight": str(c.weight), "minimum_score": c.minimum_score, "question": c.question}
             for c in terms.criteria],
            {"maximum": terms.scale.maximum,
             "descriptors": None if terms.scale.descriptors is None
             else {str(k): v for k, v in terms.scale.descriptors.items()}},
            {"quality": str(terms.split.quality), "price": str(terms.split.price)},
            [rule.value for rule in terms.tie_break], terms.standstill_working_days)


def _terms(lot, places, contract_start, contract_end, opens_at, deadline, criteria, scale, split, tie_break,
           standstill_working_days) -> domain.OpportunityTerms:
    descriptors = scale.get("descriptors")
    return domain.OpportunityTerms(
        lot=lot, places=places, contract_start=contract_start, contract_end=contract_end,
        criteria=tuple(domain.Criterion(c["name"], Decimal(c["weight"]), c["minimum_score"], c.get("question") or "")
                       for c in criteria),
        opens_at=opens_at, deadline=deadline,
        scale=domain.ScoringScale(scale["maximum"], None if descriptors is None else {int(k): v for k, v in
                                                                                 descriptors.items()}),
        split=domain.Split(Decimal(split["quality"]), Decimal(split["price"])),
        tie_break=tuple(domain.TieBreak(v) for v in tie_break), standstill_working_days=standstill_working_days)


def evaluation_to_json(evaluation) -> dict:
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

"""The service layer: one function per use case.

Each takes a unit of work and plain arguments, asks the domain, saves, writes
its events to the outbox and its audit rows, then commits.  Anything refused
raises before the commit, so a refused request changes nothing stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.awards import events, transparency
from services.awards import models as m
from services.awards.domain import (
    AssessmentSummary,
    Award,
    Bid,
    BlockContract,
    CallOff,
    Criterion,
    Evaluation,
    EvaluatorScore,
    MiniCompetition,
    ModeratedScore,
    OpportunityTerms,
    PlaceAllocation,
    Ranking,
    ReferralState,
    ScoringScale,
    Split,
    TieBreak,
)
from services.awards.repository import Repository
from shared import audit
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.unit_of_work import UnitOfWork

# --- small helpers


def _record(uow: UnitOfWork, actor: Principal, action: str, subject_type: str, subject_id: Any,
            reason: str | None = None, details: dict | None = None) -> None:
    audit.record(uow.session, m.metadata.tables["audit_log"], actor=actor.sub, roles=actor.roles, action=action,
                 subject_type=subject_type, subject_id=subject_id, reason=reason, details=details, at=uow.now())


def _check_service_area(actor: Principal, team: str | None) -> None:
    """The manager oversees everything; an officer acts for their own team only."""
    if actor.has("manager"):
        return
    if actor.has("officer") and team is not None and actor.team == team:
        return
    if team is None:
        raise Forbidden("only the manager may act on what the manager runs", field="team")
    raise Forbidden(f"only the manager or an officer of the {team} team may do this", field="team")


SEES_EVERY_TEAM = ("manager", "reporting")


def team_scope(actor: Principal, team: str | None = None) -> str | None:
    """The team whose records a reader sees (the rule referrals and tracking
    keep): an officer only their own, and naming another team is refused; the
    manager and reporting whichever they ask for (None: every team).
    Providers are narrowed by provider_id instead."""
    if actor.has("officer") and not actor.has(*SEES_EVERY_TEAM):
        if team is not None and team != actor.team:
            raise Forbidden("an officer sees only their own team's records", field="team", location="query")
        return actor.team
    return team


def ensure_may_read(actor: Principal, *, team: str | None, provider_id: UUID | None) -> None:
    """One record: a provider reads only its own; an officer only their team's."""
    if actor.is_provider_only:
        if provider_id != actor.provider_id:
            raise Forbidden("a provider may see only its own organisation's records")
        return
    scope = team_scope(actor)
    if scope is not None and team != scope:
        raise Forbidden(f"this record belongs to the {team} team" if team else "this record is the manager's")


def _closed_call_off(repo: Repository, referral_id: UUID, lock: bool = False, row=None) -> CallOff:
    """`row`: the referral's row when the caller has read it already."""
    row = row if row is not None else repo.referral_row(referral_id, lock=lock)
    if row is None or row.lot is None:
        raise Conflict("awards has no closed referral with this id: offers are ranked once the referral closes",
                       field="referral_id")
    return repo.call_off_of(row)


def _standing(repo: Repository, call_off: CallOff):
    providers = {offer.provider_id for offer in call_off.offers}
    return repo.registry_for(call_off.referral.lot, providers), repo.places_in_use(providers)


# --- the registry copy, from provider_registry's events


def membership_admitted(uow: UnitOfWork, data: Mapping) -> None:
    repo, at = Repository(uow.session), data["at"]
    repo.note_provider_name(data["provider_id"], data["provider_name"], at)
    repo.set_registration(data["provider_id"], data["registration_status"], data.get("urn"), at, keep_grade=True)
    repo.set_membership(data["provider_id"], data["lot"], "admitted", at, ends_on=data.get("ends_on"))
    repo.set_capacity(data["provider_id"], data["lot"], data["capacity"], at)
    repo.set_pricing(data["provider_id"], data["lot"], data["pricing_lines"], at)


def membership_changed(uow: UnitOfWork, data: Mapping) -> None:
    """Suspended, reinstated or removed: the status the event names."""
    repo = Repository(uow.session)
    repo.note_provider_name(data["provider_id"], data["provider_name"], data["at"])
    repo.set_membership(data["provider_id"], data["lot"], data["status"], data["at"], reason=data.get("reason"))


def pricing_schedule_effective(uow: UnitOfWork, data: Mapping) -> None:
    repo = Repository(uow.session)
    repo.note_provider_name(data["provider_id"], data["provider_name"], data["at"])
    repo.set_pricing(data["provider_id"], data["lot"], data["pricing_lines"], data["at"], data.get("version"),
                     data.get("effective_from"))


def capacity_changed(uow: UnitOfWork, data: Mapping) -> None:
    repo = Repository(uow.session)
    repo.note_provider_name(data["provider_id"], data["provider_name"], data["at"])
    repo.set_capacity(data["provider_id"], data["lot"], data["capacity"], data["at"])


def registration_changed(uow: UnitOfWork, data: Mapping) -> None:
    repo = Repository(uow.session)
    repo.note_provider_name(data["provider_id"], data["provider_name"], data["at"])
    repo.set_registration(data["provider_id"], data["registration_status"], data.get("urn"), data["at"],
                          ofsted_grade=data.get("ofsted_grade"))


# --- referrals and placements, from referrals' and tracking's events


def referral_closed(uow: UnitOfWork, data: Mapping) -> None:
    Repository(uow.session).record_closed_referral(dict(data))


def referral_cancelled(uow: UnitOfWork, data: Mapping) -> None:
    Repository(uow.session).record_cancelled_referral(data["referral_id"], data["reason"], data["at"])


def placement_ended(uow: UnitOfWork, data: Mapping) -> None:
    """The place is free again: for the provider's capacity, and for the block it came from."""
    Repository(uow.session).record_ended_placement(dict(data))


# --- individual call-offs


@dataclass(frozen=True)
class RankingView:
    ranking: Ranking
    award: Award | None  # when made, the ranking shown is the one the award was made from


def rank_referral(uow: UnitOfWork, actor: Principal, referral_id: UUID) -> RankingView:
    repo = Repository(uow.session)
    row = repo.referral_row(referral_id)
    if row is None:
        raise NotFound("awards has no closed referral with this id", field="referral_id")
    call_off = _closed_call_off(repo, referral_id, row=row)
    _check_service_area(actor, call_off.referral.team)
    if call_off.award_made is not None:
        return RankingView(call_off.award_made.ranking, call_off.award_made)
    if call_off.referral.state is ReferralState.CANCELLED:
        raise Conflict("the referral was cancelled", field="referral_id")
    ranking = call_off.rank(*_standing(repo, call_off), uow.now())
    _record(uow, actor, "ranking.made", "referral", referral_id, details={
        "entries": [{"offer_id": str(e.offer.offer_id), "rank": e.rank, "total_pence": e.offer.total_pence,
                     "reasons": [r.message for r in e.reasons]} for e in ranking.entries]})
    uow.commit()
    return RankingView(ranking, None)


def award_placement(uow: UnitOfWork, actor: Principal, referral_id: UUID, offer_id: UUID,
                    reason: str | None = None) -> Award:
    """Award the referral's placement to one offer, judged on the registry as it is now.

    Two officers pressing at once: the referral row is locked, so the second
    waits and then finds the award made (409); the unique referral_id of the
    awards table stands behind that.  Two referrals racing for a provider's
    last place: the provider's rows are locked while its places are counted.
    """
    repo = Repository(uow.session)
    call_off = _closed_call_off(repo, referral_id, lock=True)
    _check_service_area(actor, call_off.referral.team)
    if repo.allocation_for_referral(referral_id) is not None:
        raise Conflict("this referral already has a place of a block contract", field="referral_id")
    chosen = next((o for o in call_off.offers if o.offer_id == offer_id), None)
    if chosen is not None:
        repo.lock_provider(chosen.provider_id, call_off.referral.lot)
    registry, places = _standing(repo, call_off)
    award = call_off.award(offer_id, awarded_by=actor.sub, registry=registry, places=places, now=uow.now(),
                           reason=reason)
    try:
        repo.add_award(award, call_off.referral)
    except sa.exc.IntegrityError:
        raise Conflict("a placement has already been awarded for this referral", field="referral_id") from None
    events.publish_all(uow, call_off.events)
    entry = award.ranking.entry(offer_id)
    _record(uow, actor, "placement.awarded", "referral", referral_id, reason=award.override_reason, details={
        "award_id": str(award.award_id), "placement_id": str(award.placement_id), "offer_id": str(offer_id),
        "provider_id": str(chosen.provider_id), "rank": entry.rank, "total_pence": chosen.total_pence,
        "ranking": [{"offer_id": str(e.offer.offer_id), "rank": e.rank,
                     "reasons": [r.message for r in e.reasons]} for e in award.ranking.entries]})
    uow.commit()
    return award


# --- mini-competitions


def _competition(repo: Repository, opportunity_id: UUID, lock: bool = False) -> MiniCompetition:
    comp = repo.mini_competition(opportunity_id, lock=lock)
    if comp is None:
        raise NotFound("no such opportunity", field="opportunity_id")
    return comp


def _team_of(repo: Repository, opportunity_id: UUID) -> str | None:
    return repo.opportunity_row(opportunity_id).team


def create_opportunity(uow: UnitOfWork, actor: Principal, *, title: str, lot: int, places: int,
                       contract_start: date, contract_end: date, opens_at: datetime, deadline: datetime,
                       criteria: list[Mapping], description: str | None = None, scale: Mapping | None = None,
                       split: Mapping | None = None, tie_break: list[str] | None = None,
                       standstill_working_days: int | None = None, team: str | None = None) -> MiniCompetition:
    """The service area opens a mini-competition; every provider admitted and
    not suspended on the lot now is invited."""
    team = team if actor.has("manager") else actor.team
    now = uow.now()
    if deadline <= now:
        raise InvalidInput("the deadline has already passed", field="deadline")
    optional: dict[str, Any] = {}
    if scale is not None:
        optional["scale"] = ScoringScale(scale["maximum"], scale.get("descriptors"))
    if split is not None:
        optional["split"] = Split(split["quality"], split["price"])
    if tie_break is not None:
        optional["tie_break"] = tuple(TieBreak(rule) for rule in tie_break)
    if standstill_working_days is not None:
        optional["standstill_working_days"] = standstill_working_days
    terms = OpportunityTerms(
        lot=lot, places=places, contract_start=contract_start, contract_end=contract_end,
        criteria=tuple(Criterion(c["name"], c["weight"], c.get("minimum_score"), c.get("question") or "")
                       for c in criteria),
        opens_at=opens_at, deadline=deadline, **optional)
    repo = Repository(uow.session)
    comp = MiniCompetition.create(terms, repo.registry_for(lot), now)
    repo.add_opportunity(comp, title=title, description=description, team=team, created_by=actor.sub)
    _record(uow, actor, "opportunity.created", "opportunity", comp.opportunity_id, details={
        "lot": lot, "places": places, "team": team, "invited": sorted(str(p) for p in comp.invited),
        "criteria": [{"name": c.name, "weight": str(c.weight), "minimum_score": c.minimum_score}
                     for c in terms.criteria],
        "split": {"quality": str(terms.split.quality), "price": str(terms.split.price)},
        "tie_break": [r.value for r in terms.tie_break], "deadline": deadline.isoformat()})
    uow.commit()
    return comp


def submit_bid(uow: UnitOfWork, actor: Principal, opportunity_id: UUID, price_pence: int,
               answers: Mapping[str, str]) -> Bid:
    repo = Repository(uow.session)
    comp = _competition(repo, opportunity_id, lock=True)
    bid = comp.submit_bid(actor.provider_id, price_pence, answers, uow.now())
    repo.save_bid(opportunity_id, bid)
    # Sealed: the audit says who bid and when, never the price, until the deadline.
    _record(uow, actor, "bid.submitted", "opportunity", opportunity_id,
            details={"bid_id": str(bid.bid_id), "provider_id": str(actor.provider_id)})
    uow.commit()
    return bid


def withdraw_bid(uow: UnitOfWork, actor: Principal, opportunity_id: UUID, bid_id: UUID) -> None:
    repo = Repository(uow.session)
    comp = _competition(repo, opportunity_id, lock=True)
    mine = comp.bid_of(actor.provider_id)
    if mine is None or mine.bid_id != bid_id:
        raise NotFound("this provider has no such bid", field="bid_id")
    comp.withdraw_bid(actor.provider_id, uow.now())
    repo.delete_bid(bid_id)
    _record(uow, actor, "bid.withdrawn", "opportunity", opportunity_id, details={"bid_id": str(bid_id)})
    uow.commit()


def check_invited(repo: Repository, actor: Principal, opportunity_id: UUID) -> None:
    """A provider learns nothing of a mini-competition it was not invited to."""
    if actor.is_provider_only and actor.provider_id not in repo.invited_to(opportunity_id):
        raise Forbidden("this provider was not invited to this mini-competition", field="provider_id")


def bids_for(uow: UnitOfWork, actor: Principal, opportunity_id: UUID) -> list[Bid]:
    """A provider sees its own bid; the council sees them all once the deadline has passed."""
    repo = Repository(uow.session)
    comp = _competition(repo, opportunity_id)
    check_invited(repo, actor, opportunity_id)
    if actor.is_provider_only:
        mine = comp.bid_of(actor.provider_id)
        return [mine] if mine else []
    return list(comp.opened_bids(uow.now()))


def score_bid(uow: UnitOfWork, actor: Principal, opportunity_id: UUID, bid_id: UUID, criterion: str, score: int,
              reason: str = "") -> EvaluatorScore:
    repo = Repository(uow.session)
    comp = _competition(repo, opportunity_id, lock=True)
    entry = comp.score(bid_id, criterion, score, evaluator_id=actor.sub, roles=actor.roles, now=uow.now(),
                       reason=reason)
    repo.save_evaluator_score(entry)
    _record(uow, actor, "score.recorded", "bid", bid_id, reason=reason or None, details={
        "opportunity_id": str(opportunity_id), "criterion": entry.criterion, "score": entry.score})
    uow.commit()
    return entry


def moderate_score(uow: UnitOfWork, actor: Principal, opportunity_id: UUID, bid_id: UUID, criterion: str,
                   score: int, reason: str) -> ModeratedScore:
    repo = Repository(uow.session)
    comp = _competition(repo, opportunity_id, lock=True)
    entry = comp.moderate(bid_id, criterion, score, reason=reason, moderator_id=actor.sub, roles=actor.roles,
                          now=uow.now())
    repo.save_moderated_score(entry)
    independent = {key[2]: s.score for key, s in comp.evaluator_scores.items() if key[:2] == (bid_id, entry.criterion)}
    _record(uow, actor, "score.moderated", "bid", bid_id, reason=entry.reason, details={
        "opportunity_id": str(opportunity_id), "criterion": entry.criterion, "score": entry.score,
        "evaluator_scores": independent})
    uow.commit()
    return entry


@dataclass(frozen=True)
class Scores:
    evaluator_scores: tuple[EvaluatorScore, ...]
    moderated: tuple[ModeratedScore, ...]


def scores_for(uow: UnitOfWork, actor: Principal, opportunity_id: UUID) -> Scores:
    """Each evaluator sees their own scores (they score independently); the manager sees all."""
    comp = _competition(Repository(uow.session), opportunity_id)
    mine = comp.evaluator_scores.values() if actor.has("manager") else comp.scores_by(actor.sub)
    return Scores(tuple(sorted(mine, key=lambda s: (str(s.bid_id), s.criterion, s.evaluator_id))),
                  tuple(sorted(comp.moderated.values(), key=lambda s: (str(s.bid_id), s.criterion))))


def evaluation_of(uow: UnitOfWork, opportunity_id: UUID) -> tuple[MiniCompetition, Evaluation]:
    comp = _competition(Repository(uow.session), opportunity_id)
    if comp.evaluation is not None:
        return comp, comp.evaluation
    comp.opened_bids(uow.now())  # refused while the bids are sealed
    return comp, comp.evaluate()


def award_block_contract(uow: UnitOfWork, actor: Principal, opportunity_id: UUID) -> MiniCompetition:
    repo = Repository(uow.session)
    comp = _competition(repo, opportunity_id, lock=True)
    _check_service_area(actor, _team_of(repo, opportunity_id))
    evaluation = comp.award(awarded_by=actor.sub, now=uow.now())
    repo.save_competition_award(comp)
    events.publish_all(uow, comp.events)
    winner = evaluation.winner
    _record(uow, actor, "block_contract.awarded", "opportunity", opportunity_id, details={
        "bid_id": str(winner.bid.bid_id), "provider_id": str(winner.bid.provider_id),
        "standstill_ends_on": comp.standstill_ends_on.isoformat(),
        "results": [{"bid_id": str(r.bid.bid_id), "rank": r.rank, "total": None if r.total is None else str(r.total),
                     "excluded": list(r.excluded)} for r in evaluation.results]})
    uow.commit()
    return comp


def confirm_block_contract(uow: UnitOfWork, actor: Principal, opportunity_id: UUID) -> BlockContract:
    repo = Repository(uow.session)
    comp = _competition(repo, opportunity_id, lock=True)
    _check_service_area(actor, _team_of(repo, opportunity_id))
    now = uow.now()
    contract = comp.confirm(confirmed_by=actor.sub, now=now)
    try:
        repo.add_contract(contract, confirmed_by=actor.sub, at=now)
    except sa.exc.IntegrityError:
        raise Conflict("the block contract has already been confirmed") from None
    events.publish_all(uow, comp.events)
    _record(uow, actor, "block_contract.confirmed", "opportunity", opportunity_id,
            details={"contract_id": str(contract.contract_id), "provider_id": str(contract.provider_id)})
    uow.commit()
    return contract


def assessment_summary(uow: UnitOfWork, actor: Principal, opportunity_id: UUID,
                       provider_id: UUID) -> AssessmentSummary:
    """A bidder reads its own; the council may read any bidder's."""
    if actor.is_provider_only and actor.provider_id != provider_id:
        raise Forbidden("a provider may read only its own assessment summary", field="provider_id")
    repo = Repository(uow.session)
    comp = _competition(repo, opportunity_id)
    check_invited(repo, actor, opportunity_id)
    return comp.assessment_summary(provider_id)


# --- block places


def allocate_block_place(uow: UnitOfWork, actor: Principal, contract_id: UUID, referral_id: UUID,
                         start_date: date | None = None) -> tuple[BlockContract, PlaceAllocation]:
    """A referred child takes a place of a confirmed block contract directly."""
    repo = Repository(uow.session)
    call_off = _closed_call_off(repo, referral_id, lock=True)  # one placement per referral, award or block
    _check_service_area(actor, call_off.referral.team)
    if call_off.award_made is not None:
        raise Conflict("a placement has already been awarded for this referral", field="referral_id")
    if repo.allocation_for_referral(referral_id) is not None:
        raise Conflict("this referral already has a place of a block contract", field="referral_id")
    contract = repo.block_contract(contract_id, lock=True)
    if contract is None:
        raise NotFound("no such block contract", field="contract_id")
    repo.lock_provider(contract.provider_id, contract.lot)
    allocation = contract.allocate_place(call_off.referral, allocated_by=actor.sub, now=uow.now(),
                                         start_date=start_date)
    try:
        repo.add_allocation(contract, allocation, call_off.referral)
    except sa.exc.IntegrityError:
        raise Conflict("this referral already has a placement", field="referral_id") from None
    events.publish_all(uow, contract.events)
    _record(uow, actor, "block_place.allocated", "block_contract", contract_id, details={
        "allocation_id": str(allocation.allocation_id), "placement_id": str(allocation.placement_id),
        "referral_id": str(referral_id), "places_left": contract.places_left})
    uow.commit()
    return contract, allocation


# --- transparency


def release_package(uow: UnitOfWork, uri: str) -> dict:
    """The OCDS 1.1 release package of the DPS and everything awarded through it."""
    return transparency.release_package(Repository(uow.session), uri=uri, now=uow.now())


def call_offs_csv(uow: UnitOfWork, year: int, quarter: int) -> str:
    return transparency.call_offs_csv(Repository(uow.session), year, quarter)

"""The service layer: one function per use case.

Each takes the unit of work, who is acting and plain arguments; it loads the
aggregate through the unit's repositories, lets the domain decide, saves and
commits.  What the aggregate recorded (its events) becomes the outbox
messages and the audit entries on commit (messages.translate): no use case
publishes or audits by hand.  Anything refused raises before the commit, so a
refused request changes nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from services.awards.domain import (
    DEFAULT_RULES,
    AssessmentSummary,
    Award,
    Bid,
    BlockContract,
    CallOff,
    Criterion,
    DpsRecord,
    Evaluation,
    EvaluatorScore,
    InterestDeclaration,
    MiniCompetition,
    ModeratedScore,
    OffDpsPlacement,
    OpportunityTerms,
    PlaceAllocation,
    RankedOffer,
    Ranking,
    ReferralState,
    RegistrationRules,
    ScoringScale,
    Split,
    TieBreak,
    unsuccessful_reason,
)
from services.awards.unit_of_work import AwardsUnitOfWork
from shared.actor import SEES_EVERY_TEAM, Actor
from shared.config import Settings
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


def _commit_unless_taken(uow, store: Callable[[], object], taken: Conflict) -> None:
    """Store and commit; a unique constraint met on the way (someone got there first) is `taken`."""
    try:
        store()
    except sa.exc.IntegrityError:
        raise taken from None
    uow.commit()


# --- who may act, who may read


def _check_service_area(actor: Actor, team: str | None) -> None:
    """The manager oversees everything; an officer acts for their own team only."""
    if actor.has("manager"):
        return
    if actor.has("officer") and team is not None and actor.team == team:
        return
    if team is None:
        raise Forbidden("only the manager may act on what the manager runs", field="team")
    raise Forbidden(f"only the manager or an officer of the {team} team may do this", field="team")


def team_scope(actor: Actor, team: str | None = None) -> str | None:
    """The team whose records a reader sees (the rule referrals and tracking
    keep): an officer only their own, and naming another team is refused; the
    manager and reporting whichever they ask for (None: every team).
    Providers are narrowed by provider_id instead."""
    if actor.has("officer") and not actor.has(*SEES_EVERY_TEAM):
        if team is not None and team != actor.team:
            raise Forbidden("an officer sees only their own team's records", field="team", location="query")
        return actor.team
    return team


def ensure_may_read(actor: Actor, *, team: str | None, provider_id: UUID | None) -> None:
    """One record: a provider reads only its own; an officer only their team's."""
    if actor.is_provider_only:
        if provider_id != actor.provider_id:
            raise Forbidden("a provider may see only its own organisation's records")
        return
    scope = team_scope(actor)
    if scope is not None and team != scope:
        raise Forbidden(f"this record belongs to the {team} team" if team else "this record is the manager's")


def check_invited(comp: MiniCompetition, actor: Actor) -> None:
    """A provider learns nothing of a mini-competition it was not invited to."""
    if actor.is_provider_only and actor.provider_id not in comp.invited:
        raise Forbidden("this provider was not invited to this mini-competition", field="provider_id")


# --- the registry copy, from provider_registry's events


def dps_configured(uow: AwardsUnitOfWork, data: Mapping) -> None:
    uow.dps_records.record(data)


def membership_admitted(uow: AwardsUnitOfWork, data: Mapping) -> None:
    registry, at = uow.registry, data["at"]
    registry.note_provider_name(data["provider_id"], data["provider_name"], at)
    registry.set_registration(data["provider_id"], data["registration_status"], data.get("urn"), at,
                              keep_grade=True, setting_kind=data.get("setting_kind"), roll=data.get("declared_roll"))
    dps_id = data["dps_id"]
    registry.set_membership(data["provider_id"], data["lot"], "admitted", at, ends_on=data.get("ends_on"),
                            dps_id=dps_id)
    registry.set_capacity(data["provider_id"], data["lot"], data["capacity"], at, dps_id=dps_id)
    registry.set_pricing(data["provider_id"], data["lot"], data["pricing_lines"], at, dps_id=dps_id)
    _note_identifiers(uow, data)


def membership_changed(uow: AwardsUnitOfWork, data: Mapping) -> None:
    """Suspended, reinstated or removed: the status the event names."""
    uow.registry.note_provider_name(data["provider_id"], data["provider_name"], data["at"])
    uow.registry.set_membership(data["provider_id"], data["lot"], data["status"], data["at"],
                                reason=data.get("reason"), dps_id=data["dps_id"])


def pricing_schedule_effective(uow: AwardsUnitOfWork, data: Mapping) -> None:
    uow.registry.note_provider_name(data["provider_id"], data["provider_name"], data["at"])
    uow.registry.set_pricing(data["provider_id"], data["lot"], data["pricing_lines"], data["at"],
                             data.get("version"), data.get("effective_from"), dps_id=data["dps_id"])


def capacity_changed(uow: AwardsUnitOfWork, data: Mapping) -> None:
    uow.registry.note_provider_name(data["provider_id"], data["provider_name"], data["at"])
    uow.registry.set_capacity(data["provider_id"], data["lot"], data["capacity"], data["at"], dps_id=data["dps_id"])


def registration_changed(uow: AwardsUnitOfWork, data: Mapping) -> None:
    uow.registry.note_provider_name(data["provider_id"], data["provider_name"], data["at"])
    uow.registry.set_registration(data["provider_id"], data["registration_status"], data.get("urn"), data["at"],
                                  ofsted_grade=data.get("ofsted_grade"), setting_kind=data.get("setting_kind"),
                                  roll=data.get("declared_roll"))
    _note_identifiers(uow, data)


def _note_identifiers(uow: AwardsUnitOfWork, data: Mapping) -> None:
    """The provider's organisation identifiers, when the event carries them (older events do not)."""
    if data.get("identifiers") is not None:
        uow.registry.set_identifiers(data["provider_id"], data["identifiers"], data["at"])


# --- referrals and placements, from referrals' and tracking's events


def referral_closed(uow: AwardsUnitOfWork, data: Mapping) -> None:
    uow.call_offs.record_closed(data)


def referral_cancelled(uow: AwardsUnitOfWork, data: Mapping) -> None:
    uow.call_offs.record_cancelled(data["referral_id"], data["reason"], data["at"])


def placement_ended(uow: AwardsUnitOfWork, data: Mapping) -> None:
    """The place is free again: for the provider's capacity, and for the block it came from."""
    uow.registry.record_ended_placement(data)


# --- individual call-offs


def _call_off(uow: AwardsUnitOfWork, referral_id: UUID, *, for_update: bool = False) -> CallOff:
    call_off = uow.call_offs.get(referral_id, for_update=for_update)
    if call_off is None:
        raise Conflict("awards has no closed referral with this id: offers are ranked once the referral closes",
                       field="referral_id")
    return call_off


def _standing(uow: AwardsUnitOfWork, call_off: CallOff):
    providers = {offer.provider_id for offer in call_off.offers}
    return (uow.registry.registry_for(call_off.referral.lot, providers, call_off.referral.dps_id),
            uow.registry.places_in_use(providers))


@dataclass(frozen=True)
class RankingView:
    ranking: Ranking
    award: Award | None  # when made, the ranking shown is the one the award was made from


def registration_rules(settings: Settings) -> RegistrationRules:
    """The council's settings of the registration rule (DPS_FULL_TIME_HOURS, DPS_SEN_REGISTRATION_FROM,
    DPS_UNREGISTERED_MAX_HOURS)."""
    return RegistrationRules(settings.full_time_hours, settings.sen_registration_from,
                             settings.unregistered_max_hours)


def rank_referral(uow: AwardsUnitOfWork, actor: Actor, referral_id: UUID,
                  rules: RegistrationRules = DEFAULT_RULES) -> RankingView:
    call_off = uow.call_offs.get(referral_id)
    if call_off is None:  # why not, asked only then: never heard of (404), or not closed (409)
        if not uow.call_offs.known(referral_id):
            raise NotFound("awards has no closed referral with this id", field="referral_id")
        call_off = _call_off(uow, referral_id)
    _check_service_area(actor, call_off.referral.team)
    if call_off.award_made is not None:
        return RankingView(call_off.award_made.ranking, call_off.award_made)
    if call_off.referral.state is ReferralState.CANCELLED:
        raise Conflict("the referral was cancelled", field="referral_id")
    ranking = call_off.rank(*_standing(uow, call_off), uow.now(), rules)
    uow.commit()  # the audit trail keeps every ranking an officer saw
    return RankingView(ranking, None)


def _dps(uow: AwardsUnitOfWork, call_off: CallOff) -> DpsRecord:
    dps = uow.dps_records.get(call_off.referral.dps_id)
    if dps is None:
        raise Conflict("awards has not yet heard of the DPS this referral was published under: try again shortly",
                       field="dps_id")
    return dps


def award_placement(uow: AwardsUnitOfWork, actor: Actor, referral_id: UUID, offer_id: UUID,
                    reason: str | None = None, reason_code: str | None = None, *,
                    standstill_used: bool = False, rules: RegistrationRules = DEFAULT_RULES) -> Award:
    """Award the referral's placement to one offer, judged on the registry as it is now;
    the standstill by the DPS's regime (`standstill_used`: DPS_CALLOFF_STANDSTILL_PCR2015) and the
    registration rule as the council set it (`rules`).

    Two officers pressing at once: the referral row is locked, so the second
    waits and then finds the award made (409); the unique referral_id of the
    awards table stands behind that.  Two referrals racing for a provider's
    last place: the provider's rows are locked while its places are counted.
    """
    call_off = _call_off(uow, referral_id, for_update=True)
    _check_service_area(actor, call_off.referral.team)
    if uow.call_offs.has_block_place(referral_id):
        raise Conflict("this referral already has a place of a block contract", field="referral_id")
    _check_not_placed_off_dps(uow, referral_id)
    chosen = next((o for o in call_off.offers if o.offer_id == offer_id), None)
    if chosen is not None:
        uow.registry.lock_provider(chosen.provider_id, call_off.referral.lot)
    registry, places = _standing(uow, call_off)
    award = call_off.award(offer_id, awarded_by=actor.sub, registry=registry, places=places, now=uow.now(),
                           dps=_dps(uow, call_off), reason=reason, reason_code=reason_code,
                           standstill_used=standstill_used, rules=rules)
    _commit_unless_taken(uow, lambda: uow.call_offs.save(call_off),
                         Conflict("a placement has already been awarded for this referral", field="referral_id"))
    return award


@dataclass(frozen=True)
class OfferResult:
    entry: RankedOffer  # the offer as the award's ranking had it
    award: Award
    outcome: str  # awarded | unsuccessful
    reason: str


def offer_result(uow: AwardsUnitOfWork, actor: Actor, referral_id: UUID, offer_id: UUID) -> OfferResult:
    """What became of one offer: a provider reads only its own; the council its team's."""
    if not uow.call_offs.known(referral_id):
        raise NotFound("awards has no closed referral with this id", field="referral_id")
    call_off = _call_off(uow, referral_id)
    offer = next((o for o in call_off.offers if o.offer_id == offer_id), None)
    if offer is None:
        raise NotFound("this is not an offer on this referral", field="offer_id")
    ensure_may_read(actor, team=call_off.referral.team, provider_id=offer.provider_id)
    award = call_off.award_made
    if award is None:
        raise Conflict("no offer on this referral has been awarded yet: the result is told once one is")
    entry = award.ranking.entry(offer_id)
    if entry.offer.offer_id == award.offer.offer_id:
        return OfferResult(entry, award, "awarded", "this offer was awarded the placement")
    return OfferResult(entry, award, "unsuccessful", unsuccessful_reason(entry, award, _dps(uow, call_off)))


# --- mini-competitions


def _competition(uow: AwardsUnitOfWork, opportunity_id: UUID, *, for_update: bool = False) -> MiniCompetition:
    comp = uow.competitions.get(opportunity_id, for_update=for_update)
    if comp is None:
        raise NotFound("no such opportunity", field="opportunity_id")
    return comp


def create_opportunity(uow: AwardsUnitOfWork, actor: Actor, *, title: str, lot: int, places: int,
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
    comp = MiniCompetition.create(terms, uow.registry.registry_for(lot), now, team=team)
    uow.competitions.add(comp, title=title, description=description, created_by=actor.sub)
    uow.commit()
    return comp


def submit_bid(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID, price_pence: int,
               answers: Mapping[str, str]) -> Bid:
    comp = _competition(uow, opportunity_id, for_update=True)
    bid = comp.submit_bid(actor.provider_id, price_pence, answers, uow.now())
    uow.commit()
    return bid


def withdraw_bid(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID, bid_id: UUID) -> None:
    comp = _competition(uow, opportunity_id, for_update=True)
    mine = comp.bid_of(actor.provider_id)
    if mine is None or mine.bid_id != bid_id:
        raise NotFound("this provider has no such bid", field="bid_id")
    comp.withdraw_bid(actor.provider_id, uow.now())
    uow.commit()


def opportunity(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID) -> MiniCompetition:
    """One mini-competition, as far as the actor may see it."""
    comp = _competition(uow, opportunity_id)
    check_invited(comp, actor)
    return comp


def bids_for(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID) -> list[Bid]:
    """A provider sees its own bid; the council sees them all once the deadline has passed."""
    comp = opportunity(uow, actor, opportunity_id)
    if actor.is_provider_only:
        mine = comp.bid_of(actor.provider_id)
        return [mine] if mine else []
    return list(comp.opened_bids(uow.now()))


def declare_interests(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID, *, conflict: bool,
                      details: str = "") -> InterestDeclaration:
    """An evaluator declares any conflict of interest in the competition before scoring it."""
    comp = _competition(uow, opportunity_id, for_update=True)
    declaration = comp.declare_interests(evaluator_id=actor.sub, roles=actor.roles, conflict=conflict,
                                         details=details, now=uow.now())
    uow.commit()
    return declaration


def declarations_for(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID) -> list[InterestDeclaration]:
    """An evaluator sees their own declaration; the manager sees every evaluator's."""
    comp = _competition(uow, opportunity_id)
    mine = comp.declarations.values() if actor.has("manager") else \
        [d for d in comp.declarations.values() if d.evaluator_id == actor.sub]
    return sorted(mine, key=lambda d: (d.at, d.evaluator_id))


def score_bid(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID, bid_id: UUID, criterion: str,
              score: int, reason: str = "") -> EvaluatorScore:
    comp = _competition(uow, opportunity_id, for_update=True)
    entry = comp.score(bid_id, criterion, score, evaluator_id=actor.sub, roles=actor.roles, now=uow.now(),
                       reason=reason)
    uow.commit()
    return entry


def moderate_score(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID, bid_id: UUID, criterion: str,
                   score: int, reason: str) -> ModeratedScore:
    comp = _competition(uow, opportunity_id, for_update=True)
    entry = comp.moderate(bid_id, criterion, score, reason=reason, moderator_id=actor.sub, roles=actor.roles,
                          now=uow.now())
    uow.commit()
    return entry


@dataclass(frozen=True)
class Scores:
    evaluator_scores: tuple[EvaluatorScore, ...]
    moderated: tuple[ModeratedScore, ...]


def scores_for(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID) -> Scores:
    """Each evaluator sees their own scores (they score independently); the manager sees all."""
    comp = _competition(uow, opportunity_id)
    mine = comp.evaluator_scores.values() if actor.has("manager") else comp.scores_by(actor.sub)
    return Scores(tuple(sorted(mine, key=lambda s: (str(s.bid_id), s.criterion, s.evaluator_id))),
                  tuple(sorted(comp.moderated.values(), key=lambda s: (str(s.bid_id), s.criterion))))


def evaluation_of(uow: AwardsUnitOfWork, opportunity_id: UUID) -> tuple[MiniCompetition, Evaluation]:
    comp = _competition(uow, opportunity_id)
    if comp.evaluation is not None:
        return comp, comp.evaluation
    comp.opened_bids(uow.now())  # refused while the bids are sealed
    return comp, comp.evaluate()


def award_block_contract(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID) -> MiniCompetition:
    comp = _competition(uow, opportunity_id, for_update=True)
    _check_service_area(actor, comp.team)
    bidders = {bid.provider_id for bid in comp.bids.values()}
    comp.award(awarded_by=actor.sub, registry=uow.registry.registry_for(comp.terms.lot, bidders), now=uow.now())
    uow.commit()
    return comp


def confirm_block_contract(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID) -> BlockContract:
    comp = _competition(uow, opportunity_id, for_update=True)
    _check_service_area(actor, comp.team)
    now = uow.now()
    contract = comp.confirm(confirmed_by=actor.sub, now=now)
    _commit_unless_taken(uow, lambda: uow.contracts.add(contract),
                         Conflict("the block contract has already been confirmed"))
    return contract


def assessment_summary(uow: AwardsUnitOfWork, actor: Actor, opportunity_id: UUID,
                       provider_id: UUID) -> AssessmentSummary:
    """A bidder reads its own; the council may read any bidder's."""
    if actor.is_provider_only and actor.provider_id != provider_id:
        raise Forbidden("a provider may read only its own assessment summary", field="provider_id")
    return opportunity(uow, actor, opportunity_id).assessment_summary(provider_id)


# --- block places


def block_contract(uow: AwardsUnitOfWork, actor: Actor, contract_id: UUID) -> BlockContract:
    """One confirmed block contract; a provider sees only its own."""
    contract = uow.contracts.get(contract_id)
    if contract is None:
        raise NotFound("no such block contract", field="contract_id")
    if actor.is_provider_only and contract.provider_id != actor.provider_id:
        raise Forbidden("a provider may see only its own organisation's records", field="provider_id")
    return contract


def allocate_block_place(uow: AwardsUnitOfWork, actor: Actor, contract_id: UUID, referral_id: UUID,
                         start_date: date | None = None,
                         rules: RegistrationRules = DEFAULT_RULES) -> tuple[BlockContract, PlaceAllocation]:
    """A referred child takes a place of a confirmed block contract directly, while
    the provider is admitted and not suspended, and the registration rule holds."""
    call_off = _call_off(uow, referral_id, for_update=True)  # one placement per referral, award or block
    _check_service_area(actor, call_off.referral.team)
    if call_off.award_made is not None:
        raise Conflict("a placement has already been awarded for this referral", field="referral_id")
    if uow.call_offs.has_block_place(referral_id):
        raise Conflict("this referral already has a place of a block contract", field="referral_id")
    _check_not_placed_off_dps(uow, referral_id)
    contract = uow.contracts.get(contract_id, for_update=True)
    if contract is None:
        raise NotFound("no such block contract", field="contract_id")
    uow.registry.lock_provider(contract.provider_id, contract.lot)
    standing = uow.registry.registry_for(contract.lot, [contract.provider_id]).on_lot(contract.provider_id,
                                                                                      contract.lot)
    allocation = contract.allocate_place(call_off.referral, allocated_by=actor.sub, now=uow.now(),
                                         standing=standing, places=uow.registry.places_in_use([contract.provider_id]),
                                         start_date=start_date, rules=rules)
    _commit_unless_taken(uow, lambda: uow.contracts.save(contract),
                         Conflict("this referral already has a placement", field="referral_id"))
    return contract, allocation


# --- off-DPS placements: the manager's approval (off_dps_exception.recorded in, off_dps_placement.approved out)


def off_dps_exception_recorded(uow: AwardsUnitOfWork, data: Mapping) -> None:
    """Keep a copy of the exception for the manager.  One recorded before exceptions named their provider
    (no `provider`) has nothing to approve: it stays referrals' record alone."""
    if data.get("provider") is None or data.get("terms") is None or data.get("checks") is None:
        return
    uow.off_dps.record(data)


def _check_not_placed_off_dps(uow: AwardsUnitOfWork, referral_id: UUID) -> None:
    if uow.off_dps.approved(referral_id):
        raise Conflict("this referral's child is placed off the DPS (the manager approved the exception)",
                       field="referral_id")


def _off_dps(uow: AwardsUnitOfWork, referral_id: UUID, *, for_update: bool = False) -> OffDpsPlacement:
    placement = uow.off_dps.get(referral_id, for_update=for_update)
    if placement is None:
        raise NotFound("awards has no off-DPS exception for this referral", field="referral_id")
    return placement


def off_dps_placement(uow: AwardsUnitOfWork, actor: Actor, referral_id: UUID) -> OffDpsPlacement:
    """One exception: the manager sees every one, an officer their team's."""
    placement = _off_dps(uow, referral_id)
    ensure_may_read(actor, team=placement.team, provider_id=None)
    return placement


def approve_off_dps(uow: AwardsUnitOfWork, actor: Actor, referral_id: UUID,
                    rules: RegistrationRules = DEFAULT_RULES) -> OffDpsPlacement:
    """The manager approves: the registration rule must hold (409 naming it as law); the placement is
    then tracked (off_dps_placement.approved).  One placement per referral, however placed."""
    _check_service_area(actor, None)
    placement = _off_dps(uow, referral_id, for_update=True)
    if uow.call_offs.has_placement(referral_id):
        raise Conflict("this referral already has a placement (a call-off or a block place)", field="referral_id")
    placement.approve(by=actor.sub, now=uow.now(), rules=rules)
    uow.off_dps.save(placement)
    uow.commit()
    return placement


def refuse_off_dps(uow: AwardsUnitOfWork, actor: Actor, referral_id: UUID, reason: str) -> OffDpsPlacement:
    """The manager refuses, with a reason: no placement follows."""
    _check_service_area(actor, None)
    placement = _off_dps(uow, referral_id, for_update=True)
    placement.refuse(reason, by=actor.sub, now=uow.now())
    uow.off_dps.save(placement)
    uow.commit()
    return placement

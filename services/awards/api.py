"""HTTP entry points of the awards service.

Call-offs (rank and award a closed referral's offers), mini-competitions
(opportunity, sealed bids, scores, moderation, evaluation, award, standstill,
confirmation, assessment summaries), block places, and what the council
publishes (OCDS release package, quarterly CSV).  Providers only ever see
their own organisation's bids, awards, contracts and summaries.
"""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.awards import handlers
from services.awards import schemas as s
from services.awards.domain import EVALUATOR, AssessmentSummary, Ranking, ScoringScale, council_date
from services.awards.repository import Repository
from shared import audit
from shared.auth import Principal, current_principal, public, requires
from shared.errors import Forbidden, NotFound
from shared.paging import LINK_DOC, Page, Paging
from shared.schemas import cached

COUNCIL = ("officer", "manager")


def _uow():
    return current_app.extensions["dps"].unit_of_work()


def _now() -> datetime:
    return current_app.extensions["dps"].clock()


def _own_provider(actor: Principal, provider_id: UUID | None) -> UUID | None:
    """A provider's lists are always of its own organisation."""
    if not actor.is_provider_only:
        return provider_id
    if provider_id is not None and provider_id != actor.provider_id:
        raise Forbidden("a provider may see only its own organisation's records", field="provider_id")
    return actor.provider_id


# --- views: domain objects and rows as response dicts


def ranking_view(ranking: Ranking, names: dict, award_id: UUID | None = None) -> dict:
    return {
        "referral_id": ranking.referral_id, "lot": ranking.lot, "made_at": ranking.made_at, "award_id": award_id,
        "entries": [{
            "rank": e.rank, "eligible": e.eligible,
            "reasons": [{"rule": r.rule.value, "message": r.message} for r in e.reasons],
            "offer_id": e.offer.offer_id, "provider_id": e.offer.provider_id,
            "provider_name": names.get(e.offer.provider_id), "pricing_line_id": e.offer.pricing_line_id,
            "unit_price_pence": e.offer.unit_price_pence, "units_per_week": e.offer.units_per_week,
            "weeks": e.offer.weeks, "total_pence": e.offer.total_pence, "start_date": e.offer.start_date,
            "submitted_at": e.offer.submitted_at, "meets_needs": e.offer.meets_needs,
            "assessment_reason": e.offer.needs_reason} for e in ranking.entries],
    }


def award_view(repo: Repository, row, actor: Principal) -> dict:
    view = {name: getattr(row, name) for name in cached(s.AwardOut).fields if name != "ranking" and hasattr(row, name)}
    if actor.is_provider_only:
        # The provider learns it won; never the other offers, who pressed award, or why.
        for private in ("override_reason", "awarded_by", "team"):
            view.pop(private, None)
        return view
    ranking = Repository.award_from_row(row).ranking
    names = repo.provider_names({e.offer.provider_id for e in ranking.entries})
    view["ranking"] = ranking_view(ranking, names, row.award_id)
    return view


def _status(row, now: datetime, has_contract: bool) -> str:
    if has_contract:
        return "confirmed"
    if row.awarded_at is not None:
        return "standstill" if council_date(now) <= row.standstill_ends_on else "awarded"
    if now < row.opens_at:
        return "not_open"
    return "open" if now < row.deadline else "evaluation"


def opportunity_view(repo: Repository, row, actor: Principal, now: datetime) -> dict:
    contract = repo.contract_for_opportunity(row.opportunity_id)
    view = {name: getattr(row, name) for name in cached(s.OpportunityOut).fields if hasattr(row, name)}
    view["scale"] = {"maximum": row.scale["maximum"], "descriptors": _descriptors(row.scale)}
    view["status"] = _status(row, now, contract is not None)
    view["contract_id"] = contract.contract_id if contract else None
    if not actor.is_provider_only:
        view["invited"] = sorted(repo.invited_to(row.opportunity_id))
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


def summary_view(summary: AssessmentSummary) -> dict:
    return {name: getattr(summary, name) for name in cached(s.SummaryOut).fields}


def contract_view(contract, row) -> dict:
    return {"contract_id": contract.contract_id, "opportunity_id": contract.opportunity_id,
            "provider_id": contract.provider_id, "lot": contract.lot, "places": contract.places,
            "places_left": contract.places_left, "price_pence": contract.price_pence,
            "contract_start": contract.contract_start, "contract_end": contract.contract_end,
            "confirmed_by": row.confirmed_by, "confirmed_at": row.confirmed_at}


# --- call-offs

calloffs = Blueprint("awards-calloffs", __name__, url_prefix="/v1",
                     description="Individual placements: rank a closed referral's offers and award one")


@calloffs.route("/referrals")
class Referrals(MethodView):
    @calloffs.arguments(s.ReferralsQuery, location="query")
    @calloffs.response(200, s.ReferralOut(many=True), headers=LINK_DOC)
    @requires(*COUNCIL)
    def get(self, query):
        """Closed (and cancelled) referrals awards knows of; an officer sees their own team's."""
        page = Page.take(query)
        query["team"] = handlers.team_scope(current_principal(), query.get("team"))
        with _uow() as uow:
            rows = Repository(uow.session).referrals(**query, limit=page.fetch, offset=page.offset)
            return page.respond(rows, lambda r: dict(r._mapping))


@calloffs.route("/referrals/<uuid:referral_id>/ranking")
class ReferralRanking(MethodView):
    @calloffs.response(200, s.RankingOut)
    @requires(*COUNCIL)
    def get(self, referral_id):
        """The offers of a closed referral in rank order, each eligible or not with every reason why not."""
        with _uow() as uow:
            view = handlers.rank_referral(uow, current_principal(), referral_id)
            names = Repository(uow.session).provider_names({e.offer.provider_id for e in view.ranking.entries})
            return ranking_view(view.ranking, names, view.award.award_id if view.award else None)


@calloffs.route("/referrals/<uuid:referral_id>/award")
class ReferralAward(MethodView):
    @calloffs.arguments(s.AwardRequest)
    @calloffs.response(201, s.AwardOut)
    @requires(*COUNCIL)
    def post(self, body, referral_id):
        """Award the placement: the top-ranked offer, or another eligible one with a reason."""
        actor = current_principal()
        with _uow() as uow:
            award = handlers.award_placement(uow, actor, referral_id, body["offer_id"], body.get("reason"))
        with _uow() as uow:
            repo = Repository(uow.session)
            return award_view(repo, repo.awards(referral_id=award.referral_id)[0], actor)


@calloffs.route("/awards")
class Awards(MethodView):
    @calloffs.arguments(s.AwardsQuery, location="query")
    @calloffs.response(200, s.AwardOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager", "reporting", "provider")
    def get(self, query):
        """Call-offs awarded, oldest first: a provider sees its own, an officer their team's."""
        actor = current_principal()
        page = Page.take(query)
        query["provider_id"] = _own_provider(actor, query.get("provider_id"))
        if not actor.is_provider_only:
            query["team"] = handlers.team_scope(actor, query.get("team"))
        with _uow() as uow:
            repo = Repository(uow.session)
            return page.respond(repo.awards(**query, limit=page.fetch, offset=page.offset),
                                lambda row: award_view(repo, row, actor))


@calloffs.route("/awards/<uuid:award_id>")
class AwardById(MethodView):
    @calloffs.response(200, s.AwardOut)
    @requires("officer", "manager", "reporting", "provider")
    def get(self, award_id):
        actor = current_principal()
        with _uow() as uow:
            repo = Repository(uow.session)
            row = next(iter(repo.awards(award_id=award_id)), None)
            if row is None:
                raise NotFound("no such award")
            handlers.ensure_may_read(actor, team=row.team, provider_id=row.provider_id)
            return award_view(repo, row, actor)


@calloffs.route("/providers")
class Providers(MethodView):
    @calloffs.arguments(s.ProvidersQuery, location="query")
    @calloffs.response(200, s.ProviderStandingOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager", "evaluator")
    def get(self, query):
        """Awards' copy of the registry: each provider's standing per lot and its places in use."""
        page = Page.take(query)
        with _uow() as uow:
            repo = Repository(uow.session)
            rows = repo.providers(query.get("lot"), limit=page.fetch, offset=page.offset)
            places = repo.places_in_use({r.provider_id for r in rows})
            return page.respond(rows, lambda r: {
                **dict(r._mapping), "capacity": r.capacity or 0,
                "places_in_use": places.active_on(r.provider_id, r.lot),
                "places_free": max((r.capacity or 0) - places.active_on(r.provider_id, r.lot), 0)})


# --- mini-competitions

competitions = Blueprint("awards-competitions", __name__, url_prefix="/v1",
                         description="Block contracts by mini-competition, and their places")


@competitions.route("/opportunities")
class Opportunities(MethodView):
    @competitions.arguments(s.OpportunitiesQuery, location="query")
    @competitions.response(200, s.OpportunityOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager", "evaluator", "provider")
    def get(self, query):
        """Mini-competitions, newest first; a provider sees those it was invited to."""
        actor = current_principal()
        page = Page.take(query)
        with _uow() as uow:
            repo = Repository(uow.session)
            invited = actor.provider_id if actor.is_provider_only else None
            rows = repo.opportunities(lot=query.get("lot"), team=query.get("team"), invited=invited,
                                      limit=page.fetch, offset=page.offset)
            return page.respond(rows, lambda row: opportunity_view(repo, row, actor, _now()))

    @competitions.arguments(s.OpportunityRequest)
    @competitions.response(201, s.OpportunityOut)
    @requires(*COUNCIL)
    def post(self, body):
        """Open a mini-competition on a lot: every provider admitted and not suspended on it is invited."""
        actor = current_principal()
        with _uow() as uow:
            comp = handlers.create_opportunity(uow, actor, **body)
        return _opportunity(comp.opportunity_id, actor)


def _opportunity(opportunity_id: UUID, actor: Principal) -> dict:
    with _uow() as uow:
        repo = Repository(uow.session)
        row = repo.opportunity_row(opportunity_id)
        if row is None:
            raise NotFound("no such opportunity", field="opportunity_id")
        handlers.check_invited(repo, actor, opportunity_id)
        return opportunity_view(repo, row, actor, _now())


@competitions.route("/opportunities/<uuid:opportunity_id>")
class OpportunityById(MethodView):
    @competitions.response(200, s.OpportunityOut)
    @requires("officer", "manager", "evaluator", "provider")
    def get(self, opportunity_id):
        return _opportunity(opportunity_id, current_principal())


@competitions.route("/opportunities/<uuid:opportunity_id>/bids")
class Bids(MethodView):
    @competitions.arguments(Paging, location="query")
    @competitions.response(200, s.BidOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager", "evaluator", "provider")
    def get(self, query, opportunity_id):
        """A provider sees its own bid; the council sees every bid once the deadline has passed."""
        page = Page.take(query)
        with _uow() as uow:
            bids = handlers.bids_for(uow, current_principal(), opportunity_id)
            return page.respond(page.window(bids), lambda b: bid_view(opportunity_id, b))

    @competitions.arguments(s.BidRequest)
    @competitions.response(201, s.BidOut)
    @requires("provider")
    def post(self, body, opportunity_id):
        """A sealed bid (price and an answer per criterion); bidding again before the deadline replaces it."""
        with _uow() as uow:
            bid = handlers.submit_bid(uow, current_principal(), opportunity_id, body["price_pence"], body["answers"])
        return bid_view(opportunity_id, bid)


@competitions.route("/opportunities/<uuid:opportunity_id>/bids/<uuid:bid_id>")
class BidById(MethodView):
    @competitions.response(204)
    @requires("provider")
    def delete(self, opportunity_id, bid_id):
        """Withdraw the provider's own bid before the deadline."""
        with _uow() as uow:
            handlers.withdraw_bid(uow, current_principal(), opportunity_id, bid_id)


@competitions.route("/opportunities/<uuid:opportunity_id>/bids/<uuid:bid_id>/scores")
class BidScores(MethodView):
    @competitions.arguments(s.ScoreRequest)
    @competitions.response(201, s.EvaluatorScoreOut)
    @requires(EVALUATOR)
    def post(self, body, opportunity_id, bid_id):
        """An evaluator's own score for one criterion of one bid (scoring again replaces it)."""
        with _uow() as uow:
            return handlers.score_bid(uow, current_principal(), opportunity_id, bid_id, body["criterion"],
                                      body["score"], body["reason"])


@competitions.route("/opportunities/<uuid:opportunity_id>/bids/<uuid:bid_id>/moderation")
class BidModeration(MethodView):
    @competitions.arguments(s.ModerationRequest)
    @competitions.response(201, s.ModeratedScoreOut)
    @requires(EVALUATOR)
    def post(self, body, opportunity_id, bid_id):
        """The agreed score for one criterion of one bid, with the reason it was agreed."""
        with _uow() as uow:
            return handlers.moderate_score(uow, current_principal(), opportunity_id, bid_id, body["criterion"],
                                           body["score"], body["reason"])


@competitions.route("/opportunities/<uuid:opportunity_id>/scores")
class Scores(MethodView):
    @competitions.response(200, s.ScoresOut)
    @requires("evaluator", "manager")
    def get(self, opportunity_id):
        """An evaluator's own scores and the moderated ones; the manager sees every evaluator's."""
        with _uow() as uow:
            return handlers.scores_for(uow, current_principal(), opportunity_id)


@competitions.route("/opportunities/<uuid:opportunity_id>/evaluation")
class EvaluationView(MethodView):
    @competitions.response(200, s.EvaluationOut)
    @requires("officer", "manager", "evaluator")
    def get(self, opportunity_id):
        """Quality, price and total of every bid, ranked; the excluded with why (once all is moderated)."""
        with _uow() as uow:
            comp, evaluation = handlers.evaluation_of(uow, opportunity_id)
            return evaluation_view(comp, evaluation)


@competitions.route("/opportunities/<uuid:opportunity_id>/award")
class CompetitionAward(MethodView):
    @competitions.response(201, s.EvaluationOut)
    @requires(*COUNCIL)
    def post(self, opportunity_id):
        """Award the block contract to the top-ranked bid; the standstill starts."""
        with _uow() as uow:
            comp = handlers.award_block_contract(uow, current_principal(), opportunity_id)
            return evaluation_view(comp, comp.evaluation)


@competitions.route("/opportunities/<uuid:opportunity_id>/confirmation")
class CompetitionConfirmation(MethodView):
    @competitions.response(201, s.ContractOut)
    @requires(*COUNCIL)
    def post(self, opportunity_id):
        """Confirm the block contract once the standstill is over."""
        with _uow() as uow:
            contract = handlers.confirm_block_contract(uow, current_principal(), opportunity_id)
        return _contract(contract.contract_id, current_principal())


@competitions.route("/opportunities/<uuid:opportunity_id>/summaries/<uuid:provider_id>")
class AssessmentSummaryView(MethodView):
    @competitions.response(200, s.SummaryOut)
    @requires("provider", "officer", "manager", "evaluator")
    def get(self, opportunity_id, provider_id):
        """A bidder's assessment summary: its scores and the winner's, with the reasons."""
        with _uow() as uow:
            return summary_view(handlers.assessment_summary(uow, current_principal(), opportunity_id, provider_id))


def _contract(contract_id: UUID, actor: Principal) -> dict:
    with _uow() as uow:
        repo = Repository(uow.session)
        row = repo.contract_row(contract_id)
        if row is None:
            raise NotFound("no such block contract", field="contract_id")
        _own_provider(actor, row.provider_id)
        return contract_view(repo.block_contract(contract_id), row)


@competitions.route("/block-contracts")
class BlockContracts(MethodView):
    @competitions.arguments(s.ContractsQuery, location="query")
    @competitions.response(200, s.ContractOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager", "reporting", "provider")
    def get(self, query):
        """Confirmed block contracts with their places left; a provider sees its own."""
        actor = current_principal()
        page = Page.take(query)
        provider_id = _own_provider(actor, query.get("provider_id"))
        with _uow() as uow:
            repo = Repository(uow.session)
            rows = repo.contracts(provider_id=provider_id, lot=query.get("lot"), limit=page.fetch, offset=page.offset)
            return page.respond(rows, lambda r: contract_view(repo.block_contract(r.contract_id), r))


@competitions.route("/block-contracts/<uuid:contract_id>")
class BlockContractById(MethodView):
    @competitions.response(200, s.ContractOut)
    @requires("officer", "manager", "reporting", "provider")
    def get(self, contract_id):
        return _contract(contract_id, current_principal())


@competitions.route("/block-contracts/<uuid:contract_id>/allocations")
class Allocations(MethodView):
    @competitions.arguments(Paging, location="query")
    @competitions.response(200, s.AllocationOut(many=True), headers=LINK_DOC)
    @requires(*COUNCIL)
    def get(self, query, contract_id):
        """The block's places given, oldest first (an officer: their team's children's)."""
        page = Page.take(query)
        team = handlers.team_scope(current_principal())
        with _uow() as uow:
            repo = Repository(uow.session)
            if repo.contract_row(contract_id) is None:
                raise NotFound("no such block contract", field="contract_id")
            rows = repo.allocations(contract_id, team=team, limit=page.fetch, offset=page.offset)
            return page.respond(rows, lambda r: dict(r._mapping))

    @competitions.arguments(s.AllocationRequest)
    @competitions.response(201, s.AllocationOut)
    @requires(*COUNCIL)
    def post(self, body, contract_id):
        """Give a referred child (a closed referral) one of the block's places."""
        with _uow() as uow:
            _contract_, allocation = handlers.allocate_block_place(uow, current_principal(), contract_id,
                                                                   body["referral_id"], body.get("start_date"))
        with _uow() as uow:
            rows = Repository(uow.session).allocations(contract_id)
            return next(dict(r._mapping) for r in rows if r.allocation_id == allocation.allocation_id)


# --- what the council publishes, and the audit trail

transparency = Blueprint("awards-transparency", __name__, url_prefix="/v1",
                         description="Open data (OCDS 1.1), the quarterly list of call-offs, the audit trail")


@transparency.route("/ocds/release-package")
class ReleasePackage(MethodView):
    @transparency.response(200, description="An OCDS 1.1 release package (no child data)")
    @public
    def get(self):
        """The DPS and everything awarded through it, as an OCDS 1.1 release package."""
        with _uow() as uow:
            package = handlers.release_package(uow, request.base_url)
        return Response(json.dumps(package, ensure_ascii=False), mimetype="application/json")


@transparency.route("/reports/call-offs.csv")
class CallOffsCsv(MethodView):
    @transparency.arguments(s.QuarterQuery, location="query")
    @transparency.response(200, description="text/csv: one row per call-off awarded in the quarter")
    @requires("manager", "reporting")
    def get(self, query):
        """The call-offs awarded in a calendar quarter, as CSV (no child data)."""
        with _uow() as uow:
            text = handlers.call_offs_csv(uow, query["year"], query["quarter"])
        name = f"call-offs-{query['year']}-q{query['quarter']}.csv"
        return Response(text, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"})


def blueprints() -> list[Blueprint]:
    return [calloffs, competitions, transparency, audit.blueprint()]


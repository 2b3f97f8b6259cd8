"""HTTP entry points of the awards service.

Call-offs (rank and award a closed referral's offers), mini-competitions
(opportunity, sealed bids, scores, moderation, evaluation, award, standstill,
confirmation, assessment summaries), block places, off-DPS placements (the
manager's approval), and what the council
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

from services.awards import handlers, transparency
from services.awards import schemas as s
from services.awards.domain import EVALUATOR
from services.awards.unit_of_work import AwardsUnitOfWork
from services.awards.views import (
    Reads,
    award_view,
    award_views,
    bid_view,
    contract_view,
    evaluation_view,
    off_dps_view,
    opportunity_view,
    ranking_view,
    result_view,
    summary_view,
)
from shared import audit
from shared.actor import Actor
from shared.auth import current_principal, public, requires
from shared.csv_files import csv_response
from shared.errors import Forbidden, NotFound
from shared.paging import LINK_DOC, Page, Paging

COUNCIL = ("officer", "manager")


def _uow(actor: Actor | None = None, *, read_only: bool = False) -> AwardsUnitOfWork:
    """A unit of work acting as `actor` (the audit trail's who); `read_only` for a GET that writes nothing."""
    return current_app.extensions["dps"].unit_of_work(actor, read_only=read_only)


def _publisher() -> transparency.Publisher:
    return transparency.Publisher.of(current_app.extensions["dps"].settings)


def _now() -> datetime:
    return current_app.extensions["dps"].clock()


def _own_provider(actor: Actor, provider_id: UUID | None) -> UUID | None:
    """A provider's lists are always of its own organisation."""
    if not actor.is_provider_only:
        return provider_id
    if provider_id is not None and provider_id != actor.provider_id:
        raise Forbidden("a provider may see only its own organisation's records", field="provider_id")
    return actor.provider_id


def _rules():
    """The registration rule as this council set it (shared/config.Settings)."""
    return handlers.registration_rules(current_app.extensions["dps"].settings)


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
        with _uow(read_only=True) as uow:
            rows = Reads(uow.session).referrals(**query, limit=page.fetch, offset=page.offset)
            return page.respond(rows, lambda r: dict(r._mapping))


@calloffs.route("/referrals/<uuid:referral_id>/ranking")
class ReferralRanking(MethodView):
    @calloffs.response(200, s.RankingOut)
    @requires(*COUNCIL)
    def get(self, referral_id):
        """The offers of a closed referral in rank order, each eligible or not with every reason why not."""
        actor = current_principal()
        with _uow(actor) as uow:  # the ranking made is audited: this GET writes the trail
            view = handlers.rank_referral(uow, actor, referral_id, _rules())
            names = Reads(uow.session).provider_names({e.offer.provider_id for e in view.ranking.entries})
            return ranking_view(view.ranking, names, view.award.award_id if view.award else None)


@calloffs.route("/referrals/<uuid:referral_id>/award")
class ReferralAward(MethodView):
    @calloffs.arguments(s.AwardRequest)
    @calloffs.response(201, s.AwardOut)
    @requires(*COUNCIL)
    def post(self, body, referral_id):
        """Award the placement: the top-ranked offer, or another eligible one with a reason."""
        actor = current_principal()
        with _uow(actor) as uow:
            award = handlers.award_placement(
                uow, actor, referral_id, body["offer_id"], body.get("reason"), body.get("reason_code"),
                standstill_used=current_app.extensions["dps"].settings.calloff_standstill_pcr2015, rules=_rules())
        with _uow(actor, read_only=True) as uow:
            reads = Reads(uow.session)
            return award_view(reads, reads.awards(award_id=award.award_id)[0], actor)


@calloffs.route("/referrals/<uuid:referral_id>/offers/<uuid:offer_id>/result")
class OfferResult(MethodView):
    @calloffs.response(200, s.OfferResultOut)
    @requires("officer", "manager", "provider")
    def get(self, referral_id, offer_id):
        """What became of an offer once the placement is awarded: its rank at the volume asked for (or why it
        was not eligible), the reason, and the winner.  A provider reads only its own offers'."""
        actor = current_principal()
        with _uow(actor, read_only=True) as uow:
            result = handlers.offer_result(uow, actor, referral_id, offer_id)
            return result_view(result, Reads(uow.session).provider_names({result.award.offer.provider_id}))


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
        with _uow(actor, read_only=True) as uow:
            reads = Reads(uow.session)
            rows, headers = page.respond(reads.awards(**query, limit=page.fetch, offset=page.offset))
            return award_views(reads, rows, actor), headers


@calloffs.route("/awards/<uuid:award_id>")
class AwardById(MethodView):
    @calloffs.response(200, s.AwardOut)
    @requires("officer", "manager", "reporting", "provider")
    def get(self, award_id):
        actor = current_principal()
        with _uow(actor, read_only=True) as uow:
            reads = Reads(uow.session)
            row = next(iter(reads.awards(award_id=award_id)), None)
            if row is None:
                raise NotFound("no such award")
            handlers.ensure_may_read(actor, team=row.team, provider_id=row.provider_id)
            return award_view(reads, row, actor)


@calloffs.route("/dps")
class DpsRecords(MethodView):
    @calloffs.arguments(Paging, location="query")
    @calloffs.response(200, s.DpsOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager", "evaluator", "provider", "reporting")
    def get(self, query):
        """The DPS records awards works to: each one's last day for awards and its published award criteria."""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            return page.respond(page.window(uow.dps_records.all()),
                                lambda record: {**vars(record), "regime": record.regime.value})


@calloffs.route("/providers")
class Providers(MethodView):
    @calloffs.arguments(s.ProvidersQuery, location="query")
    @calloffs.response(200, s.ProviderStandingOut(many=True), headers=LINK_DOC)
    @requires("officer", "manager", "evaluator")
    def get(self, query):
        """Awards' copy of the registry: each provider's standing per lot and its places in use."""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            rows = Reads(uow.session).providers(query.get("lot"), limit=page.fetch, offset=page.offset)
            places = uow.registry.places_in_use({r.provider_id for r in rows})
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
        with _uow(actor, read_only=True) as uow:
            reads = Reads(uow.session)
            invited = actor.provider_id if actor.is_provider_only else None
            rows = reads.opportunities(lot=query.get("lot"), team=query.get("team"), invited=invited,
                                       limit=page.fetch, offset=page.offset)
            return page.respond(rows, lambda row: opportunity_view(reads, row, actor, _now()))

    @competitions.arguments(s.OpportunityRequest)
    @competitions.response(201, s.OpportunityOut)
    @requires(*COUNCIL)
    def post(self, body):
        """Open a mini-competition on a lot: every provider admitted and not suspended on it is invited."""
        actor = current_principal()
        with _uow(actor) as uow:
            comp = handlers.create_opportunity(uow, actor, **body)
        return _opportunity(comp.opportunity_id, actor)


def _opportunity(opportunity_id: UUID, actor: Actor) -> dict:
    with _uow(actor, read_only=True) as uow:
        reads = Reads(uow.session)
        row = next(iter(reads.opportunities(opportunity_id=opportunity_id)), None)
        if row is None:
            raise NotFound("no such opportunity", field="opportunity_id")
        if actor.is_provider_only and actor.provider_id not in reads.invited_to(opportunity_id):
            raise Forbidden("this provider was not invited to this mini-competition", field="provider_id")
        return opportunity_view(reads, row, actor, _now())


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
    @competitions.alt_response(409, description="The council sees the bids only once the deadline has passed")
    @requires("officer", "manager", "evaluator", "provider")
    def get(self, query, opportunity_id):
        """A provider sees its own bid; the council sees every bid once the deadline has passed."""
        page = Page.take(query)
        actor = current_principal()
        with _uow(actor, read_only=True) as uow:
            bids = handlers.bids_for(uow, actor, opportunity_id)
            return page.respond(page.window(bids), lambda b: bid_view(opportunity_id, b))

    @competitions.arguments(s.BidRequest)
    @competitions.response(201, s.BidOut)
    @requires("provider")
    def post(self, body, opportunity_id):
        """A sealed bid (price and an answer per criterion); bidding again before the deadline replaces it."""
        actor = current_principal()
        with _uow(actor) as uow:
            bid = handlers.submit_bid(uow, actor, opportunity_id, body["price_pence"], body["answers"])
        return bid_view(opportunity_id, bid)


@competitions.route("/opportunities/<uuid:opportunity_id>/bids/<uuid:bid_id>")
class BidById(MethodView):
    @competitions.response(204)
    @requires("provider")
    def delete(self, opportunity_id, bid_id):
        """Withdraw the provider's own bid before the deadline."""
        actor = current_principal()
        with _uow(actor) as uow:
            handlers.withdraw_bid(uow, actor, opportunity_id, bid_id)


@competitions.route("/opportunities/<uuid:opportunity_id>/declarations")
class Declarations(MethodView):
    @competitions.arguments(Paging, location="query")
    @competitions.response(200, s.DeclarationOut(many=True), headers=LINK_DOC)
    @requires(EVALUATOR, "manager")
    def get(self, query, opportunity_id):
        """Evaluators' declarations of interests: an evaluator's own; the manager sees every one."""
        actor, page = current_principal(), Page.take(query)
        with _uow(actor, read_only=True) as uow:
            return page.respond(page.window(handlers.declarations_for(uow, actor, opportunity_id)))

    @competitions.arguments(s.DeclarationRequest)
    @competitions.response(201, s.DeclarationOut)
    @requires(EVALUATOR)
    def post(self, body, opportunity_id):
        """An evaluator declares any conflict of interest before scoring (a conflict keeps them out)."""
        actor = current_principal()
        with _uow(actor) as uow:
            return handlers.declare_interests(uow, actor, opportunity_id, conflict=body["conflict"],
                                              details=body["details"])


@competitions.route("/opportunities/<uuid:opportunity_id>/bids/<uuid:bid_id>/scores")
class BidScores(MethodView):
    @competitions.arguments(s.ScoreRequest)
    @competitions.response(201, s.EvaluatorScoreOut)
    @requires(EVALUATOR)
    def post(self, body, opportunity_id, bid_id):
        """An evaluator's own score for one criterion of one bid (scoring again replaces it)."""
        actor = current_principal()
        with _uow(actor) as uow:
            return handlers.score_bid(uow, actor, opportunity_id, bid_id, body["criterion"], body["score"],
                                      body["reason"])


@competitions.route("/opportunities/<uuid:opportunity_id>/bids/<uuid:bid_id>/moderation")
class BidModeration(MethodView):
    @competitions.arguments(s.ModerationRequest)
    @competitions.response(201, s.ModeratedScoreOut)
    @requires(EVALUATOR)
    def post(self, body, opportunity_id, bid_id):
        """The agreed score for one criterion of one bid, with the reason it was agreed."""
        actor = current_principal()
        with _uow(actor) as uow:
            return handlers.moderate_score(uow, actor, opportunity_id, bid_id, body["criterion"], body["score"],
                                           body["reason"])


@competitions.route("/opportunities/<uuid:opportunity_id>/scores")
class Scores(MethodView):
    @competitions.response(200, s.ScoresOut)
    @requires("evaluator", "manager")
    def get(self, opportunity_id):
        """An evaluator's own scores and the moderated ones; the manager sees every evaluator's."""
        actor = current_principal()
        with _uow(actor, read_only=True) as uow:
            return handlers.scores_for(uow, actor, opportunity_id)


@competitions.route("/opportunities/<uuid:opportunity_id>/evaluation")
class EvaluationView(MethodView):
    @competitions.response(200, s.EvaluationOut)
    @competitions.alt_response(409, description="No bids yet, or moderated scores still to agree")
    @requires("officer", "manager", "evaluator")
    def get(self, opportunity_id):
        """Quality, price and total of every bid, ranked; the excluded with why (once all is moderated)."""
        with _uow(read_only=True) as uow:
            comp, evaluation = handlers.evaluation_of(uow, opportunity_id)
            return evaluation_view(comp, evaluation)


@competitions.route("/opportunities/<uuid:opportunity_id>/award")
class CompetitionAward(MethodView):
    @competitions.response(201, s.EvaluationOut)
    @requires(*COUNCIL)
    def post(self, opportunity_id):
        """Award the block contract to the top-ranked bid; the standstill starts."""
        actor = current_principal()
        with _uow(actor) as uow:
            comp = handlers.award_block_contract(uow, actor, opportunity_id)
            return evaluation_view(comp, comp.evaluation)


@competitions.route("/opportunities/<uuid:opportunity_id>/confirmation")
class CompetitionConfirmation(MethodView):
    @competitions.response(201, s.ContractOut)
    @requires(*COUNCIL)
    def post(self, opportunity_id):
        """Confirm the block contract once the standstill is over."""
        actor = current_principal()
        with _uow(actor) as uow:
            contract = handlers.confirm_block_contract(uow, actor, opportunity_id)
        return _contract(contract.contract_id, actor)


@competitions.route("/opportunities/<uuid:opportunity_id>/summaries/<uuid:provider_id>")
class AssessmentSummaryView(MethodView):
    @competitions.response(200, s.SummaryOut)
    @competitions.alt_response(409, description="Given once the mini-competition is awarded")
    @requires("provider", "officer", "manager", "evaluator")
    def get(self, opportunity_id, provider_id):
        """A bidder's assessment summary: its scores and the winner's, with the reasons."""
        actor = current_principal()
        with _uow(actor, read_only=True) as uow:
            return summary_view(Reads(uow.session), handlers.assessment_summary(uow, actor, opportunity_id,
                                                                                provider_id))


def _contract(contract_id: UUID, actor: Actor) -> dict:
    with _uow(actor, read_only=True) as uow:
        row = next(iter(Reads(uow.session).contracts(contract_id=contract_id)), None)
        if row is None:
            raise NotFound("no such block contract", field="contract_id")
        _own_provider(actor, row.provider_id)
        return contract_view(row)


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
        with _uow(actor, read_only=True) as uow:
            rows = Reads(uow.session).contracts(provider_id=provider_id, lot=query.get("lot"), limit=page.fetch,
                                                offset=page.offset)
            return page.respond(rows, contract_view)


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
        with _uow(read_only=True) as uow:
            reads = Reads(uow.session)
            if not reads.contracts(contract_id=contract_id):
                raise NotFound("no such block contract", field="contract_id")
            rows = reads.allocations(contract_id, team=team, limit=page.fetch, offset=page.offset)
            return page.respond(rows, lambda r: dict(r._mapping))

    @competitions.arguments(s.AllocationRequest)
    @competitions.response(201, s.AllocationOut)
    @requires(*COUNCIL)
    def post(self, body, contract_id):
        """Give a referred child (a closed referral) one of the block's places."""
        actor = current_principal()
        with _uow(actor) as uow:
            _contract_, allocation = handlers.allocate_block_place(uow, actor, contract_id, body["referral_id"],
                                                                   body.get("start_date"), _rules())
        with _uow(actor, read_only=True) as uow:
            row = Reads(uow.session).allocations(contract_id, allocation_id=allocation.allocation_id)[0]
            return dict(row._mapping)


# --- off-DPS placements: the manager's approval

off_dps = Blueprint("awards-off-dps", __name__, url_prefix="/v1",
                    description="Off-DPS exceptions recorded by officers: the manager approves (the registration "
                                "rule holds; the placement is then tracked) or refuses")


@off_dps.route("/off-dps-placements")
class OffDpsPlacements(MethodView):
    @off_dps.arguments(s.OffDpsQuery, location="query")
    @off_dps.response(200, s.OffDpsPlacementOut(many=True), headers=LINK_DOC)
    @requires(*COUNCIL)
    def get(self, query):
        """Off-DPS exceptions, newest first (an officer: their team's)"""
        page = Page.take(query)
        team = handlers.team_scope(current_principal(), query.get("team"))
        with _uow(read_only=True) as uow:
            rows = Reads(uow.session).off_dps_placements(team=team, status=query.get("status"), limit=page.fetch,
                                                         offset=page.offset)
            return page.respond(rows, off_dps_view)


@off_dps.route("/off-dps-placements/<uuid:referral_id>")
class OffDpsPlacementById(MethodView):
    @off_dps.response(200, s.OffDpsPlacementOut)
    @requires(*COUNCIL)
    def get(self, referral_id):
        """One off-DPS exception, with what the registration rule says of it while pending"""
        with _uow(read_only=True) as uow:
            return off_dps_view(handlers.off_dps_placement(uow, current_principal(), referral_id))


@off_dps.route("/off-dps-placements/<uuid:referral_id>/approve")
class OffDpsApproval(MethodView):
    @off_dps.response(200, s.OffDpsPlacementOut)
    @requires("manager")
    def post(self, referral_id):
        """Approve: refused 409 where the registration rule does not hold (law); the placement is then tracked"""
        actor = current_principal()
        with _uow(actor) as uow:
            return off_dps_view(handlers.approve_off_dps(uow, actor, referral_id, rules=_rules()))


@off_dps.route("/off-dps-placements/<uuid:referral_id>/refuse")
class OffDpsRefusal(MethodView):
    @off_dps.arguments(s.OffDpsRefusal)
    @off_dps.response(200, s.OffDpsPlacementOut)
    @requires("manager")
    def post(self, body, referral_id):
        """Refuse, with a reason: no placement follows"""
        actor = current_principal()
        with _uow(actor) as uow:
            return off_dps_view(handlers.refuse_off_dps(uow, actor, referral_id, body["reason"]))


# --- what the council publishes, and the audit trail

published = Blueprint("awards-transparency", __name__, url_prefix="/v1",
                      description="Open data (OCDS 1.1), the quarterly list of call-offs, the audit trail")


@published.route("/ocds/release-package")
class ReleasePackage(MethodView):
    @published.response(200, description="An OCDS 1.1 release package (no child data)")
    @public
    def get(self):
        """The DPS and everything awarded through it, as an OCDS 1.1 release package."""
        with _uow(read_only=True) as uow:
            package = transparency.release_package(Reads(uow.session), _publisher(), uow.dps_records.all(),
                                                   uri=request.base_url, now=uow.now())
        return Response(json.dumps(package, ensure_ascii=False), mimetype="application/json")


@published.route("/ocds/call-offs")
class QuarterReleasePackage(MethodView):
    @published.arguments(s.PublishedQuarterQuery, location="query")
    @published.response(200, description="An OCDS 1.1 release package of one quarter's call-offs")
    @published.alt_response(409, description="The quarter is not over yet")
    @public
    def get(self, query):
        """The call-offs awarded in a calendar quarter that is over (by default the last one), grouped as one
        OCDS release package."""
        with _uow(read_only=True) as uow:
            package = transparency.quarter_package(Reads(uow.session), _publisher(), uow.dps_records.all(),
                                                   query.get("year"), query.get("quarter"), uri=request.url,
                                                   now=uow.now())
        return Response(json.dumps(package, ensure_ascii=False), mimetype="application/json")


@published.route("/ocds/award-notices")
class AwardNotices(MethodView):
    @published.arguments(Paging, location="query")
    @published.response(200, s.AwardNoticeOut(many=True), headers=LINK_DOC)
    @public
    def get(self, query):
        """Each quarter's grouped contract award notice of call-offs, with its due date (30 days after the
        quarter), from the first call-off's quarter to the last quarter that is over."""
        page = Page.take(query)
        with _uow(read_only=True) as uow:
            return page.respond(page.window(transparency.award_notices(Reads(uow.session), uow.now(),
                                                                       uow.dps_records.all())))


@published.route("/reports/call-offs.csv")
class CallOffsCsv(MethodView):
    @published.arguments(s.QuarterQuery, location="query")
    @published.response(200, content_type="text/csv", description="One row per call-off awarded in the quarter",
                        example=",".join(transparency.CSV_COLUMNS) + "\n")
    @requires("manager", "reporting")
    def get(self, query):
        """The call-offs awarded in a calendar quarter, as CSV (no child data)."""
        with _uow(read_only=True) as uow:
            rows = transparency.call_offs_rows(Reads(uow.session), _publisher(), query["year"], query["quarter"])
        return csv_response(transparency.CSV_COLUMNS, rows, f"call-offs-{query['year']}-q{query['quarter']}")


def blueprints() -> list[Blueprint]:
    return [calloffs, competitions, off_dps, published, audit.blueprint()]

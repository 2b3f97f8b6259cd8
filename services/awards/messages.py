"""What awards publishes on `dps.awards` (the `data` of each event, the
contract in docs/events.md) and what its audit trail records: the ONE mapping
from a domain event to outbox messages and audit entries (`translate`), which
the unit of work applies on commit to every event of every aggregate it saw.

Nothing here carries a child's identity: a child is only its opaque child_ref.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields as dataclass_fields

from marshmallow import Schema, fields

from services.awards import domain
from shared.schemas import Number as JsonNumber
from shared.unit_of_work import AuditEntry, Message


class _PlacementData(Schema):
    """What every event that makes a placement carries (tracking follows each)."""

    placement_id = fields.UUID(required=True)
    referral_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True)
    team = fields.String(required=True)
    child_ref = fields.UUID(allow_none=True)
    reason_for_ap = fields.String(required=True)
    hours_per_week = JsonNumber(required=True)
    start_date = fields.Date(required=True)
    full_time = fields.Boolean(required=True)
    at = fields.AwareDateTime(required=True)


class PlacementAwardedData(_PlacementData):
    award_id = fields.UUID(required=True)
    offer_id = fields.UUID(required=True)
    pricing_line_id = fields.UUID(required=True)
    unit_price_pence = fields.Integer(required=True)
    units_per_week = JsonNumber(required=True)
    weeks = fields.Integer(required=True)
    total_pence = fields.Integer(required=True)
    override_reason = fields.String(allow_none=True)
    override_reason_code = fields.String(allow_none=True)  # the published award criterion it was passed over for
    standstill_ends_on = fields.Date(allow_none=True)  # the standstill's last day (null: none)
    awarded_by = fields.String(required=True)


class OfferUnsuccessfulData(Schema):
    """An offer on a referral (referral_id, offer_id) or a bid in a
    mini-competition (opportunity_id, bid_id)."""

    provider_id = fields.UUID(required=True)
    referral_id = fields.UUID()
    offer_id = fields.UUID()
    opportunity_id = fields.UUID()
    bid_id = fields.UUID()
    rank = fields.Integer(allow_none=True)  # among the eligible; null when not eligible
    reason = fields.String(required=True)
    winner_provider_id = fields.UUID(allow_none=True)
    standstill_ends_on = fields.Date(allow_none=True)  # a call-off's standstill's last day, where there is one
    at = fields.AwareDateTime(required=True)


class IneligibleOfferData(Schema):
    offer_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    reasons = fields.List(fields.String(), required=True)


class NoEligibleOffersData(Schema):
    referral_id = fields.UUID(required=True)
    dps_id = fields.UUID(required=True)
    offers = fields.List(fields.Nested(IneligibleOfferData), required=True)
    at = fields.AwareDateTime(required=True)


class BlockContractAwardedData(Schema):
    opportunity_id = fields.UUID(required=True)
    bid_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True)
    places = fields.Integer(required=True)
    contract_start = fields.Date(required=True)
    contract_end = fields.Date(required=True)
    price_pence = fields.Integer(required=True)
    standstill_ends_on = fields.Date(required=True)
    awarded_by = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


class BlockContractConfirmedData(Schema):
    opportunity_id = fields.UUID(required=True)
    contract_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True)
    places = fields.Integer(required=True)
    contract_start = fields.Date(required=True)
    contract_end = fields.Date(required=True)
    price_pence = fields.Integer(required=True)  # the contract's whole value, places filled or not
    team = fields.String(allow_none=True)  # the commissioning team that ran it (null: the manager)
    confirmed_by = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


class BlockPlaceAllocatedData(_PlacementData):
    contract_id = fields.UUID(required=True)
    allocation_id = fields.UUID(required=True)
    weeks = fields.Integer(allow_none=True)
    cost_pence = fields.Integer(required=True)
    places_left = fields.Integer(required=True)
    allocated_by = fields.String(required=True)


class OffDpsPlacementApprovedData(_PlacementData):
    """An approved off-DPS exception: the placement tracking follows (source off_dps).  The provider is
    not on the DPS: its id is its own (never a registry provider's), its name and identifiers travel here."""

    dps_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    setting_kind = fields.String(required=True)
    urn = fields.String(allow_none=True)
    ukprn = fields.String(allow_none=True)
    weeks = fields.Integer(required=True)
    weekly_cost_pence = fields.Integer(required=True)
    total_pence = fields.Integer(required=True)
    approved_by = fields.String(required=True)


class MiniCompetitionPublishedData(Schema):
    """A mini-competition opened for bids: who is invited (every provider admitted and not suspended on the lot)."""

    opportunity_id = fields.UUID(required=True)
    lot = fields.Integer(required=True)
    places = fields.Integer(required=True)
    contract_start = fields.Date(required=True)
    contract_end = fields.Date(required=True)
    opens_at = fields.AwareDateTime(required=True)
    deadline = fields.AwareDateTime(required=True)  # for bids
    team = fields.String(allow_none=True)  # the commissioning team that runs it (null: the manager)
    invited_provider_ids = fields.List(fields.UUID(), required=True)
    at = fields.AwareDateTime(required=True)


def _data(event) -> dict:
    """The event's fields, one level deep (the schema keeps only the wire's)."""
    return {f.name: getattr(event, f.name) for f in dataclass_fields(event)}


def _offer_unsuccessful(event: domain.OfferUnsuccessful) -> dict:
    data = {"provider_id": event.provider_id, "reason": event.reason, "at": event.at, "rank": event.rank,
            "winner_provider_id": event.winner_provider_id}
    if event.opportunity_id is not None:
        data.update(opportunity_id=event.opportunity_id, bid_id=event.offer_id)
    else:
        data.update(referral_id=event.referral_id, offer_id=event.offer_id, standstill_ends_on=event.standstill_ends_on)
    return data


def _mini_competition_published(event: domain.OpportunityCreated) -> dict:
    terms = event.terms
    return {"opportunity_id": event.opportunity_id, "lot": terms.lot, "places": terms.places,
            "contract_start": terms.contract_start, "contract_end": terms.contract_end, "opens_at": terms.opens_at,
            "deadline": terms.deadline, "team": event.team, "invited_provider_ids": sorted(event.invited, key=str),
            "at": event.at}


def _no_eligible_offers(event: domain.NoEligibleOffers) -> dict:
    return {"referral_id": event.referral_id, "dps_id": event.dps_id, "at": event.at,
            "offers": [{"offer_id": offer_id, "provider_id": provider_id, "reasons": list(reasons)}
                       for offer_id, provider_id, reasons in event.offers]}


_MESSAGES: dict[type, tuple[str, Schema, Callable[..., dict]]] = {
    domain.PlacementAwarded: ("placement.awarded", PlacementAwardedData(), _data),
    domain.OfferUnsuccessful: ("offer.unsuccessful", OfferUnsuccessfulData(), _offer_unsuccessful),
    domain.NoEligibleOffers: ("calloff.no_eligible_offers", NoEligibleOffersData(), _no_eligible_offers),
    domain.OpportunityCreated: ("mini_competition.published", MiniCompetitionPublishedData(),
                                _mini_competition_published),
    domain.BlockContractAwarded: ("block_contract.awarded", BlockContractAwardedData(), _data),
    domain.BlockContractConfirmed: ("block_contract.confirmed", BlockContractConfirmedData(), _data),
    domain.BlockPlaceAllocated: ("block_place.allocated", BlockPlaceAllocatedData(), _data),
    domain.OffDpsPlacementApproved: ("off_dps_placement.approved", OffDpsPlacementApprovedData(), _data),
}


# what dps.awards carries: event type -> the schema of its data (the AsyncAPI document's source)
DATA_SCHEMAS: dict[str, type[Schema]] = {type_: type(schema) for type_, schema, _ in _MESSAGES.values()}


def message(event) -> tuple[str, dict]:
    """The event type and its JSON-ready data."""
    type_, schema, fields_of = _MESSAGES[type(event)]
    return type_, schema.dump(fields_of(event))


# --- the audit trail


def _ranking_entries(ranking, *, total: bool = False) -> list[dict]:
    return [{"offer_id": str(e.offer.offer_id), "rank": e.rank,
             **({"total_pence": e.offer.total_pence, "cost_pence": e.cost_pence} if total else {}),
             "reasons": [r.message for r in e.reasons]} for e in ranking.entries]


def _audit(event) -> AuditEntry | None:  # noqa: PLR0911 - one case per kind of event
    match event:
        case domain.RankingMade(ranking=ranking):
            volume = ranking.volume
            return AuditEntry("ranking.made", "referral", ranking.referral_id, details={
                "volume": {"hours_per_week": str(volume.hours_per_week), "weeks": volume.weeks},
                "entries": _ranking_entries(ranking, total=True)})
        case domain.PlacementAwarded():
            entry = event.ranking.entry(event.offer_id) if event.ranking is not None else None
            return AuditEntry("placement.awarded", "referral", event.referral_id, reason=event.override_reason,
                              details={"override_reason_code": event.override_reason_code,
                                  "award_id": str(event.award_id), "placement_id": str(event.placement_id),
                                  "offer_id": str(event.offer_id), "provider_id": str(event.provider_id),
                                  "rank": entry.rank if entry else None, "total_pence": event.total_pence,
                                  "ranking": _ranking_entries(event.ranking) if event.ranking else []})
        case domain.OpportunityCreated(terms=terms):
            return AuditEntry("opportunity.created", "opportunity", event.opportunity_id, details={
                "lot": terms.lot, "places": terms.places, "team": event.team,
                "invited": sorted(str(p) for p in event.invited),
                "criteria": [{"name": c.name, "weight": str(c.weight), "minimum_score": c.minimum_score}
                             for c in terms.criteria],
                "split": {"quality": str(terms.split.quality), "price": str(terms.split.price)},
                "tie_break": [r.value for r in terms.tie_break], "deadline": terms.deadline.isoformat()})
        case domain.BidSubmitted():
            # Sealed: the audit says who bid and when, never the price, until the deadline.
            return AuditEntry("bid.submitted", "opportunity", event.opportunity_id,
                              details={"bid_id": str(event.bid_id), "provider_id": str(event.provider_id)})
        case domain.BidWithdrawn():
            return AuditEntry("bid.withdrawn", "opportunity", event.opportunity_id,
                              details={"bid_id": str(event.bid_id)})
        case domain.InterestDeclared():
            return AuditEntry("interests.declared", "opportunity", event.opportunity_id, details={
                "evaluator_id": event.evaluator_id, "conflict": event.conflict,
                "scores_withdrawn": event.scores_withdrawn})
        case domain.ScoreRecorded():
            return AuditEntry("score.recorded", "bid", event.bid_id, reason=event.reason or None, details={
                "opportunity_id": str(event.opportunity_id), "criterion": event.criterion, "score": event.score})
        case domain.ScoreModerated():
            return AuditEntry("score.moderated", "bid", event.bid_id, reason=event.reason, details={
                "opportunity_id": str(event.opportunity_id), "criterion": event.criterion, "score": event.score,
                "evaluator_scores": dict(event.evaluator_scores)})
        case domain.BlockContractAwarded():
            results = event.evaluation.results if event.evaluation is not None else ()
            return AuditEntry("block_contract.awarded", "opportunity", event.opportunity_id, details={
                "bid_id": str(event.bid_id), "provider_id": str(event.provider_id),
                "standstill_ends_on": event.standstill_ends_on.isoformat(),
                "results": [{"bid_id": str(r.bid.bid_id), "rank": r.rank,
                             "total": None if r.total is None else str(r.total), "excluded": list(r.excluded)}
                            for r in results]})
        case domain.BlockContractConfirmed():
            return AuditEntry("block_contract.confirmed", "opportunity", event.opportunity_id, details={
                "contract_id": str(event.contract_id), "provider_id": str(event.provider_id)})
        case domain.BlockPlaceAllocated():
            return AuditEntry("block_place.allocated", "block_contract", event.contract_id, details={
                "allocation_id": str(event.allocation_id), "placement_id": str(event.placement_id),
                "referral_id": str(event.referral_id), "places_left": event.places_left})
        case domain.OffDpsPlacementApproved():
            return AuditEntry("off_dps_placement.approved", "referral", event.referral_id, details={
                "placement_id": str(event.placement_id), "provider_id": str(event.provider_id),
                "total_pence": event.total_pence})
        case domain.OffDpsPlacementRefused():
            return AuditEntry("off_dps_placement.refused", "referral", event.referral_id, reason=event.reason)
    return None  # offer.unsuccessful: told to the provider, the award's own entry says it all


def translate(event) -> Iterator[Message | AuditEntry]:
    """What one domain event becomes: a message on the wire, an audit entry, or both."""
    if type(event) in _MESSAGES:
        yield Message(*message(event))
    entry = _audit(event)
    if entry is not None:
        yield entry

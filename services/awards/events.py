"""What awards publishes on `dps.awards`: the `data` of each event (the
contract in docs/events.md), and the mapping from the domain's events.

Nothing here carries a child's identity: a child is only its opaque child_ref.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from decimal import Decimal

from marshmallow import Schema, fields

from services.awards.domain import (
    BlockContractAwarded,
    BlockContractConfirmed,
    BlockPlaceAllocated,
    OfferUnsuccessful,
    PlacementAwarded,
)
from shared.unit_of_work import UnitOfWork


class JsonNumber(fields.Field):
    """Hours and units per week as JSON numbers (15, 17.5): consumers read them
    with Decimal(str(value))."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        value = Decimal(value)
        return int(value) if value == value.to_integral_value() else float(value)


class PlacementAwardedData(Schema):
    award_id = fields.UUID(required=True)
    placement_id = fields.UUID(required=True)
    referral_id = fields.UUID(required=True)
    offer_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True)
    team = fields.String(required=True)
    child_ref = fields.UUID(allow_none=True)
    reason_for_ap = fields.String(required=True)
    pricing_line_id = fields.UUID(required=True)
    unit_price_pence = fields.Integer(required=True)
    units_per_week = JsonNumber(required=True)
    hours_per_week = JsonNumber(required=True)
    weeks = fields.Integer(required=True)
    total_pence = fields.Integer(required=True)
    start_date = fields.Date(required=True)
    full_time = fields.Boolean(required=True)
    override_reason = fields.String(allow_none=True)
    awarded_by = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


class OfferUnsuccessfulData(Schema):
    """An offer on a referral (referral_id, offer_id) or a bid in a
    mini-competition (opportunity_id, bid_id)."""

    provider_id = fields.UUID(required=True)
    referral_id = fields.UUID()
    offer_id = fields.UUID()
    opportunity_id = fields.UUID()
    bid_id = fields.UUID()
    reason = fields.String(required=True)
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
    price_pence = fields.Integer(required=True)
    confirmed_by = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


class BlockPlaceAllocatedData(Schema):
    contract_id = fields.UUID(required=True)
    allocation_id = fields.UUID(required=True)
    placement_id = fields.UUID(required=True)
    referral_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True)
    team = fields.String(required=True)
    child_ref = fields.UUID(allow_none=True)
    reason_for_ap = fields.String(required=True)
    hours_per_week = JsonNumber(required=True)
    start_date = fields.Date(required=True)
    weeks = fields.Integer(allow_none=True)
    cost_pence = fields.Integer(required=True)
    full_time = fields.Boolean(required=True)
    places_left = fields.Integer(required=True)
    allocated_by = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


def _offer_unsuccessful(event: OfferUnsuccessful) -> dict:
    data = {"provider_id": event.provider_id, "reason": event.reason, "at": event.at}
    if event.opportunity_id is not None:
        data.update(opportunity_id=event.opportunity_id, bid_id=event.offer_id)
    else:
        data.update(referral_id=event.referral_id, offer_id=event.offer_id)
    return data


_MESSAGES = {
    PlacementAwarded: ("placement.awarded", PlacementAwardedData(), asdict),
    OfferUnsuccessful: ("offer.unsuccessful", OfferUnsuccessfulData(), _offer_unsuccessful),
    BlockContractAwarded: ("block_contract.awarded", BlockContractAwardedData(), asdict),
    BlockContractConfirmed: ("block_contract.confirmed", BlockContractConfirmedData(), asdict),
    BlockPlaceAllocated: ("block_place.allocated", BlockPlaceAllocatedData(), asdict),
}


def message(event) -> tuple[str, dict]:
    """The event type and its JSON-ready data."""
    type_, schema, fields_of = _MESSAGES[type(event)]
    return type_, schema.dump(fields_of(event))


def publish_all(uow: UnitOfWork, domain_events: Iterable) -> None:
    """Into the outbox, in the unit of work's transaction: sent if and only if it commits."""
    for event in domain_events:
        uow.publish(*message(event))

"""Events this service reads from others, turned into its own commands.

Each handler loads only the fields it reads (unknown ones are ignored); a
ValidationError, or data the council's rules refuse (a DPSError from the
domain), dead-letters the message at once: the one rule of
shared.messaging.consumer.  Handlers never commit: the consumer commits the
effect with its inbox row.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from services.tracking import handlers
from services.tracking.domain import PlacementSource
from shared.events import Envelope
from shared.messaging.consumer import Handler
from shared.schemas import cached
from shared.unit_of_work import UnitOfWork


class _Data(Schema):
    class Meta:
        unknown = EXCLUDE


class _Award(_Data):
    placement_id = fields.UUID(required=True)
    referral_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True, strict=True)
    team = fields.String(required=True, validate=validate.Length(min=1, max=50))
    child_ref = fields.UUID(required=True)
    reason_for_ap = fields.String(required=True, validate=validate.Length(min=1, max=200))
    hours_per_week = fields.Decimal(required=True)
    weeks = fields.Decimal(required=True, validate=validate.Range(min=0, min_inclusive=False))
    start_date = fields.Date(required=True)
    at = fields.AwareDateTime(required=True)


class PlacementAwarded(_Award):
    award_id = fields.UUID(required=True)
    offer_id = fields.UUID(load_default=None)
    unit_price_pence = fields.Integer(strict=True, load_default=None)
    units_per_week = fields.Decimal(load_default=None, allow_none=True)
    total_pence = fields.Integer(required=True, strict=True)
    awarded_by = fields.String(load_default=None, allow_none=True)


class BlockPlaceAllocated(_Award):
    contract_id = fields.UUID(required=True)
    allocation_id = fields.UUID(required=True)
    cost_pence = fields.Integer(required=True, strict=True)


class MembershipChanged(_Data):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    lot = fields.Integer(required=True, strict=True)
    status = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


class ProviderNamed(_Data):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


def _placement_awarded(uow: UnitOfWork, envelope: Envelope) -> None:
    award = cached(PlacementAwarded).load(envelope.data)
    award["agreed_cost_pence"] = award.pop("total_pence")
    handlers.place_award(uow, award, PlacementSource.CALL_OFF)


def _block_place_allocated(uow: UnitOfWork, envelope: Envelope) -> None:
    allocation = cached(BlockPlaceAllocated).load(envelope.data)
    allocation["agreed_cost_pence"] = allocation.pop("cost_pence")
    handlers.place_award(uow, allocation, PlacementSource.BLOCK_PLACE)


def _membership_changed(status: str) -> Handler:
    def handle(uow: UnitOfWork, envelope: Envelope) -> None:
        data = cached(MembershipChanged).load(envelope.data)
        # the type says what happened; the status field says the same in words
        handlers.apply_membership(uow, provider_id=data["provider_id"], provider_name=data["provider_name"],
                                  lot=data["lot"], status=status, reason=data["reason"], at=data["at"])

    return handle


def _membership_admitted(uow: UnitOfWork, envelope: Envelope) -> None:
    data = cached(MembershipChanged).load(envelope.data)
    handlers.apply_membership(uow, provider_id=data["provider_id"], provider_name=data["provider_name"],
                              lot=data["lot"], status="admitted", reason=None, at=data["at"])


def _provider_named(uow: UnitOfWork, envelope: Envelope) -> None:
    data = cached(ProviderNamed).load(envelope.data)
    handlers.note_provider_name(uow, data["provider_id"], data["provider_name"], data["at"])


def event_handlers() -> dict[str, Handler]:
    return {
        "placement.awarded": _placement_awarded,
        "block_place.allocated": _block_place_allocated,
        "membership.suspended": _membership_changed("suspended"),
        "membership.reinstated": _membership_changed("admitted"),
        "membership.removed": _membership_changed("removed"),
        # for the providers' names in the reports, and a clean membership history
        "membership.admitted": _membership_admitted,
        "provider.registration_changed": _provider_named,
    }
